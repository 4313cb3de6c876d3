package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/amigo-gitops/amigo/cmd/amigo-bench/estate"
	"github.com/amigo-gitops/amigo/desired/gitrepo"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
	"github.com/amigo-gitops/amigo/reconciler/webhook"
)

// budget is the operations handbook's time for a rollback.
const budget = 3 * time.Minute

const secret = "bench-webhook-secret"

// daemon is the reconcile loop wired as `amigo run` wires it: webhook
// handler -> Coalescer -> Run, with a poll interval so long that only a
// webhook can explain a pass.
type daemon struct {
	rec     *reconciler.Reconciler
	trig    *webhook.Coalescer
	srv     *httptest.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	passes  []pass
	started chan struct{}
}

type pass struct {
	trigger string
	end     time.Time
	took    time.Duration
	err     error
}

func startDaemon(ctx context.Context, src *gitrepo.Repo, rec *reconciler.Reconciler) *daemon {
	d := &daemon{rec: rec, trig: webhook.NewCoalescer(), started: make(chan struct{})}
	d.srv = httptest.NewServer(webhook.NewHandler(webhook.Options{
		Secret:        func() []byte { return []byte(secret) },
		DesiredBranch: src.Branch,
		StatusBranch:  src.StatusBranch,
		OnPush:        func(webhook.PushEvent) { d.trig.Trigger("webhook") },
	}))
	ctx, d.cancel = context.WithCancel(ctx)
	var once sync.Once
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		_ = rec.Run(ctx, reconciler.LoopOptions{
			Interval: func() time.Duration { return time.Hour },
			Triggers: d.trig.C(),
			MinGap:   500 * time.Millisecond, // as amigo run's --burst-gap
			OnPass: func(trigger string, _ reconciler.PassResult, err error, took time.Duration) {
				d.mu.Lock()
				d.passes = append(d.passes, pass{trigger: trigger, end: time.Now(), took: took, err: err})
				d.mu.Unlock()
				once.Do(func() { close(d.started) })
			},
		})
	}()
	return d
}

func (d *daemon) stop() {
	d.cancel()
	d.wg.Wait()
	d.srv.Close()
}

func (d *daemon) passList() []pass {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]pass(nil), d.passes...)
}

// deliver posts a signed push delivery and returns the response time.
func deliver(ctx context.Context, client *http.Client, url, after string) (time.Duration, int, error) {
	body, _ := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "before": "0000000000000000000000000000000000000000", "after": after,
		"total_commits": 1, "commits": []any{map[string]any{"id": after, "message": "revert"}},
		"repository": map[string]any{"full_name": "bench/config"}, "pusher": map[string]any{"login": "bench"},
	})
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/hooks/gitea", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Gitea-Event", "push")
	req.Header.Set("X-Gitea-Signature", hex.EncodeToString(mac.Sum(nil)))
	start := time.Now()
	resp, err := client.Do(req)
	took := time.Since(start)
	if err != nil {
		return took, 0, err
	}
	resp.Body.Close()
	return took, resp.StatusCode, nil
}

// benchRevert: a bluegreen stack at 50% of its rollout; a revert commit is
// pushed and the push webhook delivered; the figure runs from the push to
// the listener reading back 100% on the stable fleet's target group.
func benchRevert(ctx context.Context, cfg config, r *report) error {
	root := filepath.Join(cfg.work, "revert")
	g, err := newGitServer(ctx, root, filepath.Join(cfg.work, "home"))
	if err != nil {
		return err
	}
	defer g.close()
	var total, fromHook []float64
	for i := 0; i < cfg.reps; i++ {
		t, h, err := revertOnce(ctx, g, filepath.Join(root, fmt.Sprintf("config-%d.git", i)), cfg.work, i)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		total, fromHook = append(total, ms(t)), append(fromHook, ms(h))
	}
	m := median(total)
	r.below("revert_to_rollback_ms", "revert push to rollback read back", m, "ms", 1000)
	r.add("revert_webhook_to_rollback_ms", "  of which webhook to read back", median(fromHook), "ms")
	r.add("revert_budget_ratio", "  share of the handbook's 3 min budget", m/ms(budget), "ratio")
	return nil
}

func revertOnce(ctx context.Context, g *gitServer, bare, work string, i int) (total, fromHook time.Duration, err error) {
	spec := estate.Spec{Stacks: 1, Strategy: "bluegreen", Version: "v1.5"}
	old := spec.Files()
	spec.Version = "v1.6"
	var s stream
	s.commit("v1.5", old)
	s.commit("v1.6", map[string][]byte{estate.Path(0): []byte(spec.Stack(0))})
	if err := newBare(ctx, bare, &s); err != nil {
		return 0, 0, err
	}
	url := g.url(bare)
	cloud, src, rec, err := openRemote(ctx, spec, url, filepath.Join(work, fmt.Sprintf("revert-cache-%d", i)))
	if err != nil {
		return 0, 0, err
	}
	repo, err := spec.Load("seed")
	if err != nil {
		return 0, 0, err
	}
	if err := estate.SeedRollout(cloud, repo); err != nil {
		return 0, 0, err
	}
	at50 := func(res reconciler.PassResult) bool { return res.Plan.Stacks[0].Status.Weight == 50 }
	if _, err := estate.Until(ctx, rec, cloud, 5*time.Minute, 50, at50); err != nil {
		return 0, 0, err
	}
	if w, err := weightOf(ctx, cloud, estate.TargetGroup(0, "green")); err != nil || w != 50 {
		return 0, 0, fmt.Errorf("green weight %d before the revert (%v), want 50", w, err)
	}
	clone := filepath.Join(work, fmt.Sprintf("revert-clone-%d", i))
	wt, gr, err := cloneForRevert(ctx, url, clone)
	if err != nil {
		return 0, 0, err
	}
	d := startDaemon(ctx, src, rec)
	defer d.stop()
	<-d.started
	return pushRevert(ctx, d, cloud, wt, gr, clone, old[estate.Path(0)])
}

func openRemote(ctx context.Context, spec estate.Spec, url, cache string) (*sim.Cloud, *gitrepo.Repo, *reconciler.Reconciler, error) {
	cloud, err := sim.Open("", sim.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	src, err := gitrepo.Open(ctx, gitrepo.Options{URL: url, Branch: "main", CacheDir: cache})
	if err != nil {
		return nil, nil, nil, err
	}
	return cloud, src, reconciler.New(reconciler.Options{Source: src, Cloud: cloud.Cloud()}), nil
}

func cloneForRevert(ctx context.Context, url, dir string) (*git.Worktree, *git.Repository, error) {
	gr, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{URL: url})
	if err != nil {
		return nil, nil, fmt.Errorf("clone: %w", err)
	}
	wt, err := gr.Worktree()
	return wt, gr, err
}

// pushRevert commits the old stack file, pushes it, delivers the webhook
// and waits for the listener to read back 100% on blue.
func pushRevert(ctx context.Context, d *daemon, cloud *sim.Cloud, wt *git.Worktree, gr *git.Repository, dir string, content []byte) (time.Duration, time.Duration, error) {
	if err := os.WriteFile(filepath.Join(dir, estate.Path(0)), content, 0o644); err != nil {
		return 0, 0, err
	}
	if _, err := wt.Add(estate.Path(0)); err != nil {
		return 0, 0, err
	}
	sig := &object.Signature{Name: "operator", Email: "ops@localhost", When: time.Now()}
	h, err := wt.Commit("Revert \"v1.6\"", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := gr.PushContext(ctx, &git.PushOptions{}); err != nil {
		return 0, 0, fmt.Errorf("push: %w", err)
	}
	hook := time.Now()
	if _, code, err := deliver(ctx, http.DefaultClient, d.srv.URL, h.String()); err != nil || code != http.StatusAccepted {
		return 0, 0, fmt.Errorf("webhook: status %d, %v", code, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		w, err := weightOf(ctx, cloud, estate.TargetGroup(0, "blue"))
		if err != nil {
			return 0, 0, err
		}
		if w == 100 {
			now := time.Now()
			return now.Sub(start), now.Sub(hook), nil
		}
		time.Sleep(500 * time.Microsecond)
	}
	return 0, 0, fmt.Errorf("listener not back on blue 30s after the revert; passes: %+v", d.passList())
}

// weightOf reads stack 0's listener back from the cloud.
func weightOf(ctx context.Context, cloud *sim.Cloud, tg string) (int, error) {
	ls, err := cloud.ReadListeners(ctx, []reconciler.ListenerRef{{Listener: estate.Listener(0)}})
	if err != nil {
		return 0, err
	}
	return ls[0].Forward.Weight(tg), nil
}
