package webhook

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
)

// recorder is the fake daemon side: it remembers every callback.
type recorder struct {
	mu      sync.Mutex
	pushes  []PushEvent
	prs     []PullRequestEvent
	results []string
}

func (r *recorder) options(secret string) Options {
	return Options{
		Secret:        func() []byte { return []byte(secret) },
		DesiredBranch: func() string { return "main" },
		StatusBranch:  func() string { return "amigo-status" },
		OnPush: func(ev PushEvent) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.pushes = append(r.pushes, ev)
		},
		OnPullRequest: func(ev PullRequestEvent) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.prs = append(r.prs, ev)
		},
		OnResult: func(res string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.results = append(r.results, res)
		},
	}
}

func (r *recorder) callbacks() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pushes) + len(r.prs)
}

func serve(h http.Handler, method string, d delivery) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/hooks/gitea", bytes.NewReader(d.body))
	req.Header = d.header.Clone()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// resign replaces old with new in the body and signs the result with
// secret, the way Gitea would have sent such a delivery.
func resign(d delivery, old, new, secret string) delivery {
	body := bytes.ReplaceAll(d.body, []byte(old), []byte(new))
	h := d.header.Clone()
	h.Set("X-Gitea-Signature", sign(secret, body))
	return delivery{body: body, header: h}
}

func withHeader(d delivery, key, value string) delivery {
	h := d.header.Clone()
	if value == "" {
		h.Del(key)
	} else {
		h.Set(key, value)
	}
	return delivery{body: d.body, header: h}
}

func TestHandler(t *testing.T) {
	mainPush := loadDelivery(t, "06-push")
	branchPush := loadDelivery(t, "01-push")
	opened := loadDelivery(t, "02-pull_request-opened")
	synced := loadDelivery(t, "04-pull_request-synchronized")
	closed := loadDelivery(t, "05-pull_request-closed")

	tests := []struct {
		name       string
		method     string
		d          delivery
		secret     string
		maxBody    int64
		desired    string
		wantCode   int
		wantResult string
		wantPushes []PushEvent
		wantPRs    []PullRequestEvent
	}{
		{
			name: "push to desired branch with valid signature", d: mainPush,
			wantCode: 202, wantResult: ResultAccepted,
			wantPushes: []PushEvent{{
				Ref: "refs/heads/main", Before: "32ef9f1da036079f241fb21e744ebed239c03f11",
				After: "e1a4631bd90a71e799fe04fb134ebc54ba486832", Repo: "op/deploy-config", Commits: 3, Pusher: "op",
			}},
		},
		{
			name: "wrong signature", d: resign(mainPush, "", "", "not-the-secret"),
			wantCode: 401, wantResult: ResultUnauthorized,
		},
		{
			name: "signature of another body", d: withHeader(mainPush, "X-Gitea-Signature", branchPush.header.Get("X-Gitea-Signature")),
			wantCode: 401, wantResult: ResultUnauthorized,
		},
		{
			name: "missing signature", d: withHeader(mainPush, "X-Gitea-Signature", ""),
			wantCode: 401, wantResult: ResultUnauthorized,
		},
		{
			name: "signature not hex", d: withHeader(mainPush, "X-Gitea-Signature", "sha256=zz"),
			wantCode: 401, wantResult: ResultUnauthorized,
		},
		{
			name: "body over the cap", d: mainPush, maxBody: 512,
			wantCode: 413, wantResult: ResultTooLarge,
		},
		{
			name: "push to status branch ignored", d: resign(mainPush, "refs/heads/main", "refs/heads/amigo-status", testSecret),
			wantCode: 202, wantResult: ResultIgnored,
		},
		{
			name: "push to other branch ignored", d: branchPush,
			wantCode: 202, wantResult: ResultIgnored,
		},
		{
			name: "pull request synchronized produces a plan event", d: synced,
			wantCode: 202, wantResult: ResultAccepted,
			wantPRs: []PullRequestEvent{{
				Number: 1, Action: "synchronized", HeadSHA: "00e81907a3bdb7f8425fe9b40e03d5e3515abdd2",
				HeadRef: "promote-stg-web", BaseRef: "main", Repo: "op/deploy-config",
			}},
		},
		{
			name: "pull request opened produces a plan event", d: opened,
			wantCode: 202, wantResult: ResultAccepted,
			wantPRs: []PullRequestEvent{{
				Number: 1, Action: "opened", HeadSHA: "33d149a862aea32ef984cc09d858cf8d2865eb9d",
				HeadRef: "promote-stg-web", BaseRef: "main", Repo: "op/deploy-config",
			}},
		},
		{
			name: "pull request closed ignored", d: closed,
			wantCode: 202, wantResult: ResultIgnored,
		},
		{
			name: "pull request against another base ignored", d: synced, desired: "develop",
			wantCode: 202, wantResult: ResultIgnored,
		},
		{
			name: "other event ignored", d: withHeader(mainPush, "X-Gitea-Event", "create"),
			wantCode: 202, wantResult: ResultIgnored,
		},
		{
			name: "malformed body", d: resign(mainPush, `"ref"`, `"ref":[],"x"`, testSecret),
			wantCode: 400, wantResult: ResultBadRequest,
		},
		{
			name: "GET refused", method: http.MethodGet, d: mainPush,
			wantCode: 405, wantResult: ResultBadRequest,
		},
		{
			name: "no secret configured accepts unsigned", d: withHeader(mainPush, "X-Gitea-Signature", ""), secret: "-",
			wantCode: 202, wantResult: ResultAccepted,
			wantPushes: []PushEvent{{
				Ref: "refs/heads/main", Before: "32ef9f1da036079f241fb21e744ebed239c03f11",
				After: "e1a4631bd90a71e799fe04fb134ebc54ba486832", Repo: "op/deploy-config", Commits: 3, Pusher: "op",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			secret := testSecret
			if tt.secret == "-" {
				secret = ""
			}
			o := rec.options(secret)
			o.MaxBody = tt.maxBody
			if tt.desired != "" {
				o.DesiredBranch = func() string { return tt.desired }
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			resp := serve(NewHandler(o), method, tt.d)
			if resp.Code != tt.wantCode {
				t.Errorf("got status %d, want %d", resp.Code, tt.wantCode)
			}
			if diff := cmp.Diff([]string{tt.wantResult}, rec.results); diff != "" {
				t.Errorf("results mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPushes, rec.pushes); diff != "" {
				t.Errorf("push callbacks mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPRs, rec.prs); diff != "" {
				t.Errorf("pull request callbacks mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandlerSecretReload(t *testing.T) {
	var rec recorder
	secret := testSecret
	var mu sync.Mutex
	o := rec.options("")
	o.Secret = func() []byte {
		mu.Lock()
		defer mu.Unlock()
		return []byte(secret)
	}
	h := NewHandler(o)
	d := loadDelivery(t, "06-push")

	if got := serve(h, http.MethodPost, d).Code; got != http.StatusAccepted {
		t.Fatalf("before reload: got status %d, want %d", got, http.StatusAccepted)
	}
	mu.Lock()
	secret = "rotated"
	mu.Unlock()
	if got := serve(h, http.MethodPost, d).Code; got != http.StatusUnauthorized {
		t.Errorf("after reload: got status %d, want %d", got, http.StatusUnauthorized)
	}
	if got := rec.callbacks(); got != 1 {
		t.Errorf("got %d callbacks, want 1 (only the delivery signed with the current secret)", got)
	}
}

func TestHandlerLogsNoBodyNorSecret(t *testing.T) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetLevel(logrus.DebugLevel)

	var rec recorder
	o := rec.options(testSecret)
	o.Log = logrus.NewEntry(l)
	h := NewHandler(o)
	bad := resign(loadDelivery(t, "02-pull_request-opened"), "", "", "wrong")
	if got := serve(h, http.MethodPost, bad).Code; got != http.StatusUnauthorized {
		t.Fatalf("got status %d, want %d", got, http.StatusUnauthorized)
	}
	out := buf.String()
	if !strings.Contains(out, "webhook refused") {
		t.Errorf("log %q lacks the refusal", out)
	}
	for _, secretish := range []string{"promote web v1.6", testSecret, bad.header.Get("X-Gitea-Signature")} {
		if strings.Contains(out, secretish) {
			t.Errorf("log contains %q, want neither body, secret nor signature logged:\n%s", secretish, out)
		}
	}
}

func TestHandlerWarnsOnceWithoutSecret(t *testing.T) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	var rec recorder
	o := rec.options("")
	o.Log = logrus.NewEntry(l)
	h := NewHandler(o)
	d := loadDelivery(t, "06-push")
	for i := 0; i < 3; i++ {
		serve(h, http.MethodPost, d)
	}
	if got := strings.Count(buf.String(), "secret is empty"); got != 1 {
		t.Errorf("got %d warnings about the empty secret, want 1:\n%s", got, buf.String())
	}
}
