package reconciler

import (
	"context"

	"github.com/amigo-gitops/amigo/desired"
)

// DryRun loads, observes and plans exactly as a pass does, and writes
// nothing: `amigo plan`.
func (r *Reconciler) DryRun(ctx context.Context) (Result, *desired.Repo, error) {
	repo, err := r.load(ctx)
	if err != nil {
		return Result{}, nil, err
	}
	prev, err := r.previous(ctx)
	if err != nil {
		return Result{}, repo, err
	}
	obs, err := r.observePass(ctx, repo, prev)
	if err != nil {
		return Result{}, repo, err
	}
	return r.plan(ctx, repo, obs, prev), repo, nil
}
