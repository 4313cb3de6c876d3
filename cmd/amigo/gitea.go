package main

import "context"

// setupGitea wires Gitea in: commit statuses and promotion PRs as the
// reconciler's Reporter, and plans for pull requests.
func setupGitea(ctx context.Context, d *daemon) error {
	return nil
}
