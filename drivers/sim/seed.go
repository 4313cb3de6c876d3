package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// Provision creates, outside amigo, what a stack's target block refers to
// when it does not exist yet: the target groups, the launch template, the
// listener forwarding everything to the first group and, when the block
// names one, the listener rule carrying the stack's forward action.
// Existing resources are left as they are.
func (c *Cloud) Provision(t desired.Target) error {
	if t.Listener == "" || len(t.TargetGroups) == 0 {
		return fmt.Errorf("provision: target needs a listener and target groups")
	}
	return c.update(func(s *state) error {
		s.provision(t)
		return nil
	})
}

// provision reports whether it created the stack's forward action, that
// is whether the stack is new to this state.
func (s *state) provision(t desired.Target) bool {
	for _, arn := range t.TargetGroups {
		if s.TargetGroups[arn] == nil {
			s.TargetGroups[arn] = &targetGroup{ARN: arn, DeregDelay: defaultDeregDelay}
		}
	}
	if t.LaunchTemplate != "" {
		s.LaunchTemplates[t.LaunchTemplate] = true
	}
	all := forward{Weights: []reconciler.Weight{{TargetGroup: t.TargetGroups[0], Weight: 100}}}
	for _, arn := range t.TargetGroups[1:] {
		all.Weights = append(all.Weights, reconciler.Weight{TargetGroup: arn})
	}
	created := false
	if s.Listeners[t.Listener] == nil {
		s.Listeners[t.Listener] = &listener{ARN: t.Listener, Forward: all}
		created = t.Rule == ""
	}
	if t.Rule != "" && s.Rules[t.Rule] == nil {
		s.Rules[t.Rule] = &rule{
			ARN: t.Rule, Listener: t.Listener, Priority: s.freePriority(t.Listener),
			Conditions: []reconciler.Condition{{Field: reconciler.FieldPathPattern, Values: []string{"/*"}}},
			Forward:    all,
		}
		created = true
	}
	return created
}

// freePriority picks a priority for a hand-made rule from the top of the
// range, out of the way of the low priorities amigo's rules use.
func (s *state) freePriority(listenerARN string) int {
	used := map[int]bool{}
	for _, r := range s.Rules {
		if r.Listener == listenerARN {
			used[r.Priority] = true
		}
	}
	p := maxPriority
	for used[p] {
		p--
	}
	return p
}

// Seed prepares the state for a config repository, as a team would have
// before adopting amigo: each stack's infrastructure (see Provision), its
// images AVAILABLE at the stack's version and at the previous minor
// version, and, when there is a previous version, a healthy fleet running
// it in the first target group with all the traffic. Stacks already in the
// state are left alone, so seeding twice changes nothing.
func (c *Cloud) Seed(settings desired.Settings, stacks []desired.Stack) error {
	for _, st := range stacks {
		if st.Target.Listener == "" || len(st.Target.TargetGroups) == 0 {
			return fmt.Errorf("seed %s: target needs a listener and target groups", st.ID)
		}
	}
	return c.update(func(s *state) error {
		if len(settings.Images.Layers) > 0 {
			s.Layers = append([]string(nil), settings.Images.Layers...)
		}
		now := s.now(c.wall())
		settle(s, now)
		for _, st := range stacks {
			s.seedStack(settings.Project, st, now)
		}
		return nil
	})
}

func (s *state) seedStack(project string, st desired.Stack, now time.Time) {
	fresh := s.provision(st.Target)
	layer := appLayer
	if len(s.Layers) > 0 {
		layer = s.Layers[len(s.Layers)-1]
	}
	s.seedImage(project, st.ID.Role, layer, st.Version)
	prev := previousMinor(st.Version)
	if prev == "" {
		return
	}
	im := s.seedImage(project, st.ID.Role, layer, prev)
	name := FleetName(st.ID, prev)
	// Only a stack new to the state gets its running fleet: once amigo has
	// rolled it forward, seeding again must not bring the old one back.
	if !fresh || s.Fleets[name] != nil || st.Capacity.Desired <= 0 {
		return
	}
	f := &fleet{
		Name: name, Stack: st.ID, Version: prev, AMI: amiOf(im.Name), Slot: reconciler.SlotBlue,
		TargetGroup: st.Target.TargetGroups[0], LaunchTemplate: st.Target.LaunchTemplate,
		Subnets: append([]string(nil), st.Target.Subnets...), Capacity: st.Capacity,
	}
	// Launched long enough ago to be in service and healthy now.
	born := now.Add(-s.LaunchTime - s.HealthyAfter)
	f.CreatedAt = born
	s.launch(f, f.AMI, st.Capacity.Desired, born)
	s.Fleets[name] = f
}

// seedImage makes the image AVAILABLE unless it already exists.
func (s *state) seedImage(project, role, layer, version string) *image {
	if im := s.Images[imageKey(project, role, layer, version)]; im != nil {
		return im
	}
	return s.setImage(project, role, layer, version, reconciler.ImageAvailable)
}

// previousMinor is v1.5 for v1.6 (or v1.6.2), and "" when the minor
// version is 0 or the version is not vMAJOR.MINOR.
func previousMinor(v string) string {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 || !strings.HasPrefix(v, "v") {
		return ""
	}
	minor, err := strconv.Atoi(parts[1])
	if err != nil || minor <= 0 {
		return ""
	}
	if _, err := strconv.Atoi(parts[0]); err != nil {
		return ""
	}
	return "v" + parts[0] + "." + strconv.Itoa(minor-1)
}
