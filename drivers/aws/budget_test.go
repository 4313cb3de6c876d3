package aws

import (
	"context"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"testing"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/aws/awstest"
	"github.com/amigo-gitops/amigo/reconciler"
)

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		at   []time.Duration // offsets of successive reservations
		want []time.Duration
	}{
		{"burst then wait", []time.Duration{0, 0, 0}, []time.Duration{0, 0, 100 * time.Millisecond}},
		{"refill", []time.Duration{0, 0, 200 * time.Millisecond}, []time.Duration{0, 0, 0}},
		{"queue", []time.Duration{0, 0, 0, 0}, []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &bucket{rate: 10, burst: 2, tokens: 2, last: t0}
			for i, at := range tt.at {
				if got := b.reserve(t0.Add(at)); got != tt.want[i] {
					t.Errorf("reservation %d: got %s, want %s", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestFamily(t *testing.T) {
	tests := []struct{ service, op, want string }{
		{"elasticloadbalancing", "DescribeRules", "elasticloadbalancing:read"},
		{"elasticloadbalancing", "ModifyListener", "elasticloadbalancing:write"},
		{"imagebuilder", "ListImages", "imagebuilder:read"},
		{"cloudwatch", "GetMetricData", "cloudwatch:read"},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			if got := family(tt.service, tt.op); got != tt.want {
				t.Errorf("family(%s, %s): got %s, want %s", tt.service, tt.op, got, tt.want)
			}
		})
	}
}

// TestThrottlingIsRetried injects each protocol's throttling error and
// checks it is retried, counted, reported to OnCall, and never surfaces.
func TestThrottlingIsRetried(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	s := seedStack(c, "prd")
	c.AddImage(awstest.IBImage{Name: "idhub-40-web-app", Version: "1.6.0", Status: "AVAILABLE", AMIName: "idhub-40-web-app-v1.6-x"})
	var hooked int
	d := newDriver(t, c, func(o *Options) {
		o.Retry.Mode = awssdk.RetryModeStandard // adaptive mode's slow-down takes seconds; tested below
		o.OnCall = func(service, op string, err error, throttled bool) {
			record(service, op, err, throttled)
			if throttled {
				hooked++
			}
		}
	})
	tests := []struct {
		name   string
		action string
		call   func() error
	}{
		{"elb query", "elasticloadbalancing:DescribeRules", func() error {
			_, err := d.ReadListeners(ctx, []reconciler.ListenerRef{{Listener: s.listener, Rules: true}})
			return err
		}},
		{"autoscaling query", "autoscaling:DescribeAutoScalingGroups", func() error { _, err := d.ListFleets(ctx); return err }},
		{"ec2 query", "ec2:CreateLaunchTemplateVersion", func() error {
			_, err := d.CreateFleet(ctx, fleetSpec(s, "prd-web", "v1", s.baseAMI, reconciler.SlotBlue, desired.Capacity{Desired: 1, Min: 1, Max: 1}))
			return err
		}},
		{"image builder json", "imagebuilder:ListImages", func() error {
			_, err := d.ResolveImage(ctx, reconciler.ImageQuery{Role: "web", Version: "v1.6"})
			return err
		}},
		{"cloudwatch cbor", "cloudwatch:GetMetricData", func() error {
			_, err := d.FleetMetrics(ctx, "prd-web", c.Now().Add(-time.Minute), c.Now())
			return err
		}},
	}
	const throttles = 3
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := c.Actions()[tt.action]
			beforeThrottles := d.Calls().Throttles
			c.Throttle(tt.action, throttles)
			if err := tt.call(); err != nil {
				t.Fatalf("got error %v, want throttling retried away", err)
			}
			if got := c.Actions()[tt.action] - before; got != throttles+1 {
				t.Errorf("requests to %s: got %d, want %d", tt.action, got, throttles+1)
			}
			if got := d.Calls().Throttles - beforeThrottles; got != throttles {
				t.Errorf("throttles counted: got %d, want %d", got, throttles)
			}
		})
	}
	if hooked != throttles*len(tests) {
		t.Errorf("OnCall throttled reports: got %d, want %d", hooked, throttles*len(tests))
	}
	t.Run("adaptive", func(t *testing.T) {
		ad := newDriver(t, c)
		c.Throttle("autoscaling:DescribeAutoScalingGroups", 1)
		if _, err := ad.ListFleets(ctx); err != nil {
			t.Fatalf("got error %v, want throttling retried away", err)
		}
		if got := ad.Calls().Throttles; got != 1 {
			t.Errorf("throttles counted: got %d, want 1", got)
		}
	})
}
