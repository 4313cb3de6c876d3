package reconciler

import (
	"fmt"
	"math"

	"github.com/amigo-gitops/amigo/desired"
)

// Verdicts of an analysis.
const (
	VerdictPassing = "passing"
	VerdictFailing = "failing"
	VerdictNoData  = "no data"
)

// judge holds measurements against the stack's thresholds. No data is
// never a pass: the step waits for figures.
func judge(a desired.Analysis, m *Measurements) Report {
	if m == nil || !m.Canary.HasData || m.Canary.Requests <= 0 {
		r := Report{Verdict: VerdictNoData}
		if m != nil {
			r.Window = m.To.Sub(m.From).String()
		}
		return r
	}
	r := Report{
		Window:    m.To.Sub(m.From).String(),
		Requests:  math.Round(m.Canary.Requests),
		ErrorRate: round(m.Canary.Errors5x/m.Canary.Requests, 6),
		LatencyMS: round(float64(m.Canary.Latency.Microseconds())/1000, 1),
		Verdict:   VerdictPassing,
	}
	if r.ErrorRate > a.ErrorRate {
		r.Failures = append(r.Failures, fmt.Sprintf("error rate %.2f%% > %.2f%%", r.ErrorRate*100, a.ErrorRate*100))
	}
	if m.Canary.Latency > a.Latency {
		r.Failures = append(r.Failures, fmt.Sprintf("latency %s > %s", m.Canary.Latency, a.Latency))
	}
	if m.CanaryFleet.HasData && m.StableFleet.HasData {
		cpu := round(m.CanaryFleet.CPU-m.StableFleet.CPU, 1)
		mem := round(m.CanaryFleet.Memory-m.StableFleet.Memory, 1)
		r.CPUDelta, r.MemDelta = &cpu, &mem
		if math.Abs(cpu) > a.CPU {
			r.Failures = append(r.Failures, fmt.Sprintf("cpu %+.1f%% from baseline, limit ±%.0f%%", cpu, a.CPU))
		}
		if math.Abs(mem) > a.Memory {
			r.Failures = append(r.Failures, fmt.Sprintf("memory %+.1f%% from baseline, limit ±%.0f%%", mem, a.Memory))
		}
	}
	if len(r.Failures) > 0 {
		r.Verdict = VerdictFailing
	}
	return r
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
