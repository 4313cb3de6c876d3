package sim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

func seedStacks() (desired.Settings, []desired.Stack) {
	settings := desired.Settings{Project: "idhub-40", Images: desired.ImageSettings{Layers: []string{"base", "middleware", "app"}}}
	web := desired.Stack{ID: webStack, Version: "v1.6", Capacity: desired.Capacity{Desired: 4, Min: 4, Max: 8}, Target: testTarget(webStack)}
	hlpID := desired.StackID{Env: "prd", Role: "hlp"}
	hlp := desired.Stack{ID: hlpID, Version: "v2.0", Capacity: desired.Capacity{Desired: 2, Min: 2, Max: 4}, Target: testTarget(hlpID)}
	return settings, []desired.Stack{web, hlp}
}

func TestSeed(t *testing.T) {
	c := open(t, "")
	settings, stacks := seedStacks()
	if err := c.Seed(settings, stacks); err != nil {
		t.Fatalf("seed: %v", err)
	}
	web := stacks[0]
	f := mustFleet(t, c, "amigo-prd-web-v1-5")
	want := reconciler.Fleet{
		Name: "amigo-prd-web-v1-5", Stack: webStack, Version: "v1.5", AMI: resolve(t, c, "web", "v1.5").AMI,
		Slot: reconciler.SlotBlue, TargetGroup: web.Target.TargetGroups[0], Capacity: web.Capacity,
	}
	if diff := cmp.Diff(want, f, cmpopts.IgnoreFields(reconciler.Fleet{}, "Instances", "CreatedAt")); diff != "" {
		t.Errorf("seeded fleet (-want +got):\n%s", diff)
	}
	if tg := mustTG(t, c, web.Target.TargetGroups[0]); !tg.AllHealthy() || len(tg.Targets) != 4 {
		t.Errorf("seeded targets: got %+v, want 4 healthy", tg.Targets)
	}
	ls, err := c.ReadListeners(context.Background(), []reconciler.ListenerRef{{Listener: web.Target.Listener}})
	if err != nil {
		t.Fatalf("read listener: %v", err)
	}
	if w := ls[0].Forward.Weight(web.Target.TargetGroups[0]); w != 100 {
		t.Errorf("blue weight: got %d, want 100", w)
	}
	for _, v := range []string{"v1.6", "v1.5"} {
		if im := resolve(t, c, "web", v); im.State != reconciler.ImageAvailable {
			t.Errorf("image %s: got %s, want AVAILABLE", v, im.State)
		}
	}
	// v2.0 has no previous minor version: images, no fleet.
	if fs, _ := c.ListFleets(context.Background()); len(fs) != 1 {
		t.Errorf("fleets: got %d, want 1", len(fs))
	}
	if im := resolve(t, c, "hlp", "v2.0"); im.State != reconciler.ImageAvailable {
		t.Errorf("hlp image v2.0: got %s, want AVAILABLE", im.State)
	}
}

func TestSeedIsIdempotent(t *testing.T) {
	c := open(t, "")
	settings, stacks := seedStacks()
	if err := c.Seed(settings, stacks); err != nil {
		t.Fatalf("seed: %v", err)
	}
	advance(t, c, time.Hour)
	// Someone retired the seeded fleet and moved traffic: seeding again
	// must not bring either back.
	if err := c.DeleteFleet(context.Background(), "amigo-prd-web-v1-5"); err != nil {
		t.Fatalf("delete fleet: %v", err)
	}
	setWeights(t, c, stacks[0].Target, 0, 100)
	before, err := c.Show()
	if err != nil {
		t.Fatalf("show: %v", err)
	}
	if err := c.Seed(settings, stacks); err != nil {
		t.Fatalf("seed again: %v", err)
	}
	after, err := c.Show()
	if err != nil {
		t.Fatalf("show: %v", err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("seeding again changed (-before +after):\n%s", diff)
	}
}

func resolve(t *testing.T, c *sim.Cloud, role, version string) reconciler.Image {
	t.Helper()
	im, err := c.ResolveImage(context.Background(), reconciler.ImageQuery{Project: "idhub-40", Role: role, Layer: "app", Version: version})
	if err != nil {
		t.Fatalf("resolve %s %s: %v", role, version, err)
	}
	return im
}

func TestImages(t *testing.T) {
	c := open(t, "")
	if err := c.SetImage("idhub-40", "web", "app", "v1.6", reconciler.ImageBuilding); err != nil {
		t.Fatalf("set image: %v", err)
	}
	building := resolve(t, c, "web", "v1.6")
	if building.State != reconciler.ImageBuilding || building.AMI != "" {
		t.Errorf("building: got %+v, want BUILDING without an AMI", building)
	}
	if err := c.SetImage("idhub-40", "web", "app", "v1.6", reconciler.ImageAvailable); err != nil {
		t.Fatalf("set image: %v", err)
	}
	got := resolve(t, c, "web", "v1.6")
	if got.Name != "idhub-40-web-app-v1.6-20260101" || !strings.HasPrefix(got.AMI, "ami-") || len(got.AMI) != 21 {
		t.Errorf("available: got name %q ami %q, want idhub-40-web-app-v1.6-20260101 and ami- with 17 hex digits", got.Name, got.AMI)
	}
	var lineage []string
	for _, l := range got.Lineage {
		lineage = append(lineage, l.Layer+"@"+l.Version)
	}
	if diff := cmp.Diff([]string{"base@v1.0", "middleware@v2.3"}, lineage); diff != "" {
		t.Errorf("lineage (-want +got):\n%s", diff)
	}
	// Deterministic: another cloud gives the same ids.
	d := open(t, "")
	if err := d.SetImage("idhub-40", "web", "app", "v1.6", reconciler.ImageAvailable); err != nil {
		t.Fatalf("set image: %v", err)
	}
	if diff := cmp.Diff(got, resolve(t, d, "web", "v1.6")); diff != "" {
		t.Errorf("same image in another cloud (-first +second):\n%s", diff)
	}
	if err := c.SetImage("idhub-40", "web", "app", "v1.7", reconciler.ImageMissing); err == nil {
		t.Errorf("set image MISSING: got no error, want one")
	}
}
