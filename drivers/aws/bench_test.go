package aws

import (
	"context"
	"fmt"
	"testing"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/aws/awstest"
	"github.com/amigo-gitops/amigo/reconciler"
)

// stacksPerListener is how many stacks share one ALB listener, each
// through its own path rule.
const stacksPerListener = 10

// BenchmarkSteadyStateCalls measures the driver's calls for a full read
// of an estate whose stacks route through path rules, ten to a listener:
// one ListFleets, ReadListeners over every stack's rule (DescribeRules per
// listener, DescribeTags per 20 rules), TargetGroups for every serving
// group. A quiet pass of the reconciler reads less: see
// BenchmarkSteadyStatePass.
func BenchmarkSteadyStateCalls(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			ctx := context.Background()
			c := newCloud(b)
			d := newDriver(b, c)
			refs, tgs := seedEstate(ctx, b, c, d, n)
			observe := func() {
				if _, err := d.ListFleets(ctx); err != nil {
					b.Fatalf("ListFleets: %v", err)
				}
				if _, err := d.ReadListeners(ctx, refs); err != nil {
					b.Fatalf("ReadListeners: %v", err)
				}
				if _, err := d.TargetGroups(ctx, tgs); err != nil {
					b.Fatalf("TargetGroups: %v", err)
				}
			}
			observe() // warm the attribute cache, as a running daemon has
			before := d.Calls().Total
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				observe()
			}
			b.StopTimer()
			calls := float64(d.Calls().Total-before) / float64(b.N)
			b.ReportMetric(calls, "calls/observe")
			b.ReportMetric(calls/float64(n), "reads/stack")
		})
	}
}

func seedEstate(ctx context.Context, b *testing.B, c *awstest.Cloud, d *Driver, n int) ([]reconciler.ListenerRef, []string) {
	b.Helper()
	var refs []reconciler.ListenerRef
	var tgs []string
	var listener, lb string
	ami := c.AddAMI("idhub-40-web-app-v1-20261115", "available", c.Now(), nil)
	lt := c.CreateLaunchTemplate("web", ami)
	for i := 0; i < n; i++ {
		if i%stacksPerListener == 0 {
			lb = c.CreateLoadBalancer(fmt.Sprintf("alb-%d", i/stacksPerListener))
			listener = ""
		}
		blue := c.CreateTargetGroup(fmt.Sprintf("s%d-blue", i), lb)
		c.CreateTargetGroup(fmt.Sprintf("s%d-green", i), lb)
		fwd := awstest.Action{Type: "forward", Forward: []awstest.Weight{{TargetGroup: blue, Weight: 1}}}
		if listener == "" {
			listener = c.CreateListener(lb, fwd)
		}
		rule := c.AddRule(listener, 10+i%stacksPerListener, fmt.Sprintf("/s%d/*", i), fwd)
		refs = append(refs, reconciler.ListenerRef{Listener: listener, Rule: rule})
		tgs = append(tgs, blue)
		spec := reconciler.FleetSpec{Name: fmt.Sprintf("s%d-v1", i), Stack: desired.StackID{Env: "prd", Role: fmt.Sprintf("r%d", i)},
			Version: "v1", AMI: ami, Slot: reconciler.SlotBlue, TargetGroup: blue, LaunchTemplate: lt,
			Subnets: []string{"subnet-1a"}, Capacity: desired.Capacity{Desired: 1, Min: 1, Max: 1}}
		if _, err := d.CreateFleet(ctx, spec); err != nil {
			b.Fatalf("CreateFleet: %v", err)
		}
	}
	c.Advance(awstest.LaunchDelay + 2*awstest.HealthyDelay)
	return refs, tgs
}
