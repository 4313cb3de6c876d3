package desired

import "time"

// Every default of the amigo/v1 format lives in this file, so that the
// documentation (doc.go) and the loader cannot disagree about them.

const (
	// DefaultRetain is how many image generations are kept per role and
	// layer (images.retain).
	DefaultRetain = 10

	// DefaultGate is promotion.gate: a version may enter env N only once it
	// is Healthy in env N-1.
	DefaultGate = GateHealthy

	// DefaultPullRequests is promotion.pullRequests: open the pull request
	// that promotes a version once it turns Healthy.
	DefaultPullRequests = true

	// DefaultStatusBranch is status.branch. Status never goes onto the
	// desired branch, so that writing it cannot trigger a reconcile.
	DefaultStatusBranch = "amigo/status"

	// DefaultRegion is aws.region.
	DefaultRegion = "ap-northeast-1"

	// DefaultStrategy is a stack's strategy.
	DefaultStrategy = BlueGreen

	// DefaultTraffic is a stack's traffic: the whole rollout.
	DefaultTraffic = 100

	// DefaultDesired is capacity.desired. capacity.min defaults to desired
	// and capacity.max to twice desired.
	DefaultDesired = 2

	// DefaultErrorRate is analysis.errorRate (0.1%) as a fraction.
	DefaultErrorRate = 0.001

	// DefaultLatency is analysis.latency, the average target response time.
	DefaultLatency = 2 * time.Second

	// DefaultCPU is analysis.cpu in percentage points of deviation from the
	// stable fleet (10%).
	DefaultCPU = 10.0

	// DefaultMemory is analysis.memory, like DefaultCPU.
	DefaultMemory = 10.0

	// DefaultOnFailure is onFailure: traffic back to stable, then hold.
	DefaultOnFailure = OnFailureAbort

	// DefaultHybridStickiness is routing.stickiness for hybrid-canary, so a
	// user who reached the new version stays there during weighted steps.
	// Other strategies default to no stickiness.
	DefaultHybridStickiness = time.Hour

	// DefaultPriority is routing.priority, the first listener rule priority
	// a stack uses.
	DefaultPriority = 1

	// PriorityRange is how many consecutive listener rule priorities a stack
	// owns, starting at routing.priority.
	PriorityRange = 10
)

// DefaultEnvironments returns the promotion order used when amigo.yaml names
// none.
func DefaultEnvironments() []string { return []string{"dev", "stg", "prd"} }

// DefaultRoles returns the roles used when amigo.yaml names none.
func DefaultRoles() []string { return []string{"web", "hlp"} }

// DefaultLayers returns the Image Builder lineage used when amigo.yaml names
// none, lowest layer first.
func DefaultLayers() []string { return []string{"base", "middleware", "app"} }

// DefaultSteps returns the operations handbook's steps for a strategy, or
// nil for a strategy that does not exist. It is the one place that knows the
// strategies, so validation asks it whether a strategy exists.
func DefaultSteps(s Strategy) []Step {
	const m, h = time.Minute, time.Hour
	switch s {
	case BlueGreen:
		return []Step{{Traffic: 10, Pause: 15 * m}, {Traffic: 50, Pause: 15 * m}, {Traffic: 100, Pause: 30 * m}}
	case Canary:
		return []Step{{Traffic: 10, Pause: 30 * m}, {Traffic: 50, Pause: 30 * m}, {Traffic: 100}}
	case Rolling:
		return []Step{{Traffic: 25, Pause: 5 * m}, {Traffic: 50, Pause: 5 * m}, {Traffic: 75, Pause: 5 * m}, {Traffic: 100, Pause: 5 * m}}
	case HybridCanary:
		return []Step{
			{Traffic: 5, Route: RouteInternal, Pause: 24 * h},
			{Traffic: 20, Route: RoutePilot, Pause: 48 * h},
			{Traffic: 50, Route: RouteWeighted, Pause: 24 * h},
			{Traffic: 100, Route: RouteWeighted, Pause: 168 * h},
		}
	}
	return nil
}

// defaultSettings is amigo.yaml before the file is read.
func defaultSettings() Settings {
	return Settings{
		APIVersion:   APIVersion,
		Environments: DefaultEnvironments(),
		Roles:        DefaultRoles(),
		Images:       ImageSettings{Layers: DefaultLayers(), Retain: DefaultRetain},
		Promotion:    PromotionSettings{Gate: DefaultGate, PullRequests: DefaultPullRequests},
		Status:       StatusSettings{Branch: DefaultStatusBranch},
		AWS:          AWSSettings{Region: DefaultRegion},
	}
}

// defaultStack is a stack file before it is read. Defaults that depend on
// other fields are applied by rawStack.applyDefaults.
func defaultStack(id StackID, file string) Stack {
	return Stack{
		ID:        id,
		File:      file,
		Strategy:  DefaultStrategy,
		Traffic:   DefaultTraffic,
		Analysis:  Analysis{ErrorRate: DefaultErrorRate, Latency: DefaultLatency, CPU: DefaultCPU, Memory: DefaultMemory},
		OnFailure: DefaultOnFailure,
		Routing:   Routing{Priority: DefaultPriority},
	}
}

// applyDefaults fills the fields whose default depends on what the file
// says: capacity follows desired, stickiness and steps follow the strategy.
func (r *rawStack) applyDefaults() {
	c := &r.s.Capacity
	c.Desired = valueOr(r.desired, DefaultDesired)
	c.Min = valueOr(r.min, c.Desired)
	c.Max = valueOr(r.max, 2*c.Desired)
	stick := time.Duration(0)
	if r.s.Strategy == HybridCanary {
		stick = DefaultHybridStickiness
	}
	r.s.Routing.Stickiness = valueOr(r.stickiness, stick)
	if !r.stepsGiven {
		r.s.Steps = DefaultSteps(r.s.Strategy)
	}
}

func valueOr[T any](p *T, def T) T {
	if p != nil {
		return *p
	}
	return def
}
