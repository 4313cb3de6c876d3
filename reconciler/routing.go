package reconciler

import (
	"fmt"
	"maps"
	"slices"

	"github.com/amigo-gitops/amigo/desired"
)

// The only switch on strategy that shapes traffic lives here: how a step
// maps to weights and listener rules.

// stepWeight is the weighted share of the new fleet at step k (-1: none).
func stepWeight(st desired.Stack, k int) int {
	if k < 0 || st.Strategy == desired.Rolling {
		return 0
	}
	s := st.Steps[k]
	if s.Route != desired.RouteWeighted {
		return 0
	}
	return s.Traffic
}

// stepRoutes is the set of rule routes in force at step k: a route, once
// reached, stays until the rollout completes, so internal testers keep
// seeing the new version when the pilot group joins them.
func stepRoutes(st desired.Stack, k int) (internal, pilot bool) {
	if st.Strategy != desired.HybridCanary {
		return false, false
	}
	for i := 0; i <= k && i < len(st.Steps); i++ {
		switch st.Steps[i].Route {
		case desired.RouteInternal:
			internal = true
		case desired.RoutePilot:
			internal, pilot = true, true
		}
	}
	return internal, pilot
}

// lastRouteStep is the index of the last step that uses a rule route.
func forwardFor(st desired.Stack, stableTG, candTG string, w int) Forward {
	f := Forward{Stickiness: st.Routing.Stickiness}
	for _, tg := range st.Target.TargetGroups {
		switch tg {
		case candTG:
			f.Weights = append(f.Weights, Weight{TargetGroup: tg, Weight: w})
		case stableTG:
			f.Weights = append(f.Weights, Weight{TargetGroup: tg, Weight: 100 - w})
		default:
			f.Weights = append(f.Weights, Weight{TargetGroup: tg, Weight: 0})
		}
	}
	return f
}

// rulesFor builds the amigo-owned rules of step k, forwarding matching
// requests to the new fleet's group. Each header, each cookie and the CIDR
// list of a match is its own rule, because ALB ANDs the conditions of one
// rule and the handbook means any of them.
//
// base are the conditions of the stack's own listener rule (target.rule),
// added to each of amigo's rules so they stay within that rule's requests.
func rulesFor(st desired.Stack, candTG string, k int, base []Condition) []Rule {
	internal, pilot := stepRoutes(st, k)
	var rules []Rule
	prio := st.Routing.Priority
	add := func(route desired.Route, m desired.Match) {
		for _, c := range matchConditions(m) {
			rules = append(rules, Rule{
				Priority: prio, Stack: st.ID, Route: route,
				Conditions: append([]Condition{c}, base...), TargetGroup: candTG,
			})
			prio++
		}
	}
	if internal {
		add(desired.RouteInternal, st.Routing.Internal)
	}
	if pilot {
		add(desired.RoutePilot, st.Routing.Pilot)
	}
	return rules
}

func matchConditions(m desired.Match) []Condition {
	var out []Condition
	for _, h := range slices.Sorted(maps.Keys(m.Headers)) {
		out = append(out, Condition{Field: FieldHTTPHeader, Header: h, Values: []string{m.Headers[h]}})
	}
	for _, c := range slices.Sorted(maps.Keys(m.Cookies)) {
		out = append(out, Condition{Field: FieldHTTPHeader, Header: "Cookie",
			Values: []string{fmt.Sprintf("*%s=%s*", c, m.Cookies[c])}})
	}
	if len(m.SourceCIDRs) > 0 {
		out = append(out, Condition{Field: FieldSourceIP, Values: append([]string(nil), m.SourceCIDRs...)})
	}
	return out
}

// routeTo makes the listener forward as want and carry exactly the rules
// want, writing only what differs. Moving traffic away (forward, then rule
// deletions) comes before adding rules, so a rollback is the first write.
// It returns a description of what differed, for drift reports.
func (p *stackPlanner) routeTo(want Forward, rules []Rule, reason string) []Drift {
	var diffs []Drift
	ref := ListenerRef{Listener: p.st.Target.Listener, Rule: p.st.Target.Rule}
	got := p.obs.Listener
	if !sameForward(got.Forward, want) {
		diffs = append(diffs, Drift{What: "forward", Before: got.Forward.String(), After: want.String()})
		p.add(Action{Kind: ActSetForward, Listener: ref, Forward: want, Reason: reason})
	}
	wantKeys := map[string]bool{}
	for _, r := range rules {
		wantKeys[ruleKey(r)] = true
	}
	haveKeys := map[string]bool{}
	for _, r := range got.Rules {
		if r.Stack != p.st.ID {
			continue
		}
		k := ruleKey(r)
		if wantKeys[k] && !haveKeys[k] {
			haveKeys[k] = true
			continue
		}
		diffs = append(diffs, Drift{What: "rule", Before: r.String(), After: "none"})
		p.add(Action{Kind: ActDeleteRule, Listener: ref, Rule: r, Reason: reason})
	}
	for _, r := range rules {
		if !haveKeys[ruleKey(r)] {
			diffs = append(diffs, Drift{What: "rule", Before: "none", After: r.String()})
			p.add(Action{Kind: ActCreateRule, Listener: ref, Rule: r, Reason: reason})
		}
	}
	return diffs
}

// ruleTargets reports whether any rule of the listener forwards to tg.
func ruleTargets(l Listener, tg string) bool {
	for _, r := range l.Rules {
		if r.TargetGroup == tg {
			return true
		}
	}
	return false
}

// canarySize is the canary fleet's size for a share of traffic: sized to
// its share of the stable capacity, at least one instance.
func canarySize(st desired.Stack, traffic int) int {
	n := (st.Capacity.Desired*traffic + 99) / 100
	if n < 1 {
		n = 1
	}
	return n
}

// fleetCapacity is the capacity a new fleet needs to serve step k.
func fleetCapacity(st desired.Stack, k int) desired.Capacity {
	c := st.Capacity
	if st.Strategy != desired.Canary && st.Strategy != desired.HybridCanary {
		return c
	}
	t := 1
	if k >= 0 {
		t = st.Steps[k].Traffic
	}
	n := canarySize(st, t)
	if n >= c.Desired {
		return c
	}
	return desired.Capacity{Desired: n, Min: n, Max: max(n, c.Max)}
}
