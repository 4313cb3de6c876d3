package conformance

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

func testFleetLifecycle(t *testing.T, h Harness) {
	target := h.Seed(t, stack)
	c := desired.Capacity{Desired: 2, Min: 2, Max: 4}
	sp := running(t, h, target, c)

	got := mustFleet(t, h, sp.Name)
	want := reconciler.Fleet{
		Name: sp.Name, Stack: stack, Version: sp.Version, AMI: sp.AMI,
		Slot: reconciler.SlotBlue, TargetGroup: sp.TargetGroup, Capacity: c,
	}
	ignore := cmpopts.IgnoreFields(reconciler.Fleet{}, "Instances", "CreatedAt", "Refresh")
	if diff := cmp.Diff(want, got, ignore); diff != "" {
		t.Errorf("listed fleet (-want +got):\n%s", diff)
	}
	if got.CreatedAt.IsZero() {
		t.Errorf("created at: got zero, want the creation time")
	}
	checkInstances(t, got, sp.AMI, c.Desired, len(target.Subnets))

	tg := targetGroup(t, h, sp.TargetGroup)
	if !tg.AllHealthy() || len(tg.Targets) != c.Desired {
		t.Errorf("targets: got %+v, want %d healthy", tg.Targets, c.Desired)
	}
	if diff := cmp.Diff(instanceIDs(got), targetIDs(tg)); diff != "" {
		t.Errorf("registered targets (-instances +targets):\n%s", diff)
	}
	if tg.DeregistrationDelay <= 0 {
		t.Errorf("deregistration delay: got %s, want > 0", tg.DeregistrationDelay)
	}
}

// checkInstances checks count, ids, AMI, health and the spread over zones.
func checkInstances(t *testing.T, f reconciler.Fleet, ami string, n, subnets int) {
	t.Helper()
	if len(f.Instances) != n {
		t.Fatalf("instances: got %d, want %d", len(f.Instances), n)
	}
	zones := map[string]bool{}
	for _, in := range f.Instances {
		if !strings.HasPrefix(in.ID, "i-") || in.AMI != ami || !in.Healthy || in.Zone == "" {
			t.Errorf("instance: got %+v, want an i- id, AMI %s, healthy, in a zone", in, ami)
		}
		zones[in.Zone] = true
	}
	if want := min(n, subnets); len(zones) != want {
		t.Errorf("zones: got %d, want %d", len(zones), want)
	}
}

func instanceIDs(f reconciler.Fleet) []string {
	var out []string
	for _, in := range f.Instances {
		out = append(out, in.ID)
	}
	sort.Strings(out)
	return out
}

func targetIDs(tg reconciler.TargetGroup) []string {
	var out []string
	for _, x := range tg.Targets {
		out = append(out, x.ID)
	}
	sort.Strings(out)
	return out
}

func testScale(t *testing.T, h Harness) {
	target := h.Seed(t, stack)
	sp := running(t, h, target, desired.Capacity{Desired: 2, Min: 1, Max: 4})
	steps := []struct {
		name string
		c    desired.Capacity
	}{
		{"up", desired.Capacity{Desired: 4, Min: 1, Max: 4}},
		{"down", desired.Capacity{Desired: 1, Min: 1, Max: 4}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := mustFleet(t, h, sp.Name)
			if err := h.Cloud().Fleets.ScaleFleet(call(t), sp.Name, st.c); err != nil {
				t.Fatalf("scale: %v", err)
			}
			checkRemovedNotServing(t, h, before, mustFleet(t, h, sp.Name), sp.TargetGroup)
			h.Settle(t, settleDrain)
			f := mustFleet(t, h, sp.Name)
			if f.Capacity != st.c {
				t.Errorf("capacity: got %+v, want %+v", f.Capacity, st.c)
			}
			checkInstances(t, f, sp.AMI, st.c.Desired, len(target.Subnets))
			tg := targetGroup(t, h, sp.TargetGroup)
			if !tg.AllHealthy() || len(tg.Targets) != st.c.Desired {
				t.Errorf("targets: got %+v, want %d healthy", tg.Targets, st.c.Desired)
			}
		})
	}
}

// checkRemovedNotServing checks that instances scaled in are no longer
// served: their targets are draining or gone.
func checkRemovedNotServing(t *testing.T, h Harness, before, after reconciler.Fleet, tgARN string) {
	t.Helper()
	kept := map[string]bool{}
	for _, in := range after.Instances {
		kept[in.ID] = true
	}
	for _, x := range targetGroup(t, h, tgARN).Targets {
		if !kept[x.ID] && x.State != reconciler.TargetDraining {
			t.Errorf("removed instance %s: got target %s, want draining or gone", x.ID, x.State)
		}
	}
}

func testRefresh(t *testing.T, h Harness) {
	target := h.Seed(t, stack)
	c := desired.Capacity{Desired: 4, Min: 3, Max: 8}
	sp := running(t, h, target, c)
	next := image(t, h, "v1.1")
	steps := []struct {
		name        string
		to          reconciler.Refresh
		wantOn      int // instances on the refresh's AMI
		wantVersion string
		wantAMI     string
	}{
		{"checkpoint", reconciler.Refresh{Version: "v1.1", AMI: next.AMI, Percent: 50}, 2, sp.Version, sp.AMI},
		{"complete", reconciler.Refresh{Version: "v1.1", AMI: next.AMI, Percent: 100}, 4, "v1.1", next.AMI},
		{"again", reconciler.Refresh{Version: "v1.1", AMI: next.AMI, Percent: 100}, 4, "v1.1", next.AMI},
		{"back", reconciler.Refresh{Version: sp.Version, AMI: sp.AMI, Percent: 100}, 4, sp.Version, sp.AMI},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := h.Cloud().Fleets.RefreshFleet(call(t), sp.Name, st.to); err != nil {
				t.Fatalf("refresh: %v", err)
			}
			settleKeepingCapacity(t, h, sp.TargetGroup, c.Desired)
			f := mustFleet(t, h, sp.Name)
			if got := countAMI(f, st.to.AMI); got != st.wantOn || len(f.Instances) != c.Desired {
				t.Errorf("got %d of %d instances on %s, want %d of %d",
					got, len(f.Instances), st.to.AMI, st.wantOn, c.Desired)
			}
			if f.Version != st.wantVersion || f.AMI != st.wantAMI {
				t.Errorf("got version %s ami %s, want %s %s", f.Version, f.AMI, st.wantVersion, st.wantAMI)
			}
			if st.to.Percent == 100 && f.Refresh != nil {
				t.Errorf("got refresh %+v still in progress, want none", *f.Refresh)
			}
		})
	}
}

// settleKeepingCapacity lets a refresh run in small steps, checking that
// healthy capacity never drops under 75% of desired.
func settleKeepingCapacity(t *testing.T, h Harness, tgARN string, desiredN int) {
	t.Helper()
	floor := (desiredN*3 + 3) / 4
	for i := 0; i < 40; i++ {
		h.Settle(t, 30*time.Second)
		if got := countTargets(targetGroup(t, h, tgARN), reconciler.TargetHealthy); got < floor {
			t.Fatalf("after %s: got %d healthy targets, want at least %d", time.Duration(i+1)*30*time.Second, got, floor)
		}
	}
}

func testDeleteFleet(t *testing.T, h Harness) {
	target := h.Seed(t, stack)
	sp := running(t, h, target, desired.Capacity{Desired: 2, Min: 2, Max: 2})
	if err := h.Cloud().Fleets.DeleteFleet(call(t), sp.Name); err != nil {
		t.Fatalf("delete fleet: %v", err)
	}
	h.Settle(t, settleDrain)
	if f, ok := fleet(t, h, sp.Name); ok {
		t.Errorf("after delete: got fleet %s with %d instances, want none", f.Name, len(f.Instances))
	}
	if tg := targetGroup(t, h, sp.TargetGroup); len(tg.Targets) != 0 {
		t.Errorf("after delete: got targets %+v, want none", tg.Targets)
	}
}
