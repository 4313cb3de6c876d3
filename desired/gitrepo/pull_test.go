package gitrepo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/desired/gitrepo"
	"github.com/amigo-gitops/amigo/desired/gitrepo/gittest"
)

// setRef points ref of the bare repository at dir to commit, as Gitea does
// with refs/pull/<n>/head.
func setRef(t *testing.T, dir, ref, commit string) {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(ref), plumbing.NewHash(commit))); err != nil {
		t.Fatalf("set %s: %v", ref, err)
	}
}

func TestRemoteFetchRef(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			bare := newBare(t)
			head := gittest.Commit(t, bare, "feature", map[string]string{webPath: "version: 2.0\n"}, "bump in a pull request")
			setRef(t, bare, "refs/pull/1/head", head)
			r := open(t, gitrepo.Options{URL: tr.url(t, bare)})
			ctx := context.Background()
			got, err := r.FetchRef(ctx, "refs/pull/1/head")
			if err != nil || got != head {
				t.Fatalf("FetchRef = %s, %v; want %s", got, err, head)
			}
			files, err := r.Files(ctx, got)
			if err != nil {
				t.Fatalf("Files(%s): %v", got, err)
			}
			if diff := cmp.Diff("version: 2.0\n", string(files[webPath])); diff != "" {
				t.Errorf("%s at the pull request head (-want +got):\n%s", webPath, diff)
			}
			next := gittest.Commit(t, bare, "feature", map[string]string{webPath: "version: 2.1\n"}, "push again")
			setRef(t, bare, "refs/pull/1/head", next)
			if got, err := r.FetchRef(ctx, "refs/pull/1/head"); err != nil || got != next {
				t.Errorf("FetchRef after a new push = %s, %v; want %s", got, err, next)
			}
			if rev := fetch(t, r); rev != branchHead(t, bare, "main").String() {
				t.Errorf("Fetch after FetchRef = %s, want main's head %s", rev, branchHead(t, bare, "main"))
			}
			if _, err := r.FetchRef(ctx, "refs/pull/2/head"); !errors.Is(err, gitrepo.ErrRefNotFound) {
				t.Errorf("FetchRef of a missing ref: got %v, want ErrRefNotFound", err)
			}
		})
	}
}

func TestFetchRefRejects(t *testing.T) {
	r := open(t, gitrepo.Options{URL: "file://" + newBare(t)})
	for _, ref := range []string{"main", "refs/", "refs/pull/1/head:refs/heads/main", "refs/pull/*/head", "refs/../x", "refs/pull/1/head^", "+refs/pull/1/head"} {
		t.Run(ref, func(t *testing.T) {
			if _, err := r.FetchRef(context.Background(), ref); err == nil || errors.Is(err, gitrepo.ErrRefNotFound) {
				t.Errorf("FetchRef(%q): got %v, want a rejection", ref, err)
			}
		})
	}
}

func TestLocalFetchRef(t *testing.T) {
	dir := newWorkingCopy(t, map[string]string{webPath: "version: 1.0\n"})
	head := commitFiles(t, dir, map[string]string{webPath: "version: 1.1\n"}, "bump")
	runGit(t, dir, "update-ref", "refs/pull/3/head", head)
	r := open(t, gitrepo.Options{URL: dir})
	if got, err := r.FetchRef(context.Background(), "refs/pull/3/head"); err != nil || got != head {
		t.Errorf("FetchRef = %s, %v; want %s", got, err, head)
	}
	if _, err := r.FetchRef(context.Background(), "refs/pull/4/head"); !errors.Is(err, gitrepo.ErrRefNotFound) {
		t.Errorf("FetchRef of a missing ref: got %v, want ErrRefNotFound", err)
	}
}
