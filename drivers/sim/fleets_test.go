package sim_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

func TestLaunchAndHealthTiming(t *testing.T) {
	c := open(t, "")
	target, f := newFleet(t, c, 2)
	tests := []struct {
		step        time.Duration // advanced before checking
		wantHealthy int           // instances in service
		wantTargets map[reconciler.TargetState]int
	}{
		{0, 0, map[reconciler.TargetState]int{}},
		{59 * time.Second, 0, map[reconciler.TargetState]int{}},
		{time.Second, 2, map[reconciler.TargetState]int{reconciler.TargetInitial: 2}},
		{29 * time.Second, 2, map[reconciler.TargetState]int{reconciler.TargetInitial: 2}},
		{time.Second, 2, map[reconciler.TargetState]int{reconciler.TargetHealthy: 2}},
	}
	elapsed := time.Duration(0)
	for _, tt := range tests {
		advance(t, c, tt.step)
		elapsed += tt.step
		t.Run(elapsed.String(), func(t *testing.T) {
			got := 0
			for _, in := range mustFleet(t, c, f.Name).Instances {
				if in.Healthy {
					got++
				}
			}
			if got != tt.wantHealthy {
				t.Errorf("healthy instances: got %d, want %d", got, tt.wantHealthy)
			}
			if diff := cmp.Diff(tt.wantTargets, states(mustTG(t, c, target.TargetGroups[0]))); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefreshNeverUnder75(t *testing.T) {
	for _, n := range []int{1, 4, 7, 10} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			c := open(t, "")
			target, f := newFleet(t, c, n)
			advance(t, c, 2*time.Minute)
			next := mustImage(t, c, "v1.1")
			floor := (3*n + 3) / 4
			for _, to := range []reconciler.Refresh{
				{Version: "v1.1", AMI: next.AMI, Percent: 100},
				{Version: "v1.0", AMI: f.AMI, Percent: 100}, // and back
			} {
				if err := c.RefreshFleet(context.Background(), f.Name, to); err != nil {
					t.Fatalf("refresh: %v", err)
				}
				refreshInSteps(t, c, target.TargetGroups[0], f.Name, floor, n)
				got := mustFleet(t, c, f.Name)
				if got.Version != to.Version || got.AMI != to.AMI || got.Refresh != nil || countAMI(got, to.AMI) != n {
					t.Errorf("after refresh to %s: got version %s ami %s refresh %v, %d of %d on it",
						to.Version, got.Version, got.AMI, got.Refresh, countAMI(got, to.AMI), len(got.Instances))
				}
			}
		})
	}
}

// refreshInSteps advances 5s at a time until the refresh ends, checking
// healthy capacity and the surge at every step.
func refreshInSteps(t *testing.T, c *sim.Cloud, tg, name string, floor, n int) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if h := states(mustTG(t, c, tg))[reconciler.TargetHealthy]; h < floor {
			t.Fatalf("step %d: got %d healthy targets, want at least %d", i, h, floor)
		}
		f := mustFleet(t, c, name)
		if max := n + max(1, n/4); len(f.Instances) > max {
			t.Fatalf("step %d: got %d instances, want at most %d", i, len(f.Instances), max)
		}
		if f.Refresh == nil {
			return
		}
		advance(t, c, 5*time.Second)
	}
	t.Fatalf("refresh did not end")
}

func countAMI(f reconciler.Fleet, ami string) int {
	n := 0
	for _, in := range f.Instances {
		if in.AMI == ami {
			n++
		}
	}
	return n
}

func TestRefreshCheckpoint(t *testing.T) {
	c := open(t, "")
	_, f := newFleet(t, c, 4)
	advance(t, c, 2*time.Minute)
	next := mustImage(t, c, "v1.1")
	if err := c.RefreshFleet(context.Background(), f.Name, reconciler.Refresh{Version: "v1.1", AMI: next.AMI, Percent: 50}); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	advance(t, c, 30*time.Minute)
	got := mustFleet(t, c, f.Name)
	want := &reconciler.RefreshStatus{Version: "v1.1", AMI: next.AMI, Percent: 50, Done: 50}
	if diff := cmp.Diff(want, got.Refresh); diff != "" {
		t.Errorf("refresh status (-want +got):\n%s", diff)
	}
	if got.Version != "v1.0" || countAMI(got, next.AMI) != 2 {
		t.Errorf("got version %s with %d on the new AMI, want v1.0 with 2", got.Version, countAMI(got, next.AMI))
	}
}

func TestDrainDelay(t *testing.T) {
	c := open(t, "")
	target, f := newFleet(t, c, 2)
	advance(t, c, 2*time.Minute)
	if err := c.ScaleFleet(context.Background(), f.Name, desired.Capacity{Desired: 1, Max: 2}); err != nil {
		t.Fatalf("scale: %v", err)
	}
	tests := []struct {
		step time.Duration
		want map[reconciler.TargetState]int
	}{
		{0, map[reconciler.TargetState]int{reconciler.TargetHealthy: 1, reconciler.TargetDraining: 1}},
		{299 * time.Second, map[reconciler.TargetState]int{reconciler.TargetHealthy: 1, reconciler.TargetDraining: 1}},
		{time.Second, map[reconciler.TargetState]int{reconciler.TargetHealthy: 1}},
	}
	for _, tt := range tests {
		advance(t, c, tt.step)
		tg := mustTG(t, c, target.TargetGroups[0])
		if diff := cmp.Diff(tt.want, states(tg)); diff != "" {
			t.Errorf("after +%s (-want +got):\n%s", tt.step, diff)
		}
		if tg.DeregistrationDelay != 300*time.Second {
			t.Errorf("deregistration delay: got %s, want 5m0s", tg.DeregistrationDelay)
		}
	}
	if n := len(mustFleet(t, c, f.Name).Instances); n != 1 {
		t.Errorf("instances: got %d, want 1", n)
	}
}

func TestFleetErrors(t *testing.T) {
	c := open(t, "")
	target, f := newFleet(t, c, 2)
	ctx := context.Background()
	good := reconciler.FleetSpec{
		Name: "other", Stack: webStack, Version: "v1.0", AMI: f.AMI, TargetGroup: target.TargetGroups[1],
		LaunchTemplate: target.LaunchTemplate, Subnets: target.Subnets, Capacity: desired.Capacity{Desired: 1, Max: 1},
	}
	tests := []struct {
		name string
		edit func(s *reconciler.FleetSpec)
	}{
		{"duplicate name", func(s *reconciler.FleetSpec) { s.Name = f.Name }},
		{"unknown target group", func(s *reconciler.FleetSpec) { s.TargetGroup = "tg-nothing" }},
		{"unknown launch template", func(s *reconciler.FleetSpec) { s.LaunchTemplate = "lt-nothing" }},
		{"bad ami", func(s *reconciler.FleetSpec) { s.AMI = "v1.0" }},
		{"desired over max", func(s *reconciler.FleetSpec) { s.Capacity.Desired = 3 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good
			tt.edit(&s)
			if _, err := c.CreateFleet(ctx, s); err == nil {
				t.Errorf("got no error, want one")
			}
		})
	}
	if err := c.DeleteFleet(ctx, "nothing"); err == nil {
		t.Errorf("delete unknown fleet: got no error, want one")
	}
}

func TestFleetName(t *testing.T) {
	tests := []struct {
		stack   desired.StackID
		version string
		want    string
	}{
		{desired.StackID{Env: "prd", Role: "web"}, "v1.6", "amigo-prd-web-v1-6"},
		{desired.StackID{Env: "stg", Role: "hlp"}, "v2.10.3", "amigo-stg-hlp-v2-10-3"},
		{desired.StackID{Env: "Dev", Role: "web"}, "v1.0+build_7", "amigo-dev-web-v1-0-build-7"},
	}
	for _, tt := range tests {
		if got := sim.FleetName(tt.stack, tt.version); got != tt.want {
			t.Errorf("FleetName(%s, %s): got %q, want %q", tt.stack, tt.version, got, tt.want)
		}
	}
}
