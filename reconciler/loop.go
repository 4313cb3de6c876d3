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
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case t := <-o.Triggers:
			timer.Stop()
			trigger = t
		case <-timer.C:
			trigger = "poll"
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
