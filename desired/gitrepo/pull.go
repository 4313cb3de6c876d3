package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// fetchedPrefix is where FetchRef keeps what it fetched in the cache, apart
// from the branches Fetch tracks, so a pull request head never shadows one.
const fetchedPrefix = "refs/amigo/fetched/"

// FetchRef fetches one ref of the remote that is not a branch amigo
// tracks, e.g. refs/pull/7/head, the head of a pull request as Gitea
// serves it, and returns the commit it points to; Files then reads it. In
// local mode it resolves the ref in the repository without fetching.
func (r *Repo) FetchRef(ctx context.Context, ref string) (string, error) {
	if err := validRef(ref); err != nil {
		return "", fmt.Errorf("fetch ref: %w", err)
	}
	defer r.mu.Unlock()
	if err := r.lock(); err != nil {
		return "", err
	}
	local := plumbing.ReferenceName(ref)
	if !r.local {
		local = plumbing.ReferenceName(fetchedPrefix + strings.TrimPrefix(ref, "refs/"))
		spec := config.RefSpec(fmt.Sprintf("+%s:%s", ref, local))
		err := r.fetch(ctx, []config.RefSpec{spec})
		if errors.Is(err, git.NoMatchingRefSpecError{}) {
			err = ErrRefNotFound
		}
		if err != nil {
			return "", fmt.Errorf("fetch %s from %s: %w", ref, r.Describe(), err)
		}
	}
	got, err := r.repo.Reference(local, true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		err = ErrRefNotFound
	}
	if err != nil {
		return "", fmt.Errorf("fetch %s from %s: %w", ref, r.Describe(), err)
	}
	return got.Hash().String(), nil
}

// validRef accepts a full ref name that cannot widen into a pattern or an
// option: it goes into a refspec.
func validRef(ref string) error {
	if !strings.HasPrefix(ref, "refs/") || strings.HasSuffix(ref, "/") {
		return fmt.Errorf("ref %q: want a full ref name such as refs/pull/1/head", ref)
	}
	if strings.ContainsAny(ref, " \t\n:*?[\\^~") || strings.Contains(ref, "..") || strings.Contains(ref, "//") {
		return fmt.Errorf("ref %q: invalid character or sequence", ref)
	}
	return nil
}

// ErrRefNotFound is wrapped by FetchRef when the ref does not exist, e.g.
// a pull request that was deleted.
var ErrRefNotFound = errors.New("ref not found")
