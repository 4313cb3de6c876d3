package sim

import (
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// Defaults of a new state, close to what a small EC2 web fleet shows.
const (
	defaultLaunchTime   = 60 * time.Second
	defaultHealthyAfter = 30 * time.Second
	defaultDeregDelay   = 300 * time.Second
	defaultRegion       = "ap-northeast-1"
)

// epoch is where sim time starts for a new state, so runs are reproducible.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// state is everything the simulated cloud knows; it is the JSON file.
type state struct {
	Gen    int64     `json:"gen"`
	SimAt  time.Time `json:"simAt"`
	Anchor time.Time `json:"anchor"` // wall time at which sim time was SimAt
	Speed  float64   `json:"speed"`
	Seq    int64     `json:"seq"` // source of deterministic ids
	Region string    `json:"region"`
	Layers []string  `json:"layers"` // image lineage, application layer last

	LaunchTime   time.Duration `json:"launchTime"`
	HealthyAfter time.Duration `json:"healthyAfter"`

	Images          map[string]*image       `json:"images"`
	Listeners       map[string]*listener    `json:"listeners"`
	Rules           map[string]*rule        `json:"rules"`
	TargetGroups    map[string]*targetGroup `json:"targetGroups"`
	LaunchTemplates map[string]bool         `json:"launchTemplates"`
	Fleets          map[string]*fleet       `json:"fleets"`
	Faults          []Fault                 `json:"faults"`
	Throttle        int                     `json:"throttle"`
	Calls           CallStats               `json:"calls"`
}

type image struct {
	Project string                `json:"project"`
	Role    string                `json:"role"`
	Layer   string                `json:"layer"`
	Version string                `json:"version"`
	Name    string                `json:"name"`
	State   reconciler.ImageState `json:"state"`
	Parents []string              `json:"parents"` // image keys, lowest layer first
}

type listener struct {
	ARN     string  `json:"arn"`
	Forward forward `json:"forward"`
}

type forward struct {
	Weights    []reconciler.Weight `json:"weights"`
	Stickiness time.Duration       `json:"stickiness"`
}

type rule struct {
	ARN        string                 `json:"arn"`
	Listener   string                 `json:"listener"`
	Priority   int                    `json:"priority"`
	Conditions []reconciler.Condition `json:"conditions"`
	Forward    forward                `json:"forward"`
	Tags       map[string]string      `json:"tags,omitempty"`
}

// amigo reports whether amigo created the rule (it carries the stack tag).
func (r *rule) amigo() bool { return r.Tags[reconciler.TagStack] != "" }

type targetGroup struct {
	ARN        string        `json:"arn"`
	DeregDelay time.Duration `json:"deregDelay"`
	Draining   []drain       `json:"draining,omitempty"`
}

// drain is a deregistered target that stays draining until Until.
type drain struct {
	ID    string    `json:"id"`
	Until time.Time `json:"until"`
}

type fleet struct {
	Name           string           `json:"name"`
	Stack          desired.StackID  `json:"stack"`
	Version        string           `json:"version"`
	AMI            string           `json:"ami"`
	Slot           reconciler.Slot  `json:"slot"`
	TargetGroup    string           `json:"targetGroup"`
	LaunchTemplate string           `json:"launchTemplate"`
	Subnets        []string         `json:"subnets"`
	Capacity       desired.Capacity `json:"capacity"`
	CreatedAt      time.Time        `json:"createdAt"`
	NextSubnet     int              `json:"nextSubnet"`
	Instances      []*instance      `json:"instances"`
	Refresh        *refresh         `json:"refresh,omitempty"`
}

type instance struct {
	ID         string    `json:"id"`
	AMI        string    `json:"ami"`
	Subnet     string    `json:"subnet"`
	Zone       string    `json:"zone"`
	Seq        int64     `json:"seq"`
	LaunchedAt time.Time `json:"launchedAt"`
}

// refresh is an instance refresh; Batch holds the replacements in flight.
type refresh struct {
	Version string    `json:"version"`
	AMI     string    `json:"ami"`
	Percent int       `json:"percent"`
	At      time.Time `json:"at"` // when the next batch may launch
	Batch   []swap    `json:"batch,omitempty"`
}

// swap pairs an old instance with the replacement that must turn healthy
// before the old one is terminated.
type swap struct {
	Old string `json:"old"`
	New string `json:"new"`
}

func newState(wall time.Time, speed float64) *state {
	return &state{
		SimAt:           epoch,
		Anchor:          wall,
		Speed:           speed,
		Region:          defaultRegion,
		Layers:          []string{"base", "middleware", "app"},
		LaunchTime:      defaultLaunchTime,
		HealthyAfter:    defaultHealthyAfter,
		Images:          map[string]*image{},
		Listeners:       map[string]*listener{},
		Rules:           map[string]*rule{},
		TargetGroups:    map[string]*targetGroup{},
		LaunchTemplates: map[string]bool{},
		Fleets:          map[string]*fleet{},
		Calls:           newCallStats(),
	}
}

// fill repairs nil maps of a state read from an older or hand-edited file.
func (s *state) fill() {
	if s.Images == nil {
		s.Images = map[string]*image{}
	}
	if s.Listeners == nil {
		s.Listeners = map[string]*listener{}
	}
	if s.Rules == nil {
		s.Rules = map[string]*rule{}
	}
	if s.TargetGroups == nil {
		s.TargetGroups = map[string]*targetGroup{}
	}
	if s.LaunchTemplates == nil {
		s.LaunchTemplates = map[string]bool{}
	}
	if s.Fleets == nil {
		s.Fleets = map[string]*fleet{}
	}
	if s.Calls.Reads == nil {
		s.Calls.Reads = map[string]int{}
	}
	if s.Calls.Writes == nil {
		s.Calls.Writes = map[string]int{}
	}
}

// now is sim time at the given wall time.
func (s *state) now(wall time.Time) time.Time {
	if s.Speed <= 0 || wall.Before(s.Anchor) {
		return s.SimAt
	}
	d := time.Duration(float64(wall.Sub(s.Anchor)) * s.Speed)
	return s.SimAt.Add(d)
}

// rebase makes wall the new anchor without moving sim time, so that a
// change of speed or an Advance applies from this moment on.
func (s *state) rebase(wall time.Time) {
	s.SimAt = s.now(wall)
	s.Anchor = wall
}
