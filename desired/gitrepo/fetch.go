package gitrepo

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Fetch brings the desired branch up to date and returns its head. In
// remote mode one ls-remote compares the remote heads of the desired and
// status branches with the cache; only branches that moved are fetched. In
// local mode it reads the branch ref.
func (r *Repo) Fetch(ctx context.Context) (string, error) {
	defer r.mu.Unlock()
	if err := r.lock(); err != nil {
		return "", err
	}
	if !r.local {
		if err := r.sync(ctx, r.o.Branch, r.o.StatusBranch); err != nil {
			return "", fmt.Errorf("fetch %s: %w", r.Describe(), err)
		}
	}
	h, err := r.head(r.o.Branch)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", r.Describe(), err)
	}
	if h.IsZero() {
		return "", fmt.Errorf("fetch %s: branch %q not found", r.Describe(), r.o.Branch)
	}
	return h.String(), nil
}

// refName is where the cache or the local repository keeps branch.
func (r *Repo) refName(branch string) plumbing.ReferenceName {
	if r.local {
		return plumbing.NewBranchReferenceName(branch)
	}
	return plumbing.NewRemoteReferenceName(remoteName, branch)
}

// head returns the known head of branch, zero when the branch is absent.
func (r *Repo) head(branch string) (plumbing.Hash, error) {
	ref, err := r.repo.Storer.Reference(r.refName(branch))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read ref %s: %w", branch, err)
	}
	return ref.Hash(), nil
}

// lsRemote lists the remote's refs by name (an empty remote has none).
func (r *Repo) lsRemote(ctx context.Context) (map[plumbing.ReferenceName]*plumbing.Reference, error) {
	rem, err := r.repo.Remote(remoteName)
	if err != nil {
		return nil, err
	}
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	list, err := rem.ListContext(ctx, &git.ListOptions{Auth: r.auth, PeelingOption: git.IgnorePeeled})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ls-remote: %w", err)
	}
	refs := make(map[plumbing.ReferenceName]*plumbing.Reference, len(list))
	for _, ref := range list {
		refs[ref.Name()] = ref
	}
	return refs, nil
}

// sync makes the cache's tracking refs of branches equal the remote heads,
// fetching only the branches whose head moved.
func (r *Repo) sync(ctx context.Context, branches ...string) error {
	remote, err := r.lsRemote(ctx)
	if err != nil {
		return err
	}
	var specs []config.RefSpec
	for _, b := range branches {
		moved, err := r.moved(b, remote)
		if err != nil {
			return err
		}
		if moved {
			specs = append(specs, config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", b, r.refName(b))))
		}
	}
	if len(specs) == 0 {
		return nil
	}
	return r.fetch(ctx, specs)
}

// moved compares the remote head of branch with the tracking ref. A branch
// deleted on the remote loses its tracking ref here.
func (r *Repo) moved(branch string, remote map[plumbing.ReferenceName]*plumbing.Reference) (bool, error) {
	have, err := r.head(branch)
	if err != nil {
		return false, err
	}
	want, ok := remote[plumbing.NewBranchReferenceName(branch)]
	if !ok {
		if !have.IsZero() {
			return false, r.repo.Storer.RemoveReference(r.refName(branch))
		}
		return false, nil
	}
	return want.Hash() != have, nil
}

func (r *Repo) fetch(ctx context.Context, specs []config.RefSpec) error {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	err := r.repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: remoteName,
		RefSpecs:   specs,
		Auth:       r.auth,
		Tags:       git.NoTags,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch: %w", err)
	}
	return nil
}
