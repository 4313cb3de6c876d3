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
	return r.planOnly(ctx, repo)
}

// PlanFiles plans the config in files (a pull request's head, say) against
// the observed cloud and the current statuses, writing nothing. It returns
// the loaded repository (with its validation errors) and the plan.
func (r *Reconciler) PlanFiles(ctx context.Context, files map[string][]byte, rev string) (Result, *desired.Repo, error) {
	repo, err := desired.Load(files, rev)
	if err != nil {
		return Result{}, nil, err
	}
	return r.planOnly(ctx, repo)
}

func (r *Reconciler) planOnly(ctx context.Context, repo *desired.Repo) (Result, *desired.Repo, error) {
	prev, err := r.previous(ctx)
	if err != nil {
		return Result{}, repo, err
	}
	obs, err := r.observePass(ctx, repo, prev, true) // a plan shown to people reads everything
	if err != nil {
		return Result{}, repo, err
	}
	return r.plan(ctx, repo, obs, prev), repo, nil
}
