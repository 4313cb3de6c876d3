package reconciler_test

import (
	"context"
	"testing"

	"github.com/amigo-gitops/amigo/cmd/amigo-bench/estate"
	"github.com/amigo-gitops/amigo/reconciler"
)

// BenchmarkPlan measures the planner alone on 1,000 stacks of one
// strategy, with the input a pass builds from the simulated cloud: every
// stack at rest, and every stack mid-rollout (paused at 50%, metrics read;
// 100 real stacks replicated, see estate.PlanInput).
// ns/stack is the figure `make bench` reports as planner_ns_per_stack.
func BenchmarkPlan(b *testing.B) {
	const stacks = 1000
	ctx := context.Background()
	for _, strategy := range estate.Strategies {
		for _, state := range []string{"steady", "mid"} {
			b.Run(strategy+"/"+state, func(b *testing.B) {
				in, err := estate.PlanInput(ctx, strategy, state == "mid", stacks)
				if err != nil {
					b.Fatalf("input: %v", err)
				}
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
