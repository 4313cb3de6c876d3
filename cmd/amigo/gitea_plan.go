package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/gitea"
	"github.com/amigo-gitops/amigo/reconciler"
	"github.com/amigo-gitops/amigo/reconciler/webhook"
)

// planContext is the commit status that branch protection can require.
const planContext = "amigo/plan"

// prPlan is a pull request's head planned against the running estate.
type prPlan struct {
	Number  int64
	Head    string
	Base    *desired.Repo     // the desired branch now; nil when unreadable
	Repo    *desired.Repo     // the head's config; nil when it does not load
	LoadErr error             // why the head's config does not load
	Plan    reconciler.Result // what a pass would do with the head merged
	PlanErr error             // observing the cloud failed
}

// planPullRequest plans the head of a pull request, then writes the plan
// comment and the amigo/plan status on the head. It runs on the reconcile
// loop, between passes.
func (g *giteaReporter) planPullRequest(ctx context.Context, rec *reconciler.Reconciler, ev webhook.PullRequestEvent) error {
	if !strings.EqualFold(ev.Repo, g.owner+"/"+g.name) {
		g.log.WithField("repo", ev.Repo).Debug("pull request of another repository ignored")
		return nil
	}
	p, err := g.planHead(ctx, rec, ev.Number)
	if err != nil {
		return err
	}
	c, err := g.link.client()
	if err != nil {
		return err
	}
	if err := c.UpsertPlanComment(ctx, g.owner, g.name, ev.Number, renderPlan(p)); err != nil {
		return err
	}
	return c.SetCommitStatus(ctx, g.owner, g.name, p.Head, planStatus(p))
}

// planHead fetches the pull request's head and plans it. Errors are
// returned only when there is nothing to report on.
func (g *giteaReporter) planHead(ctx context.Context, rec *reconciler.Reconciler, number int64) (prPlan, error) {
	head, err := g.src.FetchRef(ctx, fmt.Sprintf("refs/pull/%d/head", number))
	if err != nil {
		return prPlan{}, err
	}
	files, err := g.src.Files(ctx, head)
	if err != nil {
		return prPlan{}, err
	}
	p := prPlan{Number: number, Head: head}
	if base, err := g.src.Fetch(ctx); err == nil {
		if bf, err := g.src.Files(ctx, base); err == nil {
			p.Base, _ = desired.Load(bf, base)
		}
	}
	p.Plan, p.Repo, err = rec.PlanFiles(ctx, files, head)
	switch {
	case p.Repo == nil:
		p.LoadErr = err
	case err != nil:
		p.PlanErr = err
	}
	return p, nil
}

// verdict is what amigo/plan says about a pull request.
type verdict struct {
	State   string   // gitea.StateSuccess, StateFailure or StateError
	Summary string   // one line
	Gate    []string // stacks the promotion gate would block, with why
}

// judge fails a pull request that breaks validation or that changes the
// version of a stack the promotion gate would block.
func judge(p prPlan) verdict {
	switch {
	case p.LoadErr != nil:
		return verdict{State: gitea.StateFailure, Summary: "config does not load: " + p.LoadErr.Error()}
	case len(p.Repo.Errors) > 0:
		return verdict{State: gitea.StateFailure, Summary: fmt.Sprintf("%d validation error(s), first %s", len(p.Repo.Errors), p.Repo.Errors[0])}
	}
	var v verdict
	for _, sp := range p.Plan.Stacks {
		s := sp.Status
		if s.Phase == reconciler.Blocked && s.Gate != "" && versionChanged(p, sp.Stack) {
			v.Gate = append(v.Gate, sp.Stack.String()+": "+s.Gate)
		}
	}
	switch {
	case len(v.Gate) > 0:
		v.State, v.Summary = gitea.StateFailure, "promotion gate blocks "+v.Gate[0]
	case p.PlanErr != nil:
		v.State, v.Summary = gitea.StateError, "plan failed: "+p.PlanErr.Error()
	default:
		v.State, v.Summary = gitea.StateSuccess, changeSummary(p)
	}
	return v
}

// versionChanged reports whether the pull request sets another version
// for the stack than the desired branch has (or adds the stack).
func versionChanged(p prPlan, id desired.StackID) bool {
	to, ok := p.Repo.Stack(id)
	if !ok {
		return false
	}
	if p.Base == nil {
		return true
	}
	from, ok := p.Base.Stack(id)
	return !ok || from.Version != to.Version
}

func changeSummary(p prPlan) string {
	changed, actions := 0, 0
	for _, sp := range p.Plan.Stacks {
		if versionChanged(p, sp.Stack) {
			changed++
		}
		actions += len(sp.Actions)
	}
	return fmt.Sprintf("valid; %d version change(s), %d action(s) next pass, gate open", changed, actions)
}

func planStatus(p prPlan) gitea.CommitStatus {
	v := judge(p)
	return gitea.CommitStatus{Context: planContext, State: v.State, Description: clip(v.Summary, maxDescription)}
}

// renderPlan is the plan comment: a verdict, a table of stacks, the
// actions per stack and the validation errors.
func renderPlan(p prPlan) string {
	v := judge(p)
	var b strings.Builder
	b.WriteString(gitea.PlanMarker + "\n")
	fmt.Fprintf(&b, "### amigo plan for `%s`\n\n", shortSHA(p.Head))
	mark := map[string]string{gitea.StateSuccess: "✅", gitea.StateFailure: "❌", gitea.StateError: "⚠️"}[v.State]
	fmt.Fprintf(&b, "%s **%s**: %s\n", mark, v.State, v.Summary)
	if p.LoadErr != nil {
		return b.String()
	}
	b.WriteString("\n| stack | version | strategy | phase | gate |\n|---|---|---|---|---|\n")
	for _, sp := range p.Plan.Stacks {
		renderRow(&b, p, sp)
	}
	for _, sp := range p.Plan.Stacks {
		renderActions(&b, p, sp)
	}
	if len(p.Repo.Errors) > 0 {
		b.WriteString("\n#### Validation errors\n\n")
		for _, fe := range p.Repo.Errors {
			fmt.Fprintf(&b, "- `%s`\n", fe)
		}
	}
	return b.String()
}

func renderRow(b *strings.Builder, p prPlan, sp reconciler.StackPlan) {
	from, to := "-", "❌ rejected"
	if p.Base != nil {
		if st, ok := p.Base.Stack(sp.Stack); ok {
			from = st.Version
		}
	}
	if st, ok := p.Repo.Stack(sp.Stack); ok {
		to = st.Version
	}
	version := from
	if to != from {
		version = fmt.Sprintf("%s → **%s**", from, to)
	}
	gate := "-"
	switch {
	case sp.Status.Phase == reconciler.Blocked && sp.Status.Gate != "":
		gate = "❌ " + sp.Status.Gate
	case sp.Status.Gate != "":
		gate = "✅ " + sp.Status.Gate
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", sp.Stack, version, dashIfEmpty(sp.Status.Strategy), sp.Status.Phase, cell(gate))
}

// renderActions lists what the next pass would do to the load balancer,
// the fleets and the images of a stack, for the stacks the pull request
// changes, that have actions, or that are blocked.
func renderActions(b *strings.Builder, p prPlan, sp reconciler.StackPlan) {
	if len(sp.Actions) == 0 && sp.Status.Phase != reconciler.Blocked && !versionChanged(p, sp.Stack) {
		return
	}
	fmt.Fprintf(b, "\n#### %s\n\n", sp.Stack)
	for _, a := range sp.Actions {
		fmt.Fprintf(b, "- %s\n", a)
	}
	if len(sp.Actions) == 0 {
		b.WriteString("- no change to the load balancer, the fleets or the images\n")
	}
	if sp.Status.Message != "" {
		fmt.Fprintf(b, "\n_%s_\n", sp.Status.Message)
	}
}

// cell keeps a value from breaking the markdown table.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}
