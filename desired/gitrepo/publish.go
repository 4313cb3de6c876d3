package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage"
)

// maxAttempts bounds how often a raced update is rebuilt and retried.
const maxAttempts = 5

// errRaced says another writer moved the branch between reading its head
// and updating it; the update is rebuilt on the new head and retried.
var errRaced = errors.New("branch moved concurrently")

// buildFunc builds the commit to put on top of head. It returns zero when
// there is nothing to commit.
type buildFunc func(head plumbing.Hash) (plumbing.Hash, error)

// update builds a commit on the current head of branch and publishes it
// without force, rebuilding on the new head when another writer wins the
// race. It returns the published commit, zero when build had nothing to do.
func (r *Repo) update(ctx context.Context, branch string, build buildFunc) (plumbing.Hash, error) {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			if err := r.sleep(ctx, attempt); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		head, herr := r.head(branch)
		if herr != nil {
			return plumbing.ZeroHash, herr
		}
		next, berr := build(head)
		if berr != nil || next.IsZero() {
			return plumbing.ZeroHash, berr
		}
		err = r.publish(ctx, branch, head, next)
		if !errors.Is(err, errRaced) {
			return next, err
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("gave up after %d attempts: %w", maxAttempts, err)
}

func (r *Repo) sleep(ctx context.Context, attempt int) error {
	t := time.NewTimer(time.Duration(attempt) * r.backoff)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// publish moves branch from old to next, never forcing.
func (r *Repo) publish(ctx context.Context, branch string, old, next plumbing.Hash) error {
	if r.local {
		return r.setLocalRef(branch, old, next)
	}
	return r.push(ctx, branch, old, next)
}

// setLocalRef is a compare-and-swap on the branch ref, so a concurrent
// writer (amigo or the user's git) is detected instead of overwritten.
func (r *Repo) setLocalRef(branch string, old, next plumbing.Hash) error {
	name := plumbing.NewBranchReferenceName(branch)
	ref := plumbing.NewHashReference(name, next)
	var err error
	if old.IsZero() {
		err = r.createRef(ref)
	} else {
		err = r.repo.Storer.CheckAndSetReference(ref, plumbing.NewHashReference(name, old))
	}
	if errors.Is(err, storage.ErrReferenceHasChanged) {
		return fmt.Errorf("update %s: %w", branch, errRaced)
	}
	if err != nil {
		return fmt.Errorf("update %s: %w", branch, err)
	}
	return nil
}

// createRef creates a branch that must not exist yet. go-git has no atomic
// create, so this narrows the window rather than closing it.
func (r *Repo) createRef(ref *plumbing.Reference) error {
	if _, err := r.repo.Storer.Reference(ref.Name()); err == nil {
		return storage.ErrReferenceHasChanged
	}
	return r.repo.Storer.SetReference(ref)
}

// push sends next to branch with a non-force refspec. A failed push whose
// branch has since moved on the remote is a race (errRaced, after fetching
// the new head); any other failure is returned as is. This decides by
// looking at the remote instead of matching go-git's error text.
func (r *Repo) push(ctx context.Context, branch string, old, next plumbing.Hash) error {
	err := r.pushOnce(ctx, branch, next)
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return r.repo.Storer.SetReference(plumbing.NewHashReference(r.refName(branch), next))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("push %s: %w", branch, err)
	}
	if serr := r.sync(ctx, branch); serr != nil {
		return fmt.Errorf("push %s: %w (refetch: %v)", branch, err, serr)
	}
	head, herr := r.head(branch)
	if herr != nil {
		return herr
	}
	if head != old {
		return fmt.Errorf("push %s: %w: %v", branch, errRaced, err)
	}
	return fmt.Errorf("push %s: %w", branch, err)
}

func (r *Repo) pushOnce(ctx context.Context, branch string, next plumbing.Hash) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	spec := config.RefSpec(fmt.Sprintf("%s:%s", next, plumbing.NewBranchReferenceName(branch)))
	return r.repo.PushContext(ctx, &git.PushOptions{
		RemoteName: remoteName,
		RefSpecs:   []config.RefSpec{spec},
		Auth:       r.auth,
	})
}
