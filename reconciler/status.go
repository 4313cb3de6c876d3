package reconciler

import (
	"fmt"
	"time"

	"github.com/amigo-gitops/amigo/desired"
)

// Phase is where a stack stands.
type Phase string

const (
	Progressing Phase = "Progressing" // moving toward the desired state
	Paused      Phase = "Paused"      // held at the traffic ceiling below 100%
	Healthy     Phase = "Healthy"     // desired version fully serving, stable
	Aborted     Phase = "Aborted"     // analysis failed; traffic back on stable
	Blocked     Phase = "Blocked"     // cannot start: gate, image or validation
	Degraded    Phase = "Degraded"    // serving, but the stable fleet is unhealthy
)

// Status is what amigo records per stack on the status branch. It is also
// amigo's memory across restarts: the step a rollout is in and when it
// began, which fleet is stable, which fleets are draining. Fields that
// change every pass (clock readings, live metrics) are kept out, so that a
// pass with nothing to do writes nothing.
type Status struct {
	Stack         string     `yaml:"stack" json:"stack"`
	File          string     `yaml:"file,omitempty" json:"file,omitempty"`
	DesiredCommit string     `yaml:"desiredCommit,omitempty" json:"desiredCommit,omitempty"`
	Phase         Phase      `yaml:"phase" json:"phase"`
	Message       string     `yaml:"message,omitempty" json:"message,omitempty"`
	Strategy      string     `yaml:"strategy,omitempty" json:"strategy,omitempty"`
	Traffic       int        `yaml:"traffic" json:"traffic"`
	Step          int        `yaml:"step" json:"step"` // index into the steps; -1 before the first
	StepName      string     `yaml:"stepName,omitempty" json:"stepName,omitempty"`
	StepStartedAt *time.Time `yaml:"stepStartedAt,omitempty" json:"stepStartedAt,omitempty"` // when the step was reached; its pause counts from here
	WaitingSince  *time.Time `yaml:"waitingSince,omitempty" json:"waitingSince,omitempty"`   // when amigo began waiting for fleets to turn healthy
	Weight        int        `yaml:"weight" json:"weight"`                                   // percent of traffic (rolling: of instances) on New
	Stable        *Release   `yaml:"stable,omitempty" json:"stable,omitempty"`
	New           *Release   `yaml:"new,omitempty" json:"new,omitempty"`
	Analysis      *Report    `yaml:"analysis,omitempty" json:"analysis,omitempty"`
	Gate          string     `yaml:"gate,omitempty" json:"gate,omitempty"`
	Abort         *Abort     `yaml:"abort,omitempty" json:"abort,omitempty"`
	Retiring      []Retiring `yaml:"retiring,omitempty" json:"retiring,omitempty"`
	Drift         []string   `yaml:"drift,omitempty" json:"drift,omitempty"`
	TraceID       string     `yaml:"traceID,omitempty" json:"traceID,omitempty"`
}

// Release is one version of a stack as deployed.
type Release struct {
	Version string  `yaml:"version" json:"version"`
	AMI     string  `yaml:"ami,omitempty" json:"ami,omitempty"`
	Fleet   string  `yaml:"fleet,omitempty" json:"fleet,omitempty"`
	Lineage []Layer `yaml:"lineage,omitempty" json:"lineage,omitempty"`
}

// Report holds the analysis figures that last decided a step: the ones
// that let it advance, or the ones that failed it.
type Report struct {
	Window    string   `yaml:"window" json:"window"`
	Requests  float64  `yaml:"requests" json:"requests"`
	ErrorRate float64  `yaml:"errorRate" json:"errorRate"`
	LatencyMS float64  `yaml:"latencyMs" json:"latencyMs"`
	CPUDelta  *float64 `yaml:"cpuDelta,omitempty" json:"cpuDelta,omitempty"`
	MemDelta  *float64 `yaml:"memoryDelta,omitempty" json:"memoryDelta,omitempty"`
	Verdict   string   `yaml:"verdict" json:"verdict"` // passing, failing, no data
	Failures  []string `yaml:"failures,omitempty" json:"failures,omitempty"`
}

// Abort latches a failed rollout until the desired state of the stack
// changes (Key is a digest of the stack's desired spec).
type Abort struct {
	Version string    `yaml:"version" json:"version"`
	Key     string    `yaml:"key" json:"key"`
	Reason  string    `yaml:"reason" json:"reason"`
	At      time.Time `yaml:"at" json:"at"`
	Revert  string    `yaml:"revert,omitempty" json:"revert,omitempty"` // revert commit pushed, if any
}

// Retiring is a fleet that the ALB was read back serving nothing; it is
// deleted once the target group's deregistration delay has passed since.
type Retiring struct {
	Fleet string    `yaml:"fleet" json:"fleet"`
	Since time.Time `yaml:"since" json:"since"`
}

// Drift is one thing found changed outside amigo, and what amigo put back.
type Drift struct {
	What   string // forward, rule, fleet <name> capacity
	Before string // as found
	After  string // as put back
}

func (d Drift) String() string { return fmt.Sprintf("%s was %s, want %s", d.What, d.Before, d.After) }

// StatusKey is the status file path of a stack.
func StatusKey(id desired.StackID) string {
	return "status/" + id.Env + "/" + id.Role + ".yaml"
}
