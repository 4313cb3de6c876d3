package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

var webStack = desired.StackID{Env: "prd", Role: "web"}

// newFleet provisions the stack's target and creates a fleet at v1.0 in
// the blue group with the given desired capacity.
func newFleet(t *testing.T, c *sim.Cloud, n int) (desired.Target, reconciler.Fleet) {
	t.Helper()
	target := testTarget(webStack)
	if err := c.Provision(target); err != nil {
		t.Fatalf("provision: %v", err)
	}
	ami := mustImage(t, c, "v1.0").AMI
	f, err := c.CreateFleet(context.Background(), reconciler.FleetSpec{
		Name: sim.FleetName(webStack, "v1.0"), Stack: webStack, Version: "v1.0", AMI: ami,
		Slot: reconciler.SlotBlue, TargetGroup: target.TargetGroups[0],
		LaunchTemplate: target.LaunchTemplate, Subnets: target.Subnets,
		Capacity: desired.Capacity{Desired: n, Min: 0, Max: 2 * n},
	})
	if err != nil {
		t.Fatalf("create fleet: %v", err)
	}
	return target, f
}

func mustImage(t *testing.T, c *sim.Cloud, version string) reconciler.Image {
	t.Helper()
	if err := c.SetImage("idhub-40", webStack.Role, "app", version, reconciler.ImageAvailable); err != nil {
		t.Fatalf("set image: %v", err)
	}
	im, err := c.ResolveImage(context.Background(), reconciler.ImageQuery{Project: "idhub-40", Role: webStack.Role, Version: version})
	if err != nil {
		t.Fatalf("resolve image: %v", err)
	}
	return im
}

func advance(t *testing.T, c *sim.Cloud, d time.Duration) {
	t.Helper()
	if err := c.Advance(d); err != nil {
		t.Fatalf("advance: %v", err)
	}
}

func mustTG(t *testing.T, c *sim.Cloud, arn string) reconciler.TargetGroup {
	t.Helper()
	tgs, err := c.TargetGroups(context.Background(), []string{arn})
	if err != nil {
		t.Fatalf("target groups: %v", err)
	}
	return tgs[0]
}

func mustFleet(t *testing.T, c *sim.Cloud, name string) reconciler.Fleet {
	t.Helper()
	fs, err := c.ListFleets(context.Background())
	if err != nil {
		t.Fatalf("list fleets: %v", err)
	}
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("fleet %s not listed", name)
	return reconciler.Fleet{}
}

// states counts targets by state.
func states(tg reconciler.TargetGroup) map[reconciler.TargetState]int {
	out := map[reconciler.TargetState]int{}
	for _, x := range tg.Targets {
		out[x.State]++
	}
	return out
}
