package main

import (
	"context"
	"fmt"
	"time"

	"github.com/amigo-gitops/amigo/cmd/amigo-bench/estate"
	"github.com/amigo-gitops/amigo/reconciler"
)

// benchPlanner times reconciler.Plan alone on planStacks stacks of each
// strategy, at rest and paused mid-rollout, with the input a pass builds.
// Stacks at rest are all real; mid-rollout inputs replicate 100 real
// stacks (see estate.PlanInput).
func benchPlanner(ctx context.Context, cfg config, r *report) error {
	n := cfg.planStacks
	var steady []float64
	for _, strategy := range estate.Strategies {
		for _, mid := range []bool{false, true} {
			in, err := estate.PlanInput(ctx, strategy, mid, n)
			if err != nil {
				return err
			}
			ns := timePlan(in, cfg.reps) / float64(n)
			state := "steady"
			if mid {
				state = "mid"
			} else {
				steady = append(steady, ns)
			}
			r.add(fmt.Sprintf("planner_ns_per_stack_%s_%s", state, strategy),
				fmt.Sprintf("planner, %s, %s (%d stacks)", strategy, state, n), ns, "ns/stack")
		}
	}
	r.below("planner_ns_per_stack", fmt.Sprintf("planner, median of strategies at rest (%d stacks)", n),
		median(steady), "ns/stack", 50e6/1000)
	return nil
}

// timePlan is the median over reps of the time of one Plan, each rep
// averaging as many calls as fit in about 50ms.
func timePlan(in reconciler.Input, reps int) float64 {
	start := time.Now()
	reconciler.Plan(in)
	calls := max(1, int(50*time.Millisecond/max(time.Since(start), time.Microsecond)))
	var xs []float64
	for i := 0; i < reps; i++ {
		start := time.Now()
		for k := 0; k < calls; k++ {
			reconciler.Plan(in)
		}
		xs = append(xs, float64(time.Since(start).Nanoseconds())/float64(calls))
	}
	return median(xs)
}
