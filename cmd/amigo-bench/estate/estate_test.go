package estate

import (
	"context"
	"testing"

	"github.com/amigo-gitops/amigo/reconciler"
)

func TestScenes(t *testing.T) {
	ctx := context.Background()
	for _, strategy := range append([]string{Mixed}, Strategies...) {
		t.Run(strategy, func(t *testing.T) {
			rest, err := AtRest(ctx, Spec{Stacks: 4, Strategy: strategy, Version: "v1.5"})
			if err != nil {
				t.Fatalf("at rest: %v", err)
			}
			in, err := rest.Input(ctx)
			if err != nil {
				t.Fatalf("input: %v", err)
			}
			if got := reconciler.Plan(in); got.Writes() != 0 {
				t.Errorf("plan at rest writes %d times, want 0", got.Writes())
			}
			paused, err := Paused(ctx, Spec{Stacks: 4, Strategy: strategy, Version: "v1.6", Traffic: 50})
			if err != nil {
				t.Fatalf("paused: %v", err)
			}
			in, err = paused.Input(ctx)
			if err != nil {
				t.Fatalf("input: %v", err)
			}
			for _, sp := range reconciler.Plan(in).Stacks {
				if sp.Status.Phase != reconciler.Paused || sp.Status.New == nil {
					t.Errorf("%s: phase %s new %v, want Paused with a new release", sp.Stack, sp.Status.Phase, sp.Status.New)
				}
			}
		})
	}
}

func TestMemoryCommitsOnlyChanges(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(map[string][]byte{"a": []byte("1")})
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  bool
	}{
		{"first", map[string][]byte{"s": []byte("x")}, true},
		{"same", map[string][]byte{"s": []byte("x")}, false},
		{"changed", map[string][]byte{"s": []byte("y")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.WriteStatus(ctx, tc.files, "status")
			if err != nil || got != tc.want {
				t.Errorf("WriteStatus = %v, %v; want %v, nil", got, err, tc.want)
			}
		})
	}
}

// TestReplicatePlansLikeTheOriginal: a replicated stack gets the plan of
// the stack it copies.
func TestReplicatePlansLikeTheOriginal(t *testing.T) {
	ctx := context.Background()
	for _, strategy := range Strategies {
		t.Run(strategy, func(t *testing.T) {
			in, err := PlanInput(ctx, strategy, true, 3)
			if err != nil {
				t.Fatalf("input: %v", err)
			}
			big := Replicate(in, 7)
			orig := reconciler.Plan(in).Stacks
			got := reconciler.Plan(big).Stacks
			if len(got) != 7 {
				t.Fatalf("replicated plan has %d stacks, want 7", len(got))
			}
			for k, sp := range got {
				want := orig[k%3]
				if sp.Stack != ID(k) || len(sp.Actions) != len(want.Actions) || sp.Status.Phase != want.Status.Phase || sp.Status.Weight != want.Status.Weight {
					t.Errorf("stack %d: got %s %s weight %d, %d actions; want %s weight %d, %d actions",
						k, sp.Stack, sp.Status.Phase, sp.Status.Weight, len(sp.Actions), want.Status.Phase, want.Status.Weight, len(want.Actions))
				}
			}
		})
	}
}
