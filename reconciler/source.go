package reconciler

import "context"

// Source is the config repository: the desired branch, read at a revision,
// and the status branch, written by amigo alone.
type Source interface {
	// Fetch brings the desired branch up to date and returns its head
	// revision. When the remote head has not moved it fetches nothing.
	Fetch(ctx context.Context) (rev string, err error)
	// Files returns the files of the desired branch at rev, keyed by
	// slash-separated path relative to the repository root.
	Files(ctx context.Context, rev string) (map[string][]byte, error)
	// ReadStatus returns the files on the status branch (none when the
	// branch does not exist yet).
	ReadStatus(ctx context.Context) (map[string][]byte, error)
	// WriteStatus makes the status branch hold exactly files. It commits only
	// when the tree changes and pushes without force, fetching, rebasing and
	// retrying when the push races another writer. It reports whether a
	// commit was made.
	WriteStatus(ctx context.Context, files map[string][]byte, message string) (committed bool, err error)
	// Revert commits onto the desired branch the inverse of the last commit
	// at or before rev that changed path, and pushes it without force.
	Revert(ctx context.Context, rev, path, message string) (commit string, err error)
}
