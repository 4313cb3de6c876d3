package sim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/reconciler"
)

// A stack sharing an ALB routes through a listener rule: its forward
// action is the rule's, not the listener's default.
func TestForwardOfListenerRule(t *testing.T) {
	ctx := context.Background()
	c := open(t, "")
	target := testTarget(webStack)
	target.Rule = strings.Replace(target.Listener, ":listener/", ":listener-rule/", 1) + "/9683b2d02a6cabee"
	if err := c.Provision(target); err != nil {
		t.Fatalf("provision: %v", err)
	}
	blue, green := target.TargetGroups[0], target.TargetGroups[1]
	f := reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: blue, Weight: 50}, {TargetGroup: green, Weight: 50}}, Stickiness: time.Hour}
	if err := c.SetForward(ctx, target.Listener, target.Rule, f); err != nil {
		t.Fatalf("set forward: %v", err)
	}
	ls, err := c.ReadListeners(ctx, []reconciler.ListenerRef{{Listener: target.Listener, Rule: target.Rule}, {Listener: target.Listener}})
	if err != nil {
		t.Fatalf("read listeners: %v", err)
	}
	if diff := cmp.Diff(f, ls[0].Forward); diff != "" {
		t.Errorf("rule forward (-want +got):\n%s", diff)
	}
	if w := ls[1].Forward.Weight(blue); w != 100 {
		t.Errorf("default action: got blue weight %d, want 100 (untouched)", w)
	}
	if len(ls[0].Rules) != 0 {
		t.Errorf("amigo rules: got %+v, want none (the stack's own rule is not amigo's)", ls[0].Rules)
	}
	if got := c.Calls().Reads["ReadListeners"]; got != 1 {
		t.Errorf("ReadListeners calls: got %d, want 1 for both refs", got)
	}
}

func TestSetForwardRejects(t *testing.T) {
	c := open(t, "")
	target := testTarget(webStack)
	if err := c.Provision(target); err != nil {
		t.Fatalf("provision: %v", err)
	}
	blue := target.TargetGroups[0]
	tests := []struct {
		name     string
		listener string
		f        reconciler.Forward
		want     string
	}{
		{"unknown listener", target.Listener + "x", reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: blue, Weight: 1}}}, "ListenerNotFound"},
		{"unknown target group", target.Listener, reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: "tg-x", Weight: 1}}}, "TargetGroupNotFound"},
		{"weight over 999", target.Listener, reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: blue, Weight: 1000}}}, "ValidationError"},
		{"stickiness over 7 days", target.Listener, reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: blue, Weight: 1}}, Stickiness: 8 * 24 * time.Hour}, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.SetForward(context.Background(), tt.listener, "", tt.f)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %s", err, tt.want)
			}
		})
	}
}

func BenchmarkReadPass(b *testing.B) {
	c := open(b, "")
	target := testTarget(webStack)
	if err := c.Provision(target); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	refs := []reconciler.ListenerRef{{Listener: target.Listener}}
	for b.Loop() {
		if _, err := c.ListFleets(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := c.ReadListeners(ctx, refs); err != nil {
			b.Fatal(err)
		}
		if _, err := c.TargetGroups(ctx, target.TargetGroups); err != nil {
			b.Fatal(err)
		}
	}
}
