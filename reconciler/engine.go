package reconciler

import (
	"fmt"
	"strings"
	"time"

	"github.com/amigo-gitops/amigo/desired"
)

// FleetName is the Auto Scaling group name of a stack's fleet for a version.
func FleetName(id desired.StackID, version string) string {
	v := strings.NewReplacer(".", "-", "_", "-", "/", "-").Replace(version)
	return "amigo-" + id.Env + "-" + id.Role + "-" + v
}

// initial deploys the first fleet of a stack that serves nobody yet.
func (p *stackPlanner) initial(cand *Fleet) {
	st := p.st
	if cand == nil {
		if !p.gateOpen() || !p.imageReady() {
			return
		}
		tg := st.Target.TargetGroups[0]
		p.createFleet(tg, SlotBlue, st.Capacity, "first fleet of the stack")
		return
	}
	p.status.New = p.keepLineage(release(cand, p.obs.Image))
	if !p.fleetReady(cand, cand.Capacity.Desired) {
		p.waitHealthy(cand, nil, "")
		return
	}
	p.routeTo(forwardFor(st, "", cand.TargetGroup, 100), nil, "first fleet is healthy")
	p.status.Stable, p.status.New = p.status.New, nil
	p.status.Phase, p.status.Weight = Healthy, 100
	p.status.Message = fmt.Sprintf("%s serving 100%%", st.Version)
}

// steady keeps a weighted stack on its stable fleet: 100% there, no rules,
// capacity as desired, every other fleet retired. Moving traffic back here
// is also what a rollback is, and it is the first write of the pass.
func (p *stackPlanner) steady(stable *Fleet) {
	rollingBack := p.prev.New != nil && p.prev.New.Version != stable.Version
	if !rollingBack {
		p.drift(p.routeTo(forwardFor(p.st, stable.TargetGroup, "", 0), nil, "drift: put back"))
		p.settle(stable)
		return
	}
	p.urgent = true
	from, to := p.prev.New.Version, stable.Version
	p.routeTo(forwardFor(p.st, stable.TargetGroup, "", 0), nil, fmt.Sprintf("rollback from %s to %s", from, to))
	p.urgent = false
	p.settle(stable)
}

// settle records f as the stable fleet serving everything, puts its
// capacity back and retires every other fleet.
func (p *stackPlanner) settle(f *Fleet) {
	st := p.st
	p.status.Stable = p.keepLineage(release(f, p.obs.Image))
	p.status.New = nil
	p.status.Weight = 100
	p.status.Phase = Healthy
	p.status.Message = fmt.Sprintf("%s serving 100%%", st.Version)
	p.ensureCapacity(f)
	p.retireOthers(f, nil)
	if healthyInstances(f) < f.Capacity.Desired && !p.hasActions(ActScaleFleet) {
		p.status.Phase = Degraded
		p.status.Message = fmt.Sprintf("%s serving 100%%, %d/%d instances healthy",
			st.Version, healthyInstances(f), f.Capacity.Desired)
	}
}

// rollout walks a weighted strategy (bluegreen, canary, hybrid-canary)
// from the stable fleet to a candidate fleet of the desired version.
func (p *stackPlanner) rollout(stable, cand *Fleet) {
	st := p.st
	p.status.Stable = p.keepLineage(release(stable, nil))
	candTG := otherGroup(st, stable.TargetGroup)
	if p.aborted() {
		p.status.New = p.keepLineage(release(cand, p.obs.Image))
		p.drift(p.routeTo(forwardFor(st, stable.TargetGroup, candTG, 0), nil, "aborted: traffic stays on stable"))
		p.ensureCapacity(stable)
		p.retireOthers(stable, cand)
		return
	}
	started := cand != nil || (p.prev.New != nil && p.prev.New.Version == st.Version)
	if !started && (!p.gateOpen() || !p.rulesFit()) {
		p.drift(p.routeTo(forwardFor(st, stable.TargetGroup, candTG, 0), nil, "drift: put back"))
		return
	}
	if cand == nil {
		p.drift(p.routeTo(forwardFor(st, stable.TargetGroup, candTG, 0), nil, "drift: put back"))
		if busy := p.retireOthers(stable, nil); busy != "" {
			p.status.Phase = Progressing
			p.status.Message = fmt.Sprintf("waiting for fleet %s to retire before %s", busy, st.Version)
			return
		}
		if p.imageReady() {
			p.createFleet(candTG, slotOf(st, candTG), fleetCapacity(st, 0), "new fleet for "+st.Version)
		}
		return
	}
	p.status.New = p.keepLineage(release(cand, p.obs.Image))
	p.retireOthers(stable, cand)
	p.ensureCapacity(stable)
	p.walk(stable, cand)
}

// walk decides the step of a weighted rollout and routes traffic to it.
func (p *stackPlanner) walk(stable, cand *Fleet) {
	st := p.st
	k, startedAt := p.currentStep(cand)
	kmax := ceilingStep(st)
	tg := p.obs.TargetGroups[cand.TargetGroup]
	if k > kmax {
		p.urgent = true
		p.setStep(stable, cand, kmax, p.now, "traffic lowered to "+fmt.Sprint(st.Traffic)+"%")
		return
	}
	var rep Report
	if k >= 0 {
		if n := unhealthyTargets(tg); n > 0 {
			p.fillStep(k, nil)
			p.abort(stable, cand, fmt.Sprintf("%d targets of the new fleet unhealthy at %s", n, st.Steps[k]), nil)
			return
		}
		rep = judge(st.Analysis, p.metricsSince(startedAt))
		if rep.Verdict == VerdictFailing {
			p.fillStep(k, nil)
			p.abort(stable, cand, fmt.Sprintf("analysis failed at %s: %s", st.Steps[k], strings.Join(rep.Failures, ", ")), &rep)
			return
		}
	}
	done := k >= 0 && startedAt != nil && !p.now.Before(startedAt.Add(st.Steps[k].Pause)) && rep.Verdict == VerdictPassing
	last := len(st.Steps) - 1
	switch {
	case k == last && done:
		p.complete(cand, &rep)
	case k < kmax && (k == -1 || done):
		p.advance(stable, cand, k, startedAt, &rep)
	default:
		p.hold(stable, cand, k, startedAt, rep)
	}
}

// advance moves to step k+1 once the new fleet can carry it.
func (p *stackPlanner) advance(stable, cand *Fleet, k int, startedAt *timeT, rep *Report) {
	st := p.st
	need := fleetCapacity(st, k+1)
	if cand.Capacity.Desired < need.Desired {
		p.add(Action{Kind: ActScaleFleet, Fleet: cand.Name, Capacity: need,
			Reason: fmt.Sprintf("size the new fleet for %s", st.Steps[k+1])})
		p.hold(stable, cand, k, startedAt, Report{})
		p.status.WaitingSince = timePtr(p.now)
		p.status.Message = fmt.Sprintf("%s: scaling the new fleet to %d for %s", st.Version, need.Desired, st.Steps[k+1])
		return
	}
	if !p.fleetReady(cand, need.Desired) {
		p.hold(stable, cand, k, startedAt, Report{})
		p.waitHealthy(cand, stable, fmt.Sprintf("before %s", st.Steps[k+1]))
		return
	}
	if k >= 0 {
		p.status.Analysis = rep
	}
	p.setStep(stable, cand, k+1, p.now, fmt.Sprintf("%s to %s", st.Version, st.Steps[k+1]))
}

// hold stays at step k, putting back any drift.
func (p *stackPlanner) hold(stable, cand *Fleet, k int, startedAt *timeT, rep Report) {
	st := p.st
	diffs := p.routeTo(p.stepForward(stable, cand, k), rulesFor(st, cand.TargetGroup, k, p.obs.Listener.Conditions), "drift: put back")
	p.drift(diffs)
	p.fillStep(k, startedAt)
	switch {
	case k < 0:
		p.status.Phase = Progressing
		p.status.Message = fmt.Sprintf("%s: waiting for the new fleet", st.Version)
		if ceilingStep(st) < 0 {
			p.status.Phase = Paused
			p.status.Message = fmt.Sprintf("%s: new fleet ready, traffic 0%%", st.Version)
		}
	case k == ceilingStep(st) && k < len(st.Steps)-1:
		p.status.Phase = Paused
		p.status.Message = fmt.Sprintf("%s held at %s by traffic %d%%", st.Version, st.Steps[k], st.Traffic)
	default:
		p.status.Phase = Progressing
		p.status.Message = p.pauseMessage(k, startedAt, rep)
	}
}

// pauseMessage says what a step waits for. It holds no clock reading or
// live figure, so that passes during a pause commit no status.
func (p *stackPlanner) pauseMessage(k int, startedAt *timeT, rep Report) string {
	st := p.st
	switch {
	case startedAt == nil:
		return fmt.Sprintf("%s at %s", st.Version, st.Steps[k])
	case p.now.Before(startedAt.Add(st.Steps[k].Pause)):
		return fmt.Sprintf("%s at %s, pause %s until %s", st.Version, st.Steps[k], st.Steps[k].Pause,
			startedAt.Add(st.Steps[k].Pause).UTC().Format(time.RFC3339))
	default:
		return fmt.Sprintf("%s at %s, pause over, analysis %s", st.Version, st.Steps[k], rep.Verdict)
	}
}

// metricsSince returns the measurements when their window is the step's
// (it starts when the step did); figures of another window judge nothing.
func (p *stackPlanner) metricsSince(startedAt *timeT) *Measurements {
	m := p.obs.Metrics
	if m == nil || startedAt == nil || !m.From.Equal(*startedAt) {
		return nil
	}
	return m
}

// setStep routes traffic for step k, which starts now.
func (p *stackPlanner) setStep(stable, cand *Fleet, k int, at timeT, reason string) {
	p.routeTo(p.stepForward(stable, cand, k), rulesFor(p.st, cand.TargetGroup, k, p.obs.Listener.Conditions), reason)
	p.fillStep(k, &at)
	p.status.Phase = Progressing
	p.status.Message = reason
	if k == ceilingStep(p.st) && k < len(p.st.Steps)-1 {
		p.status.Phase = Paused
		p.status.Message = fmt.Sprintf("%s held at %s by traffic %d%%", p.st.Version, stepName(p.st, k), p.st.Traffic)
	}
}

func (p *stackPlanner) stepForward(stable, cand *Fleet, k int) Forward {
	return forwardFor(p.st, stable.TargetGroup, cand.TargetGroup, stepWeight(p.st, k))
}

func (p *stackPlanner) fillStep(k int, startedAt *timeT) {
	p.status.Step = k
	p.status.StepName = stepName(p.st, k)
	p.status.StepStartedAt = startedAt
	p.status.Weight = stepWeight(p.st, k)
}

func stepName(st desired.Stack, k int) string {
	if k < 0 {
		return "provisioning"
	}
	return st.Steps[k].String()
}

// complete makes the candidate stable once the last step has held. The
// old fleet starts retiring in this same pass when the listener already
// gives it nothing.
func (p *stackPlanner) complete(cand *Fleet, rep *Report) {
	p.status.Analysis = rep
	p.routeTo(forwardFor(p.st, cand.TargetGroup, "", 0), nil, "rollout complete")
	p.settle(cand)
}

// abort sends all traffic back to stable in this pass and latches.
func (p *stackPlanner) abort(stable, cand *Fleet, reason string, rep *Report) {
	st := p.st
	p.urgent = true
	p.routeTo(forwardFor(st, stable.TargetGroup, cand.TargetGroup, 0), nil, "abort: "+reason)
	p.latchAbort(reason, rep)
}

func (p *stackPlanner) latchAbort(reason string, rep *Report) {
	st := p.st
	if rep != nil {
		p.status.Analysis = rep
	}
	p.status.Abort = &Abort{Version: st.Version, Key: specKey(st), Reason: reason, At: p.now}
	p.abortStatus(p.status.Abort)
	if st.OnFailure == desired.OnFailureRevert {
		p.add(Action{Kind: ActRevert, Commit: p.repo.Revision, Path: st.File,
			Reason: fmt.Sprintf("amigo: %s on %s aborted: %s", st.Version, st.ID, reason)})
	}
}

// aborted reports whether an abort still holds: the desired spec has not
// changed since. It carries the latch into the new status.
func (p *stackPlanner) aborted() bool {
	a := p.prev.Abort
	if a == nil || a.Key != specKey(p.st) {
		return false
	}
	p.status.Abort = a
	p.status.Step = p.prev.Step
	p.status.StepName = p.prev.StepName
	p.abortStatus(a)
	return true
}

// abortStatus is the status of an aborted rollout, the same in the pass
// that aborts and in every pass after, so that those commit nothing.
func (p *stackPlanner) abortStatus(a *Abort) {
	p.status.Phase = Aborted
	p.status.Weight = 0
	p.status.StepStartedAt = nil
	p.status.WaitingSince = nil
	p.status.Message = fmt.Sprintf("%s aborted: %s; change the stack to retry", a.Version, a.Reason)
}
