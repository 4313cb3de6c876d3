package sim

import (
	"maps"
	"slices"
	"time"

	"github.com/amigo-gitops/amigo/desired"
)

// Fault is trouble injected into a stack's fleet, or API throttling.
type Fault struct {
	Stack desired.StackID `json:"stack"`
	// Version picks the fleet by its version (or the version its instance
	// refresh is moving to); empty means the newest fleet of the stack.
	Version   string        `json:"version,omitempty"`
	ErrorRate float64       `json:"errorRate,omitempty"` // fraction of requests answered 5xx
	Latency   time.Duration `json:"latency,omitempty"`   // added to the response time
	Unhealthy int           `json:"unhealthy,omitempty"` // instances whose targets fail health checks
	CPU       float64       `json:"cpu,omitempty"`       // percentage points added
	Memory    float64       `json:"memory,omitempty"`    // percentage points added
	// Throttle makes the next N API calls of any kind fail with a
	// *ThrottleError. It is not kept with the fault.
	Throttle int `json:"throttle,omitempty"`
}

func (f Fault) onlyThrottle() bool {
	return f.ErrorRate == 0 && f.Latency == 0 && f.Unhealthy == 0 && f.CPU == 0 && f.Memory == 0
}

// Inject adds a fault, replacing one for the same stack and version.
func (c *Cloud) Inject(f Fault) error {
	return c.update(func(s *state) error {
		s.Throttle += f.Throttle
		if f.onlyThrottle() {
			return nil
		}
		f.Throttle = 0
		kept := s.Faults[:0]
		for _, x := range s.Faults {
			if x.Stack != f.Stack || x.Version != f.Version {
				kept = append(kept, x)
			}
		}
		s.Faults = append(kept, f)
		return nil
	})
}

// ClearFaults removes the faults of stack; the zero stack clears every
// fault and any throttling left.
func (c *Cloud) ClearFaults(stack desired.StackID) error {
	return c.update(func(s *state) error {
		if stack == (desired.StackID{}) {
			s.Faults, s.Throttle = nil, 0
			return nil
		}
		kept := s.Faults[:0]
		for _, x := range s.Faults {
			if x.Stack != stack {
				kept = append(kept, x)
			}
		}
		s.Faults = kept
		return nil
	})
}

// faultFor is the fault that applies to fleet f: one naming its version
// first, else one for the stack's newest fleet.
func (s *state) faultFor(f *fleet) *Fault {
	var latest *Fault
	for i := range s.Faults {
		ft := &s.Faults[i]
		if ft.Stack != f.Stack {
			continue
		}
		if ft.Version != "" && (ft.Version == f.Version || (f.Refresh != nil && ft.Version == f.Refresh.Version)) {
			return ft
		}
		if ft.Version == "" && s.newest(f.Stack) == f {
			latest = ft
		}
	}
	return latest
}

// newest is the stack's most recently created fleet.
func (s *state) newest(stack desired.StackID) *fleet {
	var out *fleet
	for _, name := range slices.Sorted(maps.Keys(s.Fleets)) {
		f := s.Fleets[name]
		if f.Stack == stack && (out == nil || !f.CreatedAt.Before(out.CreatedAt)) {
			out = f
		}
	}
	return out
}
