package reconciler_test

import (
	"context"
	"testing"

	"github.com/amigo-gitops/amigo/cmd/amigo-bench/estate"
	"github.com/amigo-gitops/amigo/reconciler"
)

// BenchmarkPlan measures the planner alone on 1,000 stacks of one
// strategy, with the input a pass builds from the simulated cloud: every
// stack at rest, and every stack mid-rollout (paused at 50%, metrics read).
// ns/stack is the figure `make bench` reports as planner_ns_per_stack.
func BenchmarkPlan(b *testing.B) {
	const stacks = 1000
	ctx := context.Background()
	for _, strategy := range estate.Strategies {
		for _, state := range []string{"steady", "mid"} {
			b.Run(strategy+"/"+state, func(b *testing.B) {
				in := planInput(ctx, b, strategy, state, stacks)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					reconciler.Plan(in)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/stacks, "ns/stack")
			})
		}
	}
}

func planInput(ctx context.Context, b *testing.B, strategy, state string, n int) reconciler.Input {
	b.Helper()
	var scene *estate.Scene
	var err error
	if state == "steady" {
		scene, err = estate.AtRest(ctx, estate.Spec{Stacks: n, Strategy: strategy, Version: "v1.5"})
	} else {
		scene, err = estate.Paused(ctx, estate.Spec{Stacks: n, Strategy: strategy, Version: "v1.6", Traffic: 50})
	}
	if err != nil {
		b.Fatalf("%s %s: %v", strategy, state, err)
	}
	in, err := scene.Input(ctx)
	if err != nil {
		b.Fatalf("%s %s: input: %v", strategy, state, err)
	}
	return in
}
