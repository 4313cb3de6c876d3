package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/gitea"
	"github.com/amigo-gitops/amigo/reconciler"
)

// promotion is a pull request amigo proposes: version, proven Healthy in
// one environment, for the same role in the next one.
type promotion struct {
	From, To desired.Stack // To is the next environment's stack as it is now
	Version  string
	Status   reconciler.Status // From's status, the evidence
}

// Marker finds the pull request again, open or closed.
func (p promotion) Marker() string {
	return fmt.Sprintf("amigo:promote:%s:%s", p.To.ID, p.Version)
}

// promotions lists the promotions a pass's outcome calls for: a stack
// Healthy at the version its file asks for, whose role in the next
// environment asks for an older one.
func promotions(repo *desired.Repo, stacks []reconciler.StackPlan) []promotion {
	if !repo.Settings.Promotion.PullRequests {
		return nil
	}
	envs := repo.Settings.Environments
	var out []promotion
	for _, sp := range stacks {
		s := sp.Status
		from, ok := repo.Stack(sp.Stack)
		if !ok || s.Phase != reconciler.Healthy || versionOf(s.Stable) != from.Version {
			continue
		}
		next := nextEnv(envs, sp.Stack.Env)
		to, ok := repo.Stack(desired.StackID{Env: next, Role: sp.Stack.Role})
		if next == "" || !ok {
			continue
		}
		if c, err := desired.CompareVersions(to.Version, from.Version); err != nil || c >= 0 {
			continue
		}
		out = append(out, promotion{From: from, To: to, Version: from.Version, Status: s})
	}
	return out
}

func nextEnv(envs []string, env string) string {
	for i, e := range envs {
		if e == env && i+1 < len(envs) {
			return envs[i+1]
		}
	}
	return ""
}

// promote opens the promotion pull requests this pass calls for, each at
// most once.
func (g *giteaReporter) promote(ctx context.Context, c *gitea.Client, rev string, stacks []reconciler.StackPlan) error {
	cfg, err := g.config(ctx, rev)
	if err != nil {
		return fmt.Errorf("promotion: %w", err)
	}
	if g.promoted == nil {
		g.promoted = map[string]bool{}
	}
	var errs []error
	for _, p := range promotions(cfg.repo, stacks) {
		if g.promoted[p.Marker()] {
			continue
		}
		pr, err := g.promotionPRFor(p, cfg.files[p.To.File], g.src.Branch())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n, created, err := c.OpenPullRequest(ctx, g.owner, g.name, pr)
		if err != nil {
			errs = append(errs, fmt.Errorf("promote %s to %s: %w", p.Version, p.To.ID, err))
			continue
		}
		g.promoted[p.Marker()] = true
		if created {
			g.log.WithFields(logrus.Fields{"stack": p.To.ID.String(), "version": p.Version, "pr": n}).Info("promotion pull request opened")
		}
	}
	return errors.Join(errs...)
}

// promotionPRFor is the pull request against base that carries p: the next
// environment's stack file with only its version changed.
func (g *giteaReporter) promotionPRFor(p promotion, content []byte, base string) (gitea.NewPR, error) {
	if content == nil {
		return gitea.NewPR{}, fmt.Errorf("promote %s: %s not found", p.To.ID, p.To.File)
	}
	next, err := desired.SetVersion(content, p.Version)
	if err != nil {
		return gitea.NewPR{}, fmt.Errorf("promote %s: %s: %w", p.To.ID, p.To.File, err)
	}
	return gitea.NewPR{
		Title:  fmt.Sprintf("promote %s %s to %s", p.To.ID.Role, p.Version, p.To.ID.Env),
		Body:   promotionBody(p, traceLink(g.traceURL, p.Status.TraceID)),
		Head:   fmt.Sprintf("amigo/promote-%s-%s-%s", p.To.ID.Env, p.To.ID.Role, p.Version),
		Base:   base,
		Files:  map[string][]byte{p.To.File: next},
		Marker: "<!-- " + p.Marker() + " -->",
	}, nil
}

// promotionBody is the evidence a reviewer needs: where the version is
// proven, on which image, with which analysis figures.
func promotionBody(p promotion, traceURL string) string {
	var b strings.Builder
	s := p.Status
	fmt.Fprintf(&b, "**%s %s** is Healthy in **%s**; this sets `version: %s` in `%s` (now %s).\n\n",
		p.From.ID.Role, p.Version, p.From.ID.Env, p.Version, p.To.File, p.To.Version)
	fmt.Fprintf(&b, "Merging starts the %s rollout of %s (traffic ceiling %d%%).\n\n", p.To.Strategy, p.To.ID, p.To.Traffic)
	b.WriteString("| evidence | " + p.From.ID.String() + " |\n|---|---|\n")
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, v) }
	row("phase", string(s.Phase))
	if s.Stable != nil {
		row("image", dashIfEmpty(s.Stable.AMI)+lineage(s.Stable))
	}
	if a := s.Analysis; a != nil {
		row("analysis", fmt.Sprintf("%s over %s", dashIfEmpty(a.Verdict), dashIfEmpty(a.Window)))
		row("requests", fmt.Sprintf("%.0f", a.Requests))
		row("error rate", fmt.Sprintf("%.3f%%", a.ErrorRate*100))
		row("latency", fmt.Sprintf("%.0f ms", a.LatencyMS))
		if a.CPUDelta != nil {
			row("cpu vs stable", fmt.Sprintf("%+.1f pp", *a.CPUDelta))
		}
		if a.MemDelta != nil {
			row("memory vs stable", fmt.Sprintf("%+.1f pp", *a.MemDelta))
		}
	}
	if traceURL != "" {
		row("trace", fmt.Sprintf("[%s](%s)", s.TraceID, traceURL))
	}
	b.WriteString("\nProposed by amigo (`promotion.pullRequests: true`). Close it to decline: it is not proposed again.\n")
	return b.String()
}

func lineage(r *reconciler.Release) string {
	if len(r.Lineage) == 0 {
		return ""
	}
	parts := make([]string, 0, len(r.Lineage))
	for _, l := range r.Lineage {
		parts = append(parts, fmt.Sprintf("%s %s %s", l.Layer, l.Version, l.AMI))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
