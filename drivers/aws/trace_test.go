package aws

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/amigo-gitops/amigo/reconciler"
)

// TestTraceSpans: with a tracer, every SDK operation is a client span
// under the caller's span, named after the service and operation.
func TestTraceSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c := newCloud(t)
	d := newDriver(t, c, func(o *Options) { o.Tracer = tp.Tracer("test") })
	ctx, parent := tp.Tracer("test").Start(context.Background(), "observe")
	if _, err := d.ResolveImage(ctx, reconciler.ImageQuery{Role: "web", Version: "v9.9"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ListFleets(ctx); err != nil {
		t.Fatal(err)
	}
	parent.End()
	got := map[string]bool{}
	for _, s := range rec.Ended() {
		if s.Name() == "observe" {
			continue
		}
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %s has parent %s, want the caller's span", s.Name(), s.Parent().SpanID())
		}
		for _, kv := range s.Attributes() {
			if kv.Key == "rpc.method" && "aws "+spanService(s)+"."+kv.Value.AsString() != s.Name() {
				t.Errorf("span %s: rpc.method %s does not match its name", s.Name(), kv.Value.AsString())
			}
		}
		got[s.Name()] = true
	}
	for _, want := range []string{"aws imagebuilder.ListImages", "aws autoscaling.DescribeAutoScalingGroups"} {
		if !got[want] {
			t.Errorf("no span %q among %v", want, got)
		}
	}
}

func spanService(s sdktrace.ReadOnlySpan) string {
	for _, kv := range s.Attributes() {
		if kv.Key == "rpc.service" {
			return kv.Value.AsString()
		}
	}
	return ""
}
