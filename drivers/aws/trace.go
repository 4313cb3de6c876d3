package aws

import (
	"context"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// traceMiddleware makes every SDK operation a client span (retries
// included), named "aws <service>.<Operation>" with the RPC semantic
// attributes. It is a few lines of smithy middleware rather than the otel
// contrib otelaws package, which would link the DynamoDB, S3, SNS and SQS
// clients into the daemon for their attribute setters.
func traceMiddleware(t trace.Tracer, region string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("amigoTrace",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				service := iamPrefix(awsmiddleware.GetServiceID(ctx))
				op := middleware.GetOperationName(ctx)
				ctx, span := t.Start(ctx, "aws "+service+"."+op, trace.WithSpanKind(trace.SpanKindClient),
					trace.WithAttributes(attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", service),
						attribute.String("rpc.method", op), attribute.String("cloud.region", region)))
				defer span.End()
				out, md, err := next.HandleInitialize(ctx, in)
				if err != nil {
					span.RecordError(err)
					span.SetStatus(codes.Error, err.Error())
				}
				return out, md, err
			}), middleware.After) // after the service metadata is registered
	}
}
