package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/amigo-gitops/amigo/cmd/amigo-bench/estate"
)

// benchBurst sends cfg.burst signed push webhooks, evenly spread over
// cfg.burstWindow, to the real handler while the loop runs with a poll
// interval of an hour, and counts the passes they cause.
func benchBurst(ctx context.Context, cfg config, r *report) error {
	root := filepath.Join(cfg.work, "burst")
	g, err := newGitServer(ctx, root, filepath.Join(cfg.work, "home"))
	if err != nil {
		return err
	}
	defer g.close()
	spec := estate.Spec{Stacks: cfg.burstStacks, Strategy: estate.Mixed, Version: "v1.5"}
	bare := filepath.Join(root, "estate.git")
	var s stream
	s.commit("estate", spec.Files())
	if err := newBare(ctx, bare, &s); err != nil {
		return err
	}
	cloud, src, rec, err := openRemote(ctx, spec, g.url(bare), filepath.Join(cfg.work, "burst-cache"))
	if err != nil {
		return err
	}
	repo, err := spec.Load("seed")
	if err != nil {
		return err
	}
	if err := estate.SeedAtRest(cloud, repo); err != nil {
		return err
	}
	if _, err := estate.Until(ctx, rec, cloud, time.Minute, 20, estate.AtRestCond); err != nil {
		return err
	}
	d := startDaemon(ctx, src, rec)
	defer d.stop()
	<-d.started
	var passes, p99, took []float64
	for i := 0; i < min(cfg.reps, 5); i++ {
		b, err := oneBurst(ctx, cfg, d)
		if err != nil {
			return fmt.Errorf("burst %d: %w", i+1, err)
		}
		passes, p99, took = append(passes, float64(b.passes)), append(p99, b.p99), append(took, b.took)
	}
	label := fmt.Sprintf("(%d webhooks in %s, %d stacks)", cfg.burst, cfg.burstWindow, cfg.burstStacks)
	r.atMost("webhook_burst_passes", "passes caused by a webhook burst "+label, median(passes), "passes", 3)
	r.add("webhook_p99_ms", "  webhook response p99", median(p99), "ms")
	r.add("webhook_burst_ms", "  time to deliver the burst", median(took), "ms")
	return nil
}

type burstFigures struct {
	passes    int
	p99, took float64
}

func oneBurst(ctx context.Context, cfg config, d *daemon) (burstFigures, error) {
	before := len(d.passList())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	lat := make([]float64, cfg.burst)
	errs := make(chan error, cfg.burst)
	var wg sync.WaitGroup
	start := time.Now()
	gap := cfg.burstWindow / time.Duration(cfg.burst)
	for i := 0; i < cfg.burst; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * gap)))
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			t, code, err := deliver(ctx, client, d.srv.URL, fmt.Sprintf("%040d", i))
			if err == nil && code != http.StatusAccepted {
				err = fmt.Errorf("webhook answered %d", code)
			}
			if err != nil {
				errs <- err
			}
			lat[i] = ms(t)
		}(i)
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return burstFigures{}, err
	}
	settle(d, before)
	var n int
	for _, p := range d.passList()[before:] {
		if p.err != nil {
			return burstFigures{}, fmt.Errorf("pass failed: %w", p.err)
		}
		if p.trigger == "webhook" {
			n++
		}
	}
	return burstFigures{passes: n, p99: percentile(lat, 99), took: ms(took)}, nil
}

// settle waits until the loop has been idle for a while, well beyond the
// length of a pass: the passes the burst caused have all ended.
func settle(d *daemon, before int) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ps := d.passList()
		if len(ps) <= before {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		last := ps[len(ps)-1]
		if time.Since(last.end) > 500*time.Millisecond+3*last.took && len(d.trig.C()) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
