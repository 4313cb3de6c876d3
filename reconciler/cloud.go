package reconciler

import (
	"context"
	"time"

	"github.com/amigo-gitops/amigo/desired"
)

// The interfaces below are what the reconciler needs from a cloud. Drivers
// (drivers/sim, drivers/aws) implement them; each keeps them small.

// Clock tells the time. The simulator's clock can run faster than the wall.
type Clock interface {
	Now() time.Time
}

// Images resolves application versions to machine images.
type Images interface {
	// ResolveImage finds the application image of role at version. An image
	// that does not exist comes back with State ImageMissing and no error.
	ResolveImage(ctx context.Context, q ImageQuery) (Image, error)
}

// Fleets manages Auto Scaling groups, one per (stack, version).
type Fleets interface {
	// ListFleets returns every amigo-tagged fleet, in one batched read.
	ListFleets(ctx context.Context) ([]Fleet, error)
	CreateFleet(ctx context.Context, spec FleetSpec) (Fleet, error)
	ScaleFleet(ctx context.Context, name string, c desired.Capacity) error
	// RefreshFleet replaces instances of the fleet until Percent of them run
	// the spec's AMI, never taking healthy capacity under 75%; at 100 the
	// fleet's version and AMI tags become the spec's.
	RefreshFleet(ctx context.Context, name string, r Refresh) error
	DeleteFleet(ctx context.Context, name string) error
}

// Traffic reads and writes the ALB listener a stack routes through.
type Traffic interface {
	// ReadListeners returns, for each ref in order, the forward action (of
	// the listener's default action, or of ref.Rule when set) and, when
	// ref.Rules is set, every amigo-owned rule on the listener. Drivers
	// batch the reads: a pass reads all its listeners in one call.
	ReadListeners(ctx context.Context, refs []ListenerRef) ([]Listener, error)
	SetForward(ctx context.Context, listener, rule string, f Forward) error
	CreateRule(ctx context.Context, listener string, r Rule) (string, error)
	DeleteRule(ctx context.Context, ruleARN string) error
	// TargetGroups returns health and settings of the given target groups,
	// in order. The reconciler asks only for groups whose traffic may move.
	TargetGroups(ctx context.Context, arns []string) ([]TargetGroup, error)
}

// Metrics reads what analysis judges.
type Metrics interface {
	TargetGroupMetrics(ctx context.Context, tg string, from, to time.Time) (TGMetrics, error)
	FleetMetrics(ctx context.Context, fleet string, from, to time.Time) (FleetMetrics, error)
}

// Cloud bundles one driver's implementations.
type Cloud struct {
	Images  Images
	Fleets  Fleets
	Traffic Traffic
	Metrics Metrics
	Clock   Clock
}

type ImageState string

const (
	ImageAvailable ImageState = "AVAILABLE"
	ImageBuilding  ImageState = "BUILDING"
	ImageFailed    ImageState = "FAILED"
	ImageMissing   ImageState = "MISSING"
)

type ImageQuery struct {
	Project string
	Role    string
	Layer   string // application layer name, "app" by default
	Version string
	Region  string
}

// Image is an application image and the images it was built from.
type Image struct {
	Name    string // e.g. idhub-40-web-app-v1.6-20261115
	Version string
	AMI     string
	State   ImageState
	Lineage []Layer // parents, lowest layer first
}

type Layer struct {
	Layer   string
	Version string
	AMI     string
}

// Slot is which of the stack's two target groups a fleet serves.
type Slot string

const (
	SlotBlue  Slot = "blue"
	SlotGreen Slot = "green"
)

// Tag keys on fleets and rules.
const (
	TagStack   = "amigo:stack"
	TagVersion = "amigo:version"
	TagAMI     = "amigo:ami"
	TagSlot    = "amigo:slot"
	TagRoute   = "amigo:route"
)

type FleetSpec struct {
	Name           string
	Stack          desired.StackID
	Version        string
	AMI            string
	Slot           Slot
	TargetGroup    string
	LaunchTemplate string
	Subnets        []string
	Capacity       desired.Capacity
}

type Refresh struct {
	Version string
	AMI     string
	Percent int
}

// Fleet is an observed Auto Scaling group.
type Fleet struct {
	Name        string
	Stack       desired.StackID
	Version     string
	AMI         string
	Slot        Slot
	TargetGroup string
	Capacity    desired.Capacity
	Instances   []Instance
	CreatedAt   time.Time
	// Refresh is the instance refresh in progress, if any.
	Refresh *RefreshStatus
}

type RefreshStatus struct {
	Version string
	AMI     string
	Percent int // checkpoint asked for
	Done    int // percent of instances replaced so far
}

type Instance struct {
	ID      string
	AMI     string
	Zone    string
	Healthy bool // in service and passing the Auto Scaling health check
}

// ListenerRef names where a stack's forward action lives.
//
// Rules asks for the listener's amigo-owned rules. A driver may pay a
// read per listener for rules where default actions of many listeners
// come in one read, and a stack at rest owns no rule, so the reconciler
// asks for rules only for stacks not at rest and, every few passes, for
// all (a sweep that finds stray rules). With Rules false a driver may
// leave Listener.Rules empty, or return them when they cost nothing.
type ListenerRef struct {
	Listener string
	Rule     string // optional listener rule; "" for the default action
	Rules    bool   // the caller needs the amigo-owned rules; false lets a driver read only the forward action
}

// Listener is the observed routing of one stack.
type Listener struct {
	Ref ListenerRef
	// Conditions are those of Ref.Rule (e.g. path /api/*), empty for the
	// default action. amigo's own rules for the stack repeat them, so that
	// on a shared load balancer they only catch the stack's requests.
	Conditions []Condition
	// Priority is that of Ref.Rule, 0 for the default action. amigo's
	// rules must come before it (lower numbers) or they never match.
	Priority int
	Forward  Forward
	Rules    []Rule // amigo-owned rules only
}

type Forward struct {
	Weights    []Weight // one per target group
	Stickiness time.Duration
}

// Weight returns the weight of target group tg, 0 when absent.
func (f Forward) Weight(tg string) int {
	for _, w := range f.Weights {
		if w.TargetGroup == tg {
			return w.Weight
		}
	}
	return 0
}

type Weight struct {
	TargetGroup string
	Weight      int
}

// Rule is an amigo-owned listener rule forwarding matching requests to
// one target group.
type Rule struct {
	ARN         string
	Priority    int
	Stack       desired.StackID
	Route       desired.Route
	Conditions  []Condition
	TargetGroup string
}

type ConditionField string

const (
	FieldHTTPHeader  ConditionField = "http-header"
	FieldSourceIP    ConditionField = "source-ip"
	FieldPathPattern ConditionField = "path-pattern"
	FieldHostHeader  ConditionField = "host-header"
)

type Condition struct {
	Field  ConditionField
	Header string // for http-header; "Cookie" for cookie matches
	Values []string
}

type TargetGroup struct {
	ARN                 string
	DeregistrationDelay time.Duration
	Targets             []TargetHealth
}

// AllHealthy reports whether the group has targets and all are healthy.
func (tg TargetGroup) AllHealthy() bool {
	if len(tg.Targets) == 0 {
		return false
	}
	for _, t := range tg.Targets {
		if t.State != TargetHealthy {
			return false
		}
	}
	return true
}

type TargetState string

const (
	TargetInitial   TargetState = "initial"
	TargetHealthy   TargetState = "healthy"
	TargetUnhealthy TargetState = "unhealthy"
	TargetDraining  TargetState = "draining"
)

type TargetHealth struct {
	ID    string // instance id
	State TargetState
}

// TGMetrics are load balancer figures for one target group over a window.
// HasData false means no data: never read as healthy.
type TGMetrics struct {
	HasData  bool
	Requests float64
	Errors5x float64
	Latency  time.Duration // average target response time
}

// FleetMetrics are averages over a window, in percent.
type FleetMetrics struct {
	HasData bool
	CPU     float64
	Memory  float64
}
