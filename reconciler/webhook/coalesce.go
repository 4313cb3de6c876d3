package webhook

// Coalescer folds any number of triggers into at most one pending pass.
// The reconcile loop reads C() between passes; while a pass runs, further
// triggers find the one-slot buffer full and are dropped, which is correct
// because the next pass re-reads everything anyway.
type Coalescer struct {
	ch chan string
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

// C delivers the reason of the pending trigger, if any.
func (c *Coalescer) C() <-chan string {
	return c.ch
}
