package giteatest

import (
	"context"
	"sort"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"
	"github.com/go-git/go-billy/v5/memfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

// API returns an SDK client authenticated with the admin token, for test
// set-up and for checking what Gitea holds.
func (s *Server) API(t testing.TB) *sdk.Client {
	t.Helper()
	// A source build reports its version as "development", which the SDK's
	// version probe refuses; the harness knows it runs Version.
	cl, err := sdk.NewClient(s.url, sdk.SetToken(s.token), sdk.SetGiteaVersion(""))
	if err != nil {
		t.Fatalf("gitea client: %v", err)
	}
	return cl
}

// GitAuth returns credentials for git over HTTP as the admin user.
func (s *Server) GitAuth() *githttp.BasicAuth {
	return &githttp.BasicAuth{Username: adminUser, Password: s.token}
}

// CreateRepo creates repository name owned by Owner() and pushes one
// commit with files to its main branch. It returns the HTTP clone URL.
func (s *Server) CreateRepo(t testing.TB, name string, files map[string]string) (cloneURL string) {
	t.Helper()
	repo, _, err := s.API(t).CreateRepo(sdk.CreateRepoOption{Name: name, DefaultBranch: "main"})
	if err != nil {
		t.Fatalf("create repo %s: %v", name, err)
	}
	if len(files) > 0 {
		s.pushInitial(t, repo.CloneURL, files)
		s.waitNotEmpty(t, name)
	}
	return repo.CloneURL
}

// waitNotEmpty waits until Gitea has processed the initial push. Gitea
// handles pushes in a background queue; until then the repository is still
// marked empty and most of its API answers 404 (or worse).
func (s *Server) waitNotEmpty(t testing.TB, name string) {
	t.Helper()
	api := s.API(t)
	deadline := time.Now().Add(time.Minute)
	for {
		repo, _, err := api.GetRepo(adminUser, name)
		if err == nil && !repo.Empty {
			if _, _, err := api.GetRepoBranch(adminUser, name, "main"); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("repository %s still empty after the initial push (last error: %v)", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) pushInitial(t testing.TB, url string, files map[string]string) {
	t.Helper()
	fs := memfs.New()
	r, err := git.InitWithOptions(memory.NewStorage(), fs, git.InitOptions{DefaultBranch: plumbing.Main})
	if err != nil {
		t.Fatalf("git init: %v", err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatalf("worktree: %v", err)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f, err := fs.Create(p)
		if err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
		if _, err := f.Write([]byte(files[p])); err != nil {
			t.Fatalf("write %s: %v", p, err)
		}
		f.Close()
		if _, err := wt.Add(p); err != nil {
			t.Fatalf("git add %s: %v", p, err)
		}
	}
	sig := &object.Signature{Name: adminUser, Email: adminEmail, When: time.Now()}
	if _, err := wt.Commit("initial config", &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		t.Fatalf("git commit: %v", err)
	}
	if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}}); err != nil {
		t.Fatalf("git remote: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = r.PushContext(ctx, &git.PushOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{"refs/heads/main:refs/heads/main"},
		Auth:       s.GitAuth(),
	})
	if err != nil {
		t.Fatalf("git push: %v", err)
	}
}

// AddWebhook makes Gitea deliver push and pull_request events of
// owner/repo to url as JSON, signed with secret.
func (s *Server) AddWebhook(t testing.TB, owner, repo, url, secret string) {
	t.Helper()
	_, _, err := s.API(t).CreateRepoHook(owner, repo, sdk.CreateHookOption{
		Type:   sdk.HookTypeGitea,
		Config: map[string]string{"url": url, "content_type": "json", "secret": secret},
		Events: []string{"push", "pull_request"},
		Active: true,
	})
	if err != nil {
		t.Fatalf("add webhook to %s/%s: %v", owner, repo, err)
	}
}
