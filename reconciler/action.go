package reconciler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/amigo-gitops/amigo/desired"
)

// ActionKind is one kind of write to the cloud or the repository.
type ActionKind string

const (
	ActSetForward   ActionKind = "set-forward"
	ActCreateRule   ActionKind = "create-rule"
	ActDeleteRule   ActionKind = "delete-rule"
	ActCreateFleet  ActionKind = "create-fleet"
	ActScaleFleet   ActionKind = "scale-fleet"
	ActRefreshFleet ActionKind = "refresh-fleet"
	ActDeleteFleet  ActionKind = "delete-fleet"
	ActRevert       ActionKind = "revert-commit"
)

// Action is one write the planner wants. Only the fields of its Kind are set.
type Action struct {
	Kind   ActionKind      `json:"kind"`
	Stack  desired.StackID `json:"-"`
	Reason string          `json:"reason,omitempty"`
	// Urgent actions take traffic off a new fleet (abort, rollback, a lower
	// ceiling); a pass applies them for every stack before anything else.
	Urgent bool `json:"urgent,omitempty"`

	Listener ListenerRef `json:"listener,omitempty"`
	Forward  Forward     `json:"forward,omitempty"`
	Rule     Rule        `json:"rule,omitempty"`

	Fleet    string           `json:"fleet,omitempty"`
	Spec     FleetSpec        `json:"spec,omitempty"`
	Capacity desired.Capacity `json:"capacity,omitempty"`
	Refresh  Refresh          `json:"refresh,omitempty"`

	Commit string `json:"commit,omitempty"` // ActRevert: revision to search from
	Path   string `json:"path,omitempty"`   // ActRevert: the stack file
}

// Write reports whether the action changes the cloud (not the repository).
func (a Action) Write() bool { return a.Kind != ActRevert }

func (a Action) String() string {
	var s string
	switch a.Kind {
	case ActSetForward:
		s = fmt.Sprintf("set forward %s", a.Forward)
	case ActCreateRule:
		s = fmt.Sprintf("create rule %s", a.Rule)
	case ActDeleteRule:
		s = fmt.Sprintf("delete rule %s", a.Rule)
	case ActCreateFleet:
		s = fmt.Sprintf("create fleet %s (%s %s, %d instances, slot %s)",
			a.Spec.Name, a.Spec.Version, a.Spec.AMI, a.Spec.Capacity.Desired, a.Spec.Slot)
	case ActScaleFleet:
		s = fmt.Sprintf("scale fleet %s to %d (min %d, max %d)",
			a.Fleet, a.Capacity.Desired, a.Capacity.Min, a.Capacity.Max)
	case ActRefreshFleet:
		s = fmt.Sprintf("refresh fleet %s to %s %s until %d%%",
			a.Fleet, a.Refresh.Version, a.Refresh.AMI, a.Refresh.Percent)
	case ActDeleteFleet:
		s = fmt.Sprintf("delete fleet %s", a.Fleet)
	case ActRevert:
		s = fmt.Sprintf("revert the commit that changed %s", a.Path)
	default:
		s = string(a.Kind)
	}
	if a.Reason != "" {
		s += ": " + a.Reason
	}
	return s
}

func (f Forward) String() string {
	parts := make([]string, 0, len(f.Weights))
	for _, w := range f.Weights {
		parts = append(parts, fmt.Sprintf("%s=%d", shortARN(w.TargetGroup), w.Weight))
	}
	s := strings.Join(parts, " ")
	if f.Stickiness > 0 {
		s += fmt.Sprintf(" sticky %s", f.Stickiness)
	}
	return s
}

func (r Rule) String() string {
	conds := make([]string, 0, len(r.Conditions))
	for _, c := range r.Conditions {
		conds = append(conds, c.String())
	}
	return fmt.Sprintf("p%d %s [%s] -> %s", r.Priority, r.Route, strings.Join(conds, " "), shortARN(r.TargetGroup))
}

func (c Condition) String() string {
	if c.Field == FieldHTTPHeader {
		return fmt.Sprintf("%s:%s", c.Header, strings.Join(c.Values, ","))
	}
	return fmt.Sprintf("%s:%s", c.Field, strings.Join(c.Values, ","))
}

// shortARN keeps the readable tail of an ARN: targetgroup/prd-web-blue/...
// becomes prd-web-blue.
func shortARN(arn string) string {
	parts := strings.Split(arn, "/")
	if len(parts) >= 3 && strings.HasPrefix(parts[0], "arn:") {
		return parts[len(parts)-2]
	}
	return arn
}

// sameForward compares the parts of a forward action amigo owns: the weights
// of the stack's target groups and stickiness. Other groups count as drift
// when weighted.
func sameForward(got, want Forward) bool {
	if got.Stickiness != want.Stickiness {
		return false
	}
	weights := func(f Forward) map[string]int {
		m := map[string]int{}
		for _, w := range f.Weights {
			if w.Weight != 0 {
				m[w.TargetGroup] = w.Weight
			}
		}
		return m
	}
	g, w := weights(got), weights(want)
	if len(g) != len(w) {
		return false
	}
	for k, v := range w {
		if g[k] != v {
			return false
		}
	}
	return true
}

// ruleKey identifies a rule by what it does, not by its ARN.
func ruleKey(r Rule) string {
	conds := make([]string, 0, len(r.Conditions))
	for _, c := range r.Conditions {
		vals := append([]string(nil), c.Values...)
		sort.Strings(vals)
		conds = append(conds, string(c.Field)+"|"+c.Header+"|"+strings.Join(vals, ","))
	}
	sort.Strings(conds)
	return fmt.Sprintf("%d|%s|%s|%s", r.Priority, r.Route, r.TargetGroup, strings.Join(conds, ";"))
}
