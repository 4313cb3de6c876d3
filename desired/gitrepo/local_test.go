package gitrepo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/desired/gitrepo"
)

func TestLocalFetchAndFiles(t *testing.T) {
	dir := newWorkingCopy(t, map[string]string{"amigo.yaml": "apiVersion: amigo/v1\n"})
	r := open(t, gitrepo.Options{URL: dir})
	if got, want := r.Branch(), "main"; got != want {
		t.Errorf("Branch() = %q, want %q", got, want)
	}
	if got, want := fetch(t, r), runGit(t, dir, "rev-parse", "HEAD"); got != want {
		t.Errorf("Fetch = %s, want %s", got, want)
	}

	rev := commitFiles(t, dir, map[string]string{
		"environments/prd/web.yaml": "version: 1.2.0\n",
		"status/prd/web.yaml":       "phase: Healthy\n",
		"big.bin":                   strings.Repeat("x", 1<<20+1),
	}, "add prd/web")
	writeFiles(t, dir, map[string]string{"amigo.yaml": "uncommitted\n"})

	if got := fetch(t, r); got != rev {
		t.Errorf("Fetch after commit = %s, want %s", got, rev)
	}
	files, err := r.Files(context.Background(), rev)
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	want := map[string]string{
		"amigo.yaml":                "apiVersion: amigo/v1\n",
		"environments/prd/web.yaml": "version: 1.2.0\n",
	}
	if diff := cmp.Diff(want, strs(files)); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	subject, err := r.CommitSubject(context.Background(), rev)
	if err != nil || subject != "add prd/web" {
		t.Errorf("CommitSubject = %q, %v, want %q", subject, err, "add prd/web")
	}
}

func TestLocalWriteStatus(t *testing.T) {
	dir := newWorkingCopy(t, map[string]string{"amigo.yaml": "a\n"})
	writeFiles(t, dir, map[string]string{"amigo.yaml": "dirty\n", "untracked.txt": "u\n"})
	runGit(t, dir, "add", "amigo.yaml")
	statusBefore := runGit(t, dir, "status", "--porcelain")
	headBefore := readFile(t, filepath.Join(dir, ".git", "HEAD"))
	mainBefore := runGit(t, dir, "rev-parse", "main")

	r := open(t, gitrepo.Options{URL: dir})
	got, err := r.ReadStatus(context.Background())
	if err != nil || len(got) != 0 {
		t.Fatalf("ReadStatus before any write = %v, %v, want empty", got, err)
	}
	writes := []struct {
		name       string
		files      map[string]string
		wantCommit bool
	}{
		{"first write", map[string]string{"STATUS.md": "# s\n", "status/prd/web.yaml": "phase: Progressing\n"}, true},
		{"identical write", map[string]string{"STATUS.md": "# s\n", "status/prd/web.yaml": "phase: Progressing\n"}, false},
		{"changed write drops a file", map[string]string{"status/prd/web.yaml": "phase: Healthy\n"}, true},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			committed, err := r.WriteStatus(context.Background(), bytesOf(w.files), "status")
			if err != nil {
				t.Fatalf("WriteStatus: %v", err)
			}
			if committed != w.wantCommit {
				t.Errorf("committed = %v, want %v", committed, w.wantCommit)
			}
			got, err := r.ReadStatus(context.Background())
			if err != nil {
				t.Fatalf("ReadStatus: %v", err)
			}
			if diff := cmp.Diff(w.files, strs(got)); diff != "" {
				t.Errorf("ReadStatus (-want +got):\n%s", diff)
			}
		})
	}
	if n := len(history(t, dir, "amigo/status")); n != 2 {
		t.Errorf("status branch has %d commits, want 2", n)
	}
	if got := runGit(t, dir, "status", "--porcelain"); got != statusBefore {
		t.Errorf("worktree status = %q, want %q", got, statusBefore)
	}
	if got := readFile(t, filepath.Join(dir, ".git", "HEAD")); got != headBefore {
		t.Errorf("HEAD = %q, want %q", got, headBefore)
	}
	if got := runGit(t, dir, "rev-parse", "main"); got != mainBefore {
		t.Errorf("main = %s, want %s", got, mainBefore)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLocalWatch(t *testing.T) {
	dir := newWorkingCopy(t, map[string]string{"amigo.yaml": "a\n"})
	r := open(t, gitrepo.Options{URL: dir})
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	notified := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() {
		done <- r.Watch(ctx, func() { notified <- struct{}{} })
	}()

	// The watcher may not be armed when the first commit lands, so commit
	// until one is seen.
	seen := false
	for i := 0; i < 20 && !seen; i++ {
		commitFiles(t, dir, map[string]string{"amigo.yaml": strings.Repeat("b", i+1)}, "change")
		select {
		case <-notified:
			seen = true
		case <-time.After(500 * time.Millisecond):
		}
	}
	if !seen {
		t.Errorf("Watch did not notify after commits by another process")
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch returned %v, want nil on cancel", err)
	}
	waitGoroutines(t, before)
}

// waitGoroutines fails the test when goroutines started since before are
// still running once they had time to exit.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	n := 0
	for i := 0; i < 100; i++ {
		if n = runtime.NumGoroutine(); n <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines after Watch returned, want at most %d", n, before)
}

func TestRemoteWatchReturnsAtOnce(t *testing.T) {
	bare := newBare(t)
	r := open(t, gitrepo.Options{URL: "file://" + bare})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Watch(ctx, func() { t.Error("notify called in remote mode") }); err != nil {
		t.Errorf("Watch = %v, want nil", err)
	}
}

func TestLocalRevert(t *testing.T) {
	const path = "environments/prd/web.yaml"
	tests := []struct {
		name     string
		checkout string // branch checked out in the working copy
		dirty    bool
		wantErr  bool
	}{
		{name: "branch checked out, clean worktree", checkout: "main"},
		{name: "branch checked out, dirty worktree", checkout: "main", dirty: true, wantErr: true},
		{name: "other branch checked out, dirty worktree", checkout: "other", dirty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newWorkingCopy(t, map[string]string{path: "version: 1.0\n", "amigo.yaml": "a\n"})
			bump := commitFiles(t, dir, map[string]string{path: "version: 1.1\n", "environments/prd/hlp.yaml": "version: 1.1\n"}, "bump prd to 1.1")
			commitFiles(t, dir, map[string]string{"amigo.yaml": "b\n"}, "unrelated")
			runGit(t, dir, "checkout", "-q", "-B", tt.checkout)
			writeFiles(t, dir, map[string]string{"untracked.txt": "keep me\n"})
			if tt.dirty {
				writeFiles(t, dir, map[string]string{"amigo.yaml": "local edit\n"})
			}
			r := open(t, gitrepo.Options{URL: dir, Branch: "main"})
			before := runGit(t, dir, "rev-parse", "main")

			commit, err := r.Revert(context.Background(), fetch(t, r), path, "analysis failed")
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Revert succeeded, want an error for a dirty checkout")
				}
				if got := runGit(t, dir, "rev-parse", "main"); got != before {
					t.Errorf("main moved to %s after a refused revert, want %s", got, before)
				}
				return
			}
			if err != nil {
				t.Fatalf("Revert: %v", err)
			}
			if got := runGit(t, dir, "rev-parse", "main"); got != commit {
				t.Errorf("main = %s, want the revert %s", got, commit)
			}
			files, err := r.Files(context.Background(), commit)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{path: "version: 1.0\n", "amigo.yaml": "b\n"}
			if diff := cmp.Diff(want, strs(files)); diff != "" {
				t.Errorf("files after revert (-want +got):\n%s", diff)
			}
			wantMsg := "Revert \"bump prd to 1.1\"\n\nThis reverts commit " + bump + ".\n\nanalysis failed\n"
			if got := commitMessage(t, dir, commit); got != wantMsg {
				t.Errorf("message = %q, want %q", got, wantMsg)
			}
			if got := readFile(t, filepath.Join(dir, "untracked.txt")); got != "keep me\n" {
				t.Errorf("untracked file = %q, want it kept", got)
			}
			wantStatus := "?? untracked.txt"
			if tt.dirty {
				wantStatus = "M amigo.yaml\n" + wantStatus // leading space trimmed
			}
			if got := runGit(t, dir, "status", "--porcelain"); got != wantStatus {
				t.Errorf("git status = %q, want %q", got, wantStatus)
			}
		})
	}
}

func TestLocalRevertConflict(t *testing.T) {
	const path = "environments/prd/web.yaml"
	dir := newWorkingCopy(t, map[string]string{path: "version: 1.0\n"})
	bump := commitFiles(t, dir, map[string]string{path: "version: 1.1\n"}, "bump to 1.1")
	commitFiles(t, dir, map[string]string{path: "version: 1.2\n"}, "bump to 1.2")
	r := open(t, gitrepo.Options{URL: dir})
	head := fetch(t, r)

	_, err := r.Revert(context.Background(), bump, path, "")
	if !errors.Is(err, gitrepo.ErrRevertConflict) {
		t.Errorf("Revert = %v, want ErrRevertConflict", err)
	}
	if got := runGit(t, dir, "rev-parse", "main"); got != head {
		t.Errorf("main = %s after a conflict, want %s", got, head)
	}
}

// TestLocalAfterGC reads objects that git gc moved into a new pack after
// the repository was opened, as happens under a long-running daemon.
func TestLocalAfterGC(t *testing.T) {
	dir := newWorkingCopy(t, map[string]string{"amigo.yaml": "a\n"})
	runGit(t, dir, "gc", "-q")
	r := open(t, gitrepo.Options{URL: dir})
	if _, err := r.Files(context.Background(), fetch(t, r)); err != nil {
		t.Fatalf("Files: %v", err)
	}
	commitFiles(t, dir, map[string]string{"amigo.yaml": "b\n"}, "change")
	runGit(t, dir, "gc", "-q", "--prune=now")
	rev := fetch(t, r)
	files, err := r.Files(context.Background(), rev)
	if err != nil {
		t.Fatalf("Files after gc: %v", err)
	}
	if got, want := string(files["amigo.yaml"]), "b\n"; got != want {
		t.Errorf("amigo.yaml = %q, want %q", got, want)
	}
}
