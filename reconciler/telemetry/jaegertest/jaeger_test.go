package jaegertest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/amigo-gitops/amigo/reconciler/telemetry"
	"github.com/amigo-gitops/amigo/reconciler/telemetry/jaegertest"
)

func TestExportToJaeger(t *testing.T) {
	j := jaegertest.Start(t)
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"http/protobuf", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": j.OTLPHTTPEndpoint()}},
		{"grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": j.OTLPGRPCEndpoint(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) string { return tt.env[k] }
			tp, shutdown, err := telemetry.SetupTracing(context.Background(), telemetry.TraceOptions{ServiceVersion: "0.0.1-test", Env: env})
			if err != nil {
				t.Fatal(err)
			}
			ctx, root := tp.Tracer("amigo").Start(context.Background(), "reconcile")
			_, child := tp.Tracer("amigo").Start(ctx, "git fetch")
			child.End()
			root.End()
			if err := shutdown(context.Background()); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			id := root.SpanContext().TraceID().String()

			tr := j.Trace(t, id)
			byName := map[string]jaegertest.Span{}
			for _, s := range tr.Spans {
				byName[s.OperationName] = s
			}
			r, ok := byName["reconcile"]
			if !ok {
				t.Fatalf("no reconcile span in %+v", tr.Spans)
			}
			f, ok := byName["git fetch"]
			if !ok {
				t.Fatalf("no git fetch span in %+v", tr.Spans)
			}
			if got, want := f.Parent(), r.SpanID; got != want {
				t.Errorf("git fetch parent: got %q, want %q", got, want)
			}
			if got, want := tr.Service(r), telemetry.ServiceName; got != want {
				t.Errorf("service: got %q, want %q", got, want)
			}

			var ids []string
			for _, tr := range j.Traces(t, telemetry.ServiceName) {
				ids = append(ids, tr.TraceID)
			}
			if !slices.Contains(ids, id) {
				t.Errorf("traces of %s: got %v, want them to include %s", telemetry.ServiceName, ids, id)
			}
		})
	}
}
