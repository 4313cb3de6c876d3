package gitrepo_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/amigo-gitops/amigo/desired/gitrepo"
)

var clock = func() time.Time { return time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC) }

// runGit runs the system git in dir as another process would, with a
// hermetic configuration.
func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not available")
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
		"GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@localhost",
		"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@localhost")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// newWorkingCopy creates a non-bare repository on main with files
// committed by the system git.
func newWorkingCopy(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "work")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, dir, "init", "-q", "-b", "main")
	commitFiles(t, dir, files, "initial config")
	return dir
}

// commitFiles writes files into the worktree and commits them with git.
func commitFiles(t *testing.T, dir string, files map[string]string, message string) string {
	t.Helper()
	writeFiles(t, dir, files)
	runGit(t, dir, "add", "-A")
	runGit(t, dir, "commit", "-q", "-m", message)
	return runGit(t, dir, "rev-parse", "HEAD")
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func open(t *testing.T, o gitrepo.Options) *gitrepo.Repo {
	t.Helper()
	if o.Clock == nil {
		o.Clock = clock
	}
	if o.CacheDir == "" && strings.Contains(o.URL, "://") {
		o.CacheDir = filepath.Join(t.TempDir(), "cache")
	}
	r, err := gitrepo.Open(context.Background(), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

func fetch(t *testing.T, r *gitrepo.Repo) string {
	t.Helper()
	rev, err := r.Fetch(context.Background())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return rev
}

func strs(files map[string][]byte) map[string]string {
	out := make(map[string]string, len(files))
	for p, b := range files {
		out[p] = string(b)
	}
	return out
}

func bytesOf(files map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for p, s := range files {
		out[p] = []byte(s)
	}
	return out
}

// branchHead reads a branch of the repository at dir, zero when absent.
func branchHead(t *testing.T, dir, branch string) plumbing.Hash {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return plumbing.ZeroHash
	}
	return ref.Hash()
}

// history lists first-parent history from the head of branch, failing the
// test on any merge commit.
func history(t *testing.T, dir, branch string) []*object.Commit {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	c, err := repo.CommitObject(branchHead(t, dir, branch))
	if err != nil {
		t.Fatalf("head of %s: %v", branch, err)
	}
	var out []*object.Commit
	for {
		out = append(out, c)
		if c.NumParents() > 1 {
			t.Errorf("commit %s has %d parents, want a linear history", c.Hash, c.NumParents())
		}
		if c.NumParents() == 0 {
			return out
		}
		if c, err = c.Parent(0); err != nil {
			t.Fatalf("parent: %v", err)
		}
	}
}

func commitMessage(t *testing.T, dir, rev string) string {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	c, err := repo.CommitObject(plumbing.NewHash(rev))
	if err != nil {
		t.Fatalf("commit %s: %v", rev, err)
	}
	return c.Message
}
