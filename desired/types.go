package desired

import (
	"fmt"
	"time"
)

// APIVersion is the only config format this build understands.
const APIVersion = "amigo/v1"

// Strategy names how a stack moves from one version to the next.
type Strategy string

const (
	BlueGreen    Strategy = "bluegreen"
	Rolling      Strategy = "rolling"
	Canary       Strategy = "canary"
	HybridCanary Strategy = "hybrid-canary"
)

// Route says which requests a step sends to the new fleet through
// amigo-owned listener rules, in addition to the weighted default action.
type Route string

const (
	RouteWeighted Route = ""         // weights only
	RouteInternal Route = "internal" // routing.internal matches only
	RoutePilot    Route = "pilot"    // routing.internal and routing.pilot matches
)

// OnFailure says what an analysis failure does besides moving traffic back.
type OnFailure string

const (
	OnFailureAbort  OnFailure = "abort"
	OnFailureRevert OnFailure = "revert"
)

// StackID names a stack: one role in one environment, e.g. prd/web.
type StackID struct {
	Env  string
	Role string
}

func (id StackID) String() string { return id.Env + "/" + id.Role }

// ParseStackID parses "env/role".
func ParseStackID(s string) (StackID, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			if i == 0 || i == len(s)-1 {
				break
			}
			return StackID{Env: s[:i], Role: s[i+1:]}, nil
		}
	}
	return StackID{}, fmt.Errorf("stack %q: want env/role", s)
}

// Settings is amigo.yaml, with defaults applied.
type Settings struct {
	APIVersion   string
	Project      string
	Environments []string // promotion order
	Roles        []string
	Images       ImageSettings
	Promotion    PromotionSettings
	Status       StatusSettings
	AWS          AWSSettings
}

type ImageSettings struct {
	Layers []string // lineage, first is the lowest layer; the last is the application layer
	Retain int
}

type PromotionSettings struct {
	Gate         string // "healthy" or "none"
	PullRequests bool
}

type StatusSettings struct {
	Branch string
}

type AWSSettings struct {
	Region string
}

// Stack is one environments/<env>/<role>.yaml, with defaults applied and
// steps resolved (the strategy's defaults unless overridden).
type Stack struct {
	ID        StackID
	File      string // path relative to the repository root
	Version   string
	Strategy  Strategy
	Traffic   int // rollout ceiling in percent
	Capacity  Capacity
	Analysis  Analysis
	OnFailure OnFailure
	Routing   Routing
	Target    Target
	Steps     []Step
	Override  string // promotion.override: reason to let the version past the gate
}

type Capacity struct {
	Desired int
	Min     int
	Max     int
}

// Analysis holds the thresholds checked during every step.
type Analysis struct {
	ErrorRate float64       // fraction of requests answered 5xx, 0.001 for "0.1%"
	Latency   time.Duration // average target response time
	CPU       float64       // allowed deviation from the stable fleet, in percentage points
	Memory    float64       // same, for memory
}

// Match selects requests for an amigo-owned listener rule. Entries are
// alternatives: each header, each cookie and the CIDR list become a rule.
type Match struct {
	Headers     map[string]string
	Cookies     map[string]string
	SourceCIDRs []string
}

// Empty reports whether the match selects nothing.
func (m Match) Empty() bool {
	return len(m.Headers) == 0 && len(m.Cookies) == 0 && len(m.SourceCIDRs) == 0
}

type Routing struct {
	Internal   Match
	Pilot      Match
	Stickiness time.Duration
	Priority   int // first listener rule priority amigo uses for this stack
}

type Target struct {
	Listener       string
	Rule           string
	TargetGroups   []string // [blue, green]
	LaunchTemplate string
	Subnets        []string
}

// Step is one stage of a rollout: the share of traffic (or, for rolling,
// of instances) on the new version, how requests are selected, and how long
// to watch before going on.
type Step struct {
	Traffic int
	Route   Route
	Pause   time.Duration
}

func (s Step) String() string {
	if s.Route != RouteWeighted {
		return fmt.Sprintf("%s (%d%%)", s.Route, s.Traffic)
	}
	return fmt.Sprintf("%d%%", s.Traffic)
}

// Repo is a loaded config repository at one revision.
type Repo struct {
	Revision string
	Settings Settings
	Stacks   []Stack       // valid stacks, sorted by environment order then role
	Invalid  []StackError  // stacks rejected by validation, left as they run
	Errors   []*FieldError // every validation error, for `amigo validate`
}

// StackError is a stack that failed validation.
type StackError struct {
	ID     StackID
	File   string
	Errors []*FieldError
}

// FieldError names the file, line and field a validation error is about.
type FieldError struct {
	File  string
	Line  int
	Field string // dotted path, e.g. capacity.min or steps[1].traffic
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Field, e.Msg)
}

// Stack returns the valid stack with the given id.
func (r *Repo) Stack(id StackID) (Stack, bool) {
	for _, s := range r.Stacks {
		if s.ID == id {
			return s, true
		}
	}
	return Stack{}, false
}
