package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

func TestMetricsAndFaults(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		fault     *sim.Fault
		want      reconciler.TGMetrics
		wantFleet reconciler.FleetMetrics
	}{
		{
			name:      "baseline",
			want:      reconciler.TGMetrics{HasData: true, Requests: 100 * 0.9 * 300, Latency: 120 * time.Millisecond},
			wantFleet: reconciler.FleetMetrics{HasData: true, CPU: 35, Memory: 50},
		},
		{
			name:      "errors and latency",
			fault:     &sim.Fault{Stack: webStack, ErrorRate: 0.05, Latency: 2 * time.Second},
			want:      reconciler.TGMetrics{HasData: true, Requests: 27000, Errors5x: 27000 * 0.05, Latency: 2120 * time.Millisecond},
			wantFleet: reconciler.FleetMetrics{HasData: true, CPU: 35, Memory: 50},
		},
		{
			name:      "cpu and memory, by version",
			fault:     &sim.Fault{Stack: webStack, Version: "v1.0", CPU: 20, Memory: 60},
			want:      reconciler.TGMetrics{HasData: true, Requests: 27000, Latency: 120 * time.Millisecond},
			wantFleet: reconciler.FleetMetrics{HasData: true, CPU: 55, Memory: 100},
		},
		{
			name:      "other stack",
			fault:     &sim.Fault{Stack: desired.StackID{Env: "prd", Role: "hlp"}, ErrorRate: 1},
			want:      reconciler.TGMetrics{HasData: true, Requests: 27000, Latency: 120 * time.Millisecond},
			wantFleet: reconciler.FleetMetrics{HasData: true, CPU: 35, Memory: 50},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := open(t, "")
			target, f := newFleet(t, c, 2)
			setWeights(t, c, target, 90, 10)
			advance(t, c, 10*time.Minute)
			if tt.fault != nil {
				if err := c.Inject(*tt.fault); err != nil {
					t.Fatalf("inject: %v", err)
				}
			}
			now := c.Now()
			got, err := c.TargetGroupMetrics(ctx, target.TargetGroups[0], now.Add(-5*time.Minute), now)
			if err != nil {
				t.Fatalf("target group metrics: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("target group metrics (-want +got):\n%s", diff)
			}
			gotFleet, err := c.FleetMetrics(ctx, f.Name, now.Add(-5*time.Minute), now)
			if err != nil {
				t.Fatalf("fleet metrics: %v", err)
			}
			if diff := cmp.Diff(tt.wantFleet, gotFleet); diff != "" {
				t.Errorf("fleet metrics (-want +got):\n%s", diff)
			}
		})
	}
}

func setWeights(t *testing.T, c *sim.Cloud, target desired.Target, blue, green int) {
	t.Helper()
	err := c.SetWeights(target.Listener, []reconciler.Weight{
		{TargetGroup: target.TargetGroups[0], Weight: blue}, {TargetGroup: target.TargetGroups[1], Weight: green},
	})
	if err != nil {
		t.Fatalf("set weights: %v", err)
	}
}

func TestMetricsWithoutData(t *testing.T) {
	ctx := context.Background()
	c := open(t, "")
	target, f := newFleet(t, c, 2)
	now := c.Now()
	// Pending instances: no healthy target, no instance in service.
	tg, err := c.TargetGroupMetrics(ctx, target.TargetGroups[0], now.Add(-time.Minute), now)
	if err != nil || tg.HasData {
		t.Errorf("pending fleet: got %+v, %v, want no data", tg, err)
	}
	fm, err := c.FleetMetrics(ctx, f.Name, now.Add(-time.Minute), now)
	if err != nil || fm.HasData {
		t.Errorf("pending fleet: got %+v, %v, want no data", fm, err)
	}
	advance(t, c, 10*time.Minute)
	now = c.Now()
	// A group reached only by an amigo rule gets a small share.
	_, err = c.CreateRule(ctx, target.Listener, reconciler.Rule{
		Priority: 10, Stack: webStack, Route: desired.RouteInternal, TargetGroup: target.TargetGroups[0],
		Conditions: []reconciler.Condition{{Field: reconciler.FieldSourceIP, Values: []string{"10.0.0.0/16"}}},
	})
	if err != nil {
		t.Fatalf("create rule: %v", err)
	}
	setWeights(t, c, target, 0, 100)
	tg, err = c.TargetGroupMetrics(ctx, target.TargetGroups[0], now.Add(-100*time.Second), now)
	if want := (reconciler.TGMetrics{HasData: true, Requests: 100, Latency: 120 * time.Millisecond}); err != nil || tg != want {
		t.Errorf("rule-only group: got %+v, %v, want %+v", tg, err, want)
	}
	// The green group has the weight but no targets.
	tg, err = c.TargetGroupMetrics(ctx, target.TargetGroups[1], now.Add(-time.Minute), now)
	if err != nil || tg.HasData {
		t.Errorf("group without targets: got %+v, %v, want no data", tg, err)
	}
}

func TestUnhealthyFault(t *testing.T) {
	c := open(t, "")
	target, f := newFleet(t, c, 3)
	if err := c.Inject(sim.Fault{Stack: webStack, Unhealthy: 2}); err != nil {
		t.Fatalf("inject: %v", err)
	}
	advance(t, c, 10*time.Minute)
	want := map[reconciler.TargetState]int{reconciler.TargetHealthy: 1, reconciler.TargetUnhealthy: 2}
	if diff := cmp.Diff(want, states(mustTG(t, c, target.TargetGroups[0]))); diff != "" {
		t.Errorf("targets with fault (-want +got):\n%s", diff)
	}
	healthy := 0
	for _, in := range mustFleet(t, c, f.Name).Instances {
		if in.Healthy {
			healthy++
		}
	}
	if healthy != 1 {
		t.Errorf("healthy instances: got %d, want 1", healthy)
	}
	if err := c.ClearFaults(webStack); err != nil {
		t.Fatalf("clear faults: %v", err)
	}
	want = map[reconciler.TargetState]int{reconciler.TargetHealthy: 3}
	if diff := cmp.Diff(want, states(mustTG(t, c, target.TargetGroups[0]))); diff != "" {
		t.Errorf("targets after clear (-want +got):\n%s", diff)
	}
}

// A refresh whose replacements fail health checks holds, old instances
// kept: capacity is never given up for instances that do not work.
func TestRefreshHoldsOnUnhealthyReplacements(t *testing.T) {
	c := open(t, "")
	target, f := newFleet(t, c, 4)
	advance(t, c, 2*time.Minute)
	next := mustImage(t, c, "v1.1")
	if err := c.Inject(sim.Fault{Stack: webStack, Version: "v1.1", Unhealthy: 1}); err != nil {
		t.Fatalf("inject: %v", err)
	}
	if err := c.RefreshFleet(context.Background(), f.Name, reconciler.Refresh{Version: "v1.1", AMI: next.AMI, Percent: 100}); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	advance(t, c, time.Hour)
	got := mustFleet(t, c, f.Name)
	if got.Refresh == nil || got.Refresh.Done != 0 || countAMI(got, f.AMI) != 4 {
		t.Errorf("got refresh %+v with %d old instances, want held at 0%% with 4", got.Refresh, countAMI(got, f.AMI))
	}
	if h := states(mustTG(t, c, target.TargetGroups[0]))[reconciler.TargetHealthy]; h != 4 {
		t.Errorf("healthy targets: got %d, want 4", h)
	}
}
