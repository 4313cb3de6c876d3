package aws

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// TestMain fails the run when the driver called an IAM action that
// examples/iam-policy.json does not grant, and, on a full run, when the
// policy grants an action the driver never called. Statements whose Sid
// starts with "Implied" grant what AWS authorizes alongside a call (tags
// on create, launching from a launch template) and are not called
// directly.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 {
		if err := checkPolicy(flag.Lookup("test.run").Value.String() == "" && !testing.Short()); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: least privilege:", err)
			code = 1
		}
	}
	os.Exit(code)
}

const policyFile = "../../examples/iam-policy.json"

// policyActions returns every allowed action, true when called directly.
func policyActions() (map[string]bool, error) {
	b, err := os.ReadFile(policyFile)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Statement []struct {
			Sid    string
			Effect string
			Action []string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", policyFile, err)
	}
	out := map[string]bool{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			out[a] = out[a] || !strings.HasPrefix(s.Sid, "Implied")
		}
	}
	return out, nil
}

func checkPolicy(full bool) error {
	allowed, err := policyActions()
	if err != nil {
		return err
	}
	seen.Lock()
	defer seen.Unlock()
	var missing, unused []string
	for a := range seen.actions {
		if _, ok := allowed[a]; !ok {
			missing = append(missing, a)
		}
	}
	for a, direct := range allowed {
		if full && direct && !seen.actions[a] {
			unused = append(unused, a)
		}
	}
	sort.Strings(missing)
	sort.Strings(unused)
	if len(missing) > 0 || len(unused) > 0 {
		return fmt.Errorf("called but not in %s: %v; in the policy but never called: %v", policyFile, missing, unused)
	}
	return nil
}
