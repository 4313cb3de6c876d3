package reconciler

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"time"

	"github.com/amigo-gitops/amigo/desired"
)

// DefaultHealthDeadline is how long a new or resized fleet may take to turn
// healthy before the rollout is aborted.
const DefaultHealthDeadline = 15 * time.Minute

// Observed is what one pass saw of one stack.
type Observed struct {
	Fleets       []Fleet                // the stack's fleets
	Listener     Listener               // its forward action and amigo rules
	TargetGroups map[string]TargetGroup // the groups whose traffic may move
	Image        *Image                 // the desired version's image, when resolved
	Metrics      *Measurements          // the current step's window, when read
}

// Measurements are the figures analysis judges, over one window.
type Measurements struct {
	From, To    time.Time
	Canary      TGMetrics    // the new fleet's target group (rolling: the fleet's)
	CanaryFleet FleetMetrics // the new fleet
	StableFleet FleetMetrics // the baseline
}

// Input is everything Plan looks at. Plan reads nothing else.
type Input struct {
	Repo           *desired.Repo
	Observed       map[desired.StackID]Observed
	Previous       map[desired.StackID]Status
	Now            time.Time
	HealthDeadline time.Duration // 0: DefaultHealthDeadline
}

// Result is what a pass will do, per stack, in order.
type Result struct {
	Revision string
	Stacks   []StackPlan
}

// StackPlan is one stack's actions and the status it has once they apply.
type StackPlan struct {
	Stack   desired.StackID
	Actions []Action
	Status  Status
	Drift   []Drift // what the actions put back after a change outside amigo
}

// Writes counts the cloud writes of the plan.
func (p Result) Writes() int {
	n := 0
	for _, s := range p.Stacks {
		for _, a := range s.Actions {
			if a.Write() {
				n++
			}
		}
	}
	return n
}

// Plan decides, for every valid stack, the actions that move the cloud one
// step toward the desired state, and the status that results. It is a pure
// function of its input: no I/O, no clock. Stacks are planned in promotion
// order so that an environment turning Healthy opens the gate of the next
// one in the same pass. Invalid stacks get no actions at all.
func Plan(in Input) Result {
	deadline := in.HealthDeadline
	if deadline <= 0 {
		deadline = DefaultHealthDeadline
	}
	out := Result{Revision: in.Repo.Revision}
	done := map[desired.StackID]Status{}
	for _, st := range in.Repo.Stacks {
		prev, hasPrev := in.Previous[st.ID]
		p := &stackPlanner{
			st: st, obs: in.Observed[st.ID], prev: prev, hasPrev: hasPrev,
			now: in.Now, deadline: deadline, repo: in.Repo, done: done,
		}
		sp := p.plan()
		done[st.ID] = sp.Status
		out.Stacks = append(out.Stacks, sp)
	}
	for _, inv := range in.Repo.Invalid {
		out.Stacks = append(out.Stacks, invalidPlan(inv, in.Previous[inv.ID]))
	}
	return out
}

// invalidPlan leaves a rejected stack exactly as it runs and says why.
func invalidPlan(inv desired.StackError, prev Status) StackPlan {
	s := prev
	s.Stack = inv.ID.String()
	s.File = inv.File
	s.Phase = Blocked
	s.Message = "config rejected: " + inv.Errors[0].Error()
	if len(inv.Errors) > 1 {
		s.Message += fmt.Sprintf(" (and %d more)", len(inv.Errors)-1)
	}
	return StackPlan{Stack: inv.ID, Status: s}
}

// stackPlanner plans one stack. Its methods append actions and fill status.
type stackPlanner struct {
	st       desired.Stack
	obs      Observed
	prev     Status
	hasPrev  bool
	now      time.Time
	deadline time.Duration
	repo     *desired.Repo
	done     map[desired.StackID]Status

	actions []Action
	status  Status
	urgent  bool // actions added now take traffic back
	drifts  []Drift
}

func (p *stackPlanner) plan() StackPlan {
	p.status = Status{
		Stack:         p.st.ID.String(),
		File:          p.st.File,
		DesiredCommit: p.repo.Revision,
		Strategy:      string(p.st.Strategy),
		Traffic:       p.st.Traffic,
		Step:          -1,
		TraceID:       p.prev.TraceID,
		Analysis:      p.prev.Analysis,
	}
	stable := p.findStable()
	cand := p.findCandidate(stable)
	switch {
	case stable == nil:
		p.initial(cand)
	case p.st.Strategy == desired.Rolling:
		p.rolling(stable)
	case stable.Version == p.st.Version:
		p.steady(stable)
	default:
		p.rollout(stable, cand)
	}
	sort.Strings(p.status.Drift)
	return StackPlan{Stack: p.st.ID, Actions: p.actions, Status: p.status, Drift: p.drifts}
}

func (p *stackPlanner) add(a Action) {
	a.Stack = p.st.ID
	switch a.Kind {
	case ActSetForward, ActDeleteRule, ActRefreshFleet:
		a.Urgent = p.urgent
	}
	p.actions = append(p.actions, a)
}

// findStable picks the fleet that serves the stack's users: the one status
// names, else the one the listener weights most, else nothing.
func (p *stackPlanner) findStable() *Fleet {
	fleets := p.obs.Fleets
	if p.prev.Stable != nil {
		for i := range fleets {
			if fleets[i].Name == p.prev.Stable.Fleet {
				return &fleets[i]
			}
		}
	}
	var best *Fleet
	bestW := 0
	for i := range fleets {
		w := p.obs.Listener.Forward.Weight(fleets[i].TargetGroup)
		if w > bestW || (w == bestW && w > 0 && fleets[i].CreatedAt.Before(best.CreatedAt)) {
			best, bestW = &fleets[i], w
		}
	}
	if best == nil && len(fleets) == 1 && p.st.Strategy == desired.Rolling {
		return &fleets[0]
	}
	return best
}

// findCandidate picks the fleet of the desired version other than stable.
func (p *stackPlanner) findCandidate(stable *Fleet) *Fleet {
	var c *Fleet
	for i := range p.obs.Fleets {
		f := &p.obs.Fleets[i]
		if f.Version != p.st.Version || (stable != nil && f.Name == stable.Name) {
			continue
		}
		if c == nil || f.CreatedAt.After(c.CreatedAt) {
			c = f
		}
	}
	return c
}

// specKey digests the desired spec of the stack: an abort holds until it
// changes.
func specKey(st desired.Stack) string {
	s := st
	s.File = ""
	sum := sha256.Sum256([]byte(fmt.Sprintf("%+v", s)))
	return fmt.Sprintf("%x", sum[:6])
}

func release(f *Fleet, img *Image) *Release {
	if f == nil {
		return nil
	}
	r := &Release{Version: f.Version, AMI: f.AMI, Fleet: f.Name}
	if img != nil && img.Version == f.Version && img.AMI == f.AMI {
		r.Lineage = img.Lineage
	}
	return r
}

// keepLineage carries the lineage recorded earlier for the same release.
func (p *stackPlanner) keepLineage(r *Release) *Release {
	if r == nil || r.Lineage != nil {
		return r
	}
	for _, old := range []*Release{p.prev.Stable, p.prev.New} {
		if old != nil && old.Version == r.Version && old.AMI == r.AMI {
			r.Lineage = old.Lineage
		}
	}
	return r
}

func timePtr(t time.Time) *time.Time { return &t }
