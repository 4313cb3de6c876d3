package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/sirupsen/logrus"

	"github.com/amigo-gitops/amigo/examples"
)

// Demo defaults: a day of simulated time passes in about 2.4 s, so the
// longest strategy (hybrid-canary, 11 days of pauses) finishes in a
// minute of wall time.
const (
	demoSpeed    = 36000
	demoListen   = "127.0.0.1:8080"
	demoInterval = time.Second
	demoBusy     = 200 * time.Millisecond
)

// setupDemo points the flags at the embedded example estate: the example
// config repository in a local git repository (created once, then reused so
// a restarted demo goes on where it was) and a simulated cloud on disk.
func setupDemo(f *runFlags, fls *flag.FlagSet, log *logrus.Logger) error {
	set := map[string]bool{}
	fls.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	repoDir := filepath.Join(f.demoDir, "config")
	if _, err := os.Stat(filepath.Join(repoDir, ".git")); errors.Is(err, fs.ErrNotExist) {
		if err := seedRepo(repoDir); err != nil {
			return err
		}
		log.WithField("dir", repoDir).Info("demo: example config repository created")
	} else if err != nil {
		return err
	}
	f.repo = repoDir
	defaults := map[string]func(){
		"sim-state":     func() { f.simState = filepath.Join(f.demoDir, "sim.json") },
		"sim-speed":     func() { f.simSpeed = demoSpeed },
		"listen":        func() { f.listen = demoListen },
		"interval":      func() { f.interval = demoInterval },
		"busy-interval": func() { f.busy = demoBusy },
		"driver":        func() { f.driver = "sim" },
	}
	for name, apply := range defaults {
		if !set[name] {
			apply()
		}
	}
	log.WithFields(logrus.Fields{"repo": repoDir, "sim_state": f.simState, "listen": f.listen}).
		Info("demo: edit and commit files in the repo to drive it; `amigo status --repo " + repoDir + "` shows progress")
	return nil
}

// seedRepo writes the embedded example into dir and commits it on main.
func seedRepo(dir string) error {
	src, err := fs.Sub(examples.ConfigRepo, "config-repo")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.CopyFS(dir, src); err != nil {
		return fmt.Errorf("copy example: %w", err)
	}
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		return fmt.Errorf("git init: %w", err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	if err := wt.AddGlob("."); err != nil {
		return fmt.Errorf("git add: %w", err)
	}
	sig := &object.Signature{Name: "amigo demo", Email: "demo@localhost", When: time.Now()}
	_, err = wt.Commit("idhub-40: promote v1.6 to dev, stg and prd", &git.CommitOptions{Author: sig})
	return err
}

// redact drops credentials from a repository URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
