package main

import (
	"context"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	sdk "code.gitea.io/sdk/gitea"
	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/desired/gitrepo"
	"github.com/amigo-gitops/amigo/drivers/gitea/giteatest"
	"github.com/amigo-gitops/amigo/reconciler"
)

// requestCounter counts every request to Gitea, reads included.
type requestCounter struct {
	mu   sync.Mutex
	reqs []string
}

func (c *requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *requestCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := c.reqs
	c.reqs = nil
	return got
}

// TestGiteaReporter checks the reporter against a real Gitea: statuses and
// promotion pull requests are written once, an idle pass makes no request
// at all, and a restarted reporter writes no duplicate.
func TestGiteaReporter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Gitea")
	}
	srv := giteatest.Start(t)
	files := readExample(t)
	for id, v := range atV15 {
		path := "environments/" + id + ".yaml"
		out, err := desired.SetVersion([]byte(files[path]), v)
		if err != nil {
			t.Fatal(err)
		}
		files[path] = string(out)
	}
	cloneURL := srv.CreateRepo(t, "config", files)
	ctx := context.Background()
	src, err := gitrepo.Open(ctx, gitrepo.Options{URL: cloneURL, Token: srv.Token(), CacheDir: filepath.Join(t.TempDir(), "cache")})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	rev, err := src.Fetch(ctx)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	counter := &requestCounter{}
	newReporter := func() *giteaReporter {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		return &giteaReporter{
			link:  &giteaLink{url: srv.URL(), token: srv.Token, http: &http.Client{Transport: counter}},
			owner: srv.Owner(), name: "config", traceURL: "http://127.0.0.1:16686/trace/{trace_id}",
			src: src, log: logrus.NewEntry(l),
		}
	}
	g := newReporter()
	progressing := reconciler.Status{Phase: reconciler.Progressing, Weight: 50, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		Stable: &reconciler.Release{Version: "v1.5"}, New: &reconciler.Release{Version: "v1.6"}, Analysis: &reconciler.Report{Verdict: "passing"}}
	pass1 := []reconciler.StackPlan{sp("dev/web", healthy("v1.6")), sp("dev/hlp", progressing), sp("stg/web", healthy("v1.5"))}
	report := func(g *giteaReporter, stacks []reconciler.StackPlan) {
		t.Helper()
		if err := g.Report(ctx, rev, stacks); err != nil {
			t.Fatalf("Report: %v", err)
		}
	}
	api := srv.API(t)

	t.Run("first pass writes statuses and the promotion", func(t *testing.T) {
		report(g, pass1)
		if writes := onlyWrites(counter.take()); len(writes) == 0 {
			t.Fatalf("first Report made no write")
		}
		want := []string{
			"amigo/dev/hlp pending v1.6 at 50%, analysis passing http://127.0.0.1:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736",
			"amigo/dev/web success v1.6 healthy ",
			"amigo/stg/web success v1.5 healthy ",
		}
		if diff := cmp.Diff(want, statuses(t, api, srv.Owner(), rev)); diff != "" {
			t.Errorf("statuses on %s (-want +got):\n%s", shortSHA(rev), diff)
		}
		if got := promotionPRs(t, api, srv.Owner()); !cmp.Equal(got, []string{"promote web v1.6 to stg"}) {
			t.Errorf("promotion pull requests = %q, want only web to stg", got)
		}
	})

	t.Run("idle pass makes no request", func(t *testing.T) {
		report(g, pass1)
		if got := counter.take(); len(got) != 0 {
			t.Errorf("idle Report made requests %v, want none", got)
		}
	})

	t.Run("a change writes only what changed", func(t *testing.T) {
		pass2 := []reconciler.StackPlan{pass1[0], sp("dev/hlp", healthy("v1.6")), pass1[2]}
		report(g, pass2)
		var statusWrites int
		for _, w := range onlyWrites(counter.take()) {
			if strings.Contains(w, "/statuses/") {
				statusWrites++
			}
		}
		if statusWrites != 1 {
			t.Errorf("status writes after dev/hlp turned Healthy: got %d, want 1", statusWrites)
		}
		if got := promotionPRs(t, api, srv.Owner()); !cmp.Equal(got, []string{"promote hlp v1.6 to stg", "promote web v1.6 to stg"}) {
			t.Errorf("promotion pull requests = %q, want web and hlp to stg", got)
		}
	})

	t.Run("a restarted reporter writes no duplicate", func(t *testing.T) {
		pass2 := []reconciler.StackPlan{pass1[0], sp("dev/hlp", healthy("v1.6")), pass1[2]}
		report(newReporter(), pass2)
		if got := onlyWrites(counter.take()); len(got) != 0 {
			t.Errorf("restarted Report made writes %v, want none", got)
		}
		if got := len(promotionPRs(t, api, srv.Owner())); got != 2 {
			t.Errorf("promotion pull requests after a restart: got %d, want 2", got)
		}
	})
}

func onlyWrites(reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if !strings.HasPrefix(r, "GET ") && !strings.HasPrefix(r, "HEAD ") {
			out = append(out, r)
		}
	}
	return out
}

// statuses lists the latest status per context on sha.
func statuses(t *testing.T, api *sdk.Client, owner, sha string) []string {
	t.Helper()
	cs, _, err := api.GetCombinedStatus(owner, "config", sha)
	if err != nil {
		t.Fatalf("combined status: %v", err)
	}
	var out []string
	for _, s := range cs.Statuses {
		out = append(out, s.Context+" "+string(s.State)+" "+s.Description+" "+s.TargetURL)
	}
	sort.Strings(out)
	return out
}

func promotionPRs(t *testing.T, api *sdk.Client, owner string) []string {
	t.Helper()
	prs, _, err := api.ListRepoPullRequests(owner, "config", sdk.ListPullRequestsOptions{State: sdk.StateAll})
	if err != nil {
		t.Fatalf("list pull requests: %v", err)
	}
	var out []string
	for _, pr := range prs {
		if strings.Contains(pr.Body, "amigo:promote:") {
			out = append(out, pr.Title)
		}
	}
	sort.Strings(out)
	return out
}
