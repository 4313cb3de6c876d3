package desired

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocListsDefaults keeps the package documentation in step with
// defaults.go.
func TestDocListsDefaults(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	list := func(s []string) string { return "[" + strings.Join(s, ", ") + "]" }
	tests := []struct{ field, value string }{
		{"environments", list(DefaultEnvironments())},
		{"roles", list(DefaultRoles())},
		{"images.layers", list(DefaultLayers())},
		{"images.retain", fmt.Sprint(DefaultRetain)},
		{"promotion.gate", DefaultGate},
		{"promotion.pullRequests", fmt.Sprint(DefaultPullRequests)},
		{"status.branch", DefaultStatusBranch},
		{"aws.region", DefaultRegion},
		{"strategy", string(DefaultStrategy)},
		{"traffic", fmt.Sprint(DefaultTraffic)},
		{"capacity", fmt.Sprintf("desired %d", DefaultDesired)},
		{"analysis", fmt.Sprintf("errorRate %g%%, latency %v, cpu %g%%, memory %g%%", DefaultErrorRate*100, DefaultLatency, DefaultCPU, DefaultMemory)},
		{"onFailure", string(DefaultOnFailure)},
		{"routing.stickiness", "1h for hybrid-canary"},
		{"routing.priority", fmt.Sprint(DefaultPriority)},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			re := regexp.MustCompile(`//\t` + regexp.QuoteMeta(tt.field) + `\s+` + regexp.QuoteMeta(tt.value))
			if !re.Match(doc) {
				t.Errorf("got doc.go without %q for %s, want it listed", tt.value, tt.field)
			}
		})
	}
	if DefaultHybridStickiness.String() != "1h0m0s" {
		t.Errorf("got hybrid stickiness %v, want doc.go updated to match", DefaultHybridStickiness)
	}
}
