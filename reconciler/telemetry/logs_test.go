package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/amigo-gitops/amigo/reconciler/telemetry"
)

// jsonLines decodes the logger's output, one object a line.
func jsonLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestTraceHookInPass(t *testing.T) {
	var buf bytes.Buffer
	log := telemetry.NewLogger(&buf, "info", true)
	w := newWorld(t, log, nil)
	p := w.run(t)
	if p.err != nil {
		t.Fatal(p.err)
	}
	var fetched map[string]any
	for _, l := range jsonLines(t, &buf) {
		if l["msg"] == "fetched" {
			fetched = l
		}
	}
	if fetched == nil {
		t.Fatalf("no fetched line in the log:\n%s", buf.String())
	}
	if got, want := fetched["trace_id"], p.res.TraceID; got != want {
		t.Errorf("trace_id: got %v, want %v (the reconcile span's)", got, want)
	}
	fetch := newTree(p.spans).named("git fetch")
	if len(fetch) != 1 {
		t.Fatalf("got %d git fetch spans, want 1", len(fetch))
	}
	if got, want := fetched["span_id"], fetch[0].SpanContext().SpanID().String(); got != want {
		t.Errorf("span_id: got %v, want %v (the git fetch span's)", got, want)
	}
}

func TestTraceHook(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	recording, span := tp.Tracer("t").Start(context.Background(), "op")
	defer span.End()
	notRecording, _ := noop.NewTracerProvider().Tracer("t").Start(context.Background(), "op")
	ended, endedSpan := tp.Tracer("t").Start(context.Background(), "ended")
	endedSpan.End()
	unsampledTP := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	defer unsampledTP.Shutdown(context.Background())
	unsampled, _ := unsampledTP.Tracer("t").Start(context.Background(), "op")
	tests := []struct {
		name      string
		ctx       context.Context
		wantTrace string
	}{
		{"no context", nil, ""},
		{"context without span", context.Background(), ""},
		{"span not recording", notRecording, ""},
		{"span dropped by the sampler", unsampled, ""},
		{"recording span", recording, span.SpanContext().TraceID().String()},
		{"ended sampled span", ended, endedSpan.SpanContext().TraceID().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := telemetry.NewLogger(&buf, "debug", true)
			e := logrus.NewEntry(log).WithField("stack", "dev/web")
			if tt.ctx != nil {
				e = e.WithContext(tt.ctx)
			}
			e.Info("hello")
			lines := jsonLines(t, &buf)
			if len(lines) != 1 {
				t.Fatalf("got %d lines, want 1", len(lines))
			}
			got, _ := lines[0]["trace_id"].(string)
			if got != tt.wantTrace {
				t.Errorf("trace_id: got %q, want %q", got, tt.wantTrace)
			}
			if lines[0]["stack"] != "dev/web" {
				t.Errorf("stack: got %v, want dev/web", lines[0]["stack"])
			}
			if _, had := e.Data["trace_id"]; had {
				t.Error("the hook wrote trace_id into the caller's entry")
			}
		})
	}
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name      string
		level     string
		json      bool
		wantLevel logrus.Level
		wantWarn  bool
	}{
		{"json debug", "debug", true, logrus.DebugLevel, false},
		{"text warn", "warn", false, logrus.WarnLevel, false},
		{"unknown level", "loud", true, logrus.InfoLevel, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := telemetry.NewLogger(&buf, tt.level, tt.json)
			if got := log.GetLevel(); got != tt.wantLevel {
				t.Errorf("level: got %v, want %v", got, tt.wantLevel)
			}
			_, isJSON := log.Formatter.(*logrus.JSONFormatter)
			if isJSON != tt.json {
				t.Errorf("JSON formatter: got %v, want %v", isJSON, tt.json)
			}
			if got := strings.Contains(buf.String(), "unknown log level"); got != tt.wantWarn {
				t.Errorf("warned about the level: got %v, want %v (output %q)", got, tt.wantWarn, buf.String())
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if telemetry.IsTerminal(f) {
		t.Error("a regular file: got terminal, want not")
	}
	if telemetry.IsTerminal(nil) {
		t.Error("nil: got terminal, want not")
	}
}
