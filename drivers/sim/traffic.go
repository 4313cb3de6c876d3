package sim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// ALB limits the simulator enforces like the real API.
const (
	maxWeight     = 999
	maxPriority   = 50000
	maxStickiness = 7 * 24 * time.Hour
)

func (s *state) listener(arn string) (*listener, error) {
	l := s.Listeners[arn]
	if l == nil {
		return nil, fmt.Errorf("ListenerNotFound: listener %q not found", arn)
	}
	return l, nil
}

// action is the forward action of the listener's default action, or of
// rule when it is set.
func (s *state) action(listenerARN, ruleARN string) (*forward, error) {
	l, err := s.listener(listenerARN)
	if err != nil {
		return nil, err
	}
	if ruleARN == "" {
		return &l.Forward, nil
	}
	r := s.Rules[ruleARN]
	if r == nil || r.Listener != listenerARN {
		return nil, fmt.Errorf("RuleNotFound: rule %q not found on listener %q", ruleARN, listenerARN)
	}
	return &r.Forward, nil
}

// ReadListeners returns, for each ref in order, the forward action and
// the listener's amigo-owned rules, in one call.
func (c *Cloud) ReadListeners(ctx context.Context, refs []reconciler.ListenerRef) ([]reconciler.Listener, error) {
	var out []reconciler.Listener
	err := c.api(ctx, "ReadListeners", false, func(s *state, _ time.Time) error {
		for _, ref := range refs {
			fw, err := s.action(ref.Listener, ref.Rule)
			if err != nil {
				return err
			}
			l := reconciler.Listener{Ref: ref, Forward: fw.view(), Rules: s.amigoRules(ref.Listener)}
			if ref.Rule != "" {
				l.Conditions = cloneConditions(s.Rules[ref.Rule].Conditions)
				l.Priority = s.Rules[ref.Rule].Priority
			}
			out = append(out, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (fw forward) view() reconciler.Forward {
	return reconciler.Forward{
		Weights:    append([]reconciler.Weight(nil), fw.Weights...),
		Stickiness: fw.Stickiness,
	}
}

// amigoRules are the tagged rules of a listener, by priority.
func (s *state) amigoRules(listenerARN string) []reconciler.Rule {
	var out []reconciler.Rule
	for _, arn := range slices.Sorted(maps.Keys(s.Rules)) {
		r := s.Rules[arn]
		if r.Listener != listenerARN || !r.amigo() {
			continue
		}
		stack, _ := desired.ParseStackID(r.Tags[reconciler.TagStack])
		tg := ""
		if len(r.Forward.Weights) > 0 {
			tg = r.Forward.Weights[0].TargetGroup
		}
		out = append(out, reconciler.Rule{
			ARN: r.ARN, Priority: r.Priority, Stack: stack,
			Route:      desired.Route(r.Tags[reconciler.TagRoute]),
			Conditions: cloneConditions(r.Conditions), TargetGroup: tg,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Priority < out[j].Priority })
	return out
}

func cloneConditions(cs []reconciler.Condition) []reconciler.Condition {
	var out []reconciler.Condition
	for _, c := range cs {
		c.Values = append([]string(nil), c.Values...)
		out = append(out, c)
	}
	return out
}

// SetForward replaces the weights and stickiness of a forward action.
func (c *Cloud) SetForward(ctx context.Context, listenerARN, ruleARN string, f reconciler.Forward) error {
	return c.api(ctx, "SetForward", true, func(s *state, _ time.Time) error {
		fw, err := s.action(listenerARN, ruleARN)
		if err != nil {
			return fmt.Errorf("set forward: %w", err)
		}
		if err := s.checkForward(f); err != nil {
			return fmt.Errorf("set forward on %s: %w", listenerARN, err)
		}
		*fw = forward{Weights: append([]reconciler.Weight(nil), f.Weights...), Stickiness: f.Stickiness}
		return nil
	})
}

func (s *state) checkForward(f reconciler.Forward) error {
	if len(f.Weights) == 0 || len(f.Weights) > 5 {
		return fmt.Errorf("ValidationError: %d target groups, want 1 to 5", len(f.Weights))
	}
	seen := map[string]bool{}
	for _, w := range f.Weights {
		if s.TargetGroups[w.TargetGroup] == nil {
			return fmt.Errorf("TargetGroupNotFound: target group %q not found", w.TargetGroup)
		}
		if w.Weight < 0 || w.Weight > maxWeight || seen[w.TargetGroup] {
			return fmt.Errorf("ValidationError: weight %d for target group %q", w.Weight, w.TargetGroup)
		}
		seen[w.TargetGroup] = true
	}
	if f.Stickiness < 0 || f.Stickiness > maxStickiness || f.Stickiness%time.Second != 0 {
		return fmt.Errorf("ValidationError: stickiness %s: want whole seconds up to 7 days", f.Stickiness)
	}
	return nil
}

// SetWeights changes a listener's default weights outside amigo, as
// someone editing the console would; stickiness stays. It is not counted
// as an API call and is not throttled.
func (c *Cloud) SetWeights(listenerARN string, weights []reconciler.Weight) error {
	return c.update(func(s *state) error {
		l, err := s.listener(listenerARN)
		if err != nil {
			return fmt.Errorf("set weights: %w", err)
		}
		f := reconciler.Forward{Weights: weights, Stickiness: l.Forward.Stickiness}
		if err := s.checkForward(f); err != nil {
			return fmt.Errorf("set weights on %s: %w", listenerARN, err)
		}
		l.Forward.Weights = append([]reconciler.Weight(nil), weights...)
		return nil
	})
}

// CreateRule adds an amigo-owned rule forwarding to one target group.
func (c *Cloud) CreateRule(ctx context.Context, listenerARN string, r reconciler.Rule) (string, error) {
	var arn string
	err := c.api(ctx, "CreateRule", true, func(s *state, _ time.Time) error {
		if err := s.checkRule(listenerARN, r); err != nil {
			return fmt.Errorf("create rule on %s: %w", listenerARN, err)
		}
		arn = ruleARN(listenerARN, s.id("rule", 16))
		s.Rules[arn] = &rule{
			ARN: arn, Listener: listenerARN, Priority: r.Priority,
			Conditions: cloneConditions(r.Conditions),
			Forward:    forward{Weights: []reconciler.Weight{{TargetGroup: r.TargetGroup, Weight: 1}}},
			Tags:       map[string]string{reconciler.TagStack: r.Stack.String(), reconciler.TagRoute: string(r.Route)},
		}
		return nil
	})
	return arn, err
}

func (s *state) checkRule(listenerARN string, r reconciler.Rule) error {
	if _, err := s.listener(listenerARN); err != nil {
		return err
	}
	if r.Priority < 1 || r.Priority > maxPriority {
		return fmt.Errorf("ValidationError: priority %d: want 1 to %d", r.Priority, maxPriority)
	}
	for _, x := range s.Rules {
		if x.Listener == listenerARN && x.Priority == r.Priority {
			return fmt.Errorf("PriorityInUse: priority %d is currently in use", r.Priority)
		}
	}
	if s.TargetGroups[r.TargetGroup] == nil {
		return fmt.Errorf("TargetGroupNotFound: target group %q not found", r.TargetGroup)
	}
	if len(r.Conditions) == 0 {
		return fmt.Errorf("ValidationError: a rule needs at least one condition")
	}
	for _, c := range r.Conditions {
		if len(c.Values) == 0 || (c.Field == reconciler.FieldHTTPHeader && c.Header == "") {
			return fmt.Errorf("ValidationError: condition %s has no values or header name", c.Field)
		}
	}
	return nil
}

// ruleARN derives a rule ARN the way ELB does: the listener's ARN with
// listener-rule in place of listener and one more id.
func ruleARN(listenerARN, id string) string {
	if strings.Contains(listenerARN, ":listener/") {
		return strings.Replace(listenerARN, ":listener/", ":listener-rule/", 1) + "/" + id
	}
	return listenerARN + "/rule/" + id
}

// DeleteRule deletes a listener rule.
func (c *Cloud) DeleteRule(ctx context.Context, arn string) error {
	return c.api(ctx, "DeleteRule", true, func(s *state, _ time.Time) error {
		if s.Rules[arn] == nil {
			return fmt.Errorf("delete rule: RuleNotFound: rule %q not found", arn)
		}
		delete(s.Rules, arn)
		return nil
	})
}

// TargetGroups returns the health of the given target groups, in order.
func (c *Cloud) TargetGroups(ctx context.Context, arns []string) ([]reconciler.TargetGroup, error) {
	var out []reconciler.TargetGroup
	err := c.api(ctx, "TargetGroups", false, func(s *state, now time.Time) error {
		for _, arn := range arns {
			tg := s.TargetGroups[arn]
			if tg == nil {
				return fmt.Errorf("TargetGroupNotFound: target group %q not found", arn)
			}
			out = append(out, s.targetGroupView(tg, now))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *state) targetGroupView(tg *targetGroup, now time.Time) reconciler.TargetGroup {
	out := reconciler.TargetGroup{ARN: tg.ARN, DeregistrationDelay: tg.DeregDelay}
	for _, name := range slices.Sorted(maps.Keys(s.Fleets)) {
		f := s.Fleets[name]
		if f.TargetGroup != tg.ARN {
			continue
		}
		for _, in := range f.Instances {
			if st, ok := s.targetState(f, in, now); ok {
				out.Targets = append(out.Targets, reconciler.TargetHealth{ID: in.ID, State: st})
			}
		}
	}
	for _, d := range tg.Draining {
		out.Targets = append(out.Targets, reconciler.TargetHealth{ID: d.ID, State: reconciler.TargetDraining})
	}
	sort.Slice(out.Targets, func(i, j int) bool { return out.Targets[i].ID < out.Targets[j].ID })
	return out
}
