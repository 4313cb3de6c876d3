package gitrepo

import (
	"bytes"
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// ReadStatus returns the files on the status branch as last fetched (remote
// mode) or as in the repository (local mode); none when the branch does not
// exist.
func (r *Repo) ReadStatus(ctx context.Context) (map[string][]byte, error) {
	defer r.mu.Unlock()
	if err := r.lock(); err != nil {
		return nil, err
	}
	files, err := r.filesAt(r.o.StatusBranch)
	if err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	return files, nil
}

// filesAt reads every regular file at the head of branch.
func (r *Repo) filesAt(branch string) (map[string][]byte, error) {
	head, err := r.head(branch)
	if err != nil {
		return nil, err
	}
	return r.filesOfCommit(head)
}

func (r *Repo) filesOfCommit(c plumbing.Hash) (map[string][]byte, error) {
	tree, err := r.treeOf(c)
	if err != nil || tree.IsZero() {
		return map[string][]byte{}, err
	}
	return r.readTree(tree, func(string, int64) bool { return true })
}

// WriteStatus makes the status branch hold files, committing only when the
// tree changes. When another writer moved the branch in the meantime, the
// commit is rebuilt on their head: our files overlaid on their tree, so the
// files they added or changed that are not ours survive, and the push is
// retried without force.
func (r *Repo) WriteStatus(ctx context.Context, files map[string][]byte, message string) (bool, error) {
	defer r.mu.Unlock()
	if err := r.lock(); err != nil {
		return false, err
	}
	branch := r.o.StatusBranch
	base, err := r.head(branch)
	if err != nil {
		return false, fmt.Errorf("write status: %w", err)
	}
	baseFiles, err := r.filesOfCommit(base)
	if err != nil {
		return false, fmt.Errorf("write status: %w", err)
	}
	build := func(head plumbing.Hash) (plumbing.Hash, error) {
		return r.statusCommit(base, baseFiles, head, files, message)
	}
	c, err := r.update(ctx, branch, build)
	if err != nil {
		return false, fmt.Errorf("write status to %s: %w", branch, err)
	}
	return !c.IsZero(), nil
}

// statusCommit builds the status commit on head, zero when head already
// holds the resulting tree.
func (r *Repo) statusCommit(base plumbing.Hash, baseFiles map[string][]byte, head plumbing.Hash, ours map[string][]byte, message string) (plumbing.Hash, error) {
	want := ours
	if head != base {
		theirs, err := r.filesOfCommit(head)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		want = mergeStatus(baseFiles, theirs, ours)
	}
	tree, err := r.buildTree(want)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	headTree, err := r.treeOf(head)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if tree == headTree || (head.IsZero() && tree == emptyTree) {
		return plumbing.ZeroHash, nil
	}
	return r.writeCommit(tree, head, message)
}

// mergeStatus overlays ours on theirs: every file of ours, plus each file of
// theirs that is not ours and that they added or changed since base. A file
// of base that we dropped and they left alone stays dropped.
func mergeStatus(base, theirs, ours map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(ours)+len(theirs))
	for p, b := range ours {
		out[p] = b
	}
	for p, b := range theirs {
		if _, ok := ours[p]; ok {
			continue
		}
		if old, ok := base[p]; ok && bytes.Equal(old, b) {
			continue
		}
		out[p] = b
	}
	return out
}
