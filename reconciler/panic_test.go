package reconciler_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/amigo-gitops/amigo/reconciler"
)

// panicSource panics where a pass reads the desired branch.
type panicSource struct{ reconciler.Source }

func (panicSource) Fetch(context.Context) (string, error) { panic("index out of range") }

// TestPanicBecomesSpanError: a panic inside a pass is recovered at the
// pass boundary, returned as the pass's error and recorded on its span.
func TestPanicBecomesSpanError(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	r := reconciler.New(reconciler.Options{Source: panicSource{}, Tracer: tp.Tracer("amigo")})
	_, err := r.Reconcile(context.Background(), "poll")
	if err == nil || !strings.Contains(err.Error(), "panicked: index out of range") {
		t.Fatalf("Reconcile: got error %v, want the panic as an error", err)
	}
	for _, s := range rec.Ended() {
		if s.Name() != "reconcile" {
			continue
		}
		if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "index out of range") {
			t.Errorf("reconcile span status %v %q, want an error naming the panic", s.Status().Code, s.Status().Description)
		}
		return
	}
	t.Errorf("no reconcile span ended")
}
