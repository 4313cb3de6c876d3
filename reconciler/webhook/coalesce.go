package webhook

import "sync"

// Coalescer folds any number of triggers into at most one pending pass.
// The reconcile loop reads C() between passes; while a pass runs, further
// triggers find the one-slot buffer full and are dropped, which is correct
// because the next pass re-reads everything anyway.
type Coalescer struct {
	ch chan string

	mu      sync.Mutex
	lastRev string
}

// NewCoalescer returns a Coalescer with nothing pending.
func NewCoalescer() *Coalescer {
	return &Coalescer{ch: make(chan string, 1)}
}

// Trigger asks for a pass. It never blocks; when a pass is already pending
// the reason is dropped and the pending one keeps its own reason.
func (c *Coalescer) Trigger(reason string) {
	select {
	case c.ch <- reason:
	default:
	}
}

// TriggerRevision asks for a pass for a push that moved the branch to rev.
// A delivery of a revision that already caused a trigger is dropped: the
// pass it caused fetches that revision or a later one. Redeliveries and
// the same push reported twice therefore cost no pass.
func (c *Coalescer) TriggerRevision(reason, rev string) {
	c.mu.Lock()
	seen := rev != "" && rev == c.lastRev
	if rev != "" {
		c.lastRev = rev
	}
	c.mu.Unlock()
	if !seen {
		c.Trigger(reason)
	}
}

// C delivers the reason of the pending trigger, if any.
func (c *Coalescer) C() <-chan string {
	return c.ch
}
