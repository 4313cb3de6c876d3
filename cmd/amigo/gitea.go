package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/amigo-gitops/amigo/drivers/gitea"
	"github.com/amigo-gitops/amigo/reconciler/webhook"
)

// setupGitea wires Gitea in: commit statuses and promotion PRs as the
// reconciler's Reporter, and plans for pull requests. It makes no request:
// the daemon starts while Gitea is down, and the next pass is the retry.
func setupGitea(_ context.Context, d *daemon) error {
	owner, name, err := giteaRepoName(d.flags.giteaRepo, d.flags.repo)
	if err != nil {
		return err
	}
	// Every Gitea request is a client span under the pass or plan that made it.
	traced := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport,
		otelhttp.WithTracerProvider(d.tp), otelhttp.WithSpanNameFormatter(giteaSpanName))}
	link := &giteaLink{url: d.flags.giteaURL, token: d.set.Token, http: traced}
	if _, err := link.client(); err != nil {
		return err
	}
	g := &giteaReporter{
		link: link, owner: owner, name: name, traceURL: d.flags.traceURL,
		src: d.src, log: logrus.NewEntry(d.log).WithField("gitea_repo", owner+"/"+name),
	}
	d.reporter = g
	d.onPullRequest = func(ev webhook.PullRequestEvent) { enqueuePlan(d, g, ev) }
	return nil
}

// enqueuePlan hands a pull request to the reconcile loop, which plans it
// between passes so a plan never races a pass. It never blocks the webhook
// handler: a full queue drops the event, and the next push to the pull
// request plans it again.
func enqueuePlan(d *daemon, g *giteaReporter, ev webhook.PullRequestEvent) {
	job := func(ctx context.Context) {
		ctx, span := d.tracer.Start(ctx, "plan pull request", trace.WithAttributes(
			attribute.Int64("amigo.pr", ev.Number), attribute.String("amigo.revision", ev.HeadSHA)))
		defer span.End()
		if err := g.planPullRequest(ctx, d.rec, ev); err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
			g.log.WithFields(logrus.Fields{"pr": ev.Number, "head": shortSHA(ev.HeadSHA)}).WithError(err).Warn("pull request plan failed")
		}
	}
	select {
	case d.jobs <- job:
	default:
		g.log.WithField("pr", ev.Number).Warn("plan queue full; pull request not planned")
	}
}

func giteaSpanName(_ string, r *http.Request) string {
	return "gitea " + r.Method + " " + r.URL.Path
}

// giteaRepoName returns OWNER/NAME from --gitea-repo, else from the path of
// the --repo URL (http://gitea/OWNER/NAME.git).
func giteaRepoName(flagValue, repoURL string) (owner, name string, err error) {
	path := flagValue
	if path == "" {
		u, perr := url.Parse(repoURL)
		if perr != nil || !strings.Contains(repoURL, "://") {
			return "", "", errors.New("--gitea-repo OWNER/NAME is required when --repo is not a Gitea URL")
		}
		path = strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
		if parts := strings.Split(path, "/"); len(parts) > 2 {
			// Gitea served under a sub-path: the repository is the last two.
			path = strings.Join(parts[len(parts)-2:], "/")
		}
	}
	owner, name, ok := strings.Cut(path, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("gitea repository %q: want OWNER/NAME", path)
	}
	return owner, name, nil
}

// giteaLink builds the Gitea client, again when the token changes (the
// daemon config is reloaded at run time).
type giteaLink struct {
	url   string
	token func() string
	http  *http.Client // nil: a new one per client

	mu     sync.Mutex
	cur    *gitea.Client
	forTok string
}

func (l *giteaLink) client() (*gitea.Client, error) {
	tok := l.token()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur != nil && tok == l.forTok {
		return l.cur, nil
	}
	c, err := gitea.New(l.url, tok, gitea.Options{HTTPClient: l.http, UserAgent: "amigo/" + version})
	if err != nil {
		return nil, err
	}
	l.cur, l.forTok = c, tok
	return c, nil
}

// shortSHA abbreviates a commit hash for messages.
func shortSHA(rev string) string {
	if len(rev) > 10 {
		return rev[:10]
	}
	return rev
}
