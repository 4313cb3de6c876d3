package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config sizes a run. The defaults are the goals' sizes; the program's
// test runs a tiny one.
type config struct {
	reps        int   // repetitions per figure (the median is reported)
	sizes       []int // stacks for the steady-state pass
	commits     int   // history of the poll figure's large repository
	fewCommits  int   // history of its small repository
	rssStacks   int   // stacks the daemon holds for the memory figure
	rssPasses   int   // passes the daemon runs before it is measured
	burst       int   // webhooks in the burst
	burstWindow time.Duration
	burstStacks int
	planStacks  int
	work        string          // scratch directory, removed at the end
	amigoBin    string          // prebuilt amigo binary; empty: go build ./cmd/amigo
	only        map[string]bool // figures to run by name; empty: all
	progress    io.Writer
}

func defaultConfig() config {
	return config{
		reps: 7, sizes: []int{10, 100, 1000}, commits: 10000, fewCommits: 100,
		rssStacks: 1000, rssPasses: 4, burst: 1000, burstWindow: time.Second, burstStacks: 100,
		planStacks: 1000, progress: os.Stderr,
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cli(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "amigo-bench:", err)
		os.Exit(1)
	}
}

func cli(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	cfg.progress = stderr
	fs := flag.NewFlagSet("amigo-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.reps, "reps", cfg.reps, "repetitions per figure; the median is reported")
	sizes := fs.String("sizes", "10,100,1000", "stack counts for the steady-state pass")
	fs.StringVar(&cfg.amigoBin, "amigo", "", "amigo binary for the memory figure (default: go build ./cmd/amigo)")
	only := fs.String("only", "", "comma-separated figures to run: revert, steady, poll, rss, burst, planner (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.sizes, err = parseSizes(*sizes); err != nil {
		return err
	}
	cfg.only = map[string]bool{}
	for _, f := range strings.Split(*only, ",") {
		if f = strings.TrimSpace(f); f != "" {
			cfg.only[f] = true
		}
	}
	out := os.Getenv("BENCH_OUT")
	if out == "" {
		out = "bench.json"
	}
	return run(ctx, cfg, out, stdout)
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("sizes: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// run measures every figure, prints the table and writes the JSON.
func run(ctx context.Context, cfg config, out string, stdout io.Writer) error {
	work, err := os.MkdirTemp("", "amigo-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	cfg.work = work
	if cfg.progress == nil {
		cfg.progress = io.Discard
	}
	r := &report{values: map[string]float64{}}
	steps := []struct {
		name string
		fn   func(context.Context, config, *report) error
	}{
		{"revert", benchRevert},
		{"steady", benchSteady},
		{"poll", benchPoll},
		{"rss", benchRSS},
		{"burst", benchBurst},
		{"planner", benchPlanner},
	}
	for _, s := range steps {
		if len(cfg.only) > 0 && !cfg.only[s.name] {
			continue
		}
		start := time.Now()
		fmt.Fprintf(cfg.progress, "amigo-bench: %s...\n", s.name)
		if err := s.fn(ctx, cfg, r); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintf(cfg.progress, "amigo-bench: %s done in %s\n", s.name, time.Since(start).Round(time.Millisecond))
	}
	r.print(stdout)
	b, err := json.MarshalIndent(r.values, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", out)
	return nil
}
