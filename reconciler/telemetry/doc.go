// Package telemetry owns amigo's traces, metrics, logs and health endpoints
// (DESIGN.md section 6): it sets up the OTLP trace pipeline from the
// standard OTEL_* variables, wraps a reconciler.Cloud so that every cloud
// call becomes a client span and a counted call, exposes the Prometheus
// registry, builds the logrus logger with a hook that stamps trace_id and
// span_id on entries logged inside a pass, and serves /healthz and /readyz.
//
// Callers inside a pass log with log.WithContext(ctx), so that TraceHook
// finds the pass's span in the entry's context.
//
// It must not hold package-level state: the tracer provider, the registry,
// the logger and the health state are values that main builds and passes
// in. It must not decide anything about rollouts: it observes passes and
// calls, it never changes their outcome.
package telemetry
