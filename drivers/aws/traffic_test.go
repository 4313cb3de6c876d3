package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/aws/awstest"
	"github.com/amigo-gitops/amigo/reconciler"
)

var prdWeb = desired.StackID{Env: "prd", Role: "web"}

func TestReadListeners(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	s := seedStack(c, "prd")
	api := c.AddRule(s.listener, 10, "/api/*", awstest.Action{Type: "forward", Forward: []awstest.Weight{{TargetGroup: s.green, Weight: 1}}})
	d := newDriver(t, c)
	rule := reconciler.Rule{Priority: 100, Stack: prdWeb, Route: desired.RouteInternal, TargetGroup: s.green,
		Conditions: []reconciler.Condition{{Field: reconciler.FieldHTTPHeader, Header: "X-Blue-Verification", Values: []string{"true"}}}}
	arn, err := d.CreateRule(ctx, s.listener, rule)
	if err != nil {
		t.Fatalf("CreateRule: %v", err)
	}
	rule.ARN = arn
	defaultFwd := reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: s.blue, Weight: 100}, {TargetGroup: s.green, Weight: 0}}}
	apiFwd := reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: s.green, Weight: 100}}}
	withRules := reconciler.ListenerRef{Listener: s.listener, Rules: true}
	forwardOnly := reconciler.ListenerRef{Listener: s.listener}
	onRule := reconciler.ListenerRef{Listener: s.listener, Rule: api}
	apiPath := []reconciler.Condition{{Field: reconciler.FieldPathPattern, Values: []string{"/api/*"}}}
	tests := []struct {
		name  string
		refs  []reconciler.ListenerRef
		want  []reconciler.Listener
		calls map[string]int // per IAM action
	}{
		{
			name: "rules asked",
			refs: []reconciler.ListenerRef{withRules, onRule},
			want: []reconciler.Listener{
				{Ref: withRules, Forward: defaultFwd, Rules: []reconciler.Rule{rule}},
				{Ref: onRule, Conditions: apiPath, Priority: 10, Forward: apiFwd, Rules: []reconciler.Rule{rule}},
			},
			calls: map[string]int{"DescribeListeners": 0, "DescribeRules": 1, "DescribeTags": 1},
		},
		{
			name:  "forward only",
			refs:  []reconciler.ListenerRef{forwardOnly, forwardOnly},
			want:  []reconciler.Listener{{Ref: forwardOnly, Forward: defaultFwd}, {Ref: forwardOnly, Forward: defaultFwd}},
			calls: map[string]int{"DescribeListeners": 1, "DescribeRules": 0, "DescribeTags": 0},
		},
		{
			name: "a listener read for its rules serves the forward-only ref",
			refs: []reconciler.ListenerRef{forwardOnly, onRule},
			want: []reconciler.Listener{
				{Ref: forwardOnly, Forward: defaultFwd, Rules: []reconciler.Rule{rule}},
				{Ref: onRule, Conditions: apiPath, Priority: 10, Forward: apiFwd, Rules: []reconciler.Rule{rule}},
			},
			calls: map[string]int{"DescribeListeners": 0, "DescribeRules": 1, "DescribeTags": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ops(d)
			got, err := d.ReadListeners(ctx, tt.refs)
			if err != nil {
				t.Fatalf("ReadListeners: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ReadListeners (-want +got):\n%s", diff)
			}
			after := ops(d)
			for op, want := range tt.calls {
				action := "elasticloadbalancing:" + op
				if n := after[action] - before[action]; n != want {
					t.Errorf("%s calls: got %d, want %d", op, n, want)
				}
			}
		})
	}
}

func TestReadListenersBatches(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	d := newDriver(t, c)
	tests := []struct {
		name      string
		listeners int
		calls     int
	}{
		{"one", 1, 1},
		{"a full batch", 400, 1},
		{"two batches", 401, 2},
		{"three batches", 850, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var refs []reconciler.ListenerRef
			var want []reconciler.Listener
			for i := 0; i < tt.listeners; i++ {
				lb := c.CreateLoadBalancer(fmt.Sprintf("%s-%d", strings.ReplaceAll(tt.name, " ", "-"), i))
				tg := c.CreateTargetGroup(fmt.Sprintf("tg-%d", i), lb)
				ref := reconciler.ListenerRef{Listener: c.CreateListener(lb, awstest.Action{Type: "forward",
					Forward: []awstest.Weight{{TargetGroup: tg, Weight: 1}}, Stickiness: time.Duration(i%2) * time.Hour})}
				refs = append(refs, ref)
				want = append(want, reconciler.Listener{Ref: ref, Forward: reconciler.Forward{
					Weights: []reconciler.Weight{{TargetGroup: tg, Weight: 100}}, Stickiness: time.Duration(i%2) * time.Hour}})
			}
			before := ops(d)["elasticloadbalancing:DescribeListeners"]
			got, err := d.ReadListeners(ctx, refs)
			if err != nil {
				t.Fatalf("ReadListeners: %v", err)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ReadListeners (-want +got):\n%s", diff)
			}
			if n := ops(d)["elasticloadbalancing:DescribeListeners"] - before; n != tt.calls {
				t.Errorf("DescribeListeners calls for %d listeners: got %d, want %d", tt.listeners, n, tt.calls)
			}
		})
	}
}

func TestSetForward(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	oidc := awstest.Action{Type: "authenticate-oidc", Order: 1, Issuer: "https://idp.example.com"}
	s := seedStack(c, "prd", oidc)
	api := c.AddRule(s.listener, 10, "/api/*", awstest.Action{Type: "forward", Forward: []awstest.Weight{{TargetGroup: s.blue, Weight: 1}}})
	d := newDriver(t, c)
	tests := []struct {
		name string
		rule string
		f    reconciler.Forward
		read func() []awstest.Action
		want []awstest.Action
	}{
		{
			name: "default action keeps authenticate-oidc",
			f:    reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: s.blue, Weight: 90}, {TargetGroup: s.green, Weight: 10}}, Stickiness: time.Hour},
			read: func() []awstest.Action { return c.DefaultActions(s.listener) },
			want: []awstest.Action{oidc, {Type: "forward", Order: 2, Forward: []awstest.Weight{{TargetGroup: s.blue, Weight: 90}, {TargetGroup: s.green, Weight: 10}}, Stickiness: time.Hour}},
		},
		{
			name: "default action without stickiness",
			f:    reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: s.blue, Weight: 0}, {TargetGroup: s.green, Weight: 100}}},
			read: func() []awstest.Action { return c.DefaultActions(s.listener) },
			want: []awstest.Action{oidc, {Type: "forward", Order: 2, Forward: []awstest.Weight{{TargetGroup: s.blue, Weight: 0}, {TargetGroup: s.green, Weight: 100}}}},
		},
		{
			name: "rule",
			rule: api,
			f:    reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: s.blue, Weight: 50}, {TargetGroup: s.green, Weight: 50}}},
			read: func() []awstest.Action { return c.RuleActions(api) },
			want: []awstest.Action{{Type: "forward", Forward: []awstest.Weight{{TargetGroup: s.blue, Weight: 50}, {TargetGroup: s.green, Weight: 50}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := d.SetForward(ctx, s.listener, tt.rule, tt.f); err != nil {
				t.Fatalf("SetForward: %v", err)
			}
			if diff := cmp.Diff(tt.want, tt.read()); diff != "" {
				t.Errorf("actions on the load balancer (-want +got):\n%s", diff)
			}
			got, err := d.ReadListeners(ctx, []reconciler.ListenerRef{{Listener: s.listener, Rule: tt.rule}})
			if err != nil {
				t.Fatalf("ReadListeners: %v", err)
			}
			if diff := cmp.Diff(tt.f, got[0].Forward, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("forward read back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetForwardUnknownTargetGroup(t *testing.T) {
	c := newCloud(t)
	s := seedStack(c, "prd")
	d := newDriver(t, c)
	f := reconciler.Forward{Weights: []reconciler.Weight{{TargetGroup: s.blue + "-gone", Weight: 100}}}
	if err := d.SetForward(context.Background(), s.listener, "", f); err == nil {
		t.Errorf("SetForward to a missing target group: got nil error, want one")
	}
}

func TestRules(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	s := seedStack(c, "prd")
	d := newDriver(t, c)
	tests := []struct {
		name string
		rule reconciler.Rule
	}{
		{"header", reconciler.Rule{Priority: 100, Stack: prdWeb, Route: desired.RouteInternal, TargetGroup: s.green,
			Conditions: []reconciler.Condition{{Field: reconciler.FieldHTTPHeader, Header: "X-Canary-Group", Values: []string{"pilot"}}}}},
		{"source ip", reconciler.Rule{Priority: 101, Stack: prdWeb, Route: desired.RouteInternal, TargetGroup: s.green,
			Conditions: []reconciler.Condition{{Field: reconciler.FieldSourceIP, Values: []string{"10.0.0.0/16"}}}}},
		{"cookie", reconciler.Rule{Priority: 102, Stack: prdWeb, Route: desired.RoutePilot, TargetGroup: s.green,
			Conditions: []reconciler.Condition{{Field: reconciler.FieldHTTPHeader, Header: "Cookie", Values: []string{"*canary-user=enabled*"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arn, err := d.CreateRule(ctx, s.listener, tt.rule)
			if err != nil {
				t.Fatalf("CreateRule: %v", err)
			}
			again, err := d.CreateRule(ctx, s.listener, tt.rule)
			if err != nil || again != arn {
				t.Errorf("CreateRule again: got %q, %v, want %q, nil", again, err, arn)
			}
			ls, err := d.ReadListeners(ctx, []reconciler.ListenerRef{{Listener: s.listener, Rules: true}})
			if err != nil {
				t.Fatalf("ReadListeners: %v", err)
			}
			want := tt.rule
			want.ARN = arn
			var got *reconciler.Rule
			for i, r := range ls[0].Rules {
				if r.ARN == arn {
					got = &ls[0].Rules[i]
				}
			}
			if got == nil {
				t.Fatalf("rule %s not read back", arn)
			}
			if diff := cmp.Diff(want, *got); diff != "" {
				t.Errorf("rule (-want +got):\n%s", diff)
			}
			for i := 0; i < 2; i++ {
				if err := d.DeleteRule(ctx, arn); err != nil {
					t.Errorf("DeleteRule #%d: %v", i+1, err)
				}
			}
			if rules := c.Rules(s.listener); len(rules) != 0 {
				t.Errorf("rules left: got %v, want none", rules)
			}
		})
	}
}

func TestRuleOwnership(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	s := seedStack(c, "prd")
	d := newDriver(t, c)
	// 45 foreign rules and 5 owned ones: tags are read in batches of 20.
	for i := 0; i < 45; i++ {
		c.AddRule(s.listener, 1000+i, "/foreign/*", awstest.Action{Type: "forward", Forward: []awstest.Weight{{TargetGroup: s.blue, Weight: 1}}})
	}
	for i := 0; i < 5; i++ {
		r := reconciler.Rule{Priority: 100 + i, Stack: prdWeb, Route: desired.RoutePilot, TargetGroup: s.green,
			Conditions: []reconciler.Condition{{Field: reconciler.FieldSourceIP, Values: []string{"10.0.0.0/16"}}}}
		if _, err := d.CreateRule(ctx, s.listener, r); err != nil {
			t.Fatalf("CreateRule: %v", err)
		}
	}
	before := ops(d)["elasticloadbalancing:DescribeTags"]
	ls, err := d.ReadListeners(ctx, []reconciler.ListenerRef{{Listener: s.listener, Rules: true}})
	if err != nil {
		t.Fatalf("ReadListeners: %v", err)
	}
	if got := len(ls[0].Rules); got != 5 {
		t.Errorf("owned rules: got %d, want 5", got)
	}
	if got := ops(d)["elasticloadbalancing:DescribeTags"] - before; got != 3 {
		t.Errorf("DescribeTags calls for 50 rules: got %d, want 3", got)
	}
}
