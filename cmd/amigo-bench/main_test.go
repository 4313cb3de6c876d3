package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunTiny runs every figure at a tiny size, once, and checks that the
// JSON holds every figure as a number and the table names each one. It
// asserts nothing about time.
func TestRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the amigo binary and starts servers")
	}
	cfg := config{
		reps: 1, sizes: []int{10}, commits: 30, fewCommits: 10,
		rssStacks: 10, rssPasses: 2, burst: 20, burstWindow: 100 * time.Millisecond, burstStacks: 10,
		planStacks: 10,
	}
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout bytes.Buffer
	if err := run(context.Background(), cfg, out, &stdout); err != nil {
		t.Fatalf("run: %v\n%s", err, stdout.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("read %s: %v", out, err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("decode %s: %v\n%s", out, err, b)
	}
	for _, key := range []string{
		"revert_to_rollback_ms", "steady_pass_ms_1000", "reads_per_stack_1000", "writes_per_pass_1000",
		"poll_vs_ls_remote_ratio", "rss_mb_1000", "webhook_burst_passes", "planner_ns_per_stack",
	} {
		t.Run(key, func(t *testing.T) {
			v, ok := got[key]
			if !ok {
				t.Fatalf("key %s missing from %s", key, b)
			}
			if _, isNum := v.(float64); !isNum {
				t.Errorf("%s = %v (%T), want a number", key, v, v)
			}
		})
	}
	if got["writes_per_pass_1000"] != 0.0 {
		t.Errorf("writes_per_pass_1000 = %v, want 0: a pass at rest wrote to the cloud", got["writes_per_pass_1000"])
	}
	for _, col := range []string{"figure", "value", "unit", "target", "ok?"} {
		if !strings.Contains(stdout.String(), col) {
			t.Errorf("table has no %q column:\n%s", col, stdout.String())
		}
	}
}

func TestParseSizes(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "10,100,1000", want: []int{10, 100, 1000}},
		{in: " 5 ", want: []int{5}},
		{in: "10,x", wantErr: true},
		{in: "0", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSizes(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseSizes(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if !tc.wantErr && !equalInts(got, tc.want) {
				t.Errorf("parseSizes(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPercentile(t *testing.T) {
	xs := make([]float64, 100)
	for i := range xs {
		xs[i] = float64(100 - i)
	}
	for _, tc := range []struct {
		p    float64
		want float64
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}} {
		if got := percentile(append([]float64(nil), xs...), tc.p); got != tc.want {
			t.Errorf("percentile(1..100, %g) = %g, want %g", tc.p, got, tc.want)
		}
	}
	if got := median([]float64{3, 1, 2, 10}); got != 2.5 {
		t.Errorf("median(3,1,2,10) = %g, want 2.5", got)
	}
}
