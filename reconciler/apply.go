package reconciler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	"go.opentelemetry.io/otel/attribute"

	"github.com/amigo-gitops/amigo/desired"
)

// throttler is how a driver error says "slow down and try again".
type throttler interface{ Throttled() bool }

// IsThrottle reports whether err is a throttling error.
func IsThrottle(err error) bool {
	var t throttler
	return errors.As(err, &t) && t.Throttled()
}

// callRetry runs one cloud call with its own timeout, retrying throttled
// calls with exponential backoff.
func callRetry[T any](ctx context.Context, r *Reconciler, op string, f func(context.Context) (T, error)) (T, error) {
	var zero T
	backoff := r.backoff
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, r.timeout)
		v, err := f(cctx)
		cancel()
		if err == nil {
			return v, nil
		}
		if !IsThrottle(err) || attempt >= r.retries {
			return zero, err
		}
		r.log.WithContext(ctx).WithFields(logrus.Fields{"op": op, "attempt": attempt}).Debug("throttled; backing off")
		select {
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// apply carries out the plan. Urgent actions (traffic back to stable) of
// every stack go first; then each stack's actions in order, stopping that
// stack at its first error. It returns what was applied and what failed.
func (r *Reconciler) apply(ctx context.Context, plan *Result) ([]Action, map[desired.StackID]error) {
	ctx, span := r.tracer.Start(ctx, "apply")
	defer span.End()
	var applied []Action
	failed := map[desired.StackID]error{}
	for _, urgent := range []bool{true, false} {
		for i := range plan.Stacks {
			sp := &plan.Stacks[i]
			if failed[sp.Stack] != nil {
				continue
			}
			for j := range sp.Actions {
				a := &sp.Actions[j]
				if a.Urgent != urgent {
					continue
				}
				if err := r.applyOne(ctx, sp, a); err != nil {
					failed[sp.Stack] = fmt.Errorf("%s: %w", a, err)
					break
				}
				applied = append(applied, *a)
			}
		}
	}
	span.SetAttributes(attribute.Int("amigo.applied", len(applied)), attribute.Int("amigo.failed", len(failed)))
	return applied, failed
}

func (r *Reconciler) applyOne(ctx context.Context, sp *StackPlan, a *Action) error {
	ctx, span := r.tracer.Start(ctx, string(a.Kind), withAction(a))
	commit, err := r.do(ctx, a)
	endSpan(span, err)
	fields := logrus.Fields{"stack": sp.Stack.String(), "action": string(a.Kind)}
	if err != nil {
		return err
	}
	if a.Kind == ActRevert && sp.Status.Abort != nil {
		sp.Status.Abort.Revert = commit
	}
	r.log.WithContext(ctx).WithFields(fields).Info(a.String())
	return nil
}

func withAction(a *Action) traceStartOption {
	return spanAttrs(attribute.String("amigo.stack", a.Stack.String()),
		attribute.String("amigo.action", a.String()), attribute.Bool("amigo.urgent", a.Urgent))
}

func (r *Reconciler) do(ctx context.Context, a *Action) (string, error) {
	c := r.cloud
	none := func(err error) (struct{}, error) { return struct{}{}, err }
	var err error
	switch a.Kind {
	case ActSetForward:
		_, err = callRetry(ctx, r, "SetForward", func(ctx context.Context) (struct{}, error) {
			return none(c.Traffic.SetForward(ctx, a.Listener.Listener, a.Listener.Rule, a.Forward))
		})
	case ActCreateRule:
		_, err = callRetry(ctx, r, "CreateRule", func(ctx context.Context) (string, error) {
			return c.Traffic.CreateRule(ctx, a.Listener.Listener, a.Rule)
		})
	case ActDeleteRule:
		_, err = callRetry(ctx, r, "DeleteRule", func(ctx context.Context) (struct{}, error) {
			return none(c.Traffic.DeleteRule(ctx, a.Rule.ARN))
		})
	case ActCreateFleet:
		_, err = callRetry(ctx, r, "CreateFleet", func(ctx context.Context) (Fleet, error) {
			return c.Fleets.CreateFleet(ctx, a.Spec)
		})
	case ActScaleFleet:
		_, err = callRetry(ctx, r, "ScaleFleet", func(ctx context.Context) (struct{}, error) {
			return none(c.Fleets.ScaleFleet(ctx, a.Fleet, a.Capacity))
		})
	case ActRefreshFleet:
		_, err = callRetry(ctx, r, "RefreshFleet", func(ctx context.Context) (struct{}, error) {
			return none(c.Fleets.RefreshFleet(ctx, a.Fleet, a.Refresh))
		})
	case ActDeleteFleet:
		_, err = callRetry(ctx, r, "DeleteFleet", func(ctx context.Context) (struct{}, error) {
			return none(c.Fleets.DeleteFleet(ctx, a.Fleet))
		})
	case ActRevert:
		return r.src.Revert(ctx, a.Commit, a.Path, a.Reason)
	default:
		err = fmt.Errorf("unknown action %q", a.Kind)
	}
	return "", err
}
