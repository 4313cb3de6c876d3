package gitrepo_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/desired/gitrepo"
	"github.com/amigo-gitops/amigo/desired/gitrepo/gittest"
)

const webPath = "environments/prd/web.yaml"

func newBare(t *testing.T) string {
	t.Helper()
	return gittest.NewBareRepo(t, map[string]string{
		"amigo.yaml": "apiVersion: amigo/v1\n",
		webPath:      "version: 1.0\n",
	})
}

var transports = []struct {
	name string
	url  func(t *testing.T, bare string) string
}{
	{"file", func(t *testing.T, bare string) string { return "file://" + bare }},
	{"http", func(t *testing.T, bare string) string { return gittest.NewHTTPServer(t, bare) }},
}

func TestRemoteFetch(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			bare := newBare(t)
			r := open(t, gitrepo.Options{URL: tr.url(t, bare)})
			if got, want := r.Branch(), "main"; got != want {
				t.Errorf("Branch() = %q, want the remote HEAD %q", got, want)
			}
			if got, want := fetch(t, r), branchHead(t, bare, "main").String(); got != want {
				t.Errorf("Fetch = %s, want %s", got, want)
			}
			next := gittest.Commit(t, bare, "main", map[string]string{webPath: "version: 1.1\n"}, "bump")
			rev := fetch(t, r)
			if rev != next {
				t.Errorf("Fetch after a push = %s, want %s", rev, next)
			}
			files, err := r.Files(context.Background(), rev)
			if err != nil {
				t.Fatalf("Files: %v", err)
			}
			want := map[string]string{"amigo.yaml": "apiVersion: amigo/v1\n", webPath: "version: 1.1\n"}
			if diff := cmp.Diff(want, strs(files)); diff != "" {
				t.Errorf("Files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRemoteDefaultBranchFollowsHEAD(t *testing.T) {
	bare := newBare(t)
	gittest.Commit(t, bare, "trunk", map[string]string{"x": "y"}, "trunk")
	repo, err := git.PlainOpen(bare)
	if err != nil {
		t.Fatal(err)
	}
	head := plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName("trunk"))
	if err := repo.Storer.SetReference(head); err != nil {
		t.Fatal(err)
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			r := open(t, gitrepo.Options{URL: tr.url(t, bare)})
			if got, want := r.Branch(), "trunk"; got != want {
				t.Errorf("Branch() = %q, want %q", got, want)
			}
		})
	}
}

// TestRemoteFetchUnchanged counts the server's requests: an unchanged
// remote costs one ref advertisement and no upload-pack, also for a new
// Repo reusing the cache.
func TestRemoteFetchUnchanged(t *testing.T) {
	bare := newBare(t)
	srv := gittest.StartHTTPServer(t, bare)
	cache := filepath.Join(t.TempDir(), "cache")
	r := open(t, gitrepo.Options{URL: srv.URL, Branch: "main", CacheDir: cache})
	first := fetch(t, r)
	if n := countUploadPack(srv.Requests()); n != 1 {
		t.Fatalf("first Fetch made %d upload-pack requests, want 1", n)
	}

	tests := []struct {
		name string
		repo func() *gitrepo.Repo
	}{
		{"same repo", func() *gitrepo.Repo { return r }},
		{"reopened cache", func() *gitrepo.Repo {
			return open(t, gitrepo.Options{URL: srv.URL, Branch: "main", CacheDir: cache})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := tt.repo()
			srv.Reset()
			if got := fetch(t, repo); got != first {
				t.Errorf("Fetch = %s, want %s", got, first)
			}
			want := []gittest.Request{{Method: "GET", Path: "/config.git/info/refs?service=git-upload-pack"}}
			if diff := cmp.Diff(want, srv.Requests()); diff != "" {
				t.Errorf("requests of an unchanged Fetch (-want +got):\n%s", diff)
			}
		})
	}
}

func countUploadPack(reqs []gittest.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/git-upload-pack") {
			n++
		}
	}
	return n
}

// TestRemoteWriteStatusRace has another writer push to the status branch
// after our last fetch: our push is rejected, rebuilt on their head and
// retried, keeping their files, without force.
func TestRemoteWriteStatusRace(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			bare := newBare(t)
			url := tr.url(t, bare)
			ours := open(t, gitrepo.Options{URL: url})
			fetch(t, ours)
			if committed, err := ours.WriteStatus(context.Background(), bytesOf(map[string]string{"STATUS.md": "v1\n"}), "status 1"); err != nil || !committed {
				t.Fatalf("first WriteStatus = %v, %v, want a commit", committed, err)
			}

			theirs := open(t, gitrepo.Options{URL: url})
			fetch(t, theirs)
			other := map[string]string{"STATUS.md": "v1\n", "status/prd/hlp.yaml": "phase: Healthy\n"}
			if _, err := theirs.WriteStatus(context.Background(), bytesOf(other), "other writer"); err != nil {
				t.Fatalf("other WriteStatus: %v", err)
			}
			theirHead := branchHead(t, bare, "amigo/status")

			mine := map[string]string{"STATUS.md": "v2\n", "status/prd/web.yaml": "phase: Progressing\n"}
			committed, err := ours.WriteStatus(context.Background(), bytesOf(mine), "status 2")
			if err != nil || !committed {
				t.Fatalf("raced WriteStatus = %v, %v, want a commit", committed, err)
			}
			want := map[string]string{
				"STATUS.md":           "v2\n",
				"status/prd/web.yaml": "phase: Progressing\n",
				"status/prd/hlp.yaml": "phase: Healthy\n",
			}
			if diff := cmp.Diff(want, gittest.Files(t, bare, "amigo/status")); diff != "" {
				t.Errorf("status branch (-want +got):\n%s", diff)
			}
			hist := history(t, bare, "amigo/status")
			if len(hist) != 3 || hist[1].Hash != theirHead {
				t.Errorf("status history has %d commits with parent %v, want 3 on top of the other writer's %s", len(hist), hist[min(1, len(hist)-1)].Hash, theirHead)
			}
			got, err := ours.ReadStatus(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, strs(got)); diff != "" {
				t.Errorf("ReadStatus (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRemoteWriteStatusNoChange(t *testing.T) {
	bare := newBare(t)
	srv := gittest.StartHTTPServer(t, bare)
	r := open(t, gitrepo.Options{URL: srv.URL})
	fetch(t, r)
	files := bytesOf(map[string]string{"STATUS.md": "ok\n"})
	if committed, err := r.WriteStatus(context.Background(), files, "s"); err != nil || !committed {
		t.Fatalf("WriteStatus = %v, %v, want a commit", committed, err)
	}
	srv.Reset()
	committed, err := r.WriteStatus(context.Background(), files, "s")
	if err != nil || committed {
		t.Errorf("identical WriteStatus = %v, %v, want no commit", committed, err)
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("identical WriteStatus made requests %v, want none", reqs)
	}
}

func TestRemoteRevert(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			bare := newBare(t)
			r := open(t, gitrepo.Options{URL: tr.url(t, bare)})
			bump := gittest.Commit(t, bare, "main", map[string]string{webPath: "version: 1.1\n"}, "bump prd/web to 1.1")
			rev := fetch(t, r)
			// A commit that lands after our fetch makes the first push race.
			gittest.Commit(t, bare, "main", map[string]string{"amigo.yaml": "changed\n"}, "unrelated")

			commit, err := r.Revert(context.Background(), rev, webPath, "analysis failed")
			if err != nil {
				t.Fatalf("Revert: %v", err)
			}
			if got := branchHead(t, bare, "main").String(); got != commit {
				t.Errorf("remote main = %s, want the revert %s", got, commit)
			}
			want := map[string]string{"amigo.yaml": "changed\n", webPath: "version: 1.0\n"}
			if diff := cmp.Diff(want, gittest.Files(t, bare, "main")); diff != "" {
				t.Errorf("main after revert (-want +got):\n%s", diff)
			}
			wantMsg := "Revert \"bump prd/web to 1.1\"\n\nThis reverts commit " + bump + ".\n\nanalysis failed\n"
			if got := commitMessage(t, bare, commit); got != wantMsg {
				t.Errorf("message = %q, want %q", got, wantMsg)
			}
			if hist := history(t, bare, "main"); len(hist) != 4 {
				t.Errorf("main has %d commits, want 4", len(hist))
			}
		})
	}
}

func TestRemoteRevertConflict(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			bare := newBare(t)
			r := open(t, gitrepo.Options{URL: tr.url(t, bare)})
			bump := gittest.Commit(t, bare, "main", map[string]string{webPath: "version: 1.1\n"}, "bump to 1.1")
			head := gittest.Commit(t, bare, "main", map[string]string{webPath: "version: 1.2\n"}, "bump to 1.2")
			fetch(t, r)

			_, err := r.Revert(context.Background(), bump, webPath, "")
			if !errors.Is(err, gitrepo.ErrRevertConflict) {
				t.Errorf("Revert = %v, want ErrRevertConflict", err)
			}
			if got := branchHead(t, bare, "main").String(); got != head {
				t.Errorf("remote main = %s after a conflict, want %s", got, head)
			}
		})
	}
}

func TestRemoteTokenAuth(t *testing.T) {
	const token = "s3cr3t-t0ken"
	bare := newBare(t)
	url := gittest.NewHTTPServer(t, bare, gittest.WithBasicAuth("deploy", token))
	tests := []struct {
		name    string
		opts    gitrepo.Options
		wantErr bool
	}{
		{name: "right token", opts: gitrepo.Options{URL: url, Username: "deploy", Token: token}},
		{name: "token in URL", opts: gitrepo.Options{URL: strings.Replace(url, "://", "://deploy:"+token+"@", 1)}},
		{name: "wrong token", opts: gitrepo.Options{URL: url, Username: "deploy", Token: "wrong-" + token}, wantErr: true},
		{name: "no token", opts: gitrepo.Options{URL: url}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Branch = "main"
			tt.opts.CacheDir = filepath.Join(t.TempDir(), "cache")
			tt.opts.Clock = clock
			r, err := gitrepo.Open(context.Background(), tt.opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if strings.Contains(r.Describe(), token) {
				t.Errorf("Describe() = %q contains the token", r.Describe())
			}
			_, err = r.Fetch(context.Background())
			if err == nil {
				_, err = r.WriteStatus(context.Background(), bytesOf(map[string]string{"STATUS.md": tt.name}), "s")
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			t.Logf("error: %v", err)
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}
