package reconciler

import (
	"fmt"
	"strings"

	"github.com/amigo-gitops/amigo/desired"
)

// rolling walks the rolling strategy: one fleet whose instances are
// replaced by an instance refresh with a checkpoint per step. The step's
// share is the share of instances on the new image.
func (p *stackPlanner) rolling(f *Fleet) {
	st := p.st
	old := p.rollingBase(f)
	p.status.Stable = old
	p.retireOthers(f, nil)
	p.ensureCapacity(f)
	if st.Version == old.Version {
		p.rollingSteady(f, old)
		return
	}
	if p.aborted() {
		p.urgent = true
		p.refreshTo(f, old.Version, old.AMI, 100, "aborted: back to "+old.Version)
		return
	}
	started := p.prev.New != nil && p.prev.New.Version == st.Version
	if !started && !p.gateOpen() {
		return
	}
	if !p.imageReady() {
		return
	}
	img := p.obs.Image
	p.status.New = &Release{Version: st.Version, AMI: img.AMI, Fleet: f.Name, Lineage: img.Lineage}
	p.rollingWalk(f, old)
}

// rollingBase is the release the fleet ran before the current rollout: the
// status's stable release while a rollout is on, else the fleet's tags.
func (p *stackPlanner) rollingBase(f *Fleet) *Release {
	if s := p.prev.Stable; s != nil && s.Fleet == f.Name && p.prev.New != nil && p.prev.New.Version == p.st.Version {
		return s
	}
	if s := p.prev.Stable; s != nil && s.Fleet == f.Name && s.Version == p.st.Version && f.Version != s.Version {
		return s // rolling back: the status remembers the version to return to
	}
	return p.keepLineage(release(f, p.obs.Image))
}

// rollingSteady keeps the fleet on its release; instances on any other
// image are replaced at once (rollback does not wait for pauses).
func (p *stackPlanner) rollingSteady(f *Fleet, rel *Release) {
	p.status.Weight = 100
	if n := countAMI(f, rel.AMI); n < len(f.Instances) || f.Version != rel.Version {
		p.urgent = true
		p.refreshTo(f, rel.Version, rel.AMI, 100, "rollback to "+rel.Version)
		p.status.Phase = Progressing
		p.status.Message = fmt.Sprintf("rolling back to %s: %d/%d instances", rel.Version, n, len(f.Instances))
		return
	}
	p.status.Phase = Healthy
	p.status.Message = fmt.Sprintf("%s on all %d instances", rel.Version, len(f.Instances))
	if healthyInstances(f) < f.Capacity.Desired && !p.hasActions(ActScaleFleet) {
		p.status.Phase = Degraded
		p.status.Message = fmt.Sprintf("%s, %d/%d instances healthy", rel.Version, healthyInstances(f), f.Capacity.Desired)
	}
}

func (p *stackPlanner) rollingWalk(f *Fleet, old *Release) {
	st := p.st
	newAMI := p.status.New.AMI
	share := 0
	if f.Capacity.Desired > 0 {
		share = countHealthyAMI(f, newAMI) * 100 / f.Capacity.Desired
	}
	k, startedAt := p.rollingStep(share)
	kmax := ceilingStep(st)
	if k > kmax {
		p.urgent = true
		p.refreshTo(f, old.Version, old.AMI, 100-stepShare(st, kmax), "traffic lowered to "+fmt.Sprint(st.Traffic)+"%")
		p.fillStep(kmax, nil)
		p.status.Weight = stepShare(st, kmax)
		p.status.Phase = Paused
		p.status.Message = fmt.Sprintf("%s: lowering to %d%% of instances", st.Version, stepShare(st, kmax))
		return
	}
	reached := k >= 0 && share >= st.Steps[k].Traffic && p.fleetReady(f, f.Capacity.Desired)
	if reached && startedAt == nil {
		startedAt = timePtr(p.now)
	}
	var rep Report
	if k >= 0 && startedAt != nil {
		rep = judge(st.Analysis, p.metricsSince(startedAt))
		if rep.Verdict == VerdictFailing {
			p.urgent = true
			p.refreshTo(f, old.Version, old.AMI, 100, "abort")
			p.fillStep(k, nil)
			p.latchAbort(fmt.Sprintf("analysis failed at %s: %s", st.Steps[k], strings.Join(rep.Failures, ", ")), &rep)
			return
		}
	}
	p.fillStep(k, startedAt)
	p.status.Weight = share
	done := startedAt != nil && !p.now.Before(startedAt.Add(st.Steps[k].Pause)) && rep.Verdict == VerdictPassing
	switch {
	case k == len(st.Steps)-1 && done:
		// Completion records what the next pass, finding the fleet at
		// rest, records too, so that pass is quiet.
		rel := p.status.New
		p.status.Analysis = &rep
		p.status.Stable, p.status.New = rel, nil
		p.status.Step, p.status.StepName, p.status.StepStartedAt = -1, "", nil
		p.rollingSteady(f, rel)
	case k < kmax && (k == -1 || done):
		if k >= 0 {
			p.status.Analysis = &rep
		}
		p.refreshTo(f, st.Version, newAMI, st.Steps[k+1].Traffic, fmt.Sprintf("%s to %d%% of instances", st.Version, st.Steps[k+1].Traffic))
		p.fillStep(k+1, nil)
		p.status.Weight = share
		p.status.WaitingSince = timePtr(p.now)
		p.status.Phase = Progressing
		p.status.Message = fmt.Sprintf("%s: replacing instances up to %d%%", st.Version, st.Steps[k+1].Traffic)
	case !reached:
		p.status.WaitingSince = p.prev.WaitingSince
		p.waitRefresh(f, old, k, share)
	default:
		p.status.Phase = Progressing
		p.status.Message = p.pauseMessage(k, startedAt, rep)
		if k == kmax && k < len(st.Steps)-1 {
			p.status.Phase = Paused
			p.status.Message = fmt.Sprintf("%s held at %d%% of instances by traffic %d%%", st.Version, share, st.Traffic)
		}
	}
}

// rollingStep is the step from status, else (no status, or a retry after
// an abort) the highest step the share of new instances has reached.
func (p *stackPlanner) rollingStep(share int) (int, *timeT) {
	if p.prev.New != nil && p.prev.New.Version == p.st.Version && p.prev.Step < len(p.st.Steps) && p.prev.Abort == nil {
		return p.prev.Step, p.prev.StepStartedAt
	}
	k := -1
	for i, s := range p.st.Steps {
		if s.Traffic <= share {
			k = i
		}
	}
	return k, nil
}

// waitRefresh waits for a refresh to reach its checkpoint, aborting at the
// deadline.
func (p *stackPlanner) waitRefresh(f *Fleet, old *Release, k, share int) {
	st := p.st
	since := p.status.WaitingSince
	if since == nil {
		since = timePtr(p.now)
		p.status.WaitingSince = since
	}
	if p.now.Sub(*since) > p.deadline {
		p.urgent = true
		p.refreshTo(f, old.Version, old.AMI, 100, "abort")
		p.latchAbort(fmt.Sprintf("refresh to %s did not reach %d%% healthy within %s", st.Version, st.Steps[k].Traffic, p.deadline), nil)
		return
	}
	want := st.Steps[k].Traffic
	if r := f.Refresh; r == nil || r.AMI != p.status.New.AMI || r.Percent < want {
		p.refreshTo(f, st.Version, p.status.New.AMI, want, "refresh not running")
	}
	p.status.Phase = Progressing
	p.status.Message = fmt.Sprintf("%s: replacing instances, %d%% of %d%%", st.Version, share, want)
}

// refreshTo asks for a refresh unless the same one is already running.
func (p *stackPlanner) refreshTo(f *Fleet, version, ami string, percent int, reason string) {
	if r := f.Refresh; r != nil && r.AMI == ami && r.Percent == percent {
		return
	}
	if percent >= 100 && countAMI(f, ami) == len(f.Instances) && f.Version == version && f.Refresh == nil {
		return
	}
	p.add(Action{Kind: ActRefreshFleet, Fleet: f.Name,
		Refresh: Refresh{Version: version, AMI: ami, Percent: percent}, Reason: reason})
}

// stepShare is the share of step k, 0 before the first.
func stepShare(st desired.Stack, k int) int {
	if k < 0 {
		return 0
	}
	return st.Steps[k].Traffic
}

func countAMI(f *Fleet, ami string) int {
	n := 0
	for _, i := range f.Instances {
		if i.AMI == ami {
			n++
		}
	}
	return n
}

func countHealthyAMI(f *Fleet, ami string) int {
	n := 0
	for _, i := range f.Instances {
		if i.AMI == ami && i.Healthy {
			n++
		}
	}
	return n
}
