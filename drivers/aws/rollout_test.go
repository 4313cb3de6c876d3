package aws

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/amigo-gitops/amigo/drivers/aws/awstest"
	"github.com/amigo-gitops/amigo/reconciler"
)

// versionedSource is a config repository whose revision changes with its
// files, so the reconciler re-reads a change.
type versionedSource struct {
	memSource
	rev int
}

func (s *versionedSource) Fetch(context.Context) (string, error) {
	return fmt.Sprintf("%040d", s.rev), nil
}

func (s *versionedSource) set(path string, content []byte) {
	s.files = maps.Clone(s.files)
	s.files[path] = content
	s.rev++
}

// TestRolloutThroughEngine runs the real engine on the AWS driver over the
// wire-protocol servers: a bluegreen stack from v1.0 to v1.1 walks 10%,
// 50% and 100%, analysis reads CloudWatch, and the v1.0 fleet is deleted
// only after the listener shows it no weight.
func TestRolloutThroughEngine(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	d := newDriver(t, c)
	day := c.Now().Format("20060102")
	lb := c.CreateLoadBalancer("idhub-40-dev-web")
	blue, green := c.CreateTargetGroup("dev-web-blue", lb), c.CreateTargetGroup("dev-web-green", lb)
	c.SetDeregistrationDelay(blue, time.Minute)
	c.SetDeregistrationDelay(green, time.Minute)
	listener := c.CreateListener(lb, awstest.Action{Type: "forward",
		Forward: []awstest.Weight{{TargetGroup: blue, Weight: 100}, {TargetGroup: green, Weight: 0}}})
	lt := c.CreateLaunchTemplate("dev-web", c.AddAMI("al2023-base", "available", c.Now(), nil))
	c.AddAMI("idhub-40-web-app-v1.0-"+day, "available", c.Now(), nil)
	c.AddAMI("idhub-40-web-app-v1.1-"+day, "available", c.Now(), nil)
	stack := func(version string) []byte {
		return []byte(fmt.Sprintf("version: %s\nstrategy: bluegreen\ncapacity: {desired: 2, min: 2, max: 4}\n"+
			"target:\n  listener: %s\n  targetGroups: [%s, %s]\n  launchTemplate: %s\n  subnets: [subnet-1a, subnet-1c]\n",
			version, listener, blue, green, lt))
	}
	src := &versionedSource{memSource: memSource{files: map[string][]byte{
		"amigo.yaml": []byte("apiVersion: amigo/v1\nproject: idhub-40\nenvironments: [dev]\nroles: [web]\n" +
			"promotion:\n  pullRequests: false\naws:\n  region: " + c.Region + "\n"),
		"environments/dev/web.yaml": stack("v1.0"),
	}}}
	rec := reconciler.New(reconciler.Options{Source: src, Cloud: d.Cloud(), RetryBackoff: time.Millisecond})
	run := func(until func(reconciler.Status) bool) (seen []int) {
		t.Helper()
		for i := 0; i < 200; i++ {
			res, err := rec.Reconcile(ctx, "poll")
			if err != nil {
				t.Fatalf("pass %d: %v", i, err)
			}
			st := res.Plan.Stacks[0].Status
			if w := st.Weight; len(seen) == 0 || seen[len(seen)-1] != w {
				seen = append(seen, w)
			}
			if until(st) && len(res.Applied) == 0 {
				return seen
			}
			c.Advance(time.Minute)
		}
		t.Fatalf("not done after 200 passes; weights seen %v", seen)
		return nil
	}
	at := func(v string) func(reconciler.Status) bool {
		return func(s reconciler.Status) bool {
			return s.Phase == reconciler.Healthy && s.Stable != nil && s.Stable.Version == v && len(s.Retiring) == 0
		}
	}
	run(at("v1.0"))
	src.set("environments/dev/web.yaml", stack("v1.1"))
	seen := run(at("v1.1"))
	t.Logf("weights seen: %v", seen)
	if got := strings.Trim(fmt.Sprint(seen), "[]"); !strings.Contains(got, "10 50 100") {
		t.Errorf("weights on v1.1 over the rollout: %v, want to pass 10, 50, 100 in order", seen)
	}
	fleets, err := d.ListFleets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fleets) != 1 || fleets[0].Version != "v1.1" || fleets[0].TargetGroup != green {
		t.Errorf("fleets after the rollout: %+v, want only v1.1 on green", fleets)
	}
	ls, err := d.ReadListeners(ctx, []reconciler.ListenerRef{{Listener: listener}})
	if err != nil {
		t.Fatal(err)
	}
	if w := ls[0].Forward.Weight(green); w != 100 {
		t.Errorf("green weight after the rollout: %d, want 100", w)
	}
}
