package estate

import (
	"context"
	"fmt"
	"time"

	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

// Scene is a simulated cloud brought to a known state by real passes, with
// the reconciler that got it there.
type Scene struct {
	Spec   Spec
	Cloud  *sim.Cloud
	Source *Memory
	Rec    *reconciler.Reconciler
	Last   reconciler.PassResult
}

// AtRest returns a scene where every stack of spec runs its version,
// Healthy, and a pass has nothing left to do. spec.Version is taken as is.
func AtRest(ctx context.Context, spec Spec) (*Scene, error) {
	s, err := newScene(spec)
	if err != nil {
		return nil, err
	}
	repo, err := spec.Load(s.Source.Rev())
	if err != nil {
		return nil, err
	}
	if err := SeedAtRest(s.Cloud, repo); err != nil {
		return nil, err
	}
	s.Last, err = Until(ctx, s.Rec, s.Cloud, time.Minute, 20, AtRestCond)
	if err != nil {
		return nil, fmt.Errorf("bring %d stacks to rest: %w", spec.Stacks, err)
	}
	return s, nil
}

// AtRestCond is AtRest as a condition for Until.
func AtRestCond(res reconciler.PassResult) bool { return atRest(res) }

// Paused returns a scene where every stack is rolling out to spec.Version
// and holds Paused at the ceiling spec.Traffic (set it below 100).
func Paused(ctx context.Context, spec Spec) (*Scene, error) {
	if spec.Traffic <= 0 || spec.Traffic >= 100 {
		return nil, fmt.Errorf("paused scene: traffic %d, want 1..99", spec.Traffic)
	}
	s, err := newScene(spec)
	if err != nil {
		return nil, err
	}
	repo, err := spec.Load(s.Source.Rev())
	if err != nil {
		return nil, err
	}
	if err := SeedRollout(s.Cloud, repo); err != nil {
		return nil, err
	}
	s.Last, err = Until(ctx, s.Rec, s.Cloud, tickFor(spec), 200, allPaused)
	if err != nil {
		return nil, fmt.Errorf("bring %d stacks mid-rollout: %w", spec.Stacks, err)
	}
	return s, nil
}

// tickFor is a coarse pass interval, so that 1,000 stacks reach the
// ceiling in a few passes: hybrid-canary pauses for days, the others for
// minutes. A coarse tick cannot overshoot: the ceiling holds the rollout.
func tickFor(spec Spec) time.Duration {
	for i := 0; i < spec.Stacks; i++ {
		if spec.StrategyOf(i) == "hybrid-canary" {
			return 12 * time.Hour
		}
	}
	return 10 * time.Minute
}

func allPaused(res reconciler.PassResult) bool {
	for _, sp := range res.Plan.Stacks {
		if sp.Status.Phase != reconciler.Paused {
			return false
		}
	}
	return len(res.Plan.Stacks) > 0
}

func newScene(spec Spec) (*Scene, error) {
	c, err := sim.Open("", sim.Options{})
	if err != nil {
		return nil, fmt.Errorf("open sim: %w", err)
	}
	src := NewMemory(spec.Files())
	rec := reconciler.New(reconciler.Options{Source: src, Cloud: c.Cloud()})
	return &Scene{Spec: spec, Cloud: c, Source: src, Rec: rec}, nil
}

// Input is the planner's input for the scene as it stands.
func (s *Scene) Input(ctx context.Context) (reconciler.Input, error) {
	repo, err := s.Spec.Load(s.Source.Rev())
	if err != nil {
		return reconciler.Input{}, err
	}
	return Input(ctx, s.Cloud.Cloud(), repo, Statuses(s.Last))
}

// MidStacks is how many real stacks a mid-rollout PlanInput holds.
const MidStacks = 100

// PlanInput is the planner's input for n stacks of strategy, at rest or
// paused at 50% of a rollout. At rest all n stacks are real. Mid-rollout,
// MidStacks real stacks are replicated to n (see Replicate): the
// simulator's API calls grow with the estate, and driving a thousand real
// rollouts through it takes minutes.
func PlanInput(ctx context.Context, strategy string, mid bool, n int) (reconciler.Input, error) {
	var scene *Scene
	var err error
	if mid {
		scene, err = Paused(ctx, Spec{Stacks: min(n, MidStacks), Strategy: strategy, Version: "v1.6", Traffic: 50})
	} else {
		scene, err = AtRest(ctx, Spec{Stacks: n, Strategy: strategy, Version: "v1.5"})
	}
	if err != nil {
		return reconciler.Input{}, fmt.Errorf("%s: %w", strategy, err)
	}
	in, err := scene.Input(ctx)
	if err != nil || len(in.Repo.Stacks) == n {
		return in, err
	}
	return Replicate(in, n), nil
}
