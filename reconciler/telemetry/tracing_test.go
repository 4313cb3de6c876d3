package telemetry_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/trace/noop"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/amigo-gitops/amigo/reconciler/telemetry"
)

// envOf reads from a map, as TraceOptions.Env.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestSetupTracingNoop(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"nothing set", nil},
		{"exporter none", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}},
		{"sdk disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}},
		{"protocol without endpoint", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, shutdown, err := telemetry.SetupTracing(context.Background(), telemetry.TraceOptions{Env: envOf(tt.env)})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := tp.(noop.TracerProvider); !ok {
				t.Errorf("provider: got %T, want noop.TracerProvider", tp)
			}
			_, span := tp.Tracer("amigo").Start(context.Background(), "reconcile")
			if span.IsRecording() {
				t.Error("span is recording, want a no-op span")
			}
			span.End()
			if err := shutdown(context.Background()); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
}

func TestSetupTracingRejects(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"unknown exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}},
		{"http/json", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}},
		{"traces protocol wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "thrift"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := telemetry.SetupTracing(context.Background(), telemetry.TraceOptions{Env: envOf(tt.env)})
			if err == nil {
				t.Error("got no error, want one")
			}
		})
	}
}

// collector keeps the spans an OTLP endpoint received.
type collector struct {
	mu       sync.Mutex
	requests []string // "METHOD path" of HTTP requests
	spans    []*tracepb.ResourceSpans
}

func (c *collector) add(req *coltrace.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spans = append(c.spans, req.GetResourceSpans()...)
}

// names returns "service.name/service.version span" for every span
// received.
func (c *collector) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, rs := range c.spans {
		res := map[string]string{}
		for _, kv := range rs.GetResource().GetAttributes() {
			res[kv.GetKey()] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				out = append(out, res["service.name"]+"/"+res["service.version"]+" "+s.GetName())
			}
		}
	}
	return out
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests = append(c.requests, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.add(&req)
	resp, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(resp)
}

type grpcCollector struct {
	coltrace.UnimplementedTraceServiceServer
	*collector
}

func (g grpcCollector) Export(ctx context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	g.add(req)
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// startGRPC serves OTLP/gRPC on a free loopback port until the test ends.
func startGRPC(t *testing.T, c *collector) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	coltrace.RegisterTraceServiceServer(srv, grpcCollector{collector: c})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return "http://" + lis.Addr().String()
}

func TestSetupTracingExports(t *testing.T) {
	tests := []struct {
		name      string
		env       func(url string) map[string]string
		grpc      bool
		wantPaths []string // HTTP requests; nil for gRPC
	}{
		{"http base endpoint", func(u string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": u}
		}, false, []string{"POST /v1/traces"}},
		{"http traces endpoint as is", func(u string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": u + "/custom/traces"}
		}, false, []string{"POST /custom/traces"}},
		{"grpc", func(u string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": u, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
		}, true, nil},
		{"grpc by traces protocol", func(u string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": u, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
				"OTEL_SERVICE_NAME": "amigo-stg"}
		}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &collector{}
			var url string
			if tt.grpc {
				url = startGRPC(t, c)
			} else {
				srv := httptest.NewServer(c)
				defer srv.Close()
				url = srv.URL
			}
			env := tt.env(url)
			tp, shutdown, err := telemetry.SetupTracing(context.Background(),
				telemetry.TraceOptions{ServiceVersion: "1.2.3", Env: envOf(env)})
			if err != nil {
				t.Fatal(err)
			}
			_, span := tp.Tracer("amigo").Start(context.Background(), "reconcile")
			span.End()
			if got := c.names(); len(got) != 0 {
				t.Fatalf("spans before shutdown: got %v, want none (batched)", got)
			}
			if err := shutdown(context.Background()); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			service := "amigo"
			if n := env["OTEL_SERVICE_NAME"]; n != "" {
				service = n
			}
			want := []string{service + "/1.2.3 reconcile"}
			if diff := cmp.Diff(want, c.names()); diff != "" {
				t.Errorf("spans received (-want +got):\n%s", diff)
			}
			if tt.wantPaths != nil {
				if diff := cmp.Diff(tt.wantPaths, c.requests); diff != "" {
					t.Errorf("requests (-want +got):\n%s", diff)
				}
			}
		})
	}
}
