package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

const simUsage = `Usage:
  amigo sim show    --sim-state FILE [--json]
  amigo sim advance --sim-state FILE DURATION          (e.g. 15m, 2d)
  amigo sim inject  --sim-state FILE --stack ENV/ROLE [--version V] [--error-rate 5%]
                    [--latency 3s] [--unhealthy N] [--cpu PP] [--memory PP] [--throttle N] [--clear]
  amigo sim image   --sim-state FILE --role ROLE --version V [--state AVAILABLE|BUILDING|FAILED]
                    [--project P] [--layer app]
  amigo sim seed    --sim-state FILE --repo DIR
`

func cmdSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, simUsage)
		return &exitError{code: 2}
	}
	fs := flag.NewFlagSet("sim "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("sim-state", "", "simulated cloud state file")
	var run func(c *sim.Cloud) error
	switch args[0] {
	case "show":
		asJSON := fs.Bool("json", false, "print JSON")
		run = func(c *sim.Cloud) error { return simShow(c, *asJSON, stdout) }
	case "advance":
		run = func(c *sim.Cloud) error { return simAdvance(c, fs.Args(), stdout) }
	case "inject":
		run = simInjectFlags(fs, stdout)
	case "image":
		run = simImageFlags(fs, stdout)
	case "seed":
		repo := fs.String("repo", ".", "config repository directory")
		run = func(c *sim.Cloud) error { return simSeed(c, *repo) }
	default:
		fmt.Fprint(stderr, simUsage)
		return &exitError{code: 2, err: fmt.Errorf("unknown sim command %q", args[0])}
	}
	if err := fs.Parse(args[1:]); err != nil {
		return &exitError{code: 2}
	}
	if *state == "" {
		return &exitError{code: 2, err: fmt.Errorf("sim %s: --sim-state FILE is required", args[0])}
	}
	c, err := sim.Open(*state, sim.Options{})
	if err != nil {
		return err
	}
	return run(c)
}

func simShow(c *sim.Cloud, asJSON bool, w io.Writer) error {
	snap, err := c.Show()
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(snap)
	}
	fmt.Fprintf(w, "sim time %s\n\nlisteners:\n", snap.Now.Format(time.RFC3339))
	for _, l := range snap.Listeners {
		fmt.Fprintf(w, "  %s\n    forward %s\n", l.ARN, reconciler.Forward{Weights: l.Weights, Stickiness: l.Stickiness})
		for _, r := range l.Rules {
			fmt.Fprintf(w, "    rule p%d %s %s -> %v\n", r.Priority, r.Stack, r.Route, r.Weights)
		}
	}
	fmt.Fprintln(w, "\nfleets:")
	for _, f := range snap.Fleets {
		healthy := 0
		for _, i := range f.Instances {
			if i.Health == string(reconciler.TargetHealthy) {
				healthy++
			}
		}
		fmt.Fprintf(w, "  %-28s %-8s %-7s %-5s %d/%d healthy  %s\n", f.Name, f.Stack, f.Version, f.Slot, healthy, f.Capacity.Desired, f.AMI)
	}
	fmt.Fprintf(w, "\napi calls: %d reads, %d writes, %d throttled\n", snap.Calls.TotalReads(), snap.Calls.TotalWrites(), snap.Calls.Throttled)
	return nil
}

func simAdvance(c *sim.Cloud, args []string, w io.Writer) error {
	if len(args) != 1 {
		return &exitError{code: 2, err: fmt.Errorf("sim advance: want one DURATION")}
	}
	d, err := desired.ParseDuration(args[0])
	if err != nil {
		return fmt.Errorf("sim advance: %w", err)
	}
	if err := c.Advance(d); err != nil {
		return err
	}
	fmt.Fprintf(w, "sim time %s\n", c.Now().Format(time.RFC3339))
	return nil
}

func simInjectFlags(fs *flag.FlagSet, w io.Writer) func(*sim.Cloud) error {
	stack := fs.String("stack", "", "stack ENV/ROLE")
	version := fs.String("version", "", "fleet version (default: the stack's newest fleet)")
	errRate := fs.String("error-rate", "", "5xx share, e.g. 5%")
	latency := fs.Duration("latency", 0, "added response time")
	unhealthy := fs.Int("unhealthy", 0, "instances whose targets fail health checks")
	cpu := fs.Float64("cpu", 0, "CPU change in percentage points")
	mem := fs.Float64("memory", 0, "memory change in percentage points")
	throttle := fs.Int("throttle", 0, "the next N API calls are throttled")
	clear := fs.Bool("clear", false, "clear the stack's faults")
	return func(c *sim.Cloud) error {
		var id desired.StackID
		if *stack != "" {
			var err error
			if id, err = desired.ParseStackID(*stack); err != nil {
				return err
			}
		}
		if *clear {
			return c.ClearFaults(id)
		}
		f := sim.Fault{Stack: id, Version: *version, Latency: *latency, Unhealthy: *unhealthy, CPU: *cpu, Memory: *mem, Throttle: *throttle}
		if *errRate != "" {
			v, err := desired.ParsePercent(*errRate)
			if err != nil {
				return fmt.Errorf("--error-rate: %w", err)
			}
			f.ErrorRate = v
		}
		if *stack == "" && *throttle == 0 {
			return &exitError{code: 2, err: fmt.Errorf("sim inject: --stack is required")}
		}
		if err := c.Inject(f); err != nil {
			return err
		}
		fmt.Fprintf(w, "injected %+v\n", f)
		return nil
	}
}

func simImageFlags(fs *flag.FlagSet, w io.Writer) func(*sim.Cloud) error {
	role := fs.String("role", "", "role, e.g. web")
	version := fs.String("version", "", "version, e.g. v1.7")
	state := fs.String("state", string(reconciler.ImageAvailable), "AVAILABLE, BUILDING or FAILED")
	project := fs.String("project", "", "project (default: the one the simulated images have)")
	layer := fs.String("layer", "app", "image layer")
	return func(c *sim.Cloud) error {
		if *role == "" || *version == "" {
			return &exitError{code: 2, err: fmt.Errorf("sim image: --role and --version are required")}
		}
		p := *project
		if p == "" {
			var err error
			if p, err = onlyProject(c); err != nil {
				return err
			}
		}
		st := reconciler.ImageState(strings.ToUpper(*state))
		if err := c.SetImage(p, *role, *layer, *version, st); err != nil {
			return err
		}
		fmt.Fprintf(w, "image %s-%s-%s-%s %s\n", p, *role, *layer, *version, st)
		return nil
	}
}

func onlyProject(c *sim.Cloud) (string, error) {
	snap, err := c.Show()
	if err != nil {
		return "", err
	}
	seen := map[string]bool{}
	for _, im := range snap.Images {
		seen[im.Project] = true
	}
	if len(seen) != 1 {
		names := make([]string, 0, len(seen))
		for p := range seen {
			names = append(names, p)
		}
		sort.Strings(names)
		return "", fmt.Errorf("sim image: --project is required (images have %v)", names)
	}
	for p := range seen {
		return p, nil
	}
	return "", nil
}

func simSeed(c *sim.Cloud, dir string) error {
	repo, err := desired.LoadDir(dir)
	if err != nil {
		return err
	}
	return c.Seed(repo.Settings, repo.Stacks)
}
