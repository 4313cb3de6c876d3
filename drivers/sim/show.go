package sim

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// Snapshot is the whole simulated cloud at one moment, for `amigo sim show`.
type Snapshot struct {
	Now          time.Time          `json:"now"`
	Speed        float64            `json:"speed"`
	Listeners    []ListenerSnapshot `json:"listeners"`
	Fleets       []FleetSnapshot    `json:"fleets"`
	TargetGroups []TargetGroupView  `json:"targetGroups"`
	Images       []ImageSnapshot    `json:"images"`
	Faults       []Fault            `json:"faults"`
	Throttle     int                `json:"throttle"`
	Calls        CallStats          `json:"calls"`
}

// ListenerSnapshot is a listener's default action and all its rules.
type ListenerSnapshot struct {
	ARN        string              `json:"arn"`
	Weights    []reconciler.Weight `json:"weights"`
	Stickiness time.Duration       `json:"stickiness"`
	Rules      []RuleSnapshot      `json:"rules"`
}

// RuleSnapshot is one listener rule; Stack is empty for rules amigo does
// not own.
type RuleSnapshot struct {
	ARN        string                 `json:"arn"`
	Priority   int                    `json:"priority"`
	Stack      string                 `json:"stack,omitempty"`
	Route      desired.Route          `json:"route,omitempty"`
	Conditions []reconciler.Condition `json:"conditions"`
	Weights    []reconciler.Weight    `json:"weights"`
}

// FleetSnapshot is a fleet with the launch state of each instance.
type FleetSnapshot struct {
	Name        string                    `json:"name"`
	Stack       string                    `json:"stack"`
	Version     string                    `json:"version"`
	AMI         string                    `json:"ami"`
	Slot        reconciler.Slot           `json:"slot"`
	TargetGroup string                    `json:"targetGroup"`
	Capacity    desired.Capacity          `json:"capacity"`
	CreatedAt   time.Time                 `json:"createdAt"`
	Instances   []InstanceSnapshot        `json:"instances"`
	Refresh     *reconciler.RefreshStatus `json:"refresh,omitempty"`
}

// InstanceSnapshot is one instance: pending, or in service with the
// health of its target.
type InstanceSnapshot struct {
	ID     string `json:"id"`
	AMI    string `json:"ami"`
	Zone   string `json:"zone"`
	State  string `json:"state"`            // pending or in-service
	Health string `json:"health,omitempty"` // target health once registered
}

// TargetGroupView is a target group with its targets' health.
type TargetGroupView struct {
	ARN                 string                    `json:"arn"`
	DeregistrationDelay time.Duration             `json:"deregistrationDelay"`
	Targets             []reconciler.TargetHealth `json:"targets"`
}

// ImageSnapshot is one image of any layer.
type ImageSnapshot struct {
	Name    string                `json:"name"`
	Project string                `json:"project"`
	Role    string                `json:"role"`
	Layer   string                `json:"layer"`
	Version string                `json:"version"`
	AMI     string                `json:"ami,omitempty"`
	State   reconciler.ImageState `json:"state"`
}

// Show returns a snapshot of the whole simulated cloud at Now. It is not
// counted as an API call.
func (c *Cloud) Show() (Snapshot, error) {
	var out Snapshot
	err := c.update(func(s *state) error {
		now := s.now(c.wall())
		settle(s, now)
		out = s.snapshot(now)
		return nil
	})
	return out, err
}

func (s *state) snapshot(now time.Time) Snapshot {
	out := Snapshot{
		Now: now, Speed: s.Speed, Throttle: s.Throttle,
		Faults: append([]Fault(nil), s.Faults...), Calls: s.Calls.clone(),
	}
	for _, arn := range slices.Sorted(maps.Keys(s.Listeners)) {
		out.Listeners = append(out.Listeners, s.listenerSnapshot(s.Listeners[arn]))
	}
	for _, name := range slices.Sorted(maps.Keys(s.Fleets)) {
		out.Fleets = append(out.Fleets, s.fleetSnapshot(s.Fleets[name], now))
	}
	for _, arn := range slices.Sorted(maps.Keys(s.TargetGroups)) {
		v := s.targetGroupView(s.TargetGroups[arn], now)
		out.TargetGroups = append(out.TargetGroups, TargetGroupView(v))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Images)) {
		im := s.Images[k]
		v := s.imageView(im)
		out.Images = append(out.Images, ImageSnapshot{
			Name: im.Name, Project: im.Project, Role: im.Role, Layer: im.Layer,
			Version: im.Version, AMI: v.AMI, State: im.State,
		})
	}
	return out
}

func (s *state) listenerSnapshot(l *listener) ListenerSnapshot {
	out := ListenerSnapshot{ARN: l.ARN, Weights: l.Forward.view().Weights, Stickiness: l.Forward.Stickiness}
	for _, arn := range slices.Sorted(maps.Keys(s.Rules)) {
		r := s.Rules[arn]
		if r.Listener != l.ARN {
			continue
		}
		out.Rules = append(out.Rules, RuleSnapshot{
			ARN: r.ARN, Priority: r.Priority, Stack: r.Tags[reconciler.TagStack],
			Route: desired.Route(r.Tags[reconciler.TagRoute]), Conditions: cloneConditions(r.Conditions),
			Weights: r.Forward.view().Weights,
		})
	}
	sort.Slice(out.Rules, func(i, j int) bool { return out.Rules[i].Priority < out.Rules[j].Priority })
	return out
}

func (s *state) fleetSnapshot(f *fleet, now time.Time) FleetSnapshot {
	v := s.fleetView(f, now)
	out := FleetSnapshot{
		Name: f.Name, Stack: f.Stack.String(), Version: f.Version, AMI: f.AMI, Slot: f.Slot,
		TargetGroup: f.TargetGroup, Capacity: f.Capacity, CreatedAt: f.CreatedAt, Refresh: v.Refresh,
	}
	for _, in := range f.Instances {
		is := InstanceSnapshot{ID: in.ID, AMI: in.AMI, Zone: in.Zone, State: "pending"}
		if st, ok := s.targetState(f, in, now); ok {
			is.State, is.Health = "in-service", string(st)
		}
		out.Instances = append(out.Instances, is)
	}
	return out
}
