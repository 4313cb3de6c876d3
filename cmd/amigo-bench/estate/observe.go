package estate

import (
	"context"
	"fmt"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// Input builds the planner's input from the cloud as a pass that is not a
// rule sweep would: every stack gets its fleets and listener; stacks that
// are not at rest also get their listener rules, image, target groups
// and, mid-step, the step's metrics. It
// follows the reconciler's observe step, which is not exported, so that
// the planner is measured on the input it really gets.
func Input(ctx context.Context, c reconciler.Cloud, repo *desired.Repo, prev map[desired.StackID]reconciler.Status) (reconciler.Input, error) {
	fleets, err := c.Fleets.ListFleets(ctx)
	if err != nil {
		return reconciler.Input{}, fmt.Errorf("list fleets: %w", err)
	}
	byStack := map[desired.StackID][]reconciler.Fleet{}
	for _, f := range fleets {
		byStack[f.Stack] = append(byStack[f.Stack], f)
	}
	refs := make([]reconciler.ListenerRef, len(repo.Stacks))
	for i, st := range repo.Stacks {
		refs[i] = reconciler.ListenerRef{Listener: st.Target.Listener, Rule: st.Target.Rule,
			Rules: !stackAtRest(st, prev[st.ID])}
	}
	listeners, err := c.Traffic.ReadListeners(ctx, refs)
	if err != nil {
		return reconciler.Input{}, fmt.Errorf("read listeners: %w", err)
	}
	now := c.Clock.Now()
	obs := make(map[desired.StackID]reconciler.Observed, len(repo.Stacks))
	for i, st := range repo.Stacks {
		o := reconciler.Observed{Fleets: byStack[st.ID], Listener: ownRules(listeners[i], st.ID)}
		if !quiet(st, o, prev[st.ID]) {
			if err := observeMoving(ctx, c, repo.Settings, st, &o, prev[st.ID], now); err != nil {
				return reconciler.Input{}, fmt.Errorf("observe %s: %w", st.ID, err)
			}
		}
		obs[st.ID] = o
	}
	return reconciler.Input{Repo: repo, Observed: obs, Previous: prev, Now: now}, nil
}

func ownRules(l reconciler.Listener, id desired.StackID) reconciler.Listener {
	var rules []reconciler.Rule
	for _, r := range l.Rules {
		if r.Stack == id {
			rules = append(rules, r)
		}
	}
	l.Rules = rules
	return l
}

// stackAtRest: status recorded the stack settled on its version, routed
// by the default action; a pass does not read its rules.
func stackAtRest(st desired.Stack, prev reconciler.Status) bool {
	return prev.Phase == reconciler.Healthy && prev.New == nil && prev.Stable != nil &&
		prev.Stable.Version == st.Version && st.Target.Rule == ""
}

func quiet(st desired.Stack, obs reconciler.Observed, prev reconciler.Status) bool {
	if prev.Phase != reconciler.Healthy || prev.New != nil || prev.Stable == nil || len(obs.Fleets) != 1 {
		return false
	}
	f := obs.Fleets[0]
	return f.Version == st.Version && prev.Stable.Version == st.Version &&
		prev.Stable.Fleet == f.Name && len(obs.Listener.Rules) == 0
}

func appLayer(s desired.Settings) string {
	if n := len(s.Images.Layers); n > 0 {
		return s.Images.Layers[n-1]
	}
	return "app"
}

func observeMoving(ctx context.Context, c reconciler.Cloud, set desired.Settings, st desired.Stack, obs *reconciler.Observed, prev reconciler.Status, now time.Time) error {
	img, err := c.Images.ResolveImage(ctx, reconciler.ImageQuery{Project: set.Project, Role: st.ID.Role,
		Layer: appLayer(set), Version: st.Version, Region: set.AWS.Region})
	if err != nil {
		return fmt.Errorf("resolve image: %w", err)
	}
	obs.Image = &img
	tgs, err := c.Traffic.TargetGroups(ctx, st.Target.TargetGroups)
	if err != nil {
		return fmt.Errorf("target groups: %w", err)
	}
	obs.TargetGroups = make(map[string]reconciler.TargetGroup, len(tgs))
	for _, tg := range tgs {
		obs.TargetGroups[tg.ARN] = tg
	}
	if prev.New == nil || prev.StepStartedAt == nil || prev.Step < 0 {
		return nil
	}
	obs.Metrics, err = measure(ctx, c, obs.Fleets, prev, now)
	return err
}

func measure(ctx context.Context, c reconciler.Cloud, fleets []reconciler.Fleet, prev reconciler.Status, now time.Time) (*reconciler.Measurements, error) {
	var cand, stable *reconciler.Fleet
	for i := range fleets {
		switch {
		case fleets[i].Name == prev.New.Fleet:
			cand = &fleets[i]
		case prev.Stable != nil && fleets[i].Name == prev.Stable.Fleet:
			stable = &fleets[i]
		}
	}
	if cand == nil {
		return nil, nil
	}
	if stable == nil {
		stable = cand
	}
	from := *prev.StepStartedAt
	m := &reconciler.Measurements{From: from, To: now}
	var err error
	if m.Canary, err = c.Metrics.TargetGroupMetrics(ctx, cand.TargetGroup, from, now); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if m.CanaryFleet, err = c.Metrics.FleetMetrics(ctx, cand.Name, from, now); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	m.StableFleet = m.CanaryFleet
	if stable != cand {
		if m.StableFleet, err = c.Metrics.FleetMetrics(ctx, stable.Name, from, now); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// Replicate returns in with its stacks repeated, under new names, until
// there are n: stack k of the result is stack k mod len of in, renamed to
// Role(k). The planner plans each stack from its own input alone (one
// environment: no gate), so a replicated stack costs what the original
// does; it saves driving a thousand rollouts through the simulator.
func Replicate(in reconciler.Input, n int) reconciler.Input {
	src := in.Repo.Stacks
	repo := *in.Repo
	repo.Stacks = make([]desired.Stack, n)
	repo.Settings.Roles = make([]string, n)
	out := reconciler.Input{Repo: &repo, Now: in.Now, HealthDeadline: in.HealthDeadline,
		Observed: make(map[desired.StackID]reconciler.Observed, n), Previous: make(map[desired.StackID]reconciler.Status, n)}
	for k := 0; k < n; k++ {
		st := src[k%len(src)]
		old := st.ID
		st.ID, st.File = ID(k), Path(k)
		repo.Stacks[k], repo.Settings.Roles[k] = st, Role(k)
		out.Observed[st.ID] = renamed(in.Observed[old], st.ID)
		if prev, ok := in.Previous[old]; ok {
			prev.Stack, prev.File = st.ID.String(), st.File
			out.Previous[st.ID] = prev
		}
	}
	return out
}

// renamed is obs as seen by stack id: the rules and fleets it owns carry
// its name.
func renamed(obs reconciler.Observed, id desired.StackID) reconciler.Observed {
	obs.Listener.Rules = append([]reconciler.Rule(nil), obs.Listener.Rules...)
	for i := range obs.Listener.Rules {
		obs.Listener.Rules[i].Stack = id
	}
	obs.Fleets = append([]reconciler.Fleet(nil), obs.Fleets...)
	for i := range obs.Fleets {
		obs.Fleets[i].Stack = id
	}
	return obs
}
