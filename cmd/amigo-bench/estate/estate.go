package estate

import (
	"fmt"
	"strings"

	"github.com/amigo-gitops/amigo/desired"
)

// Env is the single environment of a generated estate: with one
// environment the promotion gate never holds a stack back, so every stack
// moves on its own.
const Env = "dev"

// Strategies are the rollout strategies, in the order Mixed rotates them.
var Strategies = []string{"bluegreen", "rolling", "canary", "hybrid-canary"}

// Mixed gives stack i the strategy Strategies[i%4].
const Mixed = "mixed"

// Spec describes a generated estate.
type Spec struct {
	Stacks   int    // number of stacks, roles r0001...
	Strategy string // one of Strategies, or Mixed
	Version  string // the version every stack asks for, e.g. v1.5
	Traffic  int    // rollout ceiling; 0 means 100
	Capacity int    // desired instances per fleet; 0 means 2
}

// Role names stack i (0-based).
func Role(i int) string { return fmt.Sprintf("r%04d", i+1) }

// ID is stack i's id.
func ID(i int) desired.StackID { return desired.StackID{Env: Env, Role: Role(i)} }

// Path is stack i's file in the config repository.
func Path(i int) string { return "environments/" + Env + "/" + Role(i) + ".yaml" }

// Listener is stack i's listener ARN.
func Listener(i int) string { return "lst-" + Env + "-" + Role(i) }

// TargetGroup is stack i's target group in slot (blue or green).
func TargetGroup(i int, slot string) string { return "tg-" + Env + "-" + Role(i) + "-" + slot }

// StrategyOf is the strategy of stack i.
func (s Spec) StrategyOf(i int) string {
	if s.Strategy == Mixed || s.Strategy == "" {
		return Strategies[i%len(Strategies)]
	}
	return s.Strategy
}

// Settings is amigo.yaml for the estate.
func (s Spec) Settings() string {
	var b strings.Builder
	b.WriteString("apiVersion: amigo/v1\nproject: bench\nenvironments: [" + Env + "]\nroles:\n")
	for i := 0; i < s.Stacks; i++ {
		b.WriteString("  - " + Role(i) + "\n")
	}
	b.WriteString("promotion:\n  pullRequests: false\n")
	return b.String()
}

// Stack is stack i's file.
func (s Spec) Stack(i int) string {
	var b strings.Builder
	traffic := s.Traffic
	if traffic == 0 {
		traffic = 100
	}
	n := s.Capacity
	if n == 0 {
		n = 2
	}
	strategy := s.StrategyOf(i)
	fmt.Fprintf(&b, "version: %s\nstrategy: %s\ntraffic: %d\n", s.Version, strategy, traffic)
	fmt.Fprintf(&b, "capacity: {desired: %d, min: %d, max: %d}\n", n, n, 2*n)
	if strategy == "hybrid-canary" {
		b.WriteString("routing:\n  internal: {headers: {X-Blue-Verification: \"true\"}, sourceCIDRs: [10.0.0.0/16]}\n" +
			"  pilot: {headers: {X-Canary-Group: pilot}, cookies: {canary-user: enabled}}\n")
	}
	fmt.Fprintf(&b, "target:\n  listener: %s\n  targetGroups: [%s, %s]\n  launchTemplate: lt-%s\n  subnets: [subnet-1a, subnet-1c]\n",
		Listener(i), TargetGroup(i, "blue"), TargetGroup(i, "green"), Role(i))
	return b.String()
}

// Files is the whole config repository, keyed by path.
func (s Spec) Files() map[string][]byte {
	files := make(map[string][]byte, s.Stacks+1)
	files["amigo.yaml"] = []byte(s.Settings())
	for i := 0; i < s.Stacks; i++ {
		files[Path(i)] = []byte(s.Stack(i))
	}
	return files
}

// Load parses the estate as the reconciler would.
func (s Spec) Load(rev string) (*desired.Repo, error) {
	repo, err := desired.Load(s.Files(), rev)
	if err != nil {
		return nil, fmt.Errorf("load estate: %w", err)
	}
	if len(repo.Invalid) > 0 {
		return nil, fmt.Errorf("load estate: %d stacks rejected: %v", len(repo.Invalid), repo.Invalid[0].Errors[0])
	}
	return repo, nil
}
