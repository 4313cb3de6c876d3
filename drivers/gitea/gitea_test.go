package gitea_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"
	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/drivers/gitea"
	"github.com/amigo-gitops/amigo/drivers/gitea/giteatest"
	"github.com/amigo-gitops/amigo/reconciler/webhook"
)

// deliveryWait bounds how long the test waits for Gitea's webhook queue;
// it is a deadline for a failure message, not a timing assertion.
const deliveryWait = 90 * time.Second

// writeCounter counts requests that change something in Gitea, so tests
// can assert that an idempotent call made no write.
type writeCounter struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.mu.Lock()
		w.writes = append(w.writes, r.Method+" "+r.URL.Path)
		w.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (w *writeCounter) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	got := w.writes
	w.writes = nil
	return got
}

// receiver is the daemon's side of the webhook: webhook.NewHandler behind
// an httptest server on 127.0.0.1.
type receiver struct {
	pushes  chan webhook.PushEvent
	prs     chan webhook.PullRequestEvent
	mu      sync.Mutex
	results map[string]int
}

func startReceiver(t *testing.T, secret string) (*receiver, string) {
	t.Helper()
	r := &receiver{
		pushes:  make(chan webhook.PushEvent, 16),
		prs:     make(chan webhook.PullRequestEvent, 16),
		results: map[string]int{},
	}
	h := webhook.NewHandler(webhook.Options{
		Secret:        func() []byte { return []byte(secret) },
		DesiredBranch: func() string { return "main" },
		StatusBranch:  func() string { return "amigo-status" },
		OnPush:        func(ev webhook.PushEvent) { r.pushes <- ev },
		OnPullRequest: func(ev webhook.PullRequestEvent) { r.prs <- ev },
		OnResult: func(res string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.results[res]++
		},
	})
	mux := http.NewServeMux()
	mux.Handle("/hooks/gitea", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return r, srv.URL + "/hooks/gitea"
}

func (r *receiver) count(result string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.results[result]
}

func TestGiteaClient(t *testing.T) {
	srv := giteatest.Start(t)
	const repo = "deploy-config"
	owner := srv.Owner()
	srv.CreateRepo(t, repo, map[string]string{
		"environments/stg/web.yaml": "version: v1.5\n",
		"README.md":                 "# deploy config\n",
	})
	const secret = "webhook-secret"
	recv, hookURL := startReceiver(t, secret)
	srv.AddWebhook(t, owner, repo, hookURL, secret)

	writes := &writeCounter{}
	c, err := gitea.New(srv.URL(), srv.Token(), gitea.Options{HTTPClient: &http.Client{Transport: writes}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	api := srv.API(t)
	ctx := context.Background()

	t.Run("commit status is written once per change", func(t *testing.T) {
		branch, _, err := api.GetRepoBranch(owner, repo, "main")
		if err != nil {
			t.Fatalf("get main: %v", err)
		}
		sha := branch.Commit.ID
		st := gitea.CommitStatus{Context: "amigo/stg/web", State: gitea.StatePending, Description: "canary 10%", TargetURL: "http://127.0.0.1:16686/trace/abc"}
		writes.take()
		for i := 0; i < 2; i++ {
			if err := c.SetCommitStatus(ctx, owner, repo, sha, st); err != nil {
				t.Fatalf("SetCommitStatus #%d: %v", i+1, err)
			}
		}
		if got := writes.take(); len(got) != 1 {
			t.Errorf("two identical SetCommitStatus made writes %v, want exactly one", got)
		}
		st.State, st.Description = gitea.StateSuccess, "healthy"
		if err := c.SetCommitStatus(ctx, owner, repo, sha, st); err != nil {
			t.Fatalf("SetCommitStatus changed: %v", err)
		}
		statuses, _, err := api.ListStatuses(owner, repo, sha, sdk.ListStatusesOption{})
		if err != nil {
			t.Fatalf("list statuses: %v", err)
		}
		sort.Slice(statuses, func(i, j int) bool { return statuses[i].ID < statuses[j].ID })
		var got []string
		for _, s := range statuses {
			got = append(got, s.Context+" "+string(s.State)+" "+s.Description)
		}
		want := []string{"amigo/stg/web pending canary 10%", "amigo/stg/web success healthy"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("statuses on %s (-want +got):\n%s", sha, diff)
		}
	})

	var prNumber int64
	t.Run("pull request is opened once", func(t *testing.T) {
		pr := gitea.NewPR{
			Title: "promote web v1.6 to stg", Body: "Proposed by amigo.",
			Head: "amigo/promote-stg-web", Base: "main",
			Files:  map[string][]byte{"environments/stg/web.yaml": []byte("version: v1.6\n"), "environments/stg/new.yaml": []byte("x: 1\n")},
			Marker: "<!-- amigo:promote stg/web v1.6 -->",
		}
		n, created, err := c.OpenPullRequest(ctx, owner, repo, pr)
		if err != nil || !created || n <= 0 {
			t.Fatalf("first OpenPullRequest = (%d, %v, %v), want a new pull request", n, created, err)
		}
		prNumber = n
		again, created, err := c.OpenPullRequest(ctx, owner, repo, pr)
		if err != nil || created || again != n {
			t.Errorf("second OpenPullRequest = (%d, %v, %v), want (%d, false, nil)", again, created, err, n)
		}
		pr.Head = "amigo/promote-stg-web-2"
		byMarker, created, err := c.OpenPullRequest(ctx, owner, repo, pr)
		if err != nil || created || byMarker != n {
			t.Errorf("OpenPullRequest with the same marker = (%d, %v, %v), want (%d, false, nil)", byMarker, created, err, n)
		}
		open, err := c.ListOpenPullRequests(ctx, owner, repo, "main")
		if err != nil {
			t.Fatalf("ListOpenPullRequests: %v", err)
		}
		if len(open) != 1 || open[0].Number != n || open[0].HeadRef != "amigo/promote-stg-web" {
			t.Errorf("open pull requests = %+v, want only #%d from amigo/promote-stg-web", open, n)
		}
		got, err := c.GetPullRequest(ctx, owner, repo, n)
		if err != nil {
			t.Fatalf("GetPullRequest: %v", err)
		}
		if !strings.Contains(got.Body, pr.Marker) || got.BaseRef != "main" || len(got.HeadSHA) != 40 {
			t.Errorf("GetPullRequest = %+v, want base main, a head sha and the marker in the body", got)
		}
		state := sdk.StateClosed
		if _, _, err := api.EditPullRequest(owner, repo, n, sdk.EditPullRequestOption{State: &state}); err != nil {
			t.Fatalf("close #%d: %v", n, err)
		}
		afterClose, created, err := c.OpenPullRequest(ctx, owner, repo, pr)
		if err != nil || created || afterClose != n {
			t.Errorf("OpenPullRequest after a person closed it = (%d, %v, %v), want (%d, false, nil)", afterClose, created, err, n)
		}
		content, _, err := api.GetFile(owner, repo, "amigo/promote-stg-web", "environments/stg/web.yaml")
		if err != nil || string(content) != "version: v1.6\n" {
			t.Errorf("web.yaml on the head branch = %q (err %v), want the new version", content, err)
		}
	})

	t.Run("plan comment is updated in place", func(t *testing.T) {
		if prNumber == 0 {
			t.Skip("no pull request")
		}
		writes.take()
		for _, body := range []string{"plan: scale web to 3", "plan: scale web to 3", "plan: scale web to 4"} {
			if err := c.UpsertPlanComment(ctx, owner, repo, prNumber, body); err != nil {
				t.Fatalf("UpsertPlanComment(%q): %v", body, err)
			}
		}
		if got := writes.take(); len(got) != 2 {
			t.Errorf("three upserts (one repeated) made writes %v, want two (create, edit)", got)
		}
		comments, _, err := api.ListIssueComments(owner, repo, prNumber, sdk.ListIssueCommentOptions{})
		if err != nil {
			t.Fatalf("list comments: %v", err)
		}
		var bodies []string
		for _, cm := range comments {
			bodies = append(bodies, cm.Body)
		}
		want := []string{gitea.PlanMarker + "\nplan: scale web to 4"}
		if diff := cmp.Diff(want, bodies); diff != "" {
			t.Errorf("comments on #%d (-want +got):\n%s", prNumber, diff)
		}
	})

	t.Run("missing repository is ErrNotFound and hides the token", func(t *testing.T) {
		_, err := c.GetPullRequest(ctx, owner, "no-such-repo", 1)
		if !errors.Is(err, gitea.ErrNotFound) {
			t.Errorf("GetPullRequest on a missing repo: got %v, want ErrNotFound", err)
		}
		if err != nil && strings.Contains(err.Error(), srv.Token()) {
			t.Errorf("error %q contains the token", err)
		}
	})

	t.Run("webhook delivery from gitea is verified and dispatched", func(t *testing.T) {
		file, _, err := api.CreateFile(owner, repo, "environments/dev/web.yaml", sdk.CreateFileOptions{
			FileOptions: sdk.FileOptions{Message: "add dev web", BranchName: "main"},
			Content:     base64.StdEncoding.EncodeToString([]byte("version: v1.6\n")),
		})
		if err != nil {
			t.Fatalf("commit to main: %v", err)
		}
		push := waitFor(t, recv.pushes, func(ev webhook.PushEvent) bool { return ev.After == file.Commit.SHA })
		if push.Ref != "refs/heads/main" || push.Repo != owner+"/"+repo {
			t.Errorf("push event = %+v, want refs/heads/main of %s/%s", push, owner, repo)
		}
		if prNumber != 0 {
			pr := waitFor(t, recv.prs, func(ev webhook.PullRequestEvent) bool { return ev.Number == prNumber })
			if pr.Action != "opened" || pr.BaseRef != "main" || pr.HeadRef != "amigo/promote-stg-web" {
				t.Errorf("pull request event = %+v, want opened from amigo/promote-stg-web into main", pr)
			}
		}
		if got := recv.count(webhook.ResultUnauthorized); got != 0 {
			t.Errorf("got %d deliveries refused as unauthorized, want 0", got)
		}
	})
}

// waitFor returns the first event on ch that matches, failing the test when
// none arrives before deliveryWait.
func waitFor[E any](t *testing.T, ch <-chan E, match func(E) bool) E {
	t.Helper()
	deadline := time.After(deliveryWait)
	for {
		select {
		case ev := <-ch:
			if match(ev) {
				return ev
			}
		case <-deadline:
			var zero E
			t.Fatalf("no matching %T delivered within %s", zero, deliveryWait)
			return zero
		}
	}
}
