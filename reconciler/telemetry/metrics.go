package telemetry

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// Results of a pass in amigo_reconcile_*{result}.
const (
	ResultOK       = "ok"
	ResultError    = "error"
	ResultTerminal = "terminal" // the config must change before a retry helps
)

// phases are every Phase, so that amigo_stack_phase shows 0 for the
// phases a stack is not in and a query can alert on a change.
var phases = []reconciler.Phase{
	reconciler.Progressing, reconciler.Paused, reconciler.Healthy,
	reconciler.Aborted, reconciler.Blocked, reconciler.Degraded,
}

// Metrics are amigo's Prometheus metrics, registered on one registry.
type Metrics struct {
	reg prometheus.Gatherer

	passDuration *prometheus.HistogramVec
	passes       *prometheus.CounterVec
	traffic      *prometheus.GaugeVec
	phase        *prometheus.GaugeVec
	info         *prometheus.GaugeVec
	calls        *prometheus.CounterVec
	throttles    *prometheus.CounterVec
	apiCalls     *prometheus.CounterVec
	apiThrottles *prometheus.CounterVec
	drift        *prometheus.CounterVec
	webhooks     *prometheus.CounterVec
	gitFetch     prometheus.Histogram

	mu     sync.Mutex
	stacks map[string]bool // stacks with gauges set
}

// NewMetrics creates the metrics and registers them on reg, which must
// also be a prometheus.Gatherer (a *prometheus.Registry is) for Handler to
// serve it. It fails when a metric is registered already.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		passDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "amigo_reconcile_duration_seconds", Help: "Duration of reconcile passes.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"trigger", "result"}),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amigo_reconcile_total", Help: "Reconcile passes by trigger and result.",
		}, []string{"trigger", "result"}),
		traffic: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "amigo_stack_traffic_percent", Help: "Percent of the stack's traffic on the new release.",
		}, []string{"stack"}),
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "amigo_stack_phase", Help: "1 for the stack's current phase, 0 for the others.",
		}, []string{"stack", "phase"}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "amigo_stack_info", Help: "Versions of the stack's stable and new releases; always 1.",
		}, []string{"stack", "stable", "new"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amigo_cloud_calls_total", Help: "Cloud API calls by service, operation and result.",
		}, []string{"service", "operation", "result"}),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amigo_cloud_throttles_total", Help: "Cloud API calls refused by throttling.",
		}, []string{"service", "operation"}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amigo_aws_api_calls_total", Help: "AWS API requests (retries included) by service, operation and result.",
		}, []string{"service", "operation", "result"}),
		apiThrottles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amigo_aws_api_throttles_total", Help: "AWS API requests refused by throttling (then retried).",
		}, []string{"service", "operation"}),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amigo_drift_corrections_total", Help: "Differences from the recorded state found and corrected.",
		}, []string{"stack"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amigo_webhook_requests_total", Help: "Webhook requests by result.",
		}, []string{"result"}),
		gitFetch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "amigo_git_fetch_duration_seconds", Help: "Duration of fetches of the desired branch.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		stacks: map[string]bool{},
	}
	for _, c := range []prometheus.Collector{m.passDuration, m.passes, m.traffic, m.phase, m.info,
		m.calls, m.throttles, m.apiCalls, m.apiThrottles, m.drift, m.webhooks, m.gitFetch} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.reg = g
	}
	return m, nil
}

// Handler serves the registry in the Prometheus exposition format, or 500
// when the registerer NewMetrics got cannot be gathered.
func (m *Metrics) Handler() http.Handler {
	if m.reg == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "metrics registry cannot be gathered", http.StatusInternalServerError)
		})
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObservePass records one pass: its duration and result and, when the
// pass got as far as planning, the state of every stack and the drift its
// actions put back. It fits
// reconciler.LoopOptions.OnPass.
func (m *Metrics) ObservePass(trigger string, res reconciler.PassResult, err error, took time.Duration) {
	result := passResult(err)
	m.passDuration.WithLabelValues(trigger, result).Observe(took.Seconds())
	m.passes.WithLabelValues(trigger, result).Inc()
	if err != nil && len(res.Plan.Stacks) == 0 {
		return // the pass stopped before planning: the last figures stand
	}
	m.setStacks(res.Plan.Stacks, res.Failed)
}

func passResult(err error) string {
	var te *reconciler.TerminalError
	switch {
	case err == nil:
		return ResultOK
	case errors.As(err, &te):
		return ResultTerminal
	default:
		return ResultError
	}
}

// setStacks replaces the per-stack gauges with the plan's; a stack that
// left the config loses its series. Drift counts as corrected only for
// stacks whose actions all applied.
func (m *Metrics) setStacks(plans []reconciler.StackPlan, failed map[desired.StackID]error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := make(map[string]bool, len(plans))
	for _, sp := range plans {
		id, s := sp.Stack.String(), sp.Status
		seen[id] = true
		m.traffic.WithLabelValues(id).Set(float64(s.Weight))
		for _, p := range phases {
			m.phase.WithLabelValues(id, string(p)).Set(boolFloat(s.Phase == p))
		}
		m.info.DeletePartialMatch(prometheus.Labels{"stack": id})
		m.info.WithLabelValues(id, releaseVersion(s.Stable), releaseVersion(s.New)).Set(1)
		if n := len(sp.Drift); n > 0 && failed[sp.Stack] == nil {
			m.drift.WithLabelValues(id).Add(float64(n))
		}
	}
	for id := range m.stacks {
		if !seen[id] {
			for _, v := range []*prometheus.GaugeVec{m.traffic, m.phase, m.info} {
				v.DeletePartialMatch(prometheus.Labels{"stack": id})
			}
		}
	}
	m.stacks = seen
}

func releaseVersion(r *reconciler.Release) string {
	if r == nil {
		return ""
	}
	return r.Version
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// WebhookResult counts one webhook request by its outcome ("accepted",
// "ignored", "unauthorized", ...).
func (m *Metrics) WebhookResult(result string) {
	m.webhooks.WithLabelValues(result).Inc()
}

// ObserveGitFetch records the duration of one fetch of the desired branch.
func (m *Metrics) ObserveGitFetch(took time.Duration) {
	m.gitFetch.Observe(took.Seconds())
}

// CountCloud returns c with every call counted in amigo_cloud_calls_total
// (result ok or error) and every throttled call in
// amigo_cloud_throttles_total.
func (m *Metrics) CountCloud(c reconciler.Cloud) reconciler.Cloud {
	return wrapCloud(c, func(ctx context.Context, cl cloudCall, f func(context.Context) error) error {
		err := f(ctx)
		result := ResultOK
		if err != nil {
			result = ResultError
			if reconciler.IsThrottle(err) {
				m.throttles.WithLabelValues(cl.Service, cl.Operation).Inc()
			}
		}
		m.calls.WithLabelValues(cl.Service, cl.Operation, result).Inc()
		return err
	})
}

// ObserveAPICall counts one request of a cloud SDK, below the driver
// interface: the AWS driver reports every attempt here, so throttling that
// its retries absorb still shows.
func (m *Metrics) ObserveAPICall(service, operation string, err error, throttled bool) {
	result := ResultOK
	if err != nil {
		result = ResultError
	}
	m.apiCalls.WithLabelValues(service, operation, result).Inc()
	if throttled {
		m.apiThrottles.WithLabelValues(service, operation).Inc()
	}
}

// TimeSource returns s with the duration of every Fetch recorded in
// amigo_git_fetch_duration_seconds.
func (m *Metrics) TimeSource(s reconciler.Source) reconciler.Source {
	return timedSource{Source: s, m: m}
}

type timedSource struct {
	reconciler.Source
	m *Metrics
}

func (s timedSource) Fetch(ctx context.Context) (string, error) {
	start := time.Now()
	rev, err := s.Source.Fetch(ctx)
	s.m.ObserveGitFetch(time.Since(start))
	return rev, err
}
