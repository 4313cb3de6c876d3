package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/amigo-gitops/amigo/cmd/amigo-bench/estate"
	"github.com/amigo-gitops/amigo/desired/gitrepo"
)

// benchPoll: the cost of one poll (gitrepo Fetch) of an unchanged remote
// against `git ls-remote` on the same URL, and of a poll that finds one new
// commit, on a long and a short history served over smart HTTP.
func benchPoll(ctx context.Context, cfg config, r *report) error {
	root := filepath.Join(cfg.work, "poll")
	g, err := newGitServer(ctx, root, filepath.Join(cfg.work, "home"))
	if err != nil {
		return err
	}
	defer g.close()
	for _, n := range []int{cfg.commits, cfg.fewCommits} {
		p, err := pollCosts(ctx, cfg, g, root, n)
		if err != nil {
			return fmt.Errorf("%d commits: %w", n, err)
		}
		label := fmt.Sprintf("(%d commits)", n)
		suffix := fmt.Sprintf("_%d", n)
		r.add("poll_ms"+suffix, "poll, unchanged "+label, p.poll, "ms")
		r.add("ls_remote_ms"+suffix, "git ls-remote "+label, p.lsRemote, "ms")
		r.add("poll_new_commit_ms"+suffix, "poll, one new commit "+label, p.newCommit, "ms")
		r.value("clone_ms"+suffix, p.clone)
		if n == cfg.commits {
			r.atMost("poll_vs_ls_remote_ratio", "poll / ls-remote "+label, p.poll/p.lsRemote, "ratio", 1.5)
		}
	}
	return nil
}

type pollFigures struct{ poll, lsRemote, newCommit, clone float64 }

func pollCosts(ctx context.Context, cfg config, g *gitServer, root string, n int) (pollFigures, error) {
	bare := filepath.Join(root, fmt.Sprintf("history-%d.git", n))
	spec := estate.Spec{Stacks: 2, Strategy: estate.Mixed, Version: "v1.5"}
	var s stream
	files := spec.Files()
	files["history.txt"] = []byte("0\n")
	s.commit("estate", files)
	for i := 1; i < n; i++ {
		s.commit(fmt.Sprintf("change %d", i), map[string][]byte{"history.txt": []byte(fmt.Sprintf("%d\n", i))})
	}
	if err := newBare(ctx, bare, &s); err != nil {
		return pollFigures{}, err
	}
	url := g.url(bare)
	src, err := gitrepo.Open(ctx, gitrepo.Options{URL: url, Branch: "main", CacheDir: filepath.Join(cfg.work, fmt.Sprintf("poll-cache-%d", n))})
	if err != nil {
		return pollFigures{}, err
	}
	var out pollFigures
	start := time.Now()
	if _, err := src.Fetch(ctx); err != nil {
		return out, err
	}
	out.clone = ms(time.Since(start))
	var poll, ls, fresh []float64
	for i := 0; i < cfg.reps; i++ {
		d, err := timeFetch(ctx, src)
		if err != nil {
			return out, err
		}
		poll = append(poll, ms(d))
		start := time.Now()
		if err := exec.CommandContext(ctx, "git", "ls-remote", url).Run(); err != nil {
			return out, fmt.Errorf("git ls-remote: %w", err)
		}
		ls = append(ls, ms(time.Since(start)))
	}
	for i := 0; i < cfg.reps; i++ {
		var c stream
		c.continueMain()
		c.commit(fmt.Sprintf("new %d", i), map[string][]byte{"history.txt": []byte(fmt.Sprintf("new %d\n", i))})
		if err := c.importInto(ctx, bare); err != nil {
			return out, err
		}
		d, err := timeFetch(ctx, src)
		if err != nil {
			return out, err
		}
		fresh = append(fresh, ms(d))
	}
	out.poll, out.lsRemote, out.newCommit = median(poll), median(ls), median(fresh)
	return out, nil
}

func timeFetch(ctx context.Context, src *gitrepo.Repo) (time.Duration, error) {
	start := time.Now()
	_, err := src.Fetch(ctx)
	return time.Since(start), err
}
