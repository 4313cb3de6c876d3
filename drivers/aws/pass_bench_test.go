package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/aws/awstest"
	"github.com/amigo-gitops/amigo/reconciler"
)

// The steady-state budget is measured through the reconciler's real pass
// (load, observe, plan, apply, status) over the driver and the
// wire-protocol test servers: every stack in its own listener, as the
// usual config repository lays them out.

// memSource is a config repository held in memory: one revision of the
// desired branch and the status branch's files.
type memSource struct {
	files  map[string][]byte
	status map[string][]byte
}

func (s *memSource) Fetch(context.Context) (string, error) { return "0123456789abcdef", nil }

func (s *memSource) Files(context.Context, string) (map[string][]byte, error) {
	return maps.Clone(s.files), nil
}

func (s *memSource) ReadStatus(context.Context) (map[string][]byte, error) {
	return maps.Clone(s.status), nil
}

func (s *memSource) WriteStatus(_ context.Context, files map[string][]byte, _ string) (bool, error) {
	changed := !maps.EqualFunc(s.status, files, func(a, b []byte) bool { return string(a) == string(b) })
	s.status = maps.Clone(files)
	return changed, nil
}

func (s *memSource) Revert(context.Context, string, string, string) (string, error) {
	return "", errors.New("revert: not supported by the in-memory repository")
}

// estate is n stacks dev/r0001..dev/rNNNN, each with its own load
// balancer, listener and blue and green target groups, at version v1.0 by
// bluegreen, and a daemon reconciling them.
type estate struct {
	c         *awstest.Cloud
	d         *Driver
	rec       *reconciler.Reconciler
	n         int
	listeners []string
}

func role(i int) string { return fmt.Sprintf("r%04d", i+1) }

func newEstate(tb testing.TB, n int) *estate {
	tb.Helper()
	e := &estate{c: newCloud(tb), n: n}
	e.d = newDriver(tb, e.c)
	day := e.c.Now().Format("20060102")
	files := map[string][]byte{}
	roles := make([]string, n)
	for i := range roles {
		roles[i] = role(i)
		lb := e.c.CreateLoadBalancer("idhub-40-dev-" + roles[i])
		blue := e.c.CreateTargetGroup("dev-"+roles[i]+"-blue", lb)
		green := e.c.CreateTargetGroup("dev-"+roles[i]+"-green", lb)
		listener := e.c.CreateListener(lb, awstest.Action{Type: "forward",
			Forward: []awstest.Weight{{TargetGroup: blue, Weight: 100}, {TargetGroup: green, Weight: 0}}})
		e.listeners = append(e.listeners, listener)
		base := e.c.AddAMI("al2023-base", "available", e.c.Now(), nil)
		lt := e.c.CreateLaunchTemplate("dev-"+roles[i], base)
		e.c.AddAMI(fmt.Sprintf("idhub-40-%s-app-v1.0-%s", roles[i], day), "available", e.c.Now(), nil)
		files["environments/dev/"+roles[i]+".yaml"] = []byte(fmt.Sprintf(
			"version: v1.0\nstrategy: bluegreen\ncapacity: {desired: 1, min: 1, max: 2}\n"+
				"target:\n  listener: %s\n  targetGroups: [%s, %s]\n  launchTemplate: %s\n  subnets: [subnet-1a, subnet-1c]\n",
			listener, blue, green, lt))
	}
	files["amigo.yaml"] = []byte("apiVersion: amigo/v1\nproject: idhub-40\nenvironments: [dev]\nroles: [" +
		strings.Join(roles, ", ") + "]\npromotion:\n  pullRequests: false\naws:\n  region: " + e.c.Region + "\n")
	e.rec = reconciler.New(reconciler.Options{Source: &memSource{files: files}, Cloud: e.d.Cloud(),
		HealthDeadline: time.Hour, RetryBackoff: time.Millisecond})
	return e
}

// pass runs one reconciler pass and returns the API reads and writes it
// made and whether it read any listener's rules.
func (e *estate) pass(tb testing.TB) (res reconciler.PassResult, reads, writes int, readRules bool) {
	tb.Helper()
	before := e.d.Calls()
	res, err := e.rec.Reconcile(context.Background(), "poll")
	if err != nil {
		tb.Fatalf("pass: %v", err)
	}
	for op, n := range e.d.Calls().ByOp {
		calls := n.Calls - before.ByOp[op].Calls
		if strings.HasSuffix(family(op.Service, op.Operation), ":read") {
			reads += calls
		} else {
			writes += calls
		}
		if op.Operation == "DescribeRules" && calls > 0 {
			readRules = true
		}
	}
	return res, reads, writes, readRules
}

// settle runs passes, letting a minute pass between them, until every
// stack is Healthy and a pass has nothing to do.
func (e *estate) settle(tb testing.TB) {
	tb.Helper()
	const maxPasses = 60
	for i := 0; i < maxPasses; i++ {
		res, _, _, _ := e.pass(tb)
		healthy := 0
		for _, sp := range res.Plan.Stacks {
			if sp.Status.Phase == reconciler.Healthy {
				healthy++
			}
		}
		if healthy == e.n && len(res.Applied) == 0 && !res.Committed {
			return
		}
		e.c.Advance(time.Minute)
	}
	tb.Fatalf("stacks not all Healthy and quiet after %d passes", maxPasses)
}

// cycle is what a sweep cycle of quiet passes cost.
type cycle struct {
	quietReads  int // most reads of a pass that read no rules
	sweepReads  int // reads of the pass that read rules
	sweeps      int // passes that read rules
	totalReads  int
	totalWrites int
	passes      int
}

// sweepCycle is the reconciler's sweep period, in passes.
const sweepCycle = 10

// quietCycle runs one sweep cycle of passes on a settled estate.
func (e *estate) quietCycle(tb testing.TB) cycle {
	tb.Helper()
	var c cycle
	for i := 0; i < sweepCycle; i++ {
		_, reads, writes, readRules := e.pass(tb)
		c.passes++
		c.totalReads += reads
		c.totalWrites += writes
		if readRules {
			c.sweeps++
			c.sweepReads = max(c.sweepReads, reads)
		} else {
			c.quietReads = max(c.quietReads, reads)
		}
	}
	return c
}

// BenchmarkSteadyStatePass measures the API calls of a quiet pass of the
// real reconciler, one stack per listener: reads/stack for a pass that
// reads no rules, sweep-reads/stack for the pass in ten that reads every
// listener's rules, cycle-reads/stack averaged over the ten.
func BenchmarkSteadyStatePass(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			e := newEstate(b, n)
			e.settle(b)
			b.ResetTimer()
			var c cycle
			for i := 0; i < b.N; i++ {
				c = e.quietCycle(b)
			}
			b.StopTimer()
			if c.totalWrites != 0 {
				b.Errorf("writes in quiet passes: got %d, want 0", c.totalWrites)
			}
			b.ReportMetric(float64(c.quietReads)/float64(n), "reads/stack")
			b.ReportMetric(float64(c.sweepReads)/float64(n), "sweep-reads/stack")
			b.ReportMetric(float64(c.totalReads)/float64(c.passes*n), "cycle-reads/stack")
			b.ReportMetric(float64(c.totalWrites), "writes")
		})
	}
}

// TestSteadyStateBudget holds a quiet pass over 100 stacks, one listener
// each, to 0.2 reads per stack and no write, both for a pass that reads no
// rules and averaged over a sweep cycle; exactly one pass in the cycle
// reads the rules.
func TestSteadyStateBudget(t *testing.T) {
	const n = 100
	e := newEstate(t, n)
	e.settle(t)
	c := e.quietCycle(t)
	limit := n / 5 // 0.2 reads per stack
	tests := []struct {
		name      string
		got, want int
		exact     bool // want exactly, else at most
	}{
		{"reads of a quiet pass", c.quietReads, limit, false},
		{"reads over a sweep cycle", c.totalReads, limit * c.passes, false},
		{"writes over a sweep cycle", c.totalWrites, 0, true},
		{"passes reading rules", c.sweeps, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch {
			case tt.exact && tt.got != tt.want:
				t.Errorf("got %d, want %d", tt.got, tt.want)
			case !tt.exact && tt.got > tt.want:
				t.Errorf("got %d, want at most %d", tt.got, tt.want)
			}
		})
	}
}

// TestSweepPutsBackStrayRule checks that a stack at rest, whose pass does
// not read rules, still has a stray amigo-owned rule deleted within one
// sweep cycle.
func TestSweepPutsBackStrayRule(t *testing.T) {
	ctx := context.Background()
	e := newEstate(t, 3)
	e.settle(t)
	stray := reconciler.Rule{Priority: 100, Stack: desired.StackID{Env: "dev", Role: role(1)}, Route: desired.RoutePilot,
		Conditions: []reconciler.Condition{{Field: reconciler.FieldSourceIP, Values: []string{"10.0.0.0/16"}}}}
	ls, err := e.d.ReadListeners(ctx, []reconciler.ListenerRef{{Listener: e.listeners[1], Rules: true}})
	if err != nil {
		t.Fatalf("ReadListeners: %v", err)
	}
	stray.TargetGroup = ls[0].Forward.Weights[0].TargetGroup
	if _, err := e.d.CreateRule(ctx, e.listeners[1], stray); err != nil {
		t.Fatalf("CreateRule: %v", err)
	}
	for i := 0; i < sweepCycle; i++ {
		e.pass(t)
		if len(e.c.Rules(e.listeners[1])) == 0 {
			return
		}
	}
	t.Errorf("stray rule on %s: got %v after %d passes, want it deleted", e.listeners[1], e.c.Rules(e.listeners[1]), sweepCycle)
}
