package reconciler

import (
	"context"
	"errors"
	"time"

	"github.com/sirupsen/logrus"
)

// Trigger is a reason to run a pass now: "webhook", "fsnotify", ...
type Trigger = string

// LoopOptions configure Run.
type LoopOptions struct {
	// Interval returns the poll interval; it is read before every wait so a
	// reloaded daemon config takes effect at once.
	Interval func() time.Duration
	// Busy is the interval while a rollout is moving (fleets launching,
	// pauses running); default Interval.
	Busy func() time.Duration
	// Triggers wakes the loop early; bursts coalesce into one pass.
	Triggers <-chan Trigger
	// Jobs run between passes, on the loop's goroutine, so they never race
	// a pass: pull request plans, say.
	Jobs <-chan func(context.Context)
	// MinGap is the least time between the start of a pass and the next
	// one when triggers arrived while it ran (a burst): the rest of the
	// burst folds into that next pass. A trigger that finds the loop idle
	// runs at once. 0: none.
	MinGap time.Duration
	// OnPass is called after every pass (metrics, readiness).
	OnPass func(trigger string, res PassResult, err error, took time.Duration)
}

// Run runs passes until ctx is done: one at start, then on every trigger
// and poll. Errors are logged here, once, and the loop goes on.
func (r *Reconciler) Run(ctx context.Context, o LoopOptions) error {
	trigger := "startup"
	for {
		start := time.Now()
		res, err := r.Reconcile(ctx, trigger)
		took := time.Since(start)
		r.logPass(trigger, res, err, took)
		if o.OnPass != nil {
			o.OnPass(trigger, res, err, took)
		}
		wait := o.Interval()
		if o.Busy != nil && moving(res) {
			wait = o.Busy()
		}
		next, pending := "", false
		select {
		case next = <-o.Triggers:
			pending = true
		default:
		}
		ok := true
		switch {
		case pending:
			// A trigger came while the pass ran: a burst. Let the rest of
			// it land before the next pass.
			ok = r.hold(ctx, o, start.Add(o.MinGap))
			select { // what came while holding folds into this pass
			case <-o.Triggers:
			default:
			}
		default:
			next, ok = r.wait(ctx, o, wait)
		}
		if !ok {
			return nil
		}
		trigger = next
	}
}

// hold waits, running jobs, until the given time: the rest of a burst of
// triggers lands in the coalescer meanwhile. It returns false when ctx is
// done.
func (r *Reconciler) hold(ctx context.Context, o LoopOptions, until time.Time) bool {
	d := time.Until(until)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case job := <-o.Jobs:
			job(ctx)
		case <-timer.C:
			return true
		}
	}
}

// wait sleeps until a trigger or the poll interval, running jobs as they
// come. It returns false when ctx is done.
func (r *Reconciler) wait(ctx context.Context, o LoopOptions, d time.Duration) (Trigger, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", false
		case job := <-o.Jobs:
			job(ctx)
		case t := <-o.Triggers:
			return t, true
		case <-timer.C:
			return "poll", true
		}
	}
}

// moving reports whether any stack is on its way somewhere.
func moving(res PassResult) bool {
	for _, sp := range res.Plan.Stacks {
		if len(sp.Actions) > 0 || sp.Status.Phase == Progressing || len(sp.Status.Retiring) > 0 {
			return true
		}
	}
	return false
}

func (r *Reconciler) logPass(trigger string, res PassResult, err error, took time.Duration) {
	fields := logrus.Fields{"trigger": trigger, "revision": short(res.Revision), "trace_id": res.TraceID,
		"applied": len(res.Applied), "committed": res.Committed, "took_ms": took.Milliseconds()}
	switch {
	case err == nil && (len(res.Applied) > 0 || res.Committed):
		r.log.WithFields(fields).Info("pass")
	case err == nil:
		r.log.WithFields(fields).Debug("pass: nothing to do")
	default:
		var te *TerminalError
		if errors.As(err, &te) {
			fields["terminal"] = true
		}
		r.log.WithFields(fields).WithError(err).Error("pass failed")
	}
}
