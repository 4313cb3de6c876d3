package jaegertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Version is the Jaeger release .ci/tool-jaeger builds.
const Version = "1.76.0"

// Jaeger is a running Jaeger.
type Jaeger struct {
	otlpHTTP, otlpGRPC, query string // host:port
	client                    *http.Client
}

// Start starts Jaeger for the test and stops it when the test ends.
func Start(t testing.TB) *Jaeger {
	t.Helper()
	bin := binary(t)
	ports := freePorts(t, 4)
	j := &Jaeger{
		otlpGRPC: ports[0], otlpHTTP: ports[1], query: ports[2],
		client: &http.Client{Timeout: 10 * time.Second},
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfg, []byte(config(j.otlpGRPC, j.otlpHTTP, j.query, ports[3])), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin, "--config=file:"+cfg)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = childEnv(os.Environ())
	if err := cmd.Start(); err != nil {
		t.Fatalf("start jaeger: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { stop(t, cmd, exited, out) })
	if err := j.waitReady(exited); err != nil {
		t.Fatalf("jaeger did not come up: %v\n%s", err, out.String())
	}
	return j
}

// childEnv is the test's environment without the OTEL_* variables meant
// for the code under test, and with Jaeger's own tracing off: its spans
// would go to the default OTLP port, perhaps another test's collector, and
// its exit would wait for them.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "OTEL_") {
			out = append(out, kv)
		}
	}
	return append(out, "OTEL_SDK_DISABLED=true", "OTEL_TRACES_EXPORTER=none")
}

// binary finds the Jaeger binary or skips the test.
func binary(t testing.TB) string {
	t.Helper()
	var tried []string
	if b := os.Getenv("JAEGER_BIN"); b != "" {
		if executable(b) {
			return b
		}
		tried = append(tried, b)
	}
	if b, err := cachePath(); err == nil {
		if executable(b) {
			return b
		}
		tried = append(tried, b)
	}
	msg := fmt.Sprintf("no jaeger binary (tried %v); run .ci/tool-jaeger or set JAEGER_BIN", tried)
	if os.Getenv("AMIGO_E2E") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// cachePath is where .ci/tool-jaeger leaves the binary.
func cachePath() (string, error) {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "amigo", "jaeger-"+Version, "jaeger"), nil
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// freePorts returns n loopback addresses that were free a moment ago.
// Listeners are held until all are chosen so that none repeats.
func freePorts(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		out = append(out, l.Addr().String())
	}
	return out
}

// config is a Jaeger v2 configuration with only what the tests use: OTLP
// in, memory storage, the query API. The all-in-one default would also
// bind fixed ports (sampling, health check, zipkin, the collector's own
// metrics) that collide between concurrent test processes.
func config(otlpGRPC, otlpHTTP, query, queryGRPC string) string {
	return fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: %q
    grpc:
      endpoint: %q
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %q
      http:
        endpoint: %q
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, query, queryGRPC, otlpGRPC, otlpHTTP)
}

// waitReady polls the query API until it answers, the process exits or
// 60s pass (a cold start on a loaded machine is slow).
func (j *Jaeger) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := j.client.Get(j.QueryURL() + "/api/services")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && j.otlpUp() {
			return nil
		}
	}
	return errors.New("query API did not answer within 60s")
}

// otlpUp reports whether the OTLP/HTTP receiver accepts connections; it
// may start after the query API.
func (j *Jaeger) otlpUp() bool {
	c, err := net.DialTimeout("tcp", j.otlpHTTP, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// stop ends the process it started, by its pid: SIGTERM, then SIGKILL
// after 10s.
func stop(t testing.TB, cmd *exec.Cmd, exited <-chan error, out *syncBuffer) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	if t.Failed() {
		t.Logf("jaeger output:\n%s", out.String())
	}
}

// OTLPHTTPEndpoint is the OTLP/HTTP base URL, for OTEL_EXPORTER_OTLP_ENDPOINT.
func (j *Jaeger) OTLPHTTPEndpoint() string { return "http://" + j.otlpHTTP }

// OTLPGRPCEndpoint is the OTLP/gRPC URL, for OTEL_EXPORTER_OTLP_ENDPOINT
// with OTEL_EXPORTER_OTLP_PROTOCOL=grpc.
func (j *Jaeger) OTLPGRPCEndpoint() string { return "http://" + j.otlpGRPC }

// QueryURL is the base URL of the query API and UI.
func (j *Jaeger) QueryURL() string { return "http://" + j.query }

// Trace is a trace as the query API returns it.
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
}

// Span is one span of a Trace.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	Tags          []Tag       `json:"tags"`
	ProcessID     string      `json:"processID"`
}

// Reference links a span to another, CHILD_OF its parent.
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// Tag is a span attribute.
type Tag struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Process is the resource spans came from.
type Process struct {
	ServiceName string `json:"serviceName"`
	Tags        []Tag  `json:"tags"`
}

// Parent is the span id of the span's parent, "" for a root.
func (s Span) Parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// Tag returns the value of the span's tag key, nil when absent.
func (s Span) Tag(key string) any {
	for _, tg := range s.Tags {
		if tg.Key == key {
			return tg.Value
		}
	}
	return nil
}

// Service is the service name of the process the span came from.
func (tr Trace) Service(s Span) string { return tr.Processes[s.ProcessID].ServiceName }

type response struct {
	Data   []Trace `json:"data"`
	Errors []struct {
		Msg string `json:"msg"`
	} `json:"errors"`
}

// Traces returns the traces of service stored now (the last hour's, at
// most 100). Spans arrive asynchronously: poll, or use Trace.
func (j *Jaeger) Traces(t testing.TB, service string) []Trace {
	t.Helper()
	q := url.Values{"service": {service}, "lookback": {"1h"}, "limit": {"100"}}
	traces, status, err := j.get("/api/traces?" + q.Encode())
	if err != nil || status != http.StatusOK {
		t.Fatalf("traces of %s: status %d: %v", service, status, err)
	}
	return traces
}

// Trace returns the trace with id (hex), waiting up to 10s for its spans
// to be stored. It fails the test when the trace does not appear.
func (j *Jaeger) Trace(t testing.TB, id string) Trace {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		traces, status, err := j.get("/api/traces/" + url.PathEscape(id))
		switch {
		case err == nil && status == http.StatusOK && len(traces) == 1:
			return traces[0]
		case err == nil && status != http.StatusOK && status != http.StatusNotFound:
			t.Fatalf("trace %s: status %d", id, status)
		case time.Now().After(deadline):
			t.Fatalf("trace %s not found within 10s (status %d, err %v)", id, status, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (j *Jaeger) get(path string) ([]Trace, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.QueryURL()+path, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, nil
	}
	var r response
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, resp.StatusCode, fmt.Errorf("decode %s: %w", path, err)
	}
	if len(r.Errors) > 0 {
		return nil, resp.StatusCode, fmt.Errorf("%s: %s", path, r.Errors[0].Msg)
	}
	return r.Data, resp.StatusCode, nil
}

// syncBuffer collects the process's output from two pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil // enough to diagnose; keep memory bounded
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
