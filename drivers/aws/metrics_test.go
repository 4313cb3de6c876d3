package aws

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/reconciler"
)

func TestMetrics(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	c.SyntheticMetrics(false)
	s := seedStack(c, "prd")
	d := newDriver(t, c)
	now := c.Now()
	from := now.Add(-5 * time.Minute)
	tgDims := map[string]string{"TargetGroup": arnSuffix(s.blue, ":"), "LoadBalancer": arnSuffix(s.lb, ":loadbalancer/")}
	for i := 1; i <= 5; i++ {
		at := now.Add(-time.Duration(i) * time.Minute)
		c.PutMetric("AWS/ApplicationELB", "RequestCount", tgDims, at, 200)
		c.PutMetric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", tgDims, at, 1)
		c.PutMetric("AWS/ApplicationELB", "TargetResponseTime", tgDims, at, 0.25)
		c.PutMetric("AWS/EC2", "CPUUtilization", map[string]string{"AutoScalingGroupName": "prd-web-v1"}, at, 30)
		c.PutMetric("CWAgent", "mem_used_percent", map[string]string{"AutoScalingGroupName": "prd-web-v1"}, at, 50)
	}
	// Outside the window: must not count.
	c.PutMetric("AWS/ApplicationELB", "RequestCount", tgDims, now.Add(-time.Hour), 1e6)
	c.PutMetric("AWS/EC2", "CPUUtilization", map[string]string{"AutoScalingGroupName": "prd-web-nomem"}, now.Add(-time.Minute), 30)

	tgTests := []struct {
		name string
		tg   string
		want reconciler.TGMetrics
	}{
		{"serving", s.blue, reconciler.TGMetrics{HasData: true, Requests: 1000, Errors5x: 5, Latency: 250 * time.Millisecond}},
		{"no data", s.green, reconciler.TGMetrics{}},
	}
	for _, tt := range tgTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.TargetGroupMetrics(ctx, tt.tg, from, now)
			if err != nil {
				t.Fatalf("TargetGroupMetrics: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
	fleetTests := []struct {
		name, fleet string
		want        reconciler.FleetMetrics
	}{
		{"fleet", "prd-web-v1", reconciler.FleetMetrics{HasData: true, CPU: 30, Memory: 50}},
		{"no agent", "prd-web-nomem", reconciler.FleetMetrics{}},
		{"unknown", "nothing", reconciler.FleetMetrics{}},
	}
	for _, tt := range fleetTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.FleetMetrics(ctx, tt.fleet, from, now)
			if err != nil {
				t.Fatalf("FleetMetrics: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}
