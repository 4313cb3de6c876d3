package sim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// FleetName is the Auto Scaling group name of a stack's fleet at a version,
// e.g. amigo-prd-web-v1-6: only characters every AWS name accepts.
func FleetName(stack desired.StackID, version string) string {
	raw := strings.ToLower("amigo-" + stack.Env + "-" + stack.Role + "-" + version)
	b := []byte(raw)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// ListFleets returns every fleet, all of them amigo-tagged, by name.
func (c *Cloud) ListFleets(ctx context.Context) ([]reconciler.Fleet, error) {
	var out []reconciler.Fleet
	err := c.api(ctx, "ListFleets", false, func(s *state, now time.Time) error {
		for _, name := range slices.Sorted(maps.Keys(s.Fleets)) {
			out = append(out, s.fleetView(s.Fleets[name], now))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *state) fleetView(f *fleet, now time.Time) reconciler.Fleet {
	out := reconciler.Fleet{
		Name: f.Name, Stack: f.Stack, Version: f.Version, AMI: f.AMI, Slot: f.Slot,
		TargetGroup: f.TargetGroup, Capacity: f.Capacity, CreatedAt: f.CreatedAt,
	}
	failing := s.failing(f)
	for _, in := range f.Instances {
		out.Instances = append(out.Instances, reconciler.Instance{
			ID: in.ID, AMI: in.AMI, Zone: in.Zone,
			Healthy: !now.Before(s.inService(in)) && !failing[in.ID],
		})
	}
	if r := f.Refresh; r != nil {
		out.Refresh = &reconciler.RefreshStatus{
			Version: r.Version, AMI: r.AMI, Percent: r.Percent, Done: s.refreshDone(f),
		}
	}
	return out
}

// refreshDone is the percent of desired capacity already replaced by
// healthy-proven instances (replacements in flight do not count).
func (s *state) refreshDone(f *fleet) int {
	if f.Capacity.Desired <= 0 {
		return 100
	}
	inFlight := map[string]bool{}
	for _, sw := range f.Refresh.Batch {
		inFlight[sw.New] = true
	}
	n := 0
	for _, in := range f.Instances {
		if in.AMI == f.Refresh.AMI && !inFlight[in.ID] {
			n++
		}
	}
	return min(100, n*100/f.Capacity.Desired)
}

// CreateFleet creates an Auto Scaling group and launches its instances.
func (c *Cloud) CreateFleet(ctx context.Context, spec reconciler.FleetSpec) (reconciler.Fleet, error) {
	var out reconciler.Fleet
	err := c.api(ctx, "CreateFleet", true, func(s *state, now time.Time) error {
		if spec.Name == "" {
			spec.Name = FleetName(spec.Stack, spec.Version)
		}
		if err := s.checkSpec(spec); err != nil {
			return fmt.Errorf("create fleet %s: %w", spec.Name, err)
		}
		f := &fleet{
			Name: spec.Name, Stack: spec.Stack, Version: spec.Version, AMI: spec.AMI,
			Slot: spec.Slot, TargetGroup: spec.TargetGroup, LaunchTemplate: spec.LaunchTemplate,
			Subnets: append([]string(nil), spec.Subnets...), Capacity: spec.Capacity, CreatedAt: now,
		}
		s.launch(f, f.AMI, f.Capacity.Desired, now)
		s.Fleets[f.Name] = f
		out = s.fleetView(f, now)
		return nil
	})
	return out, err
}

func (s *state) checkSpec(spec reconciler.FleetSpec) error {
	if s.Fleets[spec.Name] != nil {
		return fmt.Errorf("AlreadyExists: AutoScalingGroup %q already exists", spec.Name)
	}
	if s.TargetGroups[spec.TargetGroup] == nil {
		return fmt.Errorf("TargetGroupNotFound: target group %q not found", spec.TargetGroup)
	}
	if !s.LaunchTemplates[spec.LaunchTemplate] {
		return fmt.Errorf("LaunchTemplateNotFound: launch template %q not found", spec.LaunchTemplate)
	}
	if !strings.HasPrefix(spec.AMI, "ami-") {
		return fmt.Errorf("InvalidAMIID.Malformed: %q", spec.AMI)
	}
	if len(spec.Subnets) == 0 {
		return fmt.Errorf("ValidationError: no subnets")
	}
	return checkCapacity(spec.Capacity)
}

func checkCapacity(c desired.Capacity) error {
	if c.Min < 0 || c.Desired < c.Min || c.Desired > c.Max {
		return fmt.Errorf("ValidationError: desired capacity %d must be between min size %d and max size %d", c.Desired, c.Min, c.Max)
	}
	return nil
}

func (s *state) fleet(name string) (*fleet, error) {
	f := s.Fleets[name]
	if f == nil {
		return nil, fmt.Errorf("ValidationError: AutoScalingGroup name not found - %s", name)
	}
	return f, nil
}

// ScaleFleet sets the fleet's capacity: new instances launch, surplus ones
// (the newest first) terminate and their targets drain.
func (c *Cloud) ScaleFleet(ctx context.Context, name string, capacity desired.Capacity) error {
	return c.api(ctx, "ScaleFleet", true, func(s *state, now time.Time) error {
		f, err := s.fleet(name)
		if err != nil {
			return fmt.Errorf("scale fleet: %w", err)
		}
		if err := checkCapacity(capacity); err != nil {
			return fmt.Errorf("scale fleet %s: %w", name, err)
		}
		f.Capacity = capacity
		s.scale(f, now)
		return nil
	})
}

// scale launches or terminates instances until the fleet, not counting the
// extra replacements of a refresh in flight, has its desired capacity.
func (s *state) scale(f *fleet, now time.Time) {
	busy := map[string]bool{}
	if f.Refresh != nil {
		for _, sw := range f.Refresh.Batch {
			busy[sw.Old], busy[sw.New] = true, true
		}
	}
	have := len(f.Instances)
	if f.Refresh != nil {
		have -= len(f.Refresh.Batch)
	}
	if have < f.Capacity.Desired {
		s.launch(f, f.AMI, f.Capacity.Desired-have, now)
		return
	}
	surplus := map[string]bool{}
	for i := len(f.Instances) - 1; i >= 0 && len(surplus) < have-f.Capacity.Desired; i-- {
		if id := f.Instances[i].ID; !busy[id] {
			surplus[id] = true
		}
	}
	s.terminate(f, surplus, now)
}

// RefreshFleet starts or moves the checkpoint of an instance refresh. A
// refresh to another AMI replaces one in progress: its replacements still
// in flight are terminated, the instances they were to replace stay.
func (c *Cloud) RefreshFleet(ctx context.Context, name string, r reconciler.Refresh) error {
	return c.api(ctx, "RefreshFleet", true, func(s *state, now time.Time) error {
		f, err := s.fleet(name)
		if err != nil {
			return fmt.Errorf("refresh fleet: %w", err)
		}
		if r.Percent < 0 || r.Percent > 100 || !strings.HasPrefix(r.AMI, "ami-") {
			return fmt.Errorf("refresh fleet %s: ValidationError: percent %d, ami %q", name, r.Percent, r.AMI)
		}
		switch {
		case f.Refresh == nil && f.AMI == r.AMI:
			f.Version = r.Version // nothing to replace
		case f.Refresh != nil && f.Refresh.AMI == r.AMI:
			f.Refresh.Percent, f.Refresh.Version = r.Percent, r.Version
		default:
			s.cancelRefresh(f, now)
			f.Refresh = &refresh{Version: r.Version, AMI: r.AMI, Percent: r.Percent, At: now}
		}
		progress(s, f, now)
		return nil
	})
}

func (s *state) cancelRefresh(f *fleet, now time.Time) {
	if f.Refresh == nil {
		return
	}
	extra := map[string]bool{}
	for _, sw := range f.Refresh.Batch {
		extra[sw.New] = true
	}
	s.terminate(f, extra, now)
	f.Refresh = nil
}

// DeleteFleet terminates every instance of the fleet and deletes it.
func (c *Cloud) DeleteFleet(ctx context.Context, name string) error {
	return c.api(ctx, "DeleteFleet", true, func(s *state, now time.Time) error {
		f, err := s.fleet(name)
		if err != nil {
			return fmt.Errorf("delete fleet: %w", err)
		}
		all := map[string]bool{}
		for _, in := range f.Instances {
			all[in.ID] = true
		}
		s.terminate(f, all, now)
		delete(s.Fleets, name)
		return nil
	})
}
