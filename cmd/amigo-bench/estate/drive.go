package estate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

// SeedAtRest prepares the cloud so that every stack of repo already runs
// its desired version: the simulator seeds a healthy fleet at the minor
// version before the one it is given, so it is given the next one.
func SeedAtRest(c *sim.Cloud, repo *desired.Repo) error {
	stacks := make([]desired.Stack, len(repo.Stacks))
	for i, st := range repo.Stacks {
		next, err := nextMinor(st.Version)
		if err != nil {
			return err
		}
		st.Version = next
		stacks[i] = st
	}
	if err := c.Seed(repo.Settings, stacks); err != nil {
		return fmt.Errorf("seed at rest: %w", err)
	}
	return nil
}

// SeedRollout prepares the cloud so that every stack runs the minor
// version before its desired one: the next passes roll it out.
func SeedRollout(c *sim.Cloud, repo *desired.Repo) error {
	if err := c.Seed(repo.Settings, repo.Stacks); err != nil {
		return fmt.Errorf("seed rollout: %w", err)
	}
	return nil
}

func nextMinor(v string) (string, error) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 {
		return "", fmt.Errorf("version %q: want vMAJOR.MINOR", v)
	}
	minor, err := strconv.Atoi(parts[1])
	if err != nil {
		return "", fmt.Errorf("version %q: %w", v, err)
	}
	return "v" + parts[0] + "." + strconv.Itoa(minor+1), nil
}

// Until runs passes, advancing the simulated clock by tick after each one
// that does not satisfy done, for at most max passes.
func Until(ctx context.Context, rec *reconciler.Reconciler, c *sim.Cloud, tick time.Duration, max int, done func(reconciler.PassResult) bool) (reconciler.PassResult, error) {
	var res reconciler.PassResult
	for i := 0; i < max; i++ {
		var err error
		res, err = rec.Reconcile(ctx, "bench")
		if err != nil {
			return res, fmt.Errorf("pass %d: %w", i+1, err)
		}
		if done(res) {
			return res, nil
		}
		if err := c.Advance(tick); err != nil {
			return res, fmt.Errorf("advance: %w", err)
		}
	}
	return res, fmt.Errorf("state not reached after %d passes: %s", max, firstLagging(res))
}

func firstLagging(res reconciler.PassResult) string {
	for _, sp := range res.Plan.Stacks {
		s := sp.Status
		if s.Phase != reconciler.Healthy || len(sp.Actions) > 0 {
			return fmt.Sprintf("%s %s step %q: %s", s.Stack, s.Phase, s.StepName, s.Message)
		}
	}
	return fmt.Sprintf("%d actions applied", len(res.Applied))
}

// atRest reports whether the pass found every stack Healthy on one fleet
// and did nothing.
func atRest(res reconciler.PassResult) bool {
	if len(res.Applied) > 0 || res.Committed {
		return false
	}
	for _, sp := range res.Plan.Stacks {
		s := sp.Status
		if s.Phase != reconciler.Healthy || s.New != nil || len(s.Retiring) > 0 || len(sp.Actions) > 0 {
			return false
		}
	}
	return true
}

// Statuses are the statuses a pass recorded, as the next pass reads them.
func Statuses(res reconciler.PassResult) map[desired.StackID]reconciler.Status {
	out := make(map[desired.StackID]reconciler.Status, len(res.Plan.Stacks))
	for _, sp := range res.Plan.Stacks {
		out[sp.Stack] = sp.Status
	}
	return out
}
