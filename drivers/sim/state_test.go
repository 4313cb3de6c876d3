package sim_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

func TestPersistenceRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	ctx := context.Background()
	a := open(t, path)
	target, f := newFleet(t, a, 3)
	advance(t, a, 5*time.Minute)
	fw := reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: target.TargetGroups[0], Weight: 70}, {TargetGroup: target.TargetGroups[1], Weight: 30}}, Stickiness: time.Hour}
	if err := a.SetForward(ctx, target.Listener, "", fw); err != nil {
		t.Fatalf("set forward: %v", err)
	}
	if err := a.Inject(sim.Fault{Stack: webStack, ErrorRate: 0.02}); err != nil {
		t.Fatalf("inject: %v", err)
	}
	before, err := a.Show()
	if err != nil {
		t.Fatalf("show: %v", err)
	}

	b := open(t, path)
	after, err := b.Show()
	if err != nil {
		t.Fatalf("show after reopen: %v", err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("state after reopen (-before +after):\n%s", diff)
	}
	if got := mustFleet(t, b, f.Name); len(got.Instances) != 3 {
		t.Errorf("instances after reopen: got %d, want 3", len(got.Instances))
	}
	if !b.Now().Equal(a.Now()) {
		t.Errorf("now: got %s, want %s", b.Now(), a.Now())
	}
}

func TestTwoCloudsOnOneFileLoseNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	target := testTarget(webStack)
	if err := open(t, path).Provision(target); err != nil {
		t.Fatalf("provision: %v", err)
	}
	const perCloud = 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*perCloud)
	for i := 0; i < 2; i++ {
		c := open(t, path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- createRules(c, target, 1+i*perCloud, perCloud)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkRuleCount(t, open(t, path), target, 2*perCloud)
}

// createRules creates n rules with priorities from first on.
func createRules(c *sim.Cloud, target desired.Target, first, n int) error {
	for p := first; p < first+n; p++ {
		_, err := c.CreateRule(context.Background(), target.Listener, reconciler.Rule{
			Priority: p, Stack: webStack, Route: desired.RouteInternal, TargetGroup: target.TargetGroups[1],
			Conditions: []reconciler.Condition{{Field: reconciler.FieldSourceIP, Values: []string{"10.0.0.0/16"}}},
		})
		if err != nil {
			return fmt.Errorf("create rule %d: %w", p, err)
		}
	}
	return nil
}

func checkRuleCount(t *testing.T, c *sim.Cloud, target desired.Target, want int) {
	t.Helper()
	ls, err := c.ReadListeners(context.Background(), []reconciler.ListenerRef{{Listener: target.Listener}})
	if err != nil {
		t.Fatalf("read listener: %v", err)
	}
	if got := len(ls[0].Rules); got != want {
		t.Errorf("rules: got %d, want %d", got, want)
	}
	if got := c.Calls().Writes["CreateRule"]; got != want {
		t.Errorf("CreateRule calls: got %d, want %d", got, want)
	}
}

// TestTwoProcessesOnOneFileLoseNothing runs this test binary twice as
// writer processes on one state file.
func TestTwoProcessesOnOneFileLoseNothing(t *testing.T) {
	if path := os.Getenv("SIM_TEST_WRITER_PATH"); path != "" {
		first, _ := strconv.Atoi(os.Getenv("SIM_TEST_WRITER_FIRST"))
		if err := createRules(open(t, path), testTarget(webStack), first, 20); err != nil {
			t.Fatal(err)
		}
		return
	}
	path := filepath.Join(t.TempDir(), "sim.json")
	target := testTarget(webStack)
	if err := open(t, path).Provision(target); err != nil {
		t.Fatalf("provision: %v", err)
	}
	var cmds []*exec.Cmd
	for i := 0; i < 2; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTwoProcessesOnOneFileLoseNothing$")
		cmd.Env = append(os.Environ(), "SIM_TEST_WRITER_PATH="+path, "SIM_TEST_WRITER_FIRST="+strconv.Itoa(1+i*20))
		if err := cmd.Start(); err != nil {
			t.Fatalf("start writer: %v", err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	checkRuleCount(t, open(t, path), target, 40)
}

func TestThrottle(t *testing.T) {
	c := open(t, "")
	ctx := context.Background()
	if err := c.Inject(sim.Fault{Throttle: 2}); err != nil {
		t.Fatalf("inject: %v", err)
	}
	for i, want := range []bool{true, true, false} {
		_, err := c.ListFleets(ctx)
		var te *sim.ThrottleError
		if got := errors.As(err, &te) && te.Throttled(); got != want {
			t.Errorf("call %d: got throttled %v (err %v), want %v", i, got, err, want)
		}
		if want && err.Error() != "Throttling: Rate exceeded" {
			t.Errorf("call %d: got message %q, want the ALB's", i, err)
		}
	}
	cs := c.Calls()
	if cs.Throttled != 2 || cs.Reads["ListFleets"] != 3 {
		t.Errorf("calls: got %+v, want 3 ListFleets reads, 2 throttled", cs)
	}
	if err := c.ResetCalls(); err != nil {
		t.Fatalf("reset calls: %v", err)
	}
	if cs := c.Calls(); cs.TotalReads()+cs.TotalWrites()+cs.Throttled != 0 {
		t.Errorf("calls after reset: got %+v, want none", cs)
	}
}

func TestSpeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.json")
	wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return wall }
	c, err := sim.Open(path, sim.Options{Wall: clock, Speed: 60})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	start := c.Now()
	if want := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); !start.Equal(want) {
		t.Errorf("start: got %s, want %s", start, want)
	}
	wall = wall.Add(10 * time.Second)
	if got := c.Now().Sub(start); got != 10*time.Minute {
		t.Errorf("after 10s of wall at speed 60: got %s, want 10m0s", got)
	}
	// Speed 0 at open keeps the stored speed.
	d, err := sim.Open(path, sim.Options{Wall: clock})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	advance(t, d, time.Hour)
	wall = wall.Add(time.Second)
	if got := d.Now().Sub(start); got != 10*time.Minute+time.Hour+time.Minute {
		t.Errorf("after advance and 1s more: got %s, want 1h11m0s", got)
	}
}
