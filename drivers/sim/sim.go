package sim

import (
	"context"
	"sync"
	"time"

	"github.com/amigo-gitops/amigo/reconciler"
)

// Compile-time guards: the simulator is a full cloud.
var (
	_ reconciler.Images  = (*Cloud)(nil)
	_ reconciler.Fleets  = (*Cloud)(nil)
	_ reconciler.Traffic = (*Cloud)(nil)
	_ reconciler.Metrics = (*Cloud)(nil)
	_ reconciler.Clock   = (*Cloud)(nil)
)

// Options tune a simulated cloud.
type Options struct {
	// Wall reads the wall clock; time.Now when nil.
	Wall func() time.Time
	// Speed is sim seconds per wall second. 0 keeps the speed stored in the
	// state (a new state then moves only by Advance); above 0 it overrides.
	Speed float64
	// Latency is slept at the start of every API call, to make a demo or a
	// benchmark feel a network.
	Latency time.Duration
}

// Cloud is a simulated cloud. Its methods are safe for concurrent use, also
// across processes sharing one state file.
type Cloud struct {
	path    string
	wall    func() time.Time
	latency time.Duration
	speed   float64 // of a new state

	mu   sync.Mutex
	st   *state
	seen fileStamp // of the file st was read from or written to
}

// Open opens the state at path, creating a new one when the file does not
// exist. An empty path keeps the state in memory only.
func Open(path string, opts Options) (*Cloud, error) {
	c := &Cloud{path: path, wall: opts.Wall, latency: opts.Latency, speed: opts.Speed}
	if c.wall == nil {
		c.wall = time.Now
	}
	err := c.update(func(s *state) error {
		if opts.Speed > 0 && opts.Speed != s.Speed {
			s.rebase(c.wall())
			s.Speed = opts.Speed
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Cloud returns the simulator as the reconciler's bundle of interfaces.
func (c *Cloud) Cloud() reconciler.Cloud {
	return reconciler.Cloud{Images: c, Fleets: c, Traffic: c, Metrics: c, Clock: c}
}

// Now is the simulated time.
func (c *Cloud) Now() time.Time {
	var t time.Time
	err := c.view(func(s *state) error {
		t = s.now(c.wall())
		return nil
	})
	if err == nil {
		return t
	}
	// The clock cannot fail: fall back to the last state read.
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		return epoch
	}
	return c.st.now(c.wall())
}

// Advance moves sim time forward by d.
func (c *Cloud) Advance(d time.Duration) error {
	return c.update(func(s *state) error {
		s.rebase(c.wall())
		s.SimAt = s.SimAt.Add(d)
		settle(s, s.SimAt)
		return nil
	})
}

// api runs one API call: it counts the call, honours injected throttling,
// brings the world to Now and then runs fn. State is saved even when fn
// fails, since the call counters and the throttle budget moved.
func (c *Cloud) api(ctx context.Context, op string, write bool, fn func(s *state, now time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.sleep(ctx); err != nil {
		return err
	}
	return c.mutate(write, func(s *state) error {
		s.Calls.count(op, write)
		if s.Throttle > 0 {
			s.Throttle--
			s.Calls.Throttled++
			return &ThrottleError{Op: op}
		}
		now := s.now(c.wall())
		settle(s, now)
		return fn(s, now)
	})
}

func (c *Cloud) sleep(ctx context.Context) error {
	if c.latency <= 0 {
		return nil
	}
	t := time.NewTimer(c.latency)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ThrottleError is what every API call returns while injected throttling
// lasts, like the services' "Throttling: Rate exceeded".
type ThrottleError struct {
	Op string
}

func (e *ThrottleError) Error() string { return "Throttling: Rate exceeded" }

// Throttled marks the error as a throttle, for retry classification.
func (e *ThrottleError) Throttled() bool { return true }

// CallStats counts API calls by operation.
type CallStats struct {
	Reads     map[string]int `json:"reads"`
	Writes    map[string]int `json:"writes"`
	Throttled int            `json:"throttled"`
}

func newCallStats() CallStats {
	return CallStats{Reads: map[string]int{}, Writes: map[string]int{}}
}

func (cs *CallStats) count(op string, write bool) {
	if write {
		cs.Writes[op]++
		return
	}
	cs.Reads[op]++
}

// TotalReads is the number of read calls.
func (cs CallStats) TotalReads() int { return sum(cs.Reads) }

// TotalWrites is the number of write calls.
func (cs CallStats) TotalWrites() int { return sum(cs.Writes) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (cs CallStats) clone() CallStats {
	out := newCallStats()
	for k, v := range cs.Reads {
		out.Reads[k] = v
	}
	for k, v := range cs.Writes {
		out.Writes[k] = v
	}
	out.Throttled = cs.Throttled
	return out
}

// Calls returns the API calls made so far. When the state file cannot be
// read it returns the counts of the last state read.
func (c *Cloud) Calls() CallStats {
	var cs CallStats
	err := c.view(func(s *state) error {
		cs = s.Calls.clone()
		return nil
	})
	if err == nil {
		return cs
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		return newCallStats()
	}
	return c.st.Calls.clone()
}

// ResetCalls sets the call counters to zero.
func (c *Cloud) ResetCalls() error {
	return c.update(func(s *state) error {
		s.Calls = newCallStats()
		return nil
	})
}
