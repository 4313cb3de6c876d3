package conformance

import (
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

func testForward(t *testing.T, h Harness) {
	target := h.Seed(t, stack)
	blue, green := target.TargetGroups[0], target.TargetGroups[1]
	ref := reconciler.ListenerRef{Listener: target.Listener, Rule: target.Rule}
	if got := readListener(t, h, ref).Forward.Weight(blue); got != 100 {
		t.Errorf("seeded weight of blue: got %d, want 100", got)
	}
	tests := []struct {
		name string
		f    reconciler.Forward
	}{
		{"split sticky", forward(blue, 90, green, 10, time.Hour)},
		{"same again", forward(blue, 90, green, 10, time.Hour)},
		{"all green", forward(blue, 0, green, 100, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.Cloud().Traffic.SetForward(call(t), ref.Listener, ref.Rule, tt.f); err != nil {
				t.Fatalf("set forward: %v", err)
			}
			got := readListener(t, h, ref)
			if got.Ref != ref {
				t.Errorf("ref: got %+v, want %+v", got.Ref, ref)
			}
			if diff := cmp.Diff(tt.f, got.Forward, byTargetGroup); diff != "" {
				t.Errorf("forward read back (-want +got):\n%s", diff)
			}
		})
	}
}

func forward(a string, wa int, b string, wb int, sticky time.Duration) reconciler.Forward {
	return reconciler.Forward{
		Weights:    []reconciler.Weight{{TargetGroup: a, Weight: wa}, {TargetGroup: b, Weight: wb}},
		Stickiness: sticky,
	}
}

func testRules(t *testing.T, h Harness) {
	target := h.Seed(t, stack)
	green := target.TargetGroups[1]
	ref := reconciler.ListenerRef{Listener: target.Listener, Rule: target.Rule, Rules: true}
	want := []reconciler.Rule{
		rule(10, desired.RouteInternal, green, reconciler.Condition{Field: reconciler.FieldHTTPHeader, Header: "X-Blue-Verification", Values: []string{"true"}}),
		rule(11, desired.RouteInternal, green, reconciler.Condition{Field: reconciler.FieldSourceIP, Values: []string{"10.0.0.0/16"}}),
		rule(12, desired.RoutePilot, green, reconciler.Condition{Field: reconciler.FieldHTTPHeader, Header: "Cookie", Values: []string{"*canary-user=enabled*"}}),
	}
	for i, r := range want {
		arn, err := h.Cloud().Traffic.CreateRule(call(t), target.Listener, r)
		if err != nil || arn == "" {
			t.Fatalf("create rule %d: got arn %q error %v, want an arn", r.Priority, arn, err)
		}
		want[i].ARN = arn
	}
	before := readListener(t, h, ref).Forward
	checkRules(t, readListener(t, h, ref).Rules, want)

	dup := rule(10, desired.RoutePilot, green, reconciler.Condition{Field: reconciler.FieldSourceIP, Values: []string{"10.1.0.0/16"}})
	if _, err := h.Cloud().Traffic.CreateRule(call(t), target.Listener, dup); err == nil {
		t.Errorf("create rule with priority in use: got no error, want one")
	}
	if err := h.Cloud().Traffic.DeleteRule(call(t), want[1].ARN); err != nil {
		t.Fatalf("delete rule: %v", err)
	}
	after := readListener(t, h, ref)
	checkRules(t, after.Rules, []reconciler.Rule{want[0], want[2]})
	if diff := cmp.Diff(before, after.Forward, byTargetGroup); diff != "" {
		t.Errorf("forward changed by rule writes (-before +after):\n%s", diff)
	}
}

func rule(priority int, route desired.Route, tg string, c reconciler.Condition) reconciler.Rule {
	return reconciler.Rule{
		Priority: priority, Stack: stack, Route: route,
		Conditions: []reconciler.Condition{c}, TargetGroup: tg,
	}
}

func checkRules(t *testing.T, got, want []reconciler.Rule) {
	t.Helper()
	got = append([]reconciler.Rule(nil), got...)
	sort.Slice(got, func(i, j int) bool { return got[i].Priority < got[j].Priority })
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("amigo rules (-want +got):\n%s", diff)
	}
}

func testMetrics(t *testing.T, h Harness) {
	target := h.Seed(t, stack)
	sp := running(t, h, target, desired.Capacity{Desired: 2, Min: 2, Max: 2})
	h.Settle(t, 5*time.Minute) // traffic flows to the healthy blue group
	now := h.Cloud().Clock.Now()
	from := now.Add(-5 * time.Minute)

	idle, err := h.Cloud().Metrics.TargetGroupMetrics(call(t), target.TargetGroups[1], from, now)
	if err != nil {
		t.Fatalf("metrics of the idle group: %v", err)
	}
	if idle.HasData {
		t.Errorf("idle group: got %+v, want no data", idle)
	}
	busy, err := h.Cloud().Metrics.TargetGroupMetrics(call(t), sp.TargetGroup, from, now)
	if err != nil {
		t.Fatalf("metrics of the serving group: %v", err)
	}
	if !busy.HasData || busy.Requests <= 0 || busy.Errors5x < 0 || busy.Errors5x > busy.Requests ||
		busy.Latency <= 0 || busy.Latency > 30*time.Second {
		t.Errorf("serving group: got %+v, want data with requests, errors <= requests, a latency", busy)
	}
	fm, err := h.Cloud().Metrics.FleetMetrics(call(t), sp.Name, from, now)
	if err != nil {
		t.Fatalf("fleet metrics: %v", err)
	}
	if !fm.HasData || fm.CPU <= 0 || fm.CPU > 100 || fm.Memory <= 0 || fm.Memory > 100 {
		t.Errorf("fleet metrics: got %+v, want data with CPU and memory in (0, 100]", fm)
	}
}

func testUnknown(t *testing.T, h Harness) {
	target := h.Seed(t, stack)
	tests := []struct {
		name string
		call func() error
	}{
		{"listener", func() error {
			_, err := h.Cloud().Traffic.ReadListeners(call(t), []reconciler.ListenerRef{{Listener: target.Listener + "0"}})
			return err
		}},
		{"target group", func() error {
			_, err := h.Cloud().Traffic.TargetGroups(call(t), []string{target.TargetGroups[0] + "0"})
			return err
		}},
		{"fleet", func() error {
			return h.Cloud().Fleets.ScaleFleet(call(t), "amigo-dev-web-nothing", desired.Capacity{Desired: 1, Max: 1})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil {
				t.Errorf("got no error, want one")
			}
		})
	}
}

// testRuleConditions: a stack routed by a listener rule (target.rule) reads
// that rule's conditions back, so amigo's own rules can repeat them.
func testRuleConditions(t *testing.T, h Harness) {
	target := h.Seed(t, stack)
	green := target.TargetGroups[1]
	path := reconciler.Condition{Field: reconciler.FieldPathPattern, Values: []string{"/api/*"}}
	base := rule(40, desired.RouteWeighted, green, path)
	arn, err := h.Cloud().Traffic.CreateRule(call(t), target.Listener, base)
	if err != nil {
		t.Fatalf("create rule: %v", err)
	}
	l := readListener(t, h, reconciler.ListenerRef{Listener: target.Listener, Rule: arn})
	if diff := cmp.Diff([]reconciler.Condition{path}, l.Conditions, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("conditions of the stack's rule (-want +got):\n%s", diff)
	}
	if l.Priority != 40 {
		t.Errorf("priority of the stack's rule: got %d, want 40", l.Priority)
	}
	if w := l.Forward.Weight(green); w == 0 {
		t.Errorf("forward of the stack's rule: green weight 0, want the rule's forward (%s)", l.Forward)
	}
	if l := readListener(t, h, reconciler.ListenerRef{Listener: target.Listener}); len(l.Conditions) != 0 {
		t.Errorf("default action read with conditions %v, want none", l.Conditions)
	}
}
