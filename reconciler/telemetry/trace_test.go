package telemetry_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
	"github.com/amigo-gitops/amigo/reconciler/telemetry"
)

func attrs(s sdktrace.ReadOnlySpan) map[string]string {
	out := map[string]string{}
	for _, kv := range s.Attributes() {
		out[string(kv.Key)] = kv.Value.String()
	}
	return out
}

func TestPassSpanTree(t *testing.T) {
	w := newWorld(t, nil, nil)
	p, _ := w.untilPromoted(t)
	tr := newTree(p.spans)

	t.Run("single root", func(t *testing.T) {
		roots := tr.named("reconcile")
		if len(roots) != 1 {
			t.Fatalf("got %d reconcile spans, want 1", len(roots))
		}
		if got := tr.parent(roots[0]); got != "" {
			t.Errorf("reconcile has parent %q, want none", got)
		}
		if got, want := attrs(roots[0])["amigo.revision"], "rev-1"; got != want {
			t.Errorf("amigo.revision: got %q, want %q", got, want)
		}
		for _, s := range p.spans {
			c := tr.chain(s)
			if c[len(c)-1] != "reconcile" {
				t.Errorf("span %s: chain %s does not reach reconcile", s.Name(), strings.Join(c, " < "))
			}
		}
	})

	t.Run("parents", func(t *testing.T) {
		tests := []struct{ name, parent string }{
			{"git fetch", "reconcile"},
			{"observe", "reconcile"},
			{"plan", "reconcile"},
			{"plan dev/web", "plan"},
			{"apply", "reconcile"},
			{"status commit", "reconcile"},
			{"cloud Fleets.ListFleets", "observe"},
			{"cloud Traffic.ReadListeners", "observe"},
			{"cloud Images.ResolveImage", "observe"},
			{"cloud Traffic.TargetGroups", "observe"},
			{"cloud Metrics.TargetGroupMetrics", "observe"},
			{"cloud Traffic.SetForward", "set-forward"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				spans := tr.named(tt.name)
				if len(spans) == 0 {
					t.Fatalf("no %q span", tt.name)
				}
				for _, s := range spans {
					if got := tr.parent(s); got != tt.parent {
						t.Errorf("parent: got %q, want %q", got, tt.parent)
					}
				}
			})
		}
	})

	t.Run("plan span", func(t *testing.T) {
		spans := tr.named("plan dev/web")
		if len(spans) != 1 {
			t.Fatalf("got %d plan dev/web spans, want 1", len(spans))
		}
		got := attrs(spans[0])
		want := map[string]string{
			"amigo.env": "dev", "amigo.role": "web", "amigo.strategy": "bluegreen",
			"amigo.phase": "Progressing", "amigo.step": "50%", "amigo.weight": "50",
			"amigo.from": "v1.6", "amigo.to": "v1.7", "amigo.gate": "", "amigo.actions": "1",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("attributes (-want +got):\n%s", diff)
		}
	})

	t.Run("one span per applied action", func(t *testing.T) {
		apply := tr.named("apply")
		if len(apply) != 1 {
			t.Fatalf("got %d apply spans, want 1", len(apply))
		}
		var got []string
		for _, s := range p.spans {
			if tr.parent(s) == "apply" {
				got = append(got, s.Name()+": "+attrs(s)["amigo.action"])
			}
		}
		var want []string
		for _, a := range p.res.Applied {
			want = append(want, string(a.Kind)+": "+a.String())
		}
		if len(want) == 0 {
			t.Fatal("the promoting pass applied nothing")
		}
		sort.Strings(got)
		sort.Strings(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("action spans (-want +got):\n%s", diff)
		}
	})

	t.Run("cloud span", func(t *testing.T) {
		spans := tr.named("cloud Traffic.SetForward")
		if len(spans) != 1 {
			t.Fatalf("got %d SetForward spans, want 1", len(spans))
		}
		s := spans[0]
		if got, want := s.SpanKind(), trace.SpanKindClient; got != want {
			t.Errorf("kind: got %v, want %v", got, want)
		}
		if got, want := attrs(s)["amigo.listener"], "lst-dev"; got != want {
			t.Errorf("amigo.listener: got %q, want %q", got, want)
		}
	})

	t.Run("trace id in status", func(t *testing.T) {
		st, err := w.src.ReadStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		statuses, err := reconciler.ParseStatusFiles(st)
		if err != nil {
			t.Fatal(err)
		}
		id := p.res.Plan.Stacks[0].Stack
		if got, want := statuses[id].TraceID, p.res.TraceID; got != want {
			t.Errorf("status trace id: got %q, want %q", got, want)
		}
	})
}

func TestTraceCloudRecordsErrors(t *testing.T) {
	w := newWorld(t, nil, nil)
	// More throttles than the reconciler's five attempts: the first cloud
	// call of the pass fails for good.
	if err := w.sim.Inject(sim.Fault{Throttle: 5}); err != nil {
		t.Fatal(err)
	}
	p := w.run(t)
	if p.err == nil {
		t.Fatal("pass succeeded under throttling, want an error")
	}
	spans := newTree(p.spans).named("cloud Fleets.ListFleets")
	if got, want := len(spans), 5; got != want {
		t.Fatalf("ListFleets spans: got %d, want %d", got, want)
	}
	for i, s := range spans {
		if got, want := s.Status().Code.String(), "Error"; got != want {
			t.Errorf("span %d status: got %s, want %s", i, got, want)
		}
		if got := attrs(s)["amigo.throttled"]; got != "true" {
			t.Errorf("span %d amigo.throttled: got %q, want true", i, got)
		}
		if !slices.ContainsFunc(s.Events(), func(e sdktrace.Event) bool { return e.Name == "exception" }) {
			t.Errorf("span %d events %v: want an exception", i, s.Events())
		}
	}
}

// TestTraceCloudKeepsNil checks that a cloud without some interface stays
// without it rather than gaining a wrapper around nil.
func TestTraceCloudKeepsNil(t *testing.T) {
	w := newWorld(t, nil, nil)
	c := w.sim.Cloud()
	c.Metrics = nil
	got := telemetry.TraceCloud(c, w.provider.Tracer("x"))
	if got.Metrics != nil {
		t.Errorf("Metrics: got %T, want nil", got.Metrics)
	}
	if got.Clock != c.Clock {
		t.Errorf("Clock: got %v, want the original clock", got.Clock)
	}
	if _, raw := got.Fleets.(*sim.Cloud); raw {
		t.Errorf("Fleets: got the unwrapped simulator, want a wrapper")
	}
}
