package conformance

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

const project = "idhub-40"

// Long enough for any driver to launch instances and pass health checks,
// and for deregistered targets to drain (the default delay is 300s).
const (
	settleLaunch = 10 * time.Minute
	settleDrain  = 15 * time.Minute
)

var stack = desired.StackID{Env: "dev", Role: "web"}

// Run runs the conformance suite; newHarness gives each subtest a fresh
// cloud.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"images", testImages},
		{"fleet lifecycle", testFleetLifecycle},
		{"scale", testScale},
		{"refresh", testRefresh},
		{"forward", testForward},
		{"rules", testRules},
		{"rule conditions", testRuleConditions},
		{"delete fleet", testDeleteFleet},
		{"metrics", testMetrics},
		{"unknown resources", testUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newHarness(t)) })
	}
}

// call gives every cloud call its own timeout, as the daemon does.
func call(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// image makes an AVAILABLE image and resolves it.
func image(t *testing.T, h Harness, version string) reconciler.Image {
	t.Helper()
	h.Image(t, project, stack.Role, version, reconciler.ImageAvailable)
	im, err := h.Cloud().Images.ResolveImage(call(t), reconciler.ImageQuery{
		Project: project, Role: stack.Role, Layer: "app", Version: version,
	})
	if err != nil {
		t.Fatalf("resolve %s: %v", version, err)
	}
	if im.State != reconciler.ImageAvailable {
		t.Fatalf("image %s: got state %s, want AVAILABLE", version, im.State)
	}
	return im
}

func spec(target desired.Target, version, ami string, c desired.Capacity) reconciler.FleetSpec {
	return reconciler.FleetSpec{
		Name:           "amigo-dev-web-" + strings.ReplaceAll(version, ".", "-"),
		Stack:          stack,
		Version:        version,
		AMI:            ami,
		Slot:           reconciler.SlotBlue,
		TargetGroup:    target.TargetGroups[0],
		LaunchTemplate: target.LaunchTemplate,
		Subnets:        target.Subnets,
		Capacity:       c,
	}
}

// running creates a fleet at version v1.0 in the blue group and lets it
// come into service.
func running(t *testing.T, h Harness, target desired.Target, c desired.Capacity) reconciler.FleetSpec {
	t.Helper()
	sp := spec(target, "v1.0", image(t, h, "v1.0").AMI, c)
	if _, err := h.Cloud().Fleets.CreateFleet(call(t), sp); err != nil {
		t.Fatalf("create fleet: %v", err)
	}
	h.Settle(t, settleLaunch)
	return sp
}

// fleet returns the listed fleet called name.
func fleet(t *testing.T, h Harness, name string) (reconciler.Fleet, bool) {
	t.Helper()
	fs, err := h.Cloud().Fleets.ListFleets(call(t))
	if err != nil {
		t.Fatalf("list fleets: %v", err)
	}
	for _, f := range fs {
		if f.Name == name {
			return f, true
		}
	}
	return reconciler.Fleet{}, false
}

func mustFleet(t *testing.T, h Harness, name string) reconciler.Fleet {
	t.Helper()
	f, ok := fleet(t, h, name)
	if !ok {
		t.Fatalf("fleet %s not listed", name)
	}
	return f
}

func targetGroup(t *testing.T, h Harness, arn string) reconciler.TargetGroup {
	t.Helper()
	tgs, err := h.Cloud().Traffic.TargetGroups(call(t), []string{arn})
	if err != nil {
		t.Fatalf("target groups: %v", err)
	}
	if len(tgs) != 1 || tgs[0].ARN != arn {
		t.Fatalf("target groups: got %+v, want one for %s", tgs, arn)
	}
	return tgs[0]
}

func countTargets(tg reconciler.TargetGroup, st reconciler.TargetState) int {
	n := 0
	for _, x := range tg.Targets {
		if x.State == st {
			n++
		}
	}
	return n
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

func readListener(t *testing.T, h Harness, ref reconciler.ListenerRef) reconciler.Listener {
	t.Helper()
	ls, err := h.Cloud().Traffic.ReadListeners(call(t), []reconciler.ListenerRef{ref})
	if err != nil {
		t.Fatalf("read listener: %v", err)
	}
	if len(ls) != 1 {
		t.Fatalf("read listener: got %d listeners, want 1", len(ls))
	}
	return ls[0]
}

// byTargetGroup makes weight comparisons ignore the order a driver
// returns them in.
var byTargetGroup = cmpopts.SortSlices(func(a, b reconciler.Weight) bool { return a.TargetGroup < b.TargetGroup })
