package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// cmdPlan prints what a pass would do. Exit 2 when it would change
// something, so scripts and CI can tell.
func cmdPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, fs, err := parseRunFlags("plan", args, stderr)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 && f.repo == "" {
		f.repo = fs.Arg(0)
	}
	if f.repo == "" {
		f.repo = "."
	}
	if f.driver == "sim" && f.simState == "" {
		return &exitError{code: 2, err: fmt.Errorf("plan with --driver sim needs --sim-state FILE")}
	}
	d, err := newDaemon(ctx, f, newLogger(stderr, "warn", f.logFormat))
	if err != nil {
		return err
	}
	res, repo, err := d.rec.DryRun(ctx)
	if err != nil {
		return err
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(planJSON(res)); err != nil {
			return err
		}
	} else {
		printPlan(stdout, res, repo)
	}
	if changes(res) > 0 {
		return &exitError{code: 2}
	}
	return nil
}

func changes(res reconciler.Result) int {
	n := 0
	for _, sp := range res.Stacks {
		n += len(sp.Actions)
	}
	return n
}

// PrintPlan renders a plan for people.
func printPlan(w io.Writer, res reconciler.Result, repo *desired.Repo) {
	for _, sp := range res.Stacks {
		s := sp.Status
		from, to := "-", "-"
		if s.Stable != nil {
			from = s.Stable.Version
		}
		if st, ok := repo.Stack(sp.Stack); ok {
			to = st.Version
		}
		fmt.Fprintf(w, "%s  %s -> %s  %s  %s\n", sp.Stack, from, to, s.Strategy, s.Phase)
		if s.Gate != "" {
			fmt.Fprintf(w, "    gate: %s\n", s.Gate)
		}
		for _, a := range sp.Actions {
			fmt.Fprintf(w, "    + %s\n", a)
		}
		if s.Message != "" && s.Message != "promotion gate: "+s.Gate {
			fmt.Fprintf(w, "    %s\n", s.Message)
		}
	}
	fmt.Fprintf(w, "%d changes\n", changes(res))
}

type planStack struct {
	Stack   string              `json:"stack"`
	Actions []string            `json:"actions"`
	Status  reconciler.Status   `json:"status"`
	Raw     []reconciler.Action `json:"raw"`
}

func planJSON(res reconciler.Result) []planStack {
	out := make([]planStack, 0, len(res.Stacks))
	for _, sp := range res.Stacks {
		ps := planStack{Stack: sp.Stack.String(), Status: sp.Status, Actions: []string{}, Raw: sp.Actions}
		for _, a := range sp.Actions {
			ps.Actions = append(ps.Actions, a.String())
		}
		out = append(out, ps)
	}
	return out
}
