package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/amigo-gitops/amigo/reconciler"
	"github.com/amigo-gitops/amigo/reconciler/telemetry/jaegertest"
)

// TestJaegerE2E runs the daemon on the example estate with traces exported
// to a real Jaeger, then reads a reconcile back through Jaeger's query API
// and checks it is the one the status branch names. A scrape of /metrics
// during the run must show a stack's traffic gauge moving.
func TestJaegerE2E(t *testing.T) {
	j := jaegertest.Start(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", j.OTLPHTTPEndpoint())
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
	repo := exampleRepo(t)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run", "--repo", repo, "--sim-state", t.TempDir() + "/sim.json",
			"--sim-speed", "3600", "--listen", addr, "--interval", "300ms", "--busy-interval", "100ms",
			"--log-level", "warn"}, io.Discard, io.Discard)
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("daemon: %v", err)
			}
		}
	}
	defer stop()

	seen := map[float64]bool{}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) && len(seen) < 3 {
		if v, ok := scrapeGauge(addr, `amigo_stack_traffic_percent{stack="dev/hlp"}`); ok {
			seen[v] = true
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(seen) < 3 {
		t.Errorf("dev/hlp traffic gauge took values %v, want it to move through at least 3", seen)
	}
	stop() // flushes the tracer
	st := statusOf(t, repo, "dev/hlp")
	if st.TraceID == "" {
		t.Fatalf("status of dev/hlp has no trace id: %+v", st)
	}
	tr := j.Trace(t, st.TraceID)
	byID := map[string]jaegertest.Span{}
	var root jaegertest.Span
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
		if s.Parent() == "" {
			root = s
		}
	}
	if root.OperationName != "reconcile" || tr.Service(root) != "amigo" {
		t.Fatalf("root span %q of service %q, want reconcile of amigo", root.OperationName, tr.Service(root))
	}
	if rev := fmt.Sprint(root.Tag("amigo.revision")); rev != st.DesiredCommit {
		t.Errorf("root revision %s, want %s", rev, st.DesiredCommit)
	}
	var planSpan, actionSpan bool
	for _, s := range tr.Spans {
		under := descends(s, root.SpanID, byID)
		if s.OperationName == "plan dev/hlp" && under {
			planSpan = true
		}
		if s.Tag("amigo.stack") == "dev/hlp" && s.Tag("amigo.action") != nil && under {
			actionSpan = true
		}
	}
	if !planSpan || !actionSpan {
		t.Errorf("trace %s: plan span %v, action span %v under reconcile; want both", st.TraceID, planSpan, actionSpan)
	}
}

func descends(s jaegertest.Span, root string, byID map[string]jaegertest.Span) bool {
	for i := 0; i < 20 && s.Parent() != ""; i++ {
		if s.Parent() == root {
			return true
		}
		s = byID[s.Parent()]
	}
	return false
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func scrapeGauge(addr, series string) (float64, bool) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(regexp.QuoteMeta(series) + ` ([0-9.e+-]+)`)
	m := re.FindSubmatch(body)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	return v, err == nil
}

func statusOf(t *testing.T, dir, stack string) reconciler.Status {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName("amigo/status"), true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.File("status/" + stack + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := f.Contents()
	if err != nil {
		t.Fatal(err)
	}
	m, err := reconciler.ParseStatusFiles(map[string][]byte{"status/" + stack + ".yaml": []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range m {
		return s
	}
	t.Fatalf("no status in %s", strings.TrimSpace(data))
	return reconciler.Status{}
}
