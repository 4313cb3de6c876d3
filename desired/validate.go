package desired

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// Limits the ALB puts on what a stack asks of it.
const (
	maxRulePriority = 50000
	maxStickiness   = 7 * 24 * time.Hour
)

// validateStack checks one stack on its own, after defaults are applied.
func validateStack(d *decoder, r *rawStack) {
	s := &r.s
	checkVersion(d, s.Version)
	if DefaultSteps(s.Strategy) == nil {
		d.failAt("strategy", "want bluegreen, rolling, canary or hybrid-canary, got %q", s.Strategy)
	}
	if s.Traffic < 0 || s.Traffic > 100 {
		d.failAt("traffic", "want 0..100, got %d", s.Traffic)
	}
	if s.OnFailure != OnFailureAbort && s.OnFailure != OnFailureRevert {
		d.failAt("onFailure", "want abort or revert, got %q", s.OnFailure)
	}
	checkCapacity(d, s.Capacity)
	checkAnalysis(d, s.Analysis)
	checkSteps(d, s, r.stepsGiven)
	checkRouting(d, s)
	checkTarget(d, s.Target)
}

func checkVersion(d *decoder, v string) {
	if v == "" {
		d.failAt("version", "required: the application AMI version, e.g. v1.6")
		return
	}
	if _, err := parseVersion(v); err != nil {
		d.failAt("version", "%v", err)
	}
}

func checkCapacity(d *decoder, c Capacity) {
	for _, f := range []struct {
		name string
		v    int
	}{{"desired", c.Desired}, {"min", c.Min}, {"max", c.Max}} {
		if f.v < 0 {
			d.failAt("capacity."+f.name, "must not be negative, got %d", f.v)
			return
		}
	}
	switch {
	case c.Min > c.Desired:
		d.failAt("capacity.min", "min %d is above desired %d", c.Min, c.Desired)
	case c.Desired > c.Max:
		d.failAt("capacity.max", "max %d is below desired %d", c.Max, c.Desired)
	case c.Desired > 0 && c.Min < 1:
		d.failAt("capacity.min", "want at least 1 while desired is %d", c.Desired)
	}
}

func checkAnalysis(d *decoder, a Analysis) {
	checkPercent(d, "analysis.errorRate", a.ErrorRate*100)
	if a.Latency <= 0 {
		d.failAt("analysis.latency", "must be positive, got %v", a.Latency)
	}
	checkPercent(d, "analysis.cpu", a.CPU)
	checkPercent(d, "analysis.memory", a.Memory)
}

func checkPercent(d *decoder, field string, points float64) {
	if points <= 0 || points > 100 {
		d.failAt(field, "want more than 0%% and at most 100%%, got %g%%", points)
	}
}

func checkSteps(d *decoder, s *Stack, given bool) {
	if len(s.Steps) == 0 {
		if given {
			d.failAt("steps", "must not be empty; leave steps out for the strategy's defaults")
		}
		return
	}
	for i, st := range s.Steps {
		prev := 0
		if i > 0 {
			prev = s.Steps[i-1].Traffic
		}
		checkStep(d, s.Strategy, fmt.Sprintf("steps[%d]", i), st, prev, given)
	}
	last := len(s.Steps) - 1
	// out-of-range traffic is already reported by checkStep
	if t := s.Steps[last].Traffic; t >= 1 && t < 100 {
		d.failAt(fmt.Sprintf("steps[%d].traffic", last), "the last step must be 100, got %d", t)
	}
}

func checkStep(d *decoder, strategy Strategy, f string, st Step, prev int, given bool) {
	tf := f + ".traffic"
	switch {
	case given && !d.lines.has(tf):
		d.failAt(tf, "required: the step's share, 1..100")
	case st.Traffic < 1 || st.Traffic > 100:
		d.failAt(tf, "want 1..100, got %d", st.Traffic)
	case st.Traffic <= prev:
		d.failAt(tf, "steps must rise: %d after %d", st.Traffic, prev)
	}
	if st.Route != RouteWeighted && strategy != HybridCanary {
		d.failAt(f+".route", "only hybrid-canary steps route by header or source, not %s", strategy)
	}
	if st.Pause < 0 {
		d.failAt(f+".pause", "must not be negative, got %v", st.Pause)
	}
}

func checkRouting(d *decoder, s *Stack) {
	rt := s.Routing
	checkMatch(d, "routing.internal", rt.Internal)
	checkMatch(d, "routing.pilot", rt.Pilot)
	if rt.Stickiness < 0 || rt.Stickiness > maxStickiness {
		d.failAt("routing.stickiness", "want 0 to 7d, got %v", rt.Stickiness)
	}
	if hi := maxRulePriority - PriorityRange + 1; rt.Priority < 1 || rt.Priority > hi {
		d.failAt("routing.priority", "want 1..%d (a stack uses %d priorities from here), got %d", hi, PriorityRange, rt.Priority)
	}
	if s.Strategy != HybridCanary {
		return
	}
	if rt.Internal.Empty() {
		d.failAt("routing.internal", "hybrid-canary needs headers, cookies or sourceCIDRs that select internal users")
	}
	if rt.Pilot.Empty() && hasRoute(s.Steps, RoutePilot) {
		d.failAt("routing.pilot", "a pilot step needs headers, cookies or sourceCIDRs that select pilot users")
	}
}

func hasRoute(steps []Step, r Route) bool {
	for _, st := range steps {
		if st.Route == r {
			return true
		}
	}
	return false
}

func checkMatch(d *decoder, field string, m Match) {
	checkPairs(d, field+".headers", m.Headers)
	checkPairs(d, field+".cookies", m.Cookies)
	for i, c := range m.SourceCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			d.failAt(fmt.Sprintf("%s.sourceCIDRs[%d]", field, i), "want a CIDR such as 10.0.0.0/16, got %q", c)
		}
	}
}

// checkPairs checks header or cookie conditions; names must be HTTP tokens
// for the ALB to match them.
func checkPairs(d *decoder, field string, m map[string]string) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		switch {
		case !isHTTPToken(n):
			d.failAt(field+"."+n, "%q is not a valid name", n)
		case m[n] == "":
			d.failAt(field+"."+n, "want a value to match")
		}
	}
}

func isHTTPToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(s[i])) {
			return false
		}
	}
	return true
}

func checkTarget(d *decoder, t Target) {
	// The simulator names listeners with short ids, so any identifier will
	// do: an ARN is not required.
	checkID(d, "target.listener", t.Listener, true)
	checkID(d, "target.rule", t.Rule, false)
	checkID(d, "target.launchTemplate", t.LaunchTemplate, true)
	if len(t.TargetGroups) != 2 {
		d.failAt("target.targetGroups", "want exactly two target groups (blue, green), got %d", len(t.TargetGroups))
	}
	checkIDs(d, "target.targetGroups", t.TargetGroups)
	if len(t.Subnets) == 0 {
		d.failAt("target.subnets", "want at least one subnet, one per availability zone")
	}
	checkIDs(d, "target.subnets", t.Subnets)
}

func checkID(d *decoder, field, v string, required bool) {
	switch {
	case v == "" && required:
		d.failAt(field, "required")
	case v != "" && !isToken(v):
		d.failAt(field, "%q: want an identifier without spaces", v)
	}
}

// checkIDs wants distinct identifiers.
func checkIDs(d *decoder, field string, ids []string) {
	seen := map[string]bool{}
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !isToken(id):
			d.failAt(f, "%q: want an identifier without spaces", id)
		case seen[id]:
			d.failAt(f, "%q is listed twice", id)
		}
		seen[id] = true
	}
}
