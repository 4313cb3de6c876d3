package aws

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/aws/awstest"
	"github.com/amigo-gitops/amigo/reconciler"
)

func fleetSpec(s stackInfra, name, version, ami string, slot reconciler.Slot, c desired.Capacity) reconciler.FleetSpec {
	tg := s.blue
	if slot == reconciler.SlotGreen {
		tg = s.green
	}
	return reconciler.FleetSpec{Name: name, Stack: prdWeb, Version: version, AMI: ami, Slot: slot, TargetGroup: tg,
		LaunchTemplate: s.lt, Subnets: []string{"subnet-1a", "subnet-1c"}, Capacity: c}
}

func findFleet(t *testing.T, d *Driver, name string) reconciler.Fleet {
	t.Helper()
	fs, err := d.ListFleets(context.Background())
	if err != nil {
		t.Fatalf("ListFleets: %v", err)
	}
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("fleet %s not listed", name)
	return reconciler.Fleet{}
}

func healthy(f reconciler.Fleet, ami string) int {
	n := 0
	for _, in := range f.Instances {
		if in.Healthy && in.AMI == ami {
			n++
		}
	}
	return n
}

func TestFleetLifecycle(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	s := seedStack(c, "prd")
	d := newDriver(t, c)
	ami := c.AddAMI("idhub-40-web-app-v1.6-20261115", "available", c.Now(), nil)
	capacity := desired.Capacity{Desired: 4, Min: 4, Max: 8}
	spec := fleetSpec(s, "prd-web-v1.6", "v1.6", ami, reconciler.SlotBlue, capacity)

	f, err := d.CreateFleet(ctx, spec)
	if err != nil {
		t.Fatalf("CreateFleet: %v", err)
	}
	if again, err := d.CreateFleet(ctx, spec); err != nil || again.Name != f.Name {
		t.Errorf("CreateFleet again: got %q, %v, want %q, nil", again.Name, err, f.Name)
	}
	if got, want := c.LaunchTemplateVersions(s.lt), []string{s.baseAMI, ami}; !cmp.Equal(got, want) {
		t.Errorf("launch template versions: got %v, want %v", got, want)
	}
	want := reconciler.Fleet{Name: spec.Name, Stack: prdWeb, Version: "v1.6", AMI: ami, Slot: reconciler.SlotBlue,
		TargetGroup: s.blue, Capacity: capacity, CreatedAt: c.Now()}
	got := findFleet(t, d, spec.Name)
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Instances" }, cmp.Ignore())); diff != "" {
		t.Errorf("fleet (-want +got):\n%s", diff)
	}
	if n := healthy(got, ami); n != 0 {
		t.Errorf("healthy instances at launch: got %d, want 0", n)
	}
	c.Advance(2 * time.Minute)
	if n := healthy(findFleet(t, d, spec.Name), ami); n != 4 {
		t.Errorf("healthy instances after settling: got %d, want 4", n)
	}
	tgs, err := d.TargetGroups(ctx, []string{s.blue})
	if err != nil {
		t.Fatalf("TargetGroups: %v", err)
	}
	if !tgs[0].AllHealthy() || len(tgs[0].Targets) != 4 || tgs[0].DeregistrationDelay != 300*time.Second {
		t.Errorf("target group: got %+v, want 4 healthy targets and a 300s deregistration delay", tgs[0])
	}

	capacity = desired.Capacity{Desired: 2, Min: 2, Max: 4}
	if err := d.ScaleFleet(ctx, spec.Name, capacity); err != nil {
		t.Fatalf("ScaleFleet: %v", err)
	}
	if got := findFleet(t, d, spec.Name); got.Capacity != capacity || len(got.Instances) != 2 {
		t.Errorf("after scale: got %+v with %d instances, want %+v with 2", got.Capacity, len(got.Instances), capacity)
	}
	if err := d.ScaleFleet(ctx, spec.Name, desired.Capacity{Desired: 9, Min: 1, Max: 4}); err == nil {
		t.Errorf("ScaleFleet over max: got nil error, want one")
	}
	for i := 0; i < 2; i++ {
		if err := d.DeleteFleet(ctx, spec.Name); err != nil {
			t.Fatalf("DeleteFleet #%d: %v", i+1, err)
		}
	}
	fs, err := d.ListFleets(ctx)
	if err != nil || len(fs) != 0 {
		t.Errorf("ListFleets after delete: got %d fleets, %v, want none", len(fs), err)
	}
	tgs, _ = d.TargetGroups(ctx, []string{s.blue})
	for _, tg := range tgs[0].Targets {
		if tg.State != reconciler.TargetDraining {
			t.Errorf("target %s after delete: got %s, want draining", tg.ID, tg.State)
		}
	}
}

func TestListFleetsPaginates(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	s := seedStack(c, "prd")
	d := newDriver(t, c)
	for i := 0; i < 250; i++ {
		spec := fleetSpec(s, fmt.Sprintf("prd-web-%03d", i), "v1", s.baseAMI, reconciler.SlotBlue, desired.Capacity{Desired: 1, Min: 1, Max: 1})
		if _, err := d.CreateFleet(ctx, spec); err != nil {
			t.Fatalf("CreateFleet: %v", err)
		}
	}
	// Successful calls: a rare loopback read error is retried by the SDK
	// and is not a page.
	pages := func() int {
		n := d.Calls().ByOp[Op{Service: "autoscaling", Operation: "DescribeAutoScalingGroups"}]
		return n.Calls - n.Errors
	}
	before := pages()
	fs, err := d.ListFleets(ctx)
	if err != nil {
		t.Fatalf("ListFleets: %v", err)
	}
	if len(fs) != 250 {
		t.Errorf("fleets: got %d, want 250", len(fs))
	}
	if got := pages() - before; got != 3 {
		t.Errorf("DescribeAutoScalingGroups pages: got %d, want 3", got)
	}
}

func TestRefreshFleet(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	s := seedStack(c, "prd")
	d := newDriver(t, c)
	old := c.AddAMI("idhub-40-web-app-v1.5-20261101", "available", c.Now(), nil)
	next := c.AddAMI("idhub-40-web-app-v1.6-20261115", "available", c.Now(), nil)
	spec := fleetSpec(s, "prd-web", "v1.5", old, reconciler.SlotBlue, desired.Capacity{Desired: 4, Min: 4, Max: 8})
	if _, err := d.CreateFleet(ctx, spec); err != nil {
		t.Fatalf("CreateFleet: %v", err)
	}
	c.Advance(2 * time.Minute)
	r := reconciler.Refresh{Version: "v1.6", AMI: next}
	for _, step := range []struct{ percent, onNew int }{{25, 1}, {50, 2}, {100, 4}} {
		t.Run(fmt.Sprint(step.percent), func(t *testing.T) {
			r.Percent = step.percent
			if err := d.RefreshFleet(ctx, spec.Name, r); err != nil {
				t.Fatalf("RefreshFleet: %v", err)
			}
			if err := d.RefreshFleet(ctx, spec.Name, r); err != nil {
				t.Fatalf("RefreshFleet while running: %v", err)
			}
			f := findFleet(t, d, spec.Name)
			if f.Refresh == nil || f.Refresh.Percent != step.percent || f.Refresh.AMI != next {
				t.Fatalf("refresh status: got %+v, want %d%% to %s", f.Refresh, step.percent, next)
			}
			for i := 0; i < 60 && healthy(findFleet(t, d, spec.Name), next) < step.onNew; i++ {
				c.Advance(10 * time.Second)
				if f := findFleet(t, d, spec.Name); healthy(f, old)+healthy(f, next) < 3 {
					t.Fatalf("healthy instances under 75%%: %+v", f.Instances)
				}
			}
			f = findFleet(t, d, spec.Name)
			if got := healthy(f, next); got != step.onNew {
				t.Errorf("healthy instances on the new AMI: got %d, want %d", got, step.onNew)
			}
			if f.Refresh != nil && f.Refresh.Done != step.onNew*25 {
				t.Errorf("refresh done: got %d, want %d", f.Refresh.Done, step.onNew*25)
			}
		})
	}
	if err := d.RefreshFleet(ctx, spec.Name, r); err != nil {
		t.Fatalf("RefreshFleet at 100: %v", err)
	}
	f := findFleet(t, d, spec.Name)
	if f.Refresh != nil || f.AMI != next || f.Version != "v1.6" {
		t.Errorf("after refresh: got %s %s refresh %+v, want v1.6 %s and no refresh", f.Version, f.AMI, f.Refresh, next)
	}
}

func TestRefreshFleetRollbackAndFailure(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	s := seedStack(c, "prd")
	d := newDriver(t, c)
	old := c.AddAMI("idhub-40-web-app-v1.5-20261101", "available", c.Now(), nil)
	bad := c.AddAMI("idhub-40-web-app-v1.6-20261115", "available", c.Now(), nil)
	c.FailInstances(bad)
	spec := fleetSpec(s, "prd-web", "v1.5", old, reconciler.SlotBlue, desired.Capacity{Desired: 4, Min: 4, Max: 8})
	if _, err := d.CreateFleet(ctx, spec); err != nil {
		t.Fatalf("CreateFleet: %v", err)
	}
	c.Advance(2 * time.Minute)
	if err := d.RefreshFleet(ctx, spec.Name, reconciler.Refresh{Version: "v1.6", AMI: bad, Percent: 25}); err != nil {
		t.Fatalf("RefreshFleet: %v", err)
	}
	c.Advance(5 * time.Minute)
	if err := d.RefreshFleet(ctx, spec.Name, reconciler.Refresh{Version: "v1.6", AMI: bad, Percent: 50}); err == nil {
		t.Errorf("RefreshFleet after the refresh failed: got nil error, want one")
	}
	// Rolling back is a refresh to the old AMI, which cancels nothing here
	// (the failed refresh is over) but must start cleanly.
	if err := d.RefreshFleet(ctx, spec.Name, reconciler.Refresh{Version: "v1.5.1", AMI: old, Percent: 100}); err != nil {
		t.Fatalf("RefreshFleet back: %v", err)
	}
}

func TestRefreshFleetCancelsRunningRefresh(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	s := seedStack(c, "prd")
	d := newDriver(t, c)
	a := c.AddAMI("idhub-40-web-app-v1.5-20261101", "available", c.Now(), nil)
	b := c.AddAMI("idhub-40-web-app-v1.6-20261115", "available", c.Now(), nil)
	cc := c.AddAMI("idhub-40-web-app-v1.7-20261120", "available", c.Now(), nil)
	spec := fleetSpec(s, "prd-web", "v1.5", a, reconciler.SlotBlue, desired.Capacity{Desired: 4, Min: 4, Max: 8})
	if _, err := d.CreateFleet(ctx, spec); err != nil {
		t.Fatalf("CreateFleet: %v", err)
	}
	c.Advance(2 * time.Minute)
	if err := d.RefreshFleet(ctx, spec.Name, reconciler.Refresh{Version: "v1.6", AMI: b, Percent: 100}); err != nil {
		t.Fatalf("RefreshFleet: %v", err)
	}
	cancelsBefore := ops(d)["autoscaling:CancelInstanceRefresh"]
	if err := d.RefreshFleet(ctx, spec.Name, reconciler.Refresh{Version: "v1.7", AMI: cc, Percent: 100}); err != nil {
		t.Fatalf("RefreshFleet to another AMI while running: %v", err)
	}
	if n := ops(d)["autoscaling:CancelInstanceRefresh"] - cancelsBefore; n != 1 {
		t.Errorf("CancelInstanceRefresh calls: got %d, want 1", n)
	}
	for i := 0; i < 100; i++ {
		c.Advance(30 * time.Second)
		if err := d.RefreshFleet(ctx, spec.Name, reconciler.Refresh{Version: "v1.7", AMI: cc, Percent: 100}); err != nil {
			t.Fatalf("RefreshFleet: %v", err)
		}
	}
	f := findFleet(t, d, spec.Name)
	if f.AMI != cc || healthy(f, cc) != 4 {
		t.Errorf("fleet: got AMI %s with %d healthy on %s, want all 4", f.AMI, healthy(f, cc), cc)
	}
	_ = awstest.LaunchDelay
}
