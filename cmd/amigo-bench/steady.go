package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/amigo-gitops/amigo/cmd/amigo-bench/estate"
	"github.com/amigo-gitops/amigo/desired/gitrepo"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

// passCost is one pass with nothing to do.
type passCost struct {
	wall, cpu      time.Duration
	allocs, bytes  uint64
	reads, writes  int
	applied, stack int
}

// benchSteady times a pass that finds every stack at rest. The config
// repository is a local working copy (gitrepo local mode), so git's
// network is not what is measured: the pass reads a ref, skips parsing,
// observes, plans and rewrites nothing.
func benchSteady(ctx context.Context, cfg config, r *report) error {
	for i, n := range cfg.sizes {
		costs, err := steadyCosts(ctx, cfg, n)
		if err != nil {
			return fmt.Errorf("%d stacks: %w", n, err)
		}
		m := medians(costs)
		suffix := fmt.Sprintf("_%d", n)
		r.value("steady_pass_ms"+suffix, m.wallMS)
		r.value("steady_cpu_ms"+suffix, m.cpuMS)
		r.value("steady_allocs"+suffix, m.allocs)
		r.value("steady_alloc_kb"+suffix, m.kb)
		r.value("reads_per_stack"+suffix, m.reads/float64(n))
		r.value("writes_per_pass"+suffix, m.writes)
		label := fmt.Sprintf("(%d stacks)", n)
		if i == len(cfg.sizes)-1 {
			r.below("steady_pass_ms_1000", "steady pass wall "+label, m.wallMS, "ms", 50)
			r.atMost("reads_per_stack_1000", "steady pass cloud reads per stack "+label, m.reads/float64(n), "reads", 0.2)
			r.atMost("writes_per_pass_1000", "steady pass cloud writes "+label, m.writes, "writes", 0)
			r.value("steady_stacks_headline", float64(n))
		} else {
			r.add("", "steady pass wall "+label, m.wallMS, "ms")
		}
		r.add("", "steady pass CPU "+label, m.cpuMS, "ms")
		r.add("", "steady pass allocations "+label, m.allocs, "allocs")
		r.add("", "steady pass allocated "+label, m.kb, "KiB")
	}
	return nil
}

type costMedians struct{ wallMS, cpuMS, allocs, kb, reads, writes float64 }

func medians(cs []passCost) costMedians {
	var w, c, a, b, rd, wr []float64
	for _, x := range cs {
		w, c = append(w, ms(x.wall)), append(c, ms(x.cpu))
		a, b = append(a, float64(x.allocs)), append(b, float64(x.bytes)/1024)
		rd, wr = append(rd, float64(x.reads)), append(wr, float64(x.writes))
	}
	return costMedians{median(w), median(c), median(a), median(b), median(rd), median(wr)}
}

func steadyCosts(ctx context.Context, cfg config, n int) ([]passCost, error) {
	spec := estate.Spec{Stacks: n, Strategy: estate.Mixed, Version: "v1.5"}
	dir := filepath.Join(cfg.work, fmt.Sprintf("steady-%d", n))
	var s stream
	s.commit("estate", spec.Files())
	if err := newWorkingCopy(ctx, dir, &s); err != nil {
		return nil, err
	}
	cloud, err := sim.Open("", sim.Options{})
	if err != nil {
		return nil, err
	}
	repo, err := spec.Load("seed")
	if err != nil {
		return nil, err
	}
	if err := estate.SeedAtRest(cloud, repo); err != nil {
		return nil, err
	}
	src, err := gitrepo.Open(ctx, gitrepo.Options{URL: dir})
	if err != nil {
		return nil, err
	}
	rec := reconciler.New(reconciler.Options{Source: src, Cloud: cloud.Cloud()})
	if _, err := estate.Until(ctx, rec, cloud, time.Minute, 20, estate.AtRestCond); err != nil {
		return nil, err
	}
	var out []passCost
	for i := 0; i < cfg.reps; i++ {
		c, err := onePass(ctx, rec, cloud)
		if err != nil {
			return nil, err
		}
		if c.applied > 0 {
			return nil, fmt.Errorf("a pass at rest applied %d actions", c.applied)
		}
		out = append(out, c)
	}
	return out, nil
}

func onePass(ctx context.Context, rec *reconciler.Reconciler, cloud *sim.Cloud) (passCost, error) {
	if err := cloud.ResetCalls(); err != nil {
		return passCost{}, err
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	var u0, u1 syscall.Rusage
	runtime.ReadMemStats(&m0)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u0); err != nil {
		return passCost{}, err
	}
	start := time.Now()
	res, err := rec.Reconcile(ctx, "bench")
	wall := time.Since(start)
	if err != nil {
		return passCost{}, err
	}
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u1); err != nil {
		return passCost{}, err
	}
	runtime.ReadMemStats(&m1)
	calls := cloud.Calls()
	return passCost{
		wall: wall, cpu: cpuTime(u1) - cpuTime(u0),
		allocs: m1.Mallocs - m0.Mallocs, bytes: m1.TotalAlloc - m0.TotalAlloc,
		reads: calls.TotalReads(), writes: calls.TotalWrites(), applied: len(res.Applied), stack: len(res.Plan.Stacks),
	}, nil
}

func cpuTime(u syscall.Rusage) time.Duration {
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
