package sim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/amigo-gitops/amigo/reconciler"
)

// Baselines of the simulated workload. Figures are deterministic so that
// status computed from them does not change from one pass to the next.
const (
	baseRate     = 100.0 // requests per second through one forward action
	ruleShare    = 0.01  // share of traffic matching amigo's header/IP rules
	baseLatency  = 120 * time.Millisecond
	baseCPU      = 35.0
	baseMemory   = 50.0
	metricsMaxPc = 100.0
)

// TargetGroupMetrics returns load balancer figures of a target group over
// [from, to], cut at Now.
func (c *Cloud) TargetGroupMetrics(ctx context.Context, tgARN string, from, to time.Time) (reconciler.TGMetrics, error) {
	var out reconciler.TGMetrics
	err := c.api(ctx, "TargetGroupMetrics", false, func(s *state, now time.Time) error {
		tg := s.TargetGroups[tgARN]
		if tg == nil {
			return fmt.Errorf("TargetGroupNotFound: target group %q not found", tgARN)
		}
		if to.After(now) {
			to = now
		}
		secs := to.Sub(from).Seconds()
		if secs <= 0 || !s.hasHealthy(tg, now) {
			return nil
		}
		req := baseRate * s.share(tgARN) * secs
		if req <= 0 {
			return nil
		}
		rate, lat := s.tgFault(tgARN)
		out = reconciler.TGMetrics{HasData: true, Requests: req, Errors5x: req * rate, Latency: baseLatency + lat}
		return nil
	})
	return out, err
}

func (s *state) hasHealthy(tg *targetGroup, now time.Time) bool {
	for _, t := range s.targetGroupView(tg, now).Targets {
		if t.State == reconciler.TargetHealthy {
			return true
		}
	}
	return false
}

// share is the target group's fraction of one action's traffic, summed
// over the forward actions naming it; a group reached only through amigo's
// rules gets a small fixed share.
func (s *state) share(tg string) float64 {
	total := 0.0
	for _, arn := range slices.Sorted(maps.Keys(s.Listeners)) {
		total += s.Listeners[arn].Forward.share(tg)
	}
	ruled := false
	for _, arn := range slices.Sorted(maps.Keys(s.Rules)) {
		r := s.Rules[arn]
		if !r.amigo() {
			total += r.Forward.share(tg)
		} else if r.Forward.share(tg) > 0 {
			ruled = true
		}
	}
	if total == 0 && ruled {
		return ruleShare
	}
	return total
}

func (fw forward) share(tg string) float64 {
	sum, w := 0, 0
	for _, x := range fw.Weights {
		sum += x.Weight
		if x.TargetGroup == tg {
			w += x.Weight
		}
	}
	if sum == 0 {
		return 0
	}
	return float64(w) / float64(sum)
}

// tgFault is the worst error rate and latency injected into a fleet
// serving the target group.
func (s *state) tgFault(tg string) (float64, time.Duration) {
	rate, lat := 0.0, time.Duration(0)
	for _, name := range slices.Sorted(maps.Keys(s.Fleets)) {
		f := s.Fleets[name]
		if f.TargetGroup != tg {
			continue
		}
		if ft := s.faultFor(f); ft != nil {
			rate, lat = max(rate, ft.ErrorRate), max(lat, ft.Latency)
		}
	}
	return min(rate, 1), lat
}

// FleetMetrics returns the fleet's average CPU and memory over [from, to].
func (c *Cloud) FleetMetrics(ctx context.Context, name string, from, to time.Time) (reconciler.FleetMetrics, error) {
	var out reconciler.FleetMetrics
	err := c.api(ctx, "FleetMetrics", false, func(s *state, now time.Time) error {
		f, err := s.fleet(name)
		if err != nil {
			return fmt.Errorf("fleet metrics: %w", err)
		}
		if !to.After(from) || !s.anyInService(f, now) {
			return nil
		}
		cpu, mem := baseCPU, baseMemory
		if ft := s.faultFor(f); ft != nil {
			cpu, mem = cpu+ft.CPU, mem+ft.Memory
		}
		out = reconciler.FleetMetrics{HasData: true, CPU: clampPc(cpu), Memory: clampPc(mem)}
		return nil
	})
	return out, err
}

func (s *state) anyInService(f *fleet, now time.Time) bool {
	for _, in := range f.Instances {
		if !now.Before(s.inService(in)) {
			return true
		}
	}
	return false
}

func clampPc(v float64) float64 { return min(max(v, 0), metricsMaxPc) }
