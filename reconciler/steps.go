package reconciler

import (
	"fmt"
	"time"

	"github.com/amigo-gitops/amigo/desired"
)

type timeT = time.Time

// ceilingStep is the highest step whose traffic is not above the stack's
// traffic ceiling; -1 when even the first step is above it.
func ceilingStep(st desired.Stack) int {
	k := -1
	for i, s := range st.Steps {
		if s.Traffic <= st.Traffic {
			k = i
		}
	}
	return k
}

// currentStep is the step a weighted rollout is in, from status when it
// speaks of this candidate, else from what the listener shows. A status
// one step behind the listener means the last pass applied a step and died
// before recording it: the step is adopted and its pause starts again, so
// no pause is skipped. After an abort (whose latch the change of the stack
// has just lifted) the rollout starts over from what the listener shows.
func (p *stackPlanner) currentStep(cand *Fleet) (int, *timeT) {
	st := p.st
	if p.prev.New != nil && p.prev.New.Fleet == cand.Name && p.prev.Step < len(st.Steps) && p.prev.Abort == nil {
		k := p.prev.Step
		if k+1 < len(st.Steps) && p.routingIs(cand, k+1) && !p.routingIs(cand, k) {
			return k + 1, timePtr(p.now)
		}
		return k, p.prev.StepStartedAt
	}
	for k := len(st.Steps) - 1; k >= 0; k-- {
		if p.routingIs(cand, k) {
			return k, timePtr(p.now)
		}
	}
	return -1, nil
}

// routingIs reports whether the observed listener routes as step k does.
func (p *stackPlanner) routingIs(cand *Fleet, k int) bool {
	w := p.obs.Listener.Forward.Weight(cand.TargetGroup)
	if w != stepWeight(p.st, k) || (w == 0 && k >= 0 && p.st.Steps[k].Route == desired.RouteWeighted) {
		return false
	}
	want := rulesFor(p.st, cand.TargetGroup, k, p.obs.Listener.Conditions)
	have := 0
	for _, r := range p.obs.Listener.Rules {
		if r.Stack == p.st.ID && r.TargetGroup == cand.TargetGroup {
			have++
		}
	}
	return have == len(want)
}

// gateOpen applies the promotion gate: a version enters an environment
// only once it is Healthy in the environment before it.
func (p *stackPlanner) gateOpen() bool {
	verdict, ok := Gate(p.repo, p.st, p.done)
	p.status.Gate = verdict
	if !ok {
		p.status.Phase = Blocked
		p.status.Message = "promotion gate: " + verdict
	}
	return ok
}

// Gate is the promotion gate's verdict for a stack given the statuses of
// the stacks before it.
func Gate(repo *desired.Repo, st desired.Stack, statuses map[desired.StackID]Status) (string, bool) {
	if repo.Settings.Promotion.Gate == "none" {
		return "open (gate disabled)", true
	}
	if st.Override != "" {
		return "overridden: " + st.Override, true
	}
	envs := repo.Settings.Environments
	i := indexOf(envs, st.ID.Env)
	if i <= 0 {
		return "open (first environment)", true
	}
	before := desired.StackID{Env: envs[i-1], Role: st.ID.Role}
	if _, ok := repo.Stack(before); !ok {
		return fmt.Sprintf("open (no %s stack)", before), true
	}
	s, ok := statuses[before]
	if !ok {
		return fmt.Sprintf("%s not Healthy in %s (no status yet)", st.Version, before.Env), false
	}
	if s.Phase == Healthy && s.Stable != nil && s.Stable.Version == st.Version {
		return fmt.Sprintf("%s is Healthy in %s", st.Version, before.Env), true
	}
	return fmt.Sprintf("%s not Healthy in %s (%s: %s)", st.Version, before.Env, before, s.Phase), false
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// rulesFit checks, for a stack routed by its own listener rule, that the
// rules amigo would add come before that rule: ALB evaluates rules by
// priority, and a header rule behind the stack's path rule never matches.
func (p *stackPlanner) rulesFit() bool {
	base := p.obs.Listener.Priority
	if p.st.Target.Rule == "" || base == 0 {
		return true
	}
	last := 0
	for k := range p.st.Steps {
		for _, r := range rulesFor(p.st, "", k, nil) {
			last = max(last, r.Priority)
		}
	}
	if last == 0 || last < base {
		return true
	}
	p.status.Phase = Blocked
	p.status.Message = fmt.Sprintf("routing.priority: amigo's rules would take priorities %d..%d, "+
		"which do not all come before the stack's rule at priority %d: give that rule a priority above %d", p.st.Routing.Priority, last, base, last)
	return false
}

// imageReady checks the desired version's image; a building image waits,
// a failed or missing one blocks.
func (p *stackPlanner) imageReady() bool {
	img := p.obs.Image
	v := p.st.Version
	switch {
	case img == nil:
		p.status.Phase, p.status.Message = Progressing, fmt.Sprintf("%s: image not resolved yet", v)
	case img.State == ImageAvailable && img.AMI != "":
		return true
	case img.State == ImageBuilding:
		p.status.Phase, p.status.Message = Progressing, fmt.Sprintf("%s: waiting for the image build", v)
	case img.State == ImageFailed:
		p.status.Phase, p.status.Message = Blocked, fmt.Sprintf("%s: image build failed", v)
	default:
		p.status.Phase, p.status.Message = Blocked, fmt.Sprintf("%s: no image for this version", v)
	}
	return false
}

func (p *stackPlanner) createFleet(tg string, slot Slot, c desired.Capacity, reason string) {
	img := p.obs.Image
	spec := FleetSpec{
		Name: FleetName(p.st.ID, p.st.Version), Stack: p.st.ID, Version: p.st.Version,
		AMI: img.AMI, Slot: slot, TargetGroup: tg, LaunchTemplate: p.st.Target.LaunchTemplate,
		Subnets: p.st.Target.Subnets, Capacity: c,
	}
	p.add(Action{Kind: ActCreateFleet, Spec: spec, Reason: reason})
	p.status.New = &Release{Version: p.st.Version, AMI: img.AMI, Fleet: spec.Name, Lineage: img.Lineage}
	p.status.Phase = Progressing
	p.status.Message = fmt.Sprintf("%s: creating fleet %s", p.st.Version, spec.Name)
	p.status.StepName = stepName(p.st, -1)
	p.status.WaitingSince = timePtr(p.now)
}

// fleetReady: n instances in service and every target of its group healthy.
func (p *stackPlanner) fleetReady(f *Fleet, n int) bool {
	tg, ok := p.obs.TargetGroups[f.TargetGroup]
	return ok && tg.AllHealthy() && healthyInstances(f) >= n && len(tg.Targets) >= n
}

// waitHealthy waits for a fleet, aborting when it takes past the deadline.
func (p *stackPlanner) waitHealthy(f *Fleet, stable *Fleet, what string) {
	since := p.prev.WaitingSince
	if since == nil {
		// A fleet that never served counts from its creation, in case the
		// pass that created it died before recording it.
		since = timePtr(p.now)
		if !f.CreatedAt.IsZero() && p.status.Step < 0 {
			since = timePtr(f.CreatedAt)
		}
	}
	p.status.WaitingSince = since
	tg := p.obs.TargetGroups[f.TargetGroup]
	if p.now.Sub(*since) > p.deadline {
		reason := fmt.Sprintf("fleet %s not healthy after %s (%d/%d targets healthy)",
			f.Name, p.deadline, healthyTargets(tg), f.Capacity.Desired)
		if stable == nil {
			p.status.Phase, p.status.Message = Degraded, reason
			return
		}
		p.abort(stable, f, reason, nil)
		return
	}
	p.status.Phase = Progressing
	p.status.Message = fmt.Sprintf("%s: waiting for fleet %s to turn healthy %s (%d/%d)",
		p.st.Version, f.Name, what, healthyTargets(tg), f.Capacity.Desired)
}

func healthyInstances(f *Fleet) int {
	n := 0
	for _, i := range f.Instances {
		if i.Healthy {
			n++
		}
	}
	return n
}

func healthyTargets(tg TargetGroup) int   { return countTargets(tg, TargetHealthy) }
func unhealthyTargets(tg TargetGroup) int { return countTargets(tg, TargetUnhealthy) }

func countTargets(tg TargetGroup, state TargetState) int {
	n := 0
	for _, t := range tg.Targets {
		if t.State == state {
			n++
		}
	}
	return n
}

func otherGroup(st desired.Stack, tg string) string {
	for _, g := range st.Target.TargetGroups {
		if g != tg {
			return g
		}
	}
	return ""
}

func slotOf(st desired.Stack, tg string) Slot {
	if len(st.Target.TargetGroups) > 0 && st.Target.TargetGroups[0] == tg {
		return SlotBlue
	}
	return SlotGreen
}

// drift records what was found changed outside amigo and put back.
func (p *stackPlanner) drift(diffs []Drift) {
	if !p.hasPrev {
		return // adopting a stack: what differs was never amigo's
	}
	for _, d := range diffs {
		p.drifts = append(p.drifts, d)
		p.status.Drift = append(p.status.Drift, d.String())
	}
}

func (p *stackPlanner) hasActions(k ActionKind) bool {
	for _, a := range p.actions {
		if a.Kind == k {
			return true
		}
	}
	return false
}

// ensureCapacity puts the stable fleet back to the stack's capacity.
func (p *stackPlanner) ensureCapacity(f *Fleet) {
	if f.Capacity == p.st.Capacity {
		return
	}
	p.add(Action{Kind: ActScaleFleet, Fleet: f.Name, Capacity: p.st.Capacity,
		Reason: fmt.Sprintf("capacity %d/%d/%d, want %d/%d/%d", f.Capacity.Desired, f.Capacity.Min,
			f.Capacity.Max, p.st.Capacity.Desired, p.st.Capacity.Min, p.st.Capacity.Max)})
	if p.hasPrev && p.prev.Stable != nil && p.prev.Stable.Fleet == f.Name {
		p.drift([]Drift{{What: "fleet " + f.Name + " capacity", Before: capacityString(f.Capacity), After: capacityString(p.st.Capacity)}})
	}
}

// retireOthers retires every fleet of the stack but keep and cand. A fleet
// is deleted only once the listener, read this pass, gives its group no
// weight and no rule, and the group's deregistration delay has passed
// since that was first seen. It returns the name of a fleet still in the
// way of the candidate's slot, if any.
func (p *stackPlanner) retireOthers(keep, cand *Fleet) string {
	busy := ""
	candTG := otherGroup(p.st, keep.TargetGroup)
	for i := range p.obs.Fleets {
		f := &p.obs.Fleets[i]
		if f.Name == keep.Name || (cand != nil && f.Name == cand.Name) {
			continue
		}
		if !p.retire(f) && f.TargetGroup == candTG {
			busy = f.Name
		}
	}
	return busy
}

// retire returns true when the fleet is deleted by this plan.
func (p *stackPlanner) retire(f *Fleet) bool {
	l := p.obs.Listener
	if l.Forward.Weight(f.TargetGroup) > 0 || ruleTargets(l, f.TargetGroup) {
		return false
	}
	since := p.now
	for _, r := range p.prev.Retiring {
		if r.Fleet == f.Name {
			since = r.Since
		}
	}
	tg, ok := p.obs.TargetGroups[f.TargetGroup]
	if ok && !p.now.Before(since.Add(tg.DeregistrationDelay)) {
		p.add(Action{Kind: ActDeleteFleet, Fleet: f.Name,
			Reason: fmt.Sprintf("retire %s: no weight or rule since %s", f.Version, since.Format(time.RFC3339))})
		return true
	}
	p.status.Retiring = append(p.status.Retiring, Retiring{Fleet: f.Name, Since: since})
	return false
}

func capacityString(c desired.Capacity) string {
	return fmt.Sprintf("%d (min %d, max %d)", c.Desired, c.Min, c.Max)
}
