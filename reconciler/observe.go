package reconciler

import (
	"context"
	"fmt"

	"github.com/amigo-gitops/amigo/desired"
)

// sweepEvery is how often, in passes, every stack's listener rules are
// read whatever its status, so that a stray amigo-owned rule on a stack at
// rest is found and put back within that many passes.
const sweepEvery = 10

// observe reads the cloud for every valid stack. A quiet stack (Healthy,
// one fleet at the desired version, recorded in status) costs no read of
// its own: the fleets and listeners of all stacks come in two batched
// calls, and only stacks that are moving read images, target health and
// metrics. Listener rules are asked for only for stacks not at rest, or
// for every stack when sweep is set.
func (r *Reconciler) observe(ctx context.Context, repo *desired.Repo, prev map[desired.StackID]Status, sweep bool) (map[desired.StackID]Observed, error) {
	c := r.cloud
	fleets, err := callRetry(ctx, r, "ListFleets", func(ctx context.Context) ([]Fleet, error) { return c.Fleets.ListFleets(ctx) })
	if err != nil {
		return nil, fmt.Errorf("list fleets: %w", err)
	}
	byStack := map[desired.StackID][]Fleet{}
	for _, f := range fleets {
		byStack[f.Stack] = append(byStack[f.Stack], f)
	}
	refs := make([]ListenerRef, 0, len(repo.Stacks))
	for _, st := range repo.Stacks {
		refs = append(refs, ListenerRef{Listener: st.Target.Listener, Rule: st.Target.Rule,
			Rules: sweep || !atRest(st, prev[st.ID])})
	}
	listeners, err := callRetry(ctx, r, "ReadListeners", func(ctx context.Context) ([]Listener, error) { return c.Traffic.ReadListeners(ctx, refs) })
	if err != nil {
		return nil, fmt.Errorf("read listeners: %w", err)
	}
	if len(listeners) != len(refs) {
		return nil, fmt.Errorf("read listeners: got %d, want %d", len(listeners), len(refs))
	}
	now := c.Clock.Now()
	out := make(map[desired.StackID]Observed, len(repo.Stacks))
	for i, st := range repo.Stacks {
		obs := Observed{Fleets: byStack[st.ID], Listener: ownRules(listeners[i], st.ID)}
		if !quiet(st, obs, prev[st.ID]) {
			if err := r.observeMoving(ctx, repo.Settings, st, &obs, prev[st.ID], now); err != nil {
				return nil, fmt.Errorf("observe %s: %w", st.ID, err)
			}
		}
		out[st.ID] = obs
	}
	return out, nil
}

// ownRules keeps the rules of the listener that belong to the stack.
func ownRules(l Listener, id desired.StackID) Listener {
	var rules []Rule
	for _, r := range l.Rules {
		if r.Stack == id {
			rules = append(rules, r)
		}
	}
	l.Rules = rules
	return l
}

// atRest reports whether status last recorded the stack settled at the
// version it still wants, routed by its listener's default action: such a
// stack owns no listener rule, so its pass need not read them.
func atRest(st desired.Stack, prev Status) bool {
	return settled(st, prev) && st.Target.Rule == ""
}

// quiet reports whether a stack is at rest as status last recorded it and
// the cloud, read this pass, agrees: one fleet, the recorded one, no rules.
func quiet(st desired.Stack, obs Observed, prev Status) bool {
	if !settled(st, prev) || len(obs.Fleets) != 1 {
		return false
	}
	f := obs.Fleets[0]
	return f.Version == st.Version && prev.Stable.Fleet == f.Name && len(obs.Listener.Rules) == 0
}

// settled reports whether status last recorded the stack Healthy on its
// desired version with nothing in flight.
func settled(st desired.Stack, prev Status) bool {
	return prev.Phase == Healthy && prev.New == nil && prev.Stable != nil && prev.Stable.Version == st.Version
}

// imageQuery names the application image of a stack's desired version.
func imageQuery(set desired.Settings, st desired.Stack) ImageQuery {
	q := ImageQuery{Project: set.Project, Role: st.ID.Role, Layer: "app", Version: st.Version, Region: set.AWS.Region}
	if n := len(set.Images.Layers); n > 0 {
		q.Layer = set.Images.Layers[n-1]
	}
	return q
}

// observeMoving reads what a stack in motion needs: its image, the health
// of its target groups and the metrics of the step it is in.
func (r *Reconciler) observeMoving(ctx context.Context, set desired.Settings, st desired.Stack, obs *Observed, prev Status, now timeT) error {
	c := r.cloud
	img, err := callRetry(ctx, r, "ResolveImage", func(ctx context.Context) (Image, error) {
		return c.Images.ResolveImage(ctx, imageQuery(set, st))
	})
	if err != nil {
		return fmt.Errorf("resolve image %s: %w", st.Version, err)
	}
	obs.Image = &img
	tgs, err := callRetry(ctx, r, "TargetGroups", func(ctx context.Context) ([]TargetGroup, error) {
		return c.Traffic.TargetGroups(ctx, st.Target.TargetGroups)
	})
	if err != nil {
		return fmt.Errorf("target groups: %w", err)
	}
	obs.TargetGroups = make(map[string]TargetGroup, len(tgs))
	for _, tg := range tgs {
		obs.TargetGroups[tg.ARN] = tg
	}
	if prev.New == nil || prev.StepStartedAt == nil || prev.Step < 0 {
		return nil
	}
	m, err := r.measure(ctx, st, obs.Fleets, prev, now)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	obs.Metrics = m
	return nil
}

// measure reads the figures of the step in progress, from its start.
func (r *Reconciler) measure(ctx context.Context, st desired.Stack, fleets []Fleet, prev Status, now timeT) (*Measurements, error) {
	var cand, stable *Fleet
	for i := range fleets {
		switch fleets[i].Name {
		case prev.New.Fleet:
			cand = &fleets[i]
		case prevStableFleet(prev):
			stable = &fleets[i]
		}
	}
	if cand == nil {
		return nil, nil
	}
	if stable == nil {
		stable = cand // rolling: one fleet is its own baseline
	}
	c := r.cloud
	from := *prev.StepStartedAt
	m := &Measurements{From: from, To: now}
	var err error
	if m.Canary, err = callRetry(ctx, r, "TargetGroupMetrics", func(ctx context.Context) (TGMetrics, error) {
		return c.Metrics.TargetGroupMetrics(ctx, cand.TargetGroup, from, now)
	}); err != nil {
		return nil, err
	}
	if m.CanaryFleet, err = callRetry(ctx, r, "FleetMetrics", func(ctx context.Context) (FleetMetrics, error) {
		return c.Metrics.FleetMetrics(ctx, cand.Name, from, now)
	}); err != nil {
		return nil, err
	}
	m.StableFleet = m.CanaryFleet
	if stable != cand {
		if m.StableFleet, err = callRetry(ctx, r, "FleetMetrics", func(ctx context.Context) (FleetMetrics, error) {
			return c.Metrics.FleetMetrics(ctx, stable.Name, from, now)
		}); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func prevStableFleet(s Status) string {
	if s.Stable == nil {
		return ""
	}
	return s.Stable.Fleet
}
