package gitrepo

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/desired/gitrepo/gittest"
)

func TestMergeStatus(t *testing.T) {
	tests := []struct {
		name               string
		base, theirs, ours map[string]string
		want               map[string]string
	}{
		{
			name: "ours replaces an unchanged base",
			base: map[string]string{"a": "1", "b": "1"}, theirs: map[string]string{"a": "1", "b": "1"},
			ours: map[string]string{"a": "2"},
			want: map[string]string{"a": "2"},
		},
		{
			name: "their new file survives",
			base: map[string]string{"a": "1"}, theirs: map[string]string{"a": "1", "c": "1"},
			ours: map[string]string{"a": "2"},
			want: map[string]string{"a": "2", "c": "1"},
		},
		{
			name: "their change to a file we dropped survives",
			base: map[string]string{"a": "1", "b": "1"}, theirs: map[string]string{"a": "1", "b": "2"},
			ours: map[string]string{"a": "2"},
			want: map[string]string{"a": "2", "b": "2"},
		},
		{
			name: "ours wins on a file both wrote",
			base: map[string]string{}, theirs: map[string]string{"a": "theirs"},
			ours: map[string]string{"a": "ours"},
			want: map[string]string{"a": "ours"},
		},
		{
			name: "their deletion of our file is undone",
			base: map[string]string{"a": "1"}, theirs: map[string]string{},
			ours: map[string]string{"a": "1"},
			want: map[string]string{"a": "1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeStatus(toBytes(tt.base), toBytes(tt.theirs), toBytes(tt.ours))
			if diff := cmp.Diff(toBytes(tt.want), got); diff != "" {
				t.Errorf("mergeStatus (-want +got):\n%s", diff)
			}
		})
	}
}

func toBytes(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

// TestLocalCompareAndSwap moves the status ref behind amigo's back while it
// builds a commit: the swap must fail and the commit be rebuilt on the new
// head, never overwriting it.
func TestLocalCompareAndSwap(t *testing.T) {
	dir := gittest.NewBareRepo(t, map[string]string{"amigo.yaml": "a"})
	r, err := Open(context.Background(), Options{URL: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteStatus(context.Background(), toBytes(map[string]string{"STATUS.md": "1"}), "s"); err != nil {
		t.Fatal(err)
	}
	var heads []plumbing.Hash
	var theirs plumbing.Hash
	build := func(head plumbing.Hash) (plumbing.Hash, error) {
		heads = append(heads, head)
		if len(heads) == 1 {
			theirs = plumbing.NewHash(gittest.Commit(t, dir, "amigo/status", map[string]string{"other": "x"}, "other writer"))
		}
		tree, err := r.buildTree(toBytes(map[string]string{"STATUS.md": "2"}))
		if err != nil {
			return plumbing.ZeroHash, err
		}
		return r.writeCommit(tree, head, "ours")
	}
	got, err := r.update(context.Background(), "amigo/status", build)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if len(heads) != 2 || heads[1] != theirs {
		t.Fatalf("build called with heads %v, want a second call on the other writer's %s", heads, theirs)
	}
	c, err := r.repo.CommitObject(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]plumbing.Hash{theirs}, c.ParentHashes); diff != "" {
		t.Errorf("parents (-want +got):\n%s", diff)
	}
	if head, _ := r.head("amigo/status"); head != got {
		t.Errorf("status head = %s, want %s", head, got)
	}
}

// TestBuildTreeIsValidGit checks entry order and encoding with git fsck,
// using names whose order differs between files and folders.
func TestBuildTreeIsValidGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not available")
	}
	dir := gittest.NewBareRepo(t, map[string]string{"amigo.yaml": "a"})
	r, err := Open(context.Background(), Options{URL: dir, Clock: func() time.Time { return gittest.When }})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"status/prd/web.yaml": "a", "status.md": "b", "status-old/x": "c",
		"status/dev/web.yaml": "d", "STATUS.md": "e", "a/b/c/d": "f",
	}
	if _, err := r.WriteStatus(context.Background(), toBytes(files), "s"); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", dir, "fsck", "--strict", "--no-dangling").CombinedOutput()
	if err != nil {
		t.Fatalf("git fsck: %v\n%s", err, out)
	}
	got, err := r.ReadStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(toBytes(files), got); diff != "" {
		t.Errorf("ReadStatus (-want +got):\n%s", diff)
	}
}

func TestWriteStatusRejectsBadPaths(t *testing.T) {
	dir := gittest.NewBareRepo(t, map[string]string{"amigo.yaml": "a"})
	r, err := Open(context.Background(), Options{URL: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"../x", "/abs", "a//b", ".git/config", "a/./b", ""} {
		t.Run(p, func(t *testing.T) {
			if _, err := r.WriteStatus(context.Background(), map[string][]byte{p: []byte("x")}, "s"); err == nil {
				t.Errorf("WriteStatus(%q) succeeded, want an error", p)
			}
		})
	}
}
