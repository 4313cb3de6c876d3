package telemetry_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
	"github.com/amigo-gitops/amigo/reconciler/telemetry"
)

func newMetrics(t *testing.T) (*telemetry.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := telemetry.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

func TestMetricsAfterPass(t *testing.T) {
	m, reg := newMetrics(t)
	w := newWorld(t, nil, m.CountCloud)
	p, before := w.untilPromoted(t)
	for _, b := range before {
		m.ObservePass("poll", b.res, b.err, time.Second)
	}
	m.ObservePass("poll", p.res, p.err, time.Second)

	t.Run("stack gauges", func(t *testing.T) {
		want := `
# HELP amigo_stack_traffic_percent Percent of the stack's traffic on the new release.
# TYPE amigo_stack_traffic_percent gauge
amigo_stack_traffic_percent{stack="dev/web"} 50
# HELP amigo_stack_phase 1 for the stack's current phase, 0 for the others.
# TYPE amigo_stack_phase gauge
amigo_stack_phase{phase="Aborted",stack="dev/web"} 0
amigo_stack_phase{phase="Blocked",stack="dev/web"} 0
amigo_stack_phase{phase="Degraded",stack="dev/web"} 0
amigo_stack_phase{phase="Healthy",stack="dev/web"} 0
amigo_stack_phase{phase="Paused",stack="dev/web"} 0
amigo_stack_phase{phase="Progressing",stack="dev/web"} 1
# HELP amigo_stack_info Versions of the stack's stable and new releases; always 1.
# TYPE amigo_stack_info gauge
amigo_stack_info{new="v1.7",stable="v1.6",stack="dev/web"} 1
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
			"amigo_stack_traffic_percent", "amigo_stack_phase", "amigo_stack_info"); err != nil {
			t.Error(err)
		}
	})

	t.Run("passes", func(t *testing.T) {
		want := `
# HELP amigo_reconcile_total Reconcile passes by trigger and result.
# TYPE amigo_reconcile_total counter
amigo_reconcile_total{result="ok",trigger="poll"} ` + strconv.Itoa(len(before)+1) + "\n"
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "amigo_reconcile_total"); err != nil {
			t.Error(err)
		}
		if got, want := testutil.CollectAndCount(reg, "amigo_reconcile_duration_seconds"), 1; got != want {
			t.Errorf("duration series: got %d, want %d", got, want)
		}
	})

	t.Run("cloud calls match the simulator", func(t *testing.T) {
		calls := w.sim.Calls()
		tests := []struct{ service, op string }{
			{"Fleets", "ListFleets"},
			{"Traffic", "ReadListeners"},
			{"Fleets", "CreateFleet"},
			{"Traffic", "SetForward"},
		}
		for _, tt := range tests {
			t.Run(tt.op, func(t *testing.T) {
				want := calls.Reads[tt.op] + calls.Writes[tt.op]
				if want == 0 {
					t.Fatalf("the simulator saw no %s call", tt.op)
				}
				got := counterValue(t, reg, "amigo_cloud_calls_total",
					map[string]string{"service": tt.service, "operation": tt.op, "result": "ok"})
				if got != float64(want) {
					t.Errorf("got %v, want %d", got, want)
				}
			})
		}
	})
}

func TestMetricsThrottles(t *testing.T) {
	m, reg := newMetrics(t)
	w := newWorld(t, nil, m.CountCloud)
	if err := w.sim.Inject(sim.Fault{Throttle: 2}); err != nil {
		t.Fatal(err)
	}
	if p := w.run(t); p.err != nil {
		t.Fatalf("pass: %v", p.err)
	}
	labels := map[string]string{"service": "Fleets", "operation": "ListFleets"}
	if got, want := counterValue(t, reg, "amigo_cloud_throttles_total", labels), 2.0; got != want {
		t.Errorf("throttles: got %v, want %v", got, want)
	}
	labels["result"] = "error"
	if got, want := counterValue(t, reg, "amigo_cloud_calls_total", labels), 2.0; got != want {
		t.Errorf("failed calls: got %v, want %v", got, want)
	}
	labels["result"] = "ok"
	if got, want := counterValue(t, reg, "amigo_cloud_calls_total", labels), 1.0; got != want {
		t.Errorf("ok calls: got %v, want %v", got, want)
	}
}

func TestObservePass(t *testing.T) {
	web := desired.StackID{Env: "dev", Role: "web"}
	hlp := desired.StackID{Env: "dev", Role: "hlp"}
	drift := []reconciler.Drift{{What: "forward"}, {What: "fleet capacity"}}
	plan := func(ids ...desired.StackID) reconciler.PassResult {
		var res reconciler.PassResult
		for _, id := range ids {
			res.Plan.Stacks = append(res.Plan.Stacks, reconciler.StackPlan{Stack: id, Drift: drift, Status: reconciler.Status{
				Stack: id.String(), Phase: reconciler.Healthy, Stable: &reconciler.Release{Version: "v1.7"},
			}})
		}
		return res
	}
	failedWeb := plan(web)
	failedWeb.Failed = map[desired.StackID]error{web: errors.New("set forward: denied")}
	tests := []struct {
		name       string
		passes     []reconciler.PassResult
		errs       []error
		wantInfo   int     // amigo_stack_info series
		wantResult string  // of the last pass
		wantCount  float64 // passes with that result
		wantDrift  float64 // of dev/web
	}{
		{"two stacks", []reconciler.PassResult{plan(web, hlp)}, []error{nil}, 2, "ok", 1, 2},
		{"stack removed", []reconciler.PassResult{plan(web, hlp), plan(web)}, []error{nil, nil}, 1, "ok", 2, 4},
		{"failed before planning keeps gauges", []reconciler.PassResult{plan(web, hlp), {}},
			[]error{nil, errors.New("fetch desired: boom")}, 2, "error", 1, 2},
		{"drift not put back", []reconciler.PassResult{failedWeb}, []error{errors.New("dev/web: denied")}, 1, "error", 1, 0},
		{"terminal", []reconciler.PassResult{{}}, []error{&reconciler.TerminalError{Err: errors.New("bad amigo.yaml")}}, 0, "terminal", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newMetrics(t)
			for i, res := range tt.passes {
				m.ObservePass("webhook", res, tt.errs[i], time.Second)
			}
			if got := testutil.CollectAndCount(reg, "amigo_stack_info"); got != tt.wantInfo {
				t.Errorf("amigo_stack_info series: got %d, want %d", got, tt.wantInfo)
			}
			labels := map[string]string{"trigger": "webhook", "result": tt.wantResult}
			if got := counterValue(t, reg, "amigo_reconcile_total", labels); got != tt.wantCount {
				t.Errorf("amigo_reconcile_total%v: got %v, want %v", labels, got, tt.wantCount)
			}
			if got := counterValue(t, reg, "amigo_drift_corrections_total", map[string]string{"stack": "dev/web"}); got != tt.wantDrift {
				t.Errorf("drift: got %v, want %v", got, tt.wantDrift)
			}
		})
	}
}

func TestMetricsHandler(t *testing.T) {
	m, _ := newMetrics(t)
	m.WebhookResult("accepted")
	m.WebhookResult("accepted")
	m.ObserveGitFetch(300 * time.Millisecond)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`amigo_webhook_requests_total{result="accepted"} 2`,
		`amigo_git_fetch_duration_seconds_count 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %q:\n%s", want, body)
		}
	}
}

func TestNewMetricsTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := telemetry.NewMetrics(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := telemetry.NewMetrics(reg); err == nil {
		t.Error("second NewMetrics on one registry: got no error, want a duplicate registration error")
	}
}

// counterValue sums the samples of the metric whose labels include want;
// 0 when there are none.
func counterValue(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, mt := range f.GetMetric() {
			have := map[string]string{}
			for _, lp := range mt.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue metric
				}
			}
			sum += mt.GetCounter().GetValue()
		}
	}
	return sum
}

func TestObserveAPICall(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := telemetry.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.ObserveAPICall("elasticloadbalancing", "DescribeRules", nil, false)
	m.ObserveAPICall("elasticloadbalancing", "DescribeRules", errors.New("Throttling: Rate exceeded"), true)
	m.ObserveAPICall("elasticloadbalancing", "DescribeRules", nil, false)
	ok := map[string]string{"service": "elasticloadbalancing", "operation": "DescribeRules", "result": "ok"}
	if got := counterValue(t, reg, "amigo_aws_api_calls_total", ok); got != 2 {
		t.Errorf("ok calls: got %v, want 2", got)
	}
	th := map[string]string{"service": "elasticloadbalancing", "operation": "DescribeRules"}
	if got := counterValue(t, reg, "amigo_aws_api_throttles_total", th); got != 1 {
		t.Errorf("throttles: got %v, want 1", got)
	}
}
