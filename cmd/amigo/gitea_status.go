package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sirupsen/logrus"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/desired/gitrepo"
	"github.com/amigo-gitops/amigo/drivers/gitea"
	"github.com/amigo-gitops/amigo/reconciler"
)

// maxDescription is Gitea's limit for a commit status description.
const maxDescription = 140

// giteaReporter publishes each pass to Gitea: a commit status per stack on
// the desired commit and, when amigo.yaml asks for them, promotion pull
// requests. It remembers what it wrote, so an idle pass makes no request
// at all; a restart forgets, and the client's read-before-write keeps the
// first pass after it from writing duplicates.
type giteaReporter struct {
	link        *giteaLink
	owner, name string
	traceURL    string
	src         *gitrepo.Repo
	log         *logrus.Entry

	mu       sync.Mutex
	sentRev  string                        // the commit sent holds statuses for
	sent     map[string]gitea.CommitStatus // by context, on sentRev
	loaded   *loadedRev                    // the desired config at the last reported revision
	promoted map[string]bool               // promotion markers already opened or answered
}

var _ reconciler.Reporter = (*giteaReporter)(nil)

// Report implements reconciler.Reporter. A failure on one stack does not
// stop the others; all failures come back joined.
func (g *giteaReporter) Report(ctx context.Context, rev string, stacks []reconciler.StackPlan) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, err := g.link.client()
	if err != nil {
		return err
	}
	errs := []error{g.reportStatuses(ctx, c, rev, stacks)}
	errs = append(errs, g.promote(ctx, c, rev, stacks))
	return errors.Join(errs...)
}

func (g *giteaReporter) reportStatuses(ctx context.Context, c *gitea.Client, rev string, stacks []reconciler.StackPlan) error {
	if rev != g.sentRev {
		g.sentRev, g.sent = rev, map[string]gitea.CommitStatus{}
	}
	var errs []error
	for _, sp := range stacks {
		st := stackCommitStatus(sp, traceLink(g.traceURL, sp.Status.TraceID))
		if g.sent[st.Context] == st {
			continue
		}
		if err := c.SetCommitStatus(ctx, g.owner, g.name, rev, st); err != nil {
			errs = append(errs, err)
			continue
		}
		g.sent[st.Context] = st
	}
	return errors.Join(errs...)
}

// stackCommitStatus is the commit status of one stack: context
// amigo/<env>/<role>, its phase as a state, a one-line description.
func stackCommitStatus(sp reconciler.StackPlan, targetURL string) gitea.CommitStatus {
	s := sp.Status
	return gitea.CommitStatus{
		Context:     "amigo/" + sp.Stack.String(),
		State:       phaseState(s.Phase),
		Description: clip(describeStatus(s), maxDescription),
		TargetURL:   targetURL,
	}
}

// phaseState maps a phase onto the states branch protection understands:
// a rollout under way is pending, one that cannot or did not finish fails.
func phaseState(p reconciler.Phase) string {
	switch p {
	case reconciler.Healthy:
		return gitea.StateSuccess
	case reconciler.Aborted, reconciler.Blocked:
		return gitea.StateFailure
	case reconciler.Degraded:
		return gitea.StateError
	}
	return gitea.StatePending
}

// describeStatus says where a stack stands in a few words, e.g.
// "v1.6 at 50%, analysis passing".
func describeStatus(s reconciler.Status) string {
	switch s.Phase {
	case reconciler.Healthy:
		return withAnalysis(dashIfEmpty(versionOf(s.Stable))+" healthy", s.Analysis)
	case reconciler.Progressing, reconciler.Paused:
		v := versionOf(s.New)
		if v == "" {
			v = versionOf(s.Stable)
		}
		d := fmt.Sprintf("%s at %d%%", dashIfEmpty(v), s.Weight)
		if s.Phase == reconciler.Paused {
			d += " (paused)"
		}
		return withAnalysis(d, s.Analysis)
	case reconciler.Aborted:
		reason := s.Message
		if s.Abort != nil && s.Abort.Reason != "" {
			reason = s.Abort.Reason
		}
		return fmt.Sprintf("%s aborted: %s", dashIfEmpty(versionOf(s.New)), reason)
	case reconciler.Blocked:
		if s.Gate != "" {
			return "blocked: " + s.Gate
		}
		return "blocked: " + s.Message
	}
	return strings.TrimSpace(string(s.Phase) + ": " + s.Message)
}

func withAnalysis(d string, a *reconciler.Report) string {
	if a == nil || a.Verdict == "" {
		return d
	}
	return d + ", analysis " + a.Verdict
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip shortens s to at most n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// traceLink fills the --trace-url template; no template or no trace, no link.
func traceLink(template, traceID string) string {
	if template == "" || traceID == "" {
		return ""
	}
	return strings.ReplaceAll(template, "{trace_id}", traceID)
}

// loadedRev is the desired config at one revision, parsed once.
type loadedRev struct {
	rev   string
	files map[string][]byte
	repo  *desired.Repo
}

// config returns the desired config at rev, reading it only when rev moved.
func (g *giteaReporter) config(ctx context.Context, rev string) (*loadedRev, error) {
	if g.loaded != nil && g.loaded.rev == rev {
		return g.loaded, nil
	}
	files, err := g.src.Files(ctx, rev)
	if err != nil {
		return nil, err
	}
	repo, err := desired.Load(files, rev)
	if err != nil {
		return nil, err
	}
	g.loaded = &loadedRev{rev: rev, files: files, repo: repo}
	return g.loaded, nil
}
