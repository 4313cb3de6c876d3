package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/gitea/giteatest"
	"github.com/amigo-gitops/amigo/drivers/sim"
)

// e2eBound bounds every wait for something amigo or Gitea does in the
// background. It is a deadline for a failure message, far above what any
// step takes, and far below the daemon's poll interval (e2eInterval), so
// that whatever happens within it was caused by a webhook.
const (
	e2eBound    = 90 * time.Second
	e2eInterval = time.Hour
	e2eRepo     = "config"
	e2eSecret   = "e2e-webhook-secret"
)

// e2e is one running estate: Gitea, the config repository in it, the
// simulated cloud, and amigo run in-process against them.
type e2e struct {
	t        *testing.T
	srv      *giteatest.Server
	api      *sdk.Client
	owner    string
	hookURL  string
	cloud    *sim.Cloud
	stacks   map[string]desired.Stack // by env/role, as in the example
	example  map[string]string
	logs     *lockedBuffer
	statusAt []string // heads of the status branch seen, oldest first
}

// TestGiteaE2E drives the daemon through Gitea only: pull requests get a
// plan and amigo/plan, a promotion pull request appears once dev is
// Healthy, merging it starts the rollout on the webhook, a revert takes
// traffic back, a forged webhook is refused, and status pushes never lose
// a person's commit.
func TestGiteaE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Gitea")
	}
	e := startE2E(t)
	head := e.branchHead("main")

	t.Run("dev rolls out; commit statuses per stack", func(t *testing.T) {
		e.driveUntil(t, "every stack Healthy on "+shortSHA(head), func() (bool, string) {
			return e.statesAre(head, map[string]string{
				"amigo/dev/web": "success", "amigo/dev/hlp": "success",
				"amigo/stg/web": "success", "amigo/stg/hlp": "success",
				"amigo/prd/web": "success", "amigo/prd/hlp": "success",
			})
		})
	})

	var promo *sdk.PullRequest
	t.Run("promotion pull request opened once, planned, amigo/plan success", func(t *testing.T) {
		promo = e.waitPR(t, "amigo:promote:stg/web:v1.6")
		e.waitPR(t, "amigo:promote:stg/hlp:v1.6")
		e.kick(t) // an idle pass must not open another
		e.kick(t)
		e.waitPlan(t, promo.Index, "success", "v1.5 → **v1.6**")
		if got := e.countPRs(t, "amigo:promote:stg/web:v1.6"); got != 1 {
			t.Errorf("promotion pull requests for stg/web v1.6: got %d, want 1", got)
		}
		body := promo.Body
		t.Logf("promotion pull request #%d %q:\n%s", promo.Index, promo.Title, body)
		for _, want := range []string{"Healthy in **dev**", "analysis", "error rate"} {
			if !strings.Contains(body, want) {
				t.Errorf("promotion body lacks %q:\n%s", want, body)
			}
		}
	})

	t.Run("pull request skipping stg gets amigo/plan failure", func(t *testing.T) {
		n := e.openPR(t, "skip-stg", "environments/prd/web.yaml", "v1.6", "prd web v1.6")
		e.waitPlan(t, n, "failure", "environments/prd/web.yaml:1: version")
	})

	t.Run("forged webhook is refused and changes nothing", func(t *testing.T) {
		before := e.callCount(t)
		statusBefore := e.branchHead("amigo/status")
		body := []byte(`{"ref":"refs/heads/main","after":"` + head + `","repository":{"full_name":"` + e.owner + `/` + e2eRepo + `"}}`)
		if got := e.post(t, "push", body, "wrong-secret"); got != http.StatusUnauthorized {
			t.Errorf("forged push answered %d, want 401", got)
		}
		// A pass would observe the cloud: wait long enough for one to start.
		time.Sleep(time.Second)
		if got := e.callCount(t); got != before {
			t.Errorf("cloud API calls after a forged webhook: got %d, want %d (no pass)", got, before)
		}
		if got := e.branchHead("amigo/status"); got != statusBefore {
			t.Errorf("status branch moved after a forged webhook: %s -> %s", statusBefore, got)
		}
	})

	t.Run("merging the promotion reconciles on the webhook", func(t *testing.T) {
		if promo == nil {
			t.Skip("no promotion pull request")
		}
		before := e.callCount(t)
		e.merge(t, promo.Index)
		merged := e.branchHead("main")
		eventually(t, "a v1.6 fleet for stg/web (before any poll could run)", func() (bool, string) {
			snap := e.show(t)
			for _, f := range snap.Fleets {
				if f.Stack == "stg/web" && f.Version == "v1.6" {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%d cloud calls since the merge", e.callCountOf(snap)-before)
		})
		eventually(t, "stg/web status on the status branch", func() (bool, string) {
			got := e.file("amigo/status", "status/stg/web.yaml")
			return strings.Contains(got, "desiredCommit: "+merged) && strings.Contains(got, "version: v1.6"), got
		})
		eventually(t, "commit status amigo/stg/web on the merge commit", func() (bool, string) {
			return e.statesAre(merged, map[string]string{"amigo/stg/web": "pending", "amigo/dev/web": "success"})
		})
	})

	t.Run("a person's push racing status pushes loses nothing", func(t *testing.T) {
		var wg sync.WaitGroup
		var human string
		wg.Add(1)
		go func() {
			defer wg.Done()
			human = e.commitFile("main", "README.md", "# config\n\nowned by the platform team\n", "docs: owner")
		}()
		e.driveUntil(t, "stg/web serving some traffic from v1.6", func() (bool, string) {
			w := e.weights(t, "stg/web")
			return w[1] > 0, fmt.Sprint(w)
		})
		wg.Wait()
		eventually(t, "the person's commit reconciled and recorded in status", func() (bool, string) {
			st := e.file("amigo/status", "status/stg/web.yaml")
			return strings.Contains(st, "desiredCommit: "+human), st
		})
		e.assertAncestors(t, "main", human, e.branchHead("main"))
		e.noteStatusHead()
		e.assertAncestors(t, "amigo/status", e.statusAt...)
	})

	t.Run("a revert commit takes traffic back to stable", func(t *testing.T) {
		st := e.stacks["stg/web"]
		e.commitFile("main", st.File, e.asVersion(t, st.File, "v1.5"), `Revert "promote web v1.6 to stg"`)
		eventually(t, "stg/web weights back on the stable target group", func() (bool, string) {
			w := e.weights(t, "stg/web")
			return w[0] == 100 && w[1] == 0, fmt.Sprint(w)
		})
	})
	if t.Failed() || os.Getenv("AMIGO_E2E_LOG") == "1" {
		t.Logf("amigo log (tail):\n%s", e.logs.tail(60000))
	}
}

func startE2E(t *testing.T) *e2e {
	t.Helper()
	srv := giteatest.Start(t)
	e := &e2e{t: t, srv: srv, api: srv.API(t), owner: srv.Owner(), logs: &lockedBuffer{}}
	e.example = readExample(t)
	repo, err := desired.Load(bytesMap(e.example), "example")
	if err != nil || len(repo.Errors) > 0 {
		t.Fatalf("load example: %v %v", err, repo.Errors)
	}
	e.stacks = map[string]desired.Stack{}
	for _, st := range repo.Stacks {
		e.stacks[st.ID.String()] = st
	}
	dir := t.TempDir()
	e.cloud = seedCloud(t, filepath.Join(dir, "sim.json"), repo)
	files := map[string]string{}
	for p, c := range e.example {
		files[p] = c
	}
	for _, id := range []string{"stg/web", "stg/hlp", "prd/web", "prd/hlp"} {
		f := e.stacks[id].File
		files[f] = e.asVersion(t, f, "v1.5")
	}
	cloneURL := srv.CreateRepo(t, e2eRepo, files)
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	e.hookURL = "http://" + addr + "/hooks/gitea"
	e.startDaemon(t, dir, cloneURL, addr, filepath.Join(dir, "sim.json"))
	srv.AddWebhook(t, e.owner, e2eRepo, e.hookURL, e2eSecret)
	return e
}

// seedCloud prepares the simulated cloud as a team would have it: every
// stack serving v1.5 from a healthy fleet, images of v1.5 and v1.6 built.
// Its clock moves only when the test advances it.
func seedCloud(t *testing.T, path string, repo *desired.Repo) *sim.Cloud {
	t.Helper()
	c, err := sim.Open(path, sim.Options{})
	if err != nil {
		t.Fatalf("open sim: %v", err)
	}
	if err := c.Seed(repo.Settings, repo.Stacks); err != nil {
		t.Fatalf("seed sim: %v", err)
	}
	return c
}

func (e *e2e) startDaemon(t *testing.T, dir, cloneURL, addr, simState string) {
	t.Helper()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	args := []string{"run",
		"--repo", cloneURL, "--cache-dir", filepath.Join(dir, "cache"),
		"--driver", "sim", "--sim-state", simState, "--sim-speed", "0",
		"--listen", addr, "--interval", e2eInterval.String(), "--busy-interval", e2eInterval.String(),
		"--gitea-url", e.srv.URL(), "--token-file", write("token", e.srv.Token()),
		"--webhook-secret-file", write("secret", e2eSecret),
		"--trace-url", "http://127.0.0.1:16686/trace/{trace_id}",
		"--log-level", "debug", "--log-format", "text",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, e.logs, e.logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("amigo run: %v", err)
		}
	})
	eventually(t, "amigo listening", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// driveUntil moves simulated time on and wakes amigo with a signed push
// delivery, as Gitea would, until done holds.
func (e *e2e) driveUntil(t *testing.T, what string, done func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(3 * e2eBound)
	for {
		ok, detail := done()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached (%s)\namigo log (tail):\n%s", what, detail, e.logs.tail(8000))
		}
		if err := e.cloud.Advance(10 * time.Minute); err != nil {
			t.Fatalf("advance sim: %v", err)
		}
		e.kick(t)
		time.Sleep(300 * time.Millisecond)
		e.noteStatusHead()
	}
}

// kick sends a correctly signed push delivery for main to amigo.
func (e *e2e) kick(t *testing.T) {
	t.Helper()
	body := []byte(`{"ref":"refs/heads/main","after":"` + e.branchHead("main") + `","repository":{"full_name":"` + e.owner + "/" + e2eRepo + `"}}`)
	if got := e.post(t, "push", body, e2eSecret); got != http.StatusAccepted && got != http.StatusOK && got != http.StatusNoContent {
		t.Fatalf("signed push delivery answered %d", got)
	}
}

func (e *e2e) post(t *testing.T, event string, body []byte, secret string) int {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, e.hookURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Gitea-Event", event)
	req.Header.Set("X-Gitea-Signature", hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post webhook: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (e *e2e) noteStatusHead() {
	if h := e.branchHead("amigo/status"); h != "" && (len(e.statusAt) == 0 || e.statusAt[len(e.statusAt)-1] != h) {
		e.statusAt = append(e.statusAt, h)
	}
}

func (e *e2e) branchHead(branch string) string {
	b, _, err := e.api.GetRepoBranch(e.owner, e2eRepo, branch)
	if err != nil || b.Commit == nil {
		return ""
	}
	return b.Commit.ID
}

func (e *e2e) file(ref, path string) string {
	b, _, err := e.api.GetFile(e.owner, e2eRepo, ref, path)
	if err != nil {
		return ""
	}
	return string(b)
}

// statesAre reports whether the latest commit status of each context on
// sha has the wanted state.
func (e *e2e) statesAre(sha string, want map[string]string) (bool, string) {
	cs, _, err := e.api.GetCombinedStatus(e.owner, e2eRepo, sha)
	if err != nil {
		return false, err.Error()
	}
	got := map[string]string{}
	for _, s := range cs.Statuses {
		got[s.Context] = string(s.State) + " (" + s.Description + ")"
	}
	for ctx, state := range want {
		if !strings.HasPrefix(got[ctx], state+" ") {
			return false, fmt.Sprint(got)
		}
	}
	return true, ""
}

func (e *e2e) prs(t *testing.T) []*sdk.PullRequest {
	t.Helper()
	prs, _, err := e.api.ListRepoPullRequests(e.owner, e2eRepo, sdk.ListPullRequestsOptions{State: sdk.StateAll})
	if err != nil {
		t.Fatalf("list pull requests: %v", err)
	}
	return prs
}

func (e *e2e) countPRs(t *testing.T, marker string) int {
	n := 0
	for _, pr := range e.prs(t) {
		if strings.Contains(pr.Body, marker) {
			n++
		}
	}
	return n
}

func (e *e2e) waitPR(t *testing.T, marker string) *sdk.PullRequest {
	t.Helper()
	var found *sdk.PullRequest
	eventually(t, "pull request "+marker, func() (bool, string) {
		for _, pr := range e.prs(t) {
			if strings.Contains(pr.Body, marker) {
				found = pr
				return true, ""
			}
		}
		return false, ""
	})
	return found
}

// waitPlan waits for amigo/plan with state on the pull request's head and
// for the plan comment holding want.
func (e *e2e) waitPlan(t *testing.T, n int64, state, want string) {
	t.Helper()
	eventually(t, fmt.Sprintf("amigo/plan %s on #%d", state, n), func() (bool, string) {
		pr, _, err := e.api.GetPullRequest(e.owner, e2eRepo, n)
		if err != nil {
			return false, err.Error()
		}
		return e.statesAre(pr.Head.Sha, map[string]string{planContext: state})
	})
	comments, _, err := e.api.ListIssueComments(e.owner, e2eRepo, n, sdk.ListIssueCommentOptions{})
	if err != nil {
		t.Fatalf("list comments of #%d: %v", n, err)
	}
	var plans []string
	for _, c := range comments {
		if strings.Contains(c.Body, "<!-- amigo:plan -->") {
			plans = append(plans, c.Body)
		}
	}
	t.Logf("plan comments on #%d:\n%s", n, strings.Join(plans, "\n---\n"))
	if len(plans) != 1 || !strings.Contains(plans[0], want) {
		t.Errorf("plan comments on #%d: got %q, want one holding %q", n, plans, want)
	}
}

// openPR opens a pull request, as a person would, that sets version in
// path on a new branch.
func (e *e2e) openPR(t *testing.T, branch, path, version, title string) int64 {
	t.Helper()
	cur, _, err := e.api.GetContents(e.owner, e2eRepo, "main", path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	_, _, err = e.api.UpdateFile(e.owner, e2eRepo, path, sdk.UpdateFileOptions{
		FileOptions: sdk.FileOptions{Message: title, BranchName: "main", NewBranchName: branch},
		SHA:         cur.SHA, Content: base64.StdEncoding.EncodeToString([]byte(e.asVersion(t, path, version))),
	})
	if err != nil {
		t.Fatalf("commit %s on %s: %v", path, branch, err)
	}
	pr, _, err := e.api.CreatePullRequest(e.owner, e2eRepo, sdk.CreatePullRequestOption{Head: branch, Base: "main", Title: title})
	if err != nil {
		t.Fatalf("open pull request: %v", err)
	}
	return pr.Index
}

// commitFile commits content at path on branch through the contents API
// and returns the new commit.
func (e *e2e) commitFile(branch, path, content, message string) string {
	t := e.t
	opts := sdk.FileOptions{Message: message, BranchName: branch}
	enc := base64.StdEncoding.EncodeToString([]byte(content))
	for attempt := 0; ; attempt++ {
		var resp *sdk.FileResponse
		var err error
		if cur, _, gerr := e.api.GetContents(e.owner, e2eRepo, branch, path); gerr == nil {
			resp, _, err = e.api.UpdateFile(e.owner, e2eRepo, path, sdk.UpdateFileOptions{FileOptions: opts, SHA: cur.SHA, Content: enc})
		} else {
			resp, _, err = e.api.CreateFile(e.owner, e2eRepo, path, sdk.CreateFileOptions{FileOptions: opts, Content: enc})
		}
		if err == nil {
			return resp.Commit.SHA
		}
		// The branch may move under us (amigo pushes status): retry as a person would.
		if attempt > 10 {
			t.Errorf("commit %s on %s: %v", path, branch, err)
			return ""
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *e2e) merge(t *testing.T, n int64) {
	t.Helper()
	eventually(t, fmt.Sprintf("merge #%d", n), func() (bool, string) {
		ok, _, err := e.api.MergePullRequest(e.owner, e2eRepo, n, sdk.MergePullRequestOption{Style: sdk.MergeStyleMerge})
		if err != nil {
			return false, err.Error()
		}
		return ok, "not merged"
	})
}

func (e *e2e) asVersion(t *testing.T, path, version string) string {
	t.Helper()
	out, err := desired.SetVersion([]byte(e.example[path]), version)
	if err != nil {
		t.Fatalf("set version in %s: %v", path, err)
	}
	return string(out)
}

func (e *e2e) show(t *testing.T) sim.Snapshot {
	t.Helper()
	snap, err := e.cloud.Show()
	if err != nil {
		t.Fatalf("sim show: %v", err)
	}
	return snap
}

func (e *e2e) callCountOf(snap sim.Snapshot) int {
	n := 0
	for _, c := range snap.Calls.Reads {
		n += c
	}
	for _, c := range snap.Calls.Writes {
		n += c
	}
	return n
}

func (e *e2e) callCount(t *testing.T) int { return e.callCountOf(e.show(t)) }

// weights returns the stack's listener weights on its [blue, green]
// target groups.
func (e *e2e) weights(t *testing.T, stack string) [2]int {
	t.Helper()
	st := e.stacks[stack]
	var out [2]int
	for _, l := range e.show(t).Listeners {
		if l.ARN != st.Target.Listener {
			continue
		}
		for _, w := range l.Weights {
			for i, tg := range st.Target.TargetGroups {
				if w.TargetGroup == tg {
					out[i] = w.Weight
				}
			}
		}
	}
	return out
}

// assertAncestors checks, on a fresh clone, that each commit is an
// ancestor of (or equal to) the last one: the branch only moved forward.
func (e *e2e) assertAncestors(t *testing.T, branch string, commits ...string) {
	t.Helper()
	repo, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{e.srv.URL() + "/" + e.owner + "/" + e2eRepo + ".git"}})
	if err != nil {
		t.Fatal(err)
	}
	err = repo.Fetch(&git.FetchOptions{Auth: e.srv.GitAuth(), RefSpecs: []config.RefSpec{config.RefSpec("+refs/heads/*:refs/remotes/origin/*")}})
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	last, err := repo.CommitObject(plumbing.NewHash(commits[len(commits)-1]))
	if err != nil {
		t.Fatalf("%s head %s: %v", branch, commits[len(commits)-1], err)
	}
	for _, c := range commits[:len(commits)-1] {
		if c == "" {
			t.Errorf("%s: an empty commit id among %v", branch, commits)
			continue
		}
		obj, err := repo.CommitObject(plumbing.NewHash(c))
		if err != nil {
			t.Errorf("%s: commit %s is gone: %v", branch, c, err)
			continue
		}
		if ok, err := obj.IsAncestor(last); err != nil || !ok && obj.Hash != last.Hash {
			t.Errorf("%s: %s is not an ancestor of the head %s (forced?)", branch, c, last.Hash)
		}
	}
}

// eventually polls cond until it holds, failing after e2eBound.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(e2eBound)
	var detail string
	for {
		var ok bool
		if ok, detail = cond(); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (%s)", what, e2eBound, detail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readExample(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join("..", "..", "examples", "config-repo")
	out := map[string]string{}
	err := fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("read example: %v", err)
	}
	return out
}

func bytesMap(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects the daemon's log from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}
