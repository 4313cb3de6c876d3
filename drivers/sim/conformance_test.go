package sim_test

import (
	"testing"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/conformance"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

// harness offers the simulator to the conformance suite.
type harness struct {
	c *sim.Cloud
}

func (h harness) Cloud() reconciler.Cloud { return h.c.Cloud() }

func (h harness) Seed(t *testing.T, stack desired.StackID) desired.Target {
	t.Helper()
	target := testTarget(stack)
	if err := h.c.Provision(target); err != nil {
		t.Fatalf("provision: %v", err)
	}
	return target
}

func (h harness) Image(t *testing.T, project, role, version string, st reconciler.ImageState) {
	t.Helper()
	if err := h.c.SetImage(project, role, "app", version, st); err != nil {
		t.Fatalf("set image: %v", err)
	}
}

func (h harness) Settle(t *testing.T, d time.Duration) {
	t.Helper()
	if err := h.c.Advance(d); err != nil {
		t.Fatalf("advance: %v", err)
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Harness {
		return harness{c: open(t, "")}
	})
}

// TestConformanceOnDisk runs the suite against a state file, so that every
// call goes through load and save.
func TestConformanceOnDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	conformance.Run(t, func(t *testing.T) conformance.Harness {
		return harness{c: open(t, t.TempDir()+"/sim.json")}
	})
}

func open(t testing.TB, path string) *sim.Cloud {
	t.Helper()
	c, err := sim.Open(path, sim.Options{Wall: fixedWall})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return c
}

// fixedWall keeps sim time moving only by Advance.
func fixedWall() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }

func testTarget(stack desired.StackID) desired.Target {
	base := "arn:aws:elasticloadbalancing:ap-northeast-1:000000000000:"
	name := "idhub-40-" + stack.Env + "-" + stack.Role
	return desired.Target{
		Listener: base + "listener/app/idhub-40-" + stack.Env + "/50dc6c495c0c9188/0467ef3c8400ae65",
		TargetGroups: []string{
			base + "targetgroup/" + name + "-blue/73e2d6bc24d8a067",
			base + "targetgroup/" + name + "-green/2453ed029918f21f",
		},
		LaunchTemplate: "lt-0123456789abcdef0",
		Subnets:        []string{"subnet-1a", "subnet-1c"},
	}
}
