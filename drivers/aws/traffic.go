package aws

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// describeTagsBatch is DescribeTags' limit of resource ARNs per call.
const describeTagsBatch = 20

// describeListenersBatch is how many listener ARNs one DescribeListeners
// asks for: its largest page, so a batch comes back in one page.
const describeListenersBatch = 400

// ReadListeners reads refs in two groups. A ref on a listener's default
// action that does not ask for rules needs only the default actions:
// DescribeListeners reads those of up to 400 listeners a call. Every other
// ref reads its listener's rules once (the default rule carries the
// default actions) and the tags of the rules in batches of 20, so n such
// listeners cost n DescribeRules calls plus one DescribeTags per 20 rules.
// A listener read for its rules anyway serves every ref on it.
func (d *Driver) ReadListeners(ctx context.Context, refs []reconciler.ListenerRef) ([]reconciler.Listener, error) {
	rules, owned, err := d.readRules(ctx, refs)
	if err != nil {
		return nil, err
	}
	var light []string
	for _, ref := range refs {
		if _, ok := rules[ref.Listener]; !ok {
			light = append(light, ref.Listener)
		}
	}
	defaults, err := d.defaultActions(ctx, light)
	if err != nil {
		return nil, fmt.Errorf("read listeners: %w", err)
	}
	out := make([]reconciler.Listener, 0, len(refs))
	for _, ref := range refs {
		if rs, ok := rules[ref.Listener]; ok {
			l, err := listenerOf(ref, rs, owned)
			if err != nil {
				return nil, err
			}
			out = append(out, l)
			continue
		}
		actions, ok := defaults[ref.Listener]
		if !ok {
			return nil, fmt.Errorf("read listener %s: not found", ref.Listener)
		}
		out = append(out, reconciler.Listener{Ref: ref, Forward: forwardOf(actions)})
	}
	return out, nil
}

// needsRules reports whether a ref must be read through its listener's
// rules: it names a rule, or asks for the amigo-owned ones.
func needsRules(ref reconciler.ListenerRef) bool {
	return ref.Rule != "" || ref.Rules
}

// readRules reads, once per distinct listener, the rules of the listeners
// some ref needs rules of, and the amigo-owned ones among them.
func (d *Driver) readRules(ctx context.Context, refs []reconciler.ListenerRef) (map[string][]elbtypes.Rule, map[string]reconciler.Rule, error) {
	rules := map[string][]elbtypes.Rule{}
	var all []elbtypes.Rule
	for _, ref := range refs {
		if _, ok := rules[ref.Listener]; ok || !needsRules(ref) {
			continue
		}
		rs, err := d.listenerRules(ctx, ref.Listener)
		if err != nil {
			return nil, nil, fmt.Errorf("read listener %s: %w", ref.Listener, err)
		}
		rules[ref.Listener] = rs
		all = append(all, rs...)
	}
	owned, err := d.ownedRules(ctx, all)
	if err != nil {
		return nil, nil, fmt.Errorf("read listeners: %w", err)
	}
	return rules, owned, nil
}

// defaultActions reads the default actions of the listeners, each once,
// describeListenersBatch ARNs a call.
func (d *Driver) defaultActions(ctx context.Context, listeners []string) (map[string][]elbtypes.Action, error) {
	out := map[string][]elbtypes.Action{}
	var arns []string
	seen := map[string]bool{}
	for _, l := range listeners {
		if !seen[l] {
			seen[l] = true
			arns = append(arns, l)
		}
	}
	for start := 0; start < len(arns); start += describeListenersBatch {
		batch := arns[start:min(start+describeListenersBatch, len(arns))]
		p := elb.NewDescribeListenersPaginator(d.elb, &elb.DescribeListenersInput{ListenerArns: batch, PageSize: awssdk.Int32(describeListenersBatch)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe listeners: %w", err)
			}
			for _, l := range page.Listeners {
				out[awssdk.ToString(l.ListenerArn)] = l.DefaultActions
			}
		}
	}
	return out, nil
}

func listenerOf(ref reconciler.ListenerRef, rules []elbtypes.Rule, owned map[string]reconciler.Rule) (reconciler.Listener, error) {
	l := reconciler.Listener{Ref: ref}
	found := false
	for _, r := range rules {
		arn := awssdk.ToString(r.RuleArn)
		if (ref.Rule == "" && awssdk.ToBool(r.IsDefault)) || (ref.Rule != "" && arn == ref.Rule) {
			l.Forward, found = forwardOf(r.Actions), true
			if ref.Rule != "" {
				l.Priority, _ = strconv.Atoi(awssdk.ToString(r.Priority))
				for _, c := range r.Conditions {
					l.Conditions = append(l.Conditions, conditionOf(c))
				}
			}
		}
		if o, ok := owned[arn]; ok {
			l.Rules = append(l.Rules, o)
		}
	}
	if !found {
		return l, fmt.Errorf("read listener %s: rule %q not found", ref.Listener, ref.Rule)
	}
	return l, nil
}

func (d *Driver) listenerRules(ctx context.Context, listener string) ([]elbtypes.Rule, error) {
	var rules []elbtypes.Rule
	p := elb.NewDescribeRulesPaginator(d.elb, &elb.DescribeRulesInput{ListenerArn: &listener, PageSize: awssdk.Int32(400)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe rules: %w", err)
		}
		rules = append(rules, page.Rules...)
	}
	return rules, nil
}

// ownedRules keeps the rules tagged amigo:stack, reading tags in batches.
func (d *Driver) ownedRules(ctx context.Context, rules []elbtypes.Rule) (map[string]reconciler.Rule, error) {
	byARN := map[string]elbtypes.Rule{}
	var arns []string
	for _, r := range rules {
		if !awssdk.ToBool(r.IsDefault) {
			arns = append(arns, awssdk.ToString(r.RuleArn))
			byARN[awssdk.ToString(r.RuleArn)] = r
		}
	}
	out := map[string]reconciler.Rule{}
	for start := 0; start < len(arns); start += describeTagsBatch {
		batch := arns[start:min(start+describeTagsBatch, len(arns))]
		tags, err := d.elb.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: batch})
		if err != nil {
			return nil, fmt.Errorf("describe tags: %w", err)
		}
		for _, td := range tags.TagDescriptions {
			m := elbTags(td.Tags)
			stack, ok := m[reconciler.TagStack]
			if !ok {
				continue
			}
			r, err := ruleOf(byARN[awssdk.ToString(td.ResourceArn)], stack, m[reconciler.TagRoute])
			if err != nil {
				return nil, err
			}
			out[r.ARN] = r
		}
	}
	return out, nil
}

func elbTags(tags []elbtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return m
}

func ruleOf(r elbtypes.Rule, stack, route string) (reconciler.Rule, error) {
	id, err := desired.ParseStackID(stack)
	if err != nil {
		return reconciler.Rule{}, fmt.Errorf("rule %s: tag %s: %w", awssdk.ToString(r.RuleArn), reconciler.TagStack, err)
	}
	prio, err := strconv.Atoi(awssdk.ToString(r.Priority))
	if err != nil {
		return reconciler.Rule{}, fmt.Errorf("rule %s: priority %q: %w", awssdk.ToString(r.RuleArn), awssdk.ToString(r.Priority), err)
	}
	out := reconciler.Rule{ARN: awssdk.ToString(r.RuleArn), Priority: prio, Stack: id, Route: desired.Route(route)}
	for _, c := range r.Conditions {
		out.Conditions = append(out.Conditions, conditionOf(c))
	}
	for _, w := range forwardOf(r.Actions).Weights {
		if out.TargetGroup == "" || w.Weight > 0 {
			out.TargetGroup = w.TargetGroup
		}
	}
	return out, nil
}

func conditionOf(c elbtypes.RuleCondition) reconciler.Condition {
	out := reconciler.Condition{Field: reconciler.ConditionField(awssdk.ToString(c.Field)), Values: c.Values}
	switch {
	case c.HttpHeaderConfig != nil:
		out.Header, out.Values = awssdk.ToString(c.HttpHeaderConfig.HttpHeaderName), c.HttpHeaderConfig.Values
	case c.SourceIpConfig != nil:
		out.Values = c.SourceIpConfig.Values
	case c.PathPatternConfig != nil:
		out.Values = c.PathPatternConfig.Values
	case c.HostHeaderConfig != nil:
		out.Values = c.HostHeaderConfig.Values
	}
	return out
}

func conditionInput(c reconciler.Condition) (elbtypes.RuleCondition, error) {
	out := elbtypes.RuleCondition{Field: awssdk.String(string(c.Field))}
	switch c.Field {
	case reconciler.FieldHTTPHeader:
		out.HttpHeaderConfig = &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: awssdk.String(c.Header), Values: c.Values}
	case reconciler.FieldSourceIP:
		out.SourceIpConfig = &elbtypes.SourceIpConditionConfig{Values: c.Values}
	case reconciler.FieldPathPattern:
		out.PathPatternConfig = &elbtypes.PathPatternConditionConfig{Values: c.Values}
	case reconciler.FieldHostHeader:
		out.HostHeaderConfig = &elbtypes.HostHeaderConditionConfig{Values: c.Values}
	default:
		return out, fmt.Errorf("condition field %q is not supported", c.Field)
	}
	return out, nil
}

// forwardOf reads the forward action. Weights are percentages: ELB's
// relative weights are scaled to sum to 100 when they do not already (a
// plain TargetGroupArn forward is 100% to that group).
func forwardOf(actions []elbtypes.Action) reconciler.Forward {
	var f reconciler.Forward
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if a.ForwardConfig == nil || len(a.ForwardConfig.TargetGroups) == 0 {
			return reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: awssdk.ToString(a.TargetGroupArn), Weight: 100}}}
		}
		sum := 0
		for _, t := range a.ForwardConfig.TargetGroups {
			w := int(awssdk.ToInt32(t.Weight))
			sum += w
			f.Weights = append(f.Weights, reconciler.Weight{TargetGroup: awssdk.ToString(t.TargetGroupArn), Weight: w})
		}
		if sum > 0 && sum != 100 {
			for i := range f.Weights {
				f.Weights[i].Weight = f.Weights[i].Weight * 100 / sum
			}
		}
		if s := a.ForwardConfig.TargetGroupStickinessConfig; s != nil && awssdk.ToBool(s.Enabled) {
			f.Stickiness = time.Duration(awssdk.ToInt32(s.DurationSeconds)) * time.Second
		}
	}
	return f
}

// withForward returns actions with the forward action's target groups and
// stickiness replaced; every other action and field is kept.
func withForward(actions []elbtypes.Action, f reconciler.Forward) ([]elbtypes.Action, error) {
	out := make([]elbtypes.Action, len(actions))
	copy(out, actions)
	found := false
	for i, a := range out {
		if a.AuthenticateOidcConfig != nil && a.AuthenticateOidcConfig.ClientSecret == nil {
			// Describe never returns the secret; keep the stored one.
			oidc := *a.AuthenticateOidcConfig
			oidc.UseExistingClientSecret = awssdk.Bool(true)
			out[i].AuthenticateOidcConfig = &oidc
		}
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		found = true
		fc := elbtypes.ForwardActionConfig{}
		if a.ForwardConfig != nil {
			fc = *a.ForwardConfig
		}
		fc.TargetGroups = nil
		for _, w := range f.Weights {
			fc.TargetGroups = append(fc.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: awssdk.String(w.TargetGroup), Weight: awssdk.Int32(int32(w.Weight))})
		}
		fc.TargetGroupStickinessConfig = &elbtypes.TargetGroupStickinessConfig{Enabled: awssdk.Bool(f.Stickiness > 0)}
		if f.Stickiness > 0 {
			fc.TargetGroupStickinessConfig.DurationSeconds = awssdk.Int32(int32(f.Stickiness / time.Second))
		}
		out[i].ForwardConfig, out[i].TargetGroupArn = &fc, nil
	}
	if !found {
		return nil, errors.New("no forward action")
	}
	return out, nil
}

// SetForward writes the weights and stickiness, then reads them back.
func (d *Driver) SetForward(ctx context.Context, listener, rule string, f reconciler.Forward) error {
	if rule != "" {
		return d.setRuleForward(ctx, rule, f)
	}
	read := func() ([]elbtypes.Action, error) {
		out, err := d.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{listener}})
		if err != nil {
			return nil, err
		}
		if len(out.Listeners) != 1 {
			return nil, fmt.Errorf("listener not found")
		}
		return out.Listeners[0].DefaultActions, nil
	}
	write := func(actions []elbtypes.Action) error {
		_, err := d.elb.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: &listener, DefaultActions: actions})
		return err
	}
	if err := writeForward(read, write, f); err != nil {
		return fmt.Errorf("set forward on listener %s: %w", listener, err)
	}
	return nil
}

func (d *Driver) setRuleForward(ctx context.Context, rule string, f reconciler.Forward) error {
	read := func() ([]elbtypes.Action, error) {
		out, err := d.elb.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{rule}})
		if err != nil {
			return nil, err
		}
		if len(out.Rules) != 1 {
			return nil, fmt.Errorf("rule not found")
		}
		return out.Rules[0].Actions, nil
	}
	write := func(actions []elbtypes.Action) error {
		_, err := d.elb.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: &rule, Actions: actions})
		return err
	}
	if err := writeForward(read, write, f); err != nil {
		return fmt.Errorf("set forward on rule %s: %w", rule, err)
	}
	return nil
}

func writeForward(read func() ([]elbtypes.Action, error), write func([]elbtypes.Action) error, f reconciler.Forward) error {
	actions, err := read()
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	next, err := withForward(actions, f)
	if err != nil {
		return err
	}
	if err := write(next); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	back, err := read()
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if diff := cmp.Diff(f, forwardOf(back), cmpopts.EquateEmpty()); diff != "" {
		return fmt.Errorf("read back differs from what was written (-want +got):\n%s", diff)
	}
	return nil
}

// CreateRule creates an amigo-owned rule tagged with its stack and route.
// A rule already at that priority with the same owner, route and target
// is taken as the result of an earlier attempt.
func (d *Driver) CreateRule(ctx context.Context, listener string, r reconciler.Rule) (string, error) {
	in := &elb.CreateRuleInput{
		ListenerArn: &listener,
		Priority:    awssdk.Int32(int32(r.Priority)),
		Actions:     []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: awssdk.String(r.TargetGroup)}},
		Tags: []elbtypes.Tag{
			{Key: awssdk.String(reconciler.TagStack), Value: awssdk.String(r.Stack.String())},
			{Key: awssdk.String(reconciler.TagRoute), Value: awssdk.String(string(r.Route))},
		},
	}
	for _, c := range r.Conditions {
		ci, err := conditionInput(c)
		if err != nil {
			return "", fmt.Errorf("create rule on %s: %w", listener, err)
		}
		in.Conditions = append(in.Conditions, ci)
	}
	out, err := d.elb.CreateRule(ctx, in)
	var pe *elbtypes.PriorityInUseException
	if errors.As(err, &pe) {
		return d.existingRule(ctx, listener, r)
	}
	if err != nil {
		return "", fmt.Errorf("create rule on %s: %w", listener, err)
	}
	if len(out.Rules) != 1 {
		return "", fmt.Errorf("create rule on %s: answer has %d rules", listener, len(out.Rules))
	}
	arn := awssdk.ToString(out.Rules[0].RuleArn)
	if err := d.checkRule(ctx, arn, r); err != nil {
		return "", fmt.Errorf("create rule on %s: %w", listener, err)
	}
	return arn, nil
}

func (d *Driver) checkRule(ctx context.Context, arn string, want reconciler.Rule) error {
	back, err := d.elb.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{arn}})
	if err != nil {
		return fmt.Errorf("read back rule %s: %w", arn, err)
	}
	if len(back.Rules) != 1 {
		return fmt.Errorf("read back rule %s: not found", arn)
	}
	got, err := ruleOf(back.Rules[0], want.Stack.String(), string(want.Route))
	if err != nil {
		return err
	}
	want.ARN = arn
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		return fmt.Errorf("read back rule %s differs (-want +got):\n%s", arn, diff)
	}
	return nil
}

func (d *Driver) existingRule(ctx context.Context, listener string, r reconciler.Rule) (string, error) {
	ls, err := d.ReadListeners(ctx, []reconciler.ListenerRef{{Listener: listener, Rules: true}})
	if err != nil {
		return "", fmt.Errorf("create rule on %s: priority %d in use: %w", listener, r.Priority, err)
	}
	for _, o := range ls[0].Rules {
		if o.Priority == r.Priority && o.Stack == r.Stack && o.Route == r.Route && o.TargetGroup == r.TargetGroup {
			return o.ARN, nil
		}
	}
	return "", fmt.Errorf("create rule on %s: priority %d is used by a rule amigo does not own for %s", listener, r.Priority, r.Stack)
}

// DeleteRule deletes a rule; a rule already gone is not an error.
func (d *Driver) DeleteRule(ctx context.Context, ruleARN string) error {
	_, err := d.elb.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: &ruleARN})
	if err != nil && !isCode(err, "RuleNotFound") {
		return fmt.Errorf("delete rule %s: %w", ruleARN, err)
	}
	_, err = d.elb.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{ruleARN}})
	if err == nil {
		return fmt.Errorf("delete rule %s: read back still finds it", ruleARN)
	}
	if !isCode(err, "RuleNotFound") {
		return fmt.Errorf("delete rule %s: read back: %w", ruleARN, err)
	}
	return nil
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// TargetGroups reads target health, one call per group (the API takes one
// group), and the deregistration delay, which is cached for attrTTL since
// it changes only when someone edits the group.
func (d *Driver) TargetGroups(ctx context.Context, arns []string) ([]reconciler.TargetGroup, error) {
	out := make([]reconciler.TargetGroup, 0, len(arns))
	for _, arn := range arns {
		tg, err := d.targetGroup(ctx, arn)
		if err != nil {
			return nil, fmt.Errorf("target group %s: %w", arn, err)
		}
		out = append(out, tg)
	}
	return out, nil
}

func (d *Driver) targetGroup(ctx context.Context, arn string) (reconciler.TargetGroup, error) {
	tg := reconciler.TargetGroup{ARN: arn}
	delay, err := d.deregistrationDelay(ctx, arn)
	if err != nil {
		return tg, err
	}
	tg.DeregistrationDelay = delay
	h, err := d.elb.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: &arn})
	if err != nil {
		return tg, fmt.Errorf("describe target health: %w", err)
	}
	for _, t := range h.TargetHealthDescriptions {
		th := reconciler.TargetHealth{State: reconciler.TargetUnhealthy}
		if t.Target != nil {
			th.ID = awssdk.ToString(t.Target.Id)
		}
		if t.TargetHealth != nil {
			th.State = targetState(t.TargetHealth.State)
		}
		tg.Targets = append(tg.Targets, th)
	}
	return tg, nil
}

func targetState(s elbtypes.TargetHealthStateEnum) reconciler.TargetState {
	switch s {
	case elbtypes.TargetHealthStateEnumInitial:
		return reconciler.TargetInitial
	case elbtypes.TargetHealthStateEnumHealthy:
		return reconciler.TargetHealthy
	case elbtypes.TargetHealthStateEnumDraining:
		return reconciler.TargetDraining
	}
	return reconciler.TargetUnhealthy
}

func (d *Driver) deregistrationDelay(ctx context.Context, arn string) (time.Duration, error) {
	if v, ok := d.cache.delay(arn, d.clock.Now()); ok {
		return v, nil
	}
	attrs, err := d.elb.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: &arn})
	if err != nil {
		return 0, fmt.Errorf("describe target group attributes: %w", err)
	}
	delay := 300 * time.Second // the ELB default when the attribute is absent
	for _, a := range attrs.Attributes {
		if awssdk.ToString(a.Key) == "deregistration_delay.timeout_seconds" {
			n, err := strconv.Atoi(awssdk.ToString(a.Value))
			if err != nil {
				return 0, fmt.Errorf("deregistration delay %q: %w", awssdk.ToString(a.Value), err)
			}
			delay = time.Duration(n) * time.Second
		}
	}
	d.cache.setDelay(arn, delay, d.clock.Now())
	return delay, nil
}
