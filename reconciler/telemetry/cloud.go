package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/amigo-gitops/amigo/reconciler"
)

// TraceCloud returns c with every cloud call made a client span named
// "cloud <Interface>.<Method>" (cloud Traffic.SetForward), a child of the
// span in the call's context, carrying the stack, fleet, listener or
// target group the call is about. A failed call records its error on the
// span; a throttled one also sets amigo.throttled. Wrapping the simulator
// makes its calls spans too.
func TraceCloud(c reconciler.Cloud, t trace.Tracer) reconciler.Cloud {
	return wrapCloud(c, func(ctx context.Context, cl cloudCall, f func(context.Context) error) error {
		ctx, span := t.Start(ctx, "cloud "+cl.Service+"."+cl.Operation,
			trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("rpc.service", cl.Service), attribute.String("rpc.method", cl.Operation)),
			trace.WithAttributes(cl.Attrs...))
		defer span.End()
		err := f(ctx)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
			if reconciler.IsThrottle(err) {
				span.SetAttributes(attribute.Bool("amigo.throttled", true))
			}
		}
		return err
	})
}
