package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ServiceName is the service.name of amigo's traces unless
// OTEL_SERVICE_NAME says otherwise.
const ServiceName = "amigo"

// maxShutdown bounds the final flush, so that a collector that is down
// cannot hold the daemon's exit.
const maxShutdown = 5 * time.Second

// Protocols of OTEL_EXPORTER_OTLP_PROTOCOL that amigo speaks.
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
)

// TraceOptions configure SetupTracing.
type TraceOptions struct {
	ServiceVersion string
	// Env reads the environment; os.Getenv when nil. It decides whether
	// and where to export; the exporters read the other OTEL_EXPORTER_OTLP_*
	// variables (headers, timeout, certificates, compression) from the
	// process environment themselves.
	Env func(string) string
}

// SetupTracing builds the tracer provider the OTEL_* variables ask for.
// With no OTLP endpoint configured (and OTEL_TRACES_EXPORTER not "otlp"),
// or with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, it returns a
// no-op provider, which costs nothing per span. The returned shutdown
// flushes pending spans; it stops at the context's deadline and at 5s.
func SetupTracing(ctx context.Context, o TraceOptions) (trace.TracerProvider, func(context.Context) error, error) {
	env := o.Env
	if env == nil {
		env = os.Getenv
	}
	noShutdown := func(context.Context) error { return nil }
	on, err := exportEnabled(env)
	if err != nil || !on {
		return noop.NewTracerProvider(), noShutdown, err
	}
	exp, err := newExporter(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	res, err := newResource(ctx, env, o.ServiceVersion)
	if err != nil {
		return nil, nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	shutdown := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, maxShutdown)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("flush traces: %w", err)
		}
		return nil
	}
	return tp, shutdown, nil
}

// exportEnabled applies the SDK's environment rules to the choice between
// exporting and not.
func exportEnabled(env func(string) string) (bool, error) {
	if strings.EqualFold(strings.TrimSpace(env("OTEL_SDK_DISABLED")), "true") {
		return false, nil
	}
	switch exp := strings.TrimSpace(env("OTEL_TRACES_EXPORTER")); exp {
	case "none":
		return false, nil
	case "otlp":
		return true, nil
	case "":
		return env("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "", nil
	default:
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER %q: only otlp and none are supported", exp)
	}
}

// protocol is the OTLP transport the environment asks for; the
// specification's default is http/protobuf.
func protocol(env func(string) string) string {
	if p := strings.TrimSpace(env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")); p != "" {
		return p
	}
	if p := strings.TrimSpace(env("OTEL_EXPORTER_OTLP_PROTOCOL")); p != "" {
		return p
	}
	return ProtocolHTTPProtobuf
}

func newExporter(ctx context.Context, env func(string) string) (sdktrace.SpanExporter, error) {
	switch p := protocol(env); p {
	case ProtocolHTTPProtobuf:
		var opts []otlptracehttp.Option
		if u := httpTracesURL(env); u != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(u))
		}
		exp, err := otlptracehttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("otlp http exporter: %w", err)
		}
		return exp, nil
	case ProtocolGRPC:
		var opts []otlptracegrpc.Option
		if u := grpcURL(env); u != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(u))
		}
		exp, err := otlptracegrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("otlp grpc exporter: %w", err)
		}
		return exp, nil
	default:
		return nil, fmt.Errorf("otlp protocol %q: only %s and %s are supported", p, ProtocolGRPC, ProtocolHTTPProtobuf)
	}
}

// httpTracesURL is the URL spans are posted to: the signal's endpoint is
// used as is, the general one gets the signal path appended, as the
// specification says. "" leaves the exporter's default.
func httpTracesURL(env func(string) string) string {
	if u := strings.TrimSpace(env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")); u != "" {
		return u
	}
	if u := strings.TrimSpace(env("OTEL_EXPORTER_OTLP_ENDPOINT")); u != "" {
		return strings.TrimSuffix(u, "/") + "/v1/traces"
	}
	return ""
}

// grpcURL is the collector's address; gRPC has no signal path.
func grpcURL(env func(string) string) string {
	if u := strings.TrimSpace(env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")); u != "" {
		return u
	}
	return strings.TrimSpace(env("OTEL_EXPORTER_OTLP_ENDPOINT"))
}

// newResource names the service. OTEL_SERVICE_NAME wins over the default
// name; OTEL_RESOURCE_ATTRIBUTES adds attributes.
func newResource(ctx context.Context, env func(string) string, version string) (*resource.Resource, error) {
	name := ServiceName
	if n := strings.TrimSpace(env("OTEL_SERVICE_NAME")); n != "" {
		name = n
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", name)}
	if version != "" {
		attrs = append(attrs, attribute.String("service.version", version))
	}
	return resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
		resource.WithAttributes(attrs...),
	)
}
