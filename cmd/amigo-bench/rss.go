package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/amigo-gitops/amigo/cmd/amigo-bench/estate"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

// benchRSS runs the amigo daemon on a config repository of rssStacks
// stacks at rest, served over smart HTTP, with the simulated cloud in a
// state file, lets it run a few passes, and reads its peak resident set
// (VmHWM) before stopping it. The figure includes the simulated cloud,
// which lives in the daemon's process.
func benchRSS(ctx context.Context, cfg config, r *report) error {
	bin, err := amigoBinary(ctx, cfg)
	if err != nil {
		return err
	}
	root := filepath.Join(cfg.work, "rss")
	g, err := newGitServer(ctx, root, filepath.Join(cfg.work, "home"))
	if err != nil {
		return err
	}
	defer g.close()
	spec := estate.Spec{Stacks: cfg.rssStacks, Strategy: estate.Mixed, Version: "v1.5"}
	bare := filepath.Join(root, "estate.git")
	var s stream
	s.commit("estate", spec.Files())
	if err := newBare(ctx, bare, &s); err != nil {
		return err
	}
	rest, err := writeRestStatus(ctx, spec, g.url(bare), filepath.Join(cfg.work, "rss-status"))
	if err != nil {
		return err
	}
	state := filepath.Join(cfg.work, "rss-sim.json")
	if err := seedStateFile(ctx, state, spec, rest); err != nil {
		return err
	}
	var hwm, maxrss []float64
	for i := 0; i < min(cfg.reps, 3); i++ {
		h, m, err := daemonPeak(ctx, cfg, bin, state, g.url(bare), filepath.Join(cfg.work, fmt.Sprintf("rss-%d", i)))
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		hwm, maxrss = append(hwm, h), append(maxrss, m)
	}
	label := fmt.Sprintf("daemon peak RSS (%d stacks, %d passes)", cfg.rssStacks, cfg.rssPasses)
	r.atMost("rss_mb_1000", label, median(hwm), "MB", 50)
	r.value("rss_stacks_headline", float64(cfg.rssStacks))
	r.add("rss_maxrss_mb_1000", "  peak RSS over the whole run (wait4)", median(maxrss), "MB")
	return nil
}

func amigoBinary(ctx context.Context, cfg config) (string, error) {
	if cfg.amigoBin != "" {
		return cfg.amigoBin, nil
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return "", fmt.Errorf("find the module root (go env GOMOD): %v", err)
	}
	bin := filepath.Join(cfg.work, "amigo")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/amigo")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/amigo: %w: %s", err, b)
	}
	return bin, nil
}

// daemonPeak returns the daemon's VmHWM after cfg.rssPasses passes and its
// maximum RSS as wait4 reports it, both in MB.
func daemonPeak(ctx context.Context, cfg config, bin, template, url, dir string) (float64, float64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, err
	}
	state := filepath.Join(dir, "sim.json")
	if err := copyFile(template, state); err != nil {
		return 0, 0, err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--repo", url, "--branch", "main", "--driver", "sim", "--sim-state", state,
		"--listen", "127.0.0.1:0", "--interval", "200ms", "--cache-dir", filepath.Join(dir, "cache"),
		"--log-level", "debug", "--log-format", "json")
	cmd.Env = append(os.Environ(), "AMIGO_WEBHOOK_SECRET="+secret)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		fmt.Fprintf(cfg.progress, "amigo-bench: daemon ran %s\n", time.Since(start).Round(time.Millisecond))
	}()
	passes := make(chan error, 64)
	go countPasses(stderr, passes, cfg.progress)
	hwm, werr := waitPasses(ctx, cmd.Process.Pid, cfg.rssPasses, passes)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	for range passes {
		// The pipe must be read to its end before Wait.
	}
	_ = cmd.Wait()
	if werr != nil {
		return 0, 0, werr
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("no rusage for the daemon")
	}
	return hwm, float64(ru.Maxrss) / 1024, nil
}

// writeRestStatus records on the status branch every stack at rest, as
// a daemon that ran before would have, so that the measured daemon starts
// on an estate it knows. (A first adoption of 1,000 stacks against a sim
// state file rewrites the file on every API call and takes minutes.)
// It returns the in-memory cloud those passes left.
func writeRestStatus(ctx context.Context, spec estate.Spec, url, cache string) (*sim.Cloud, error) {
	cloud, _, rec, err := openRemote(ctx, spec, url, cache)
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
	_, err = estate.Until(ctx, rec, cloud, time.Minute, 20, estate.AtRestCond)
	return cloud, err
}

// seedStateFile writes the simulated cloud with every stack at rest, its
// listeners as the passes on rest left them (stickiness included), so that
// the daemon finds nothing to put back.
func seedStateFile(ctx context.Context, path string, spec estate.Spec, rest *sim.Cloud) error {
	c, err := sim.Open(path, sim.Options{})
	if err != nil {
		return err
	}
	repo, err := spec.Load("seed")
	if err != nil {
		return err
	}
	if err := estate.SeedAtRest(c, repo); err != nil {
		return err
	}
	refs := make([]reconciler.ListenerRef, spec.Stacks)
	for i := range refs {
		refs[i] = reconciler.ListenerRef{Listener: estate.Listener(i)}
	}
	want, err := rest.ReadListeners(ctx, refs)
	if err != nil {
		return err
	}
	have, err := c.ReadListeners(ctx, refs)
	if err != nil {
		return err
	}
	for i := range refs {
		if fmt.Sprint(have[i].Forward) != fmt.Sprint(want[i].Forward) {
			if err := c.SetForward(ctx, refs[i].Listener, "", want[i].Forward); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// countPasses reads the daemon's JSON log and sends one value per pass:
// nil, or the error of a failed pass.
func countPasses(r io.Reader, out chan<- error, progress io.Writer) {
	defer close(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg    string  `json:"msg"`
			Error  string  `json:"error"`
			Took   float64 `json:"took_ms"`
			Apply  int     `json:"applied"`
			Commit bool    `json:"committed"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch {
		case line.Msg == "pass failed":
			out <- fmt.Errorf("daemon pass failed: %s", line.Error)
		case line.Msg == "pass" || strings.HasPrefix(line.Msg, "pass:"):
			fmt.Fprintf(progress, "amigo-bench: daemon pass took %gms, applied %d, committed %v\n", line.Took, line.Apply, line.Commit)
			out <- nil
		}
	}
}

func waitPasses(ctx context.Context, pid, n int, passes <-chan error) (float64, error) {
	timeout := time.NewTimer(3 * time.Minute)
	defer timeout.Stop()
	for seen := 0; seen < n; {
		select {
		case err, ok := <-passes:
			if !ok {
				return 0, fmt.Errorf("daemon exited after %d passes", seen)
			}
			if err != nil {
				return 0, err
			}
			seen++
		case <-timeout.C:
			return 0, fmt.Errorf("daemon ran %d passes in 3 minutes, want %d", seen, n)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return vmHWM(pid)
}

// vmHWM reads the peak resident set of pid from /proc, in MB.
func vmHWM(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", rest, err)
			}
			return float64(kb) / 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
