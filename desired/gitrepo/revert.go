package gitrepo

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrRevertConflict says a file the reverted commit changed has changed
// again since, so the revert would undo someone else's work. Retrying does
// not help; a person decides.
var ErrRevertConflict = errors.New("revert conflict")

// fileChange is one file a commit changed: nil entries mean absent.
type fileChange struct {
	path          string
	before, after *object.TreeEntry
}

// Revert finds the last commit at or before rev that changed path (first-
// parent history) and commits its inverse on the current head of the
// desired branch, for every file it changed. Each such file must still be
// as that commit left it, else the error wraps ErrRevertConflict. The
// commit is pushed without force and rebuilt when the push races.
//
// In local mode, when the desired branch is checked out in the working
// copy, the revert is refused unless the worktree and index are clean
// (untracked files are fine unless they sit where the revert writes). The
// branch ref is then moved and the reverted files alone are hard-reset in
// the index and worktree. Moving the ref alone would leave the checkout
// showing the inverse of the revert as a pending change.
func (r *Repo) Revert(ctx context.Context, rev, path, message string) (string, error) {
	defer r.mu.Unlock()
	if err := r.lock(); err != nil {
		return "", err
	}
	target, changes, err := r.lastChange(ctx, rev, path)
	if err != nil {
		return "", fmt.Errorf("revert %s: %w", path, err)
	}
	wt, err := r.checkedOutWorktree(changes)
	if err != nil {
		return "", fmt.Errorf("revert %s: %w", path, err)
	}
	msg := revertMessage(target, message)
	c, err := r.update(ctx, r.o.Branch, func(head plumbing.Hash) (plumbing.Hash, error) {
		return r.revertCommit(head, changes, msg)
	})
	if err != nil {
		return "", fmt.Errorf("revert %s in %s: %w", path, target.Hash, err)
	}
	if wt != nil {
		// No Commit: go-git rewrites the branch ref to the reset commit, and
		// the ref as it is now (ours, or a newer one) must not be rolled back.
		reset := &git.ResetOptions{Mode: git.HardReset, Files: changedPaths(changes)}
		if err := wt.Reset(reset); err != nil {
			return "", fmt.Errorf("revert %s: update worktree after %s: %w", path, c, err)
		}
	}
	return c.String(), nil
}

func revertMessage(target *object.Commit, message string) string {
	msg := fmt.Sprintf("Revert \"%s\"\n\nThis reverts commit %s.\n", subject(target.Message), target.Hash)
	if message != "" {
		msg += "\n" + message + "\n"
	}
	return msg
}

func changedPaths(changes []fileChange) []string {
	paths := make([]string, len(changes))
	for i, ch := range changes {
		paths[i] = ch.path
	}
	return paths
}

// checkedOutWorktree returns the worktree when the desired branch is the
// checked-out branch of a local working copy, after checking it is clean:
// no staged or unstaged change, and no untracked file where the revert
// writes.
func (r *Repo) checkedOutWorktree(changes []fileChange) (*git.Worktree, error) {
	if !r.local || r.bare {
		return nil, nil
	}
	head, err := r.repo.Storer.Reference(plumbing.HEAD)
	if err != nil || head.Type() != plumbing.SymbolicReference ||
		head.Target() != plumbing.NewBranchReferenceName(r.o.Branch) {
		return nil, nil
	}
	wt, err := r.repo.Worktree()
	if err != nil {
		return nil, err
	}
	st, err := wt.Status()
	if err != nil {
		return nil, fmt.Errorf("worktree status: %w", err)
	}
	touched := map[string]bool{}
	for _, p := range changedPaths(changes) {
		touched[p] = true
	}
	for file, s := range st {
		if dirty(s) || (touched[file] && s.Worktree == git.Untracked) {
			return nil, fmt.Errorf("branch %s is checked out in %s with uncommitted changes (%s): commit or stash them first", r.o.Branch, r.url, file)
		}
	}
	return wt, nil
}

func dirty(s *git.FileStatus) bool {
	clean := func(c git.StatusCode) bool { return c == git.Unmodified || c == git.Untracked }
	return !clean(s.Staging) || !clean(s.Worktree)
}

// lastChange walks first-parent history from rev to the commit that changed
// path and returns it with every file it changed.
func (r *Repo) lastChange(ctx context.Context, rev, path string) (*object.Commit, []fileChange, error) {
	c, err := r.commit(rev)
	if err != nil {
		return nil, nil, err
	}
	for {
		parent, err := firstParent(c)
		if err != nil {
			return nil, nil, err
		}
		changed, err := r.changesPath(c, parent, path)
		if err != nil {
			return nil, nil, err
		}
		if changed {
			changes, err := diffCommits(ctx, parent, c)
			return c, changes, err
		}
		if parent == nil {
			return nil, nil, fmt.Errorf("no commit at or before %s changed %s", rev, path)
		}
		c = parent
	}
}

func firstParent(c *object.Commit) (*object.Commit, error) {
	if c.NumParents() == 0 {
		return nil, nil
	}
	return c.Parent(0)
}

func (r *Repo) changesPath(c, parent *object.Commit, path string) (bool, error) {
	now, err := r.entryAt(c.TreeHash, path)
	if err != nil {
		return false, err
	}
	var was *object.TreeEntry
	if parent != nil {
		if was, err = r.entryAt(parent.TreeHash, path); err != nil {
			return false, err
		}
	}
	return !sameEntry(now, was), nil
}

func sameEntry(a, b *object.TreeEntry) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Hash == b.Hash && a.Mode == b.Mode
}

// diffCommits lists the files c changed relative to parent (nil: none).
func diffCommits(ctx context.Context, parent, c *object.Commit) ([]fileChange, error) {
	to, err := c.Tree()
	if err != nil {
		return nil, err
	}
	var from *object.Tree
	if parent != nil {
		if from, err = parent.Tree(); err != nil {
			return nil, err
		}
	}
	diff, err := object.DiffTreeWithOptions(ctx, from, to, &object.DiffTreeOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]fileChange, 0, len(diff))
	for _, ch := range diff {
		out = append(out, fileChange{path: changePath(ch), before: entryOf(ch.From), after: entryOf(ch.To)})
	}
	return out, nil
}

func changePath(ch *object.Change) string {
	if ch.To.Name != "" {
		return ch.To.Name
	}
	return ch.From.Name
}

func entryOf(e object.ChangeEntry) *object.TreeEntry {
	if e.Name == "" {
		return nil
	}
	te := e.TreeEntry
	return &te
}

// revertCommit builds the inverse of changes on head.
func (r *Repo) revertCommit(head plumbing.Hash, changes []fileChange, message string) (plumbing.Hash, error) {
	headTree, err := r.treeOf(head)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	edits := make(map[string]*object.TreeEntry, len(changes))
	for _, ch := range changes {
		now, err := r.entryAt(headTree, ch.path)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if !sameEntry(now, ch.after) {
			return plumbing.ZeroHash, fmt.Errorf("%w: %s changed again at %s", ErrRevertConflict, ch.path, head)
		}
		edits[ch.path] = ch.before
	}
	tree, err := r.editTree(headTree, edits)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return r.writeCommit(tree, head, message)
}
