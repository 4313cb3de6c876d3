package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/sirupsen/logrus"
)

// Results passed to Options.OnResult, one per request, for a metrics counter.
const (
	ResultAccepted     = "accepted"
	ResultIgnored      = "ignored"
	ResultUnauthorized = "unauthorized"
	ResultTooLarge     = "too_large"
	ResultBadRequest   = "bad_request"
)

// DefaultMaxBody caps a delivery body when Options.MaxBody is zero. Real
// push bodies with many commits stay well below it.
const DefaultMaxBody int64 = 1 << 20

// Options configures a Handler. Every func field is called per request, so
// values that change when the daemon's config reloads take effect at once.
type Options struct {
	// Secret returns the webhook secret. Empty (or a nil func) disables
	// signature checks; a warning is logged once each time it becomes empty.
	Secret func() []byte
	// MaxBody caps the body in bytes; 0 means DefaultMaxBody.
	MaxBody int64
	// DesiredBranch names the branch amigo reconciles from ("main" if nil
	// or empty).
	DesiredBranch func() string
	// StatusBranch names the branch amigo writes status to; pushes to it
	// are amigo's own and are ignored.
	StatusBranch func() string
	// OnPush and OnPullRequest are called synchronously before the answer
	// and must not block (signal a Coalescer, do not run a pass).
	OnPush        func(ev PushEvent)
	OnPullRequest func(ev PullRequestEvent)
	// Log receives one line per refused or failed delivery.
	Log *logrus.Entry
	// OnResult receives one of the Result* constants per request.
	OnResult func(result string)
}

// Handler serves POST /hooks/gitea.
type Handler struct {
	o      Options
	warned atomic.Bool // the "no secret" warning was logged for the current empty secret
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler with the defaults of Options filled in.
func NewHandler(o Options) *Handler {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		o.Log = logrus.NewEntry(l)
	}
	return &Handler{o: o}
}

// ServeHTTP checks, parses and dispatches one delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.o.Log.WithFields(logrus.Fields{
		"event":       r.Header.Get("X-Gitea-Event"),
		"delivery":    r.Header.Get("X-Gitea-Delivery"),
		"remote_addr": r.RemoteAddr,
	})
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.finish(w, http.StatusMethodNotAllowed, ResultBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.o.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.WithField("max_bytes", h.o.MaxBody).Warn("webhook body too large")
			h.finish(w, http.StatusRequestEntityTooLarge, ResultTooLarge)
			return
		}
		log.WithError(err).Warn("read webhook body")
		h.finish(w, http.StatusBadRequest, ResultBadRequest)
		return
	}
	if err := h.verify(r.Header.Get("X-Gitea-Signature"), body); err != nil {
		log.WithError(err).Warn("webhook refused")
		h.finish(w, http.StatusUnauthorized, ResultUnauthorized)
		return
	}
	result, err := h.dispatch(r.Header.Get("X-Gitea-Event"), body, log)
	if err != nil {
		log.WithError(err).Warn("webhook body not understood")
		h.finish(w, http.StatusBadRequest, ResultBadRequest)
		return
	}
	h.finish(w, http.StatusAccepted, result)
}

// errSignature is the reason behind a 401; it never carries the body, the
// secret or the expected signature.
var errSignature = errors.New("signature")

func (h *Handler) verify(sigHex string, body []byte) error {
	var secret []byte
	if h.o.Secret != nil {
		secret = h.o.Secret()
	}
	if len(secret) == 0 {
		if h.warned.CompareAndSwap(false, true) {
			h.o.Log.Warn("webhook secret is empty: deliveries are accepted without signature check")
		}
		return nil
	}
	h.warned.Store(false)
	if sigHex == "" {
		return fmt.Errorf("%w: missing X-Gitea-Signature", errSignature)
	}
	got, err := hex.DecodeString(sigHex)
	if err != nil {
		return fmt.Errorf("%w: X-Gitea-Signature is not hex", errSignature)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: X-Gitea-Signature does not match", errSignature)
	}
	return nil
}

// dispatch parses the body by event type and calls the callback when the
// delivery concerns the desired branch. It returns the result to record.
func (h *Handler) dispatch(event string, body []byte, log *logrus.Entry) (string, error) {
	switch event {
	case "push":
		ev, err := ParsePush(body)
		if err != nil {
			return "", err
		}
		return h.push(ev, log), nil
	case "pull_request":
		ev, err := ParsePullRequest(body)
		if err != nil {
			return "", err
		}
		return h.pullRequest(ev, log), nil
	default:
		// Other events (create, delete, issues, ...) are valid deliveries
		// the daemon has no use for.
		return ResultIgnored, nil
	}
}

func (h *Handler) push(ev PushEvent, log *logrus.Entry) string {
	log = log.WithFields(logrus.Fields{"ref": ev.Ref, "after": ev.After, "repo": ev.Repo})
	// The status branch is checked first: amigo's own status commits must
	// never trigger the pass that wrote them, even if branches are misconfigured.
	if status := branchName(h.o.StatusBranch, ""); status != "" && ev.Ref == "refs/heads/"+status {
		log.Debug("push to status branch ignored")
		return ResultIgnored
	}
	if ev.Ref != "refs/heads/"+branchName(h.o.DesiredBranch, "main") {
		log.Debug("push to other branch ignored")
		return ResultIgnored
	}
	if h.o.OnPush != nil {
		h.o.OnPush(ev)
	}
	return ResultAccepted
}

// isPlanAction reports whether a pull request action changes what a plan
// would show. Gitea 1.26 says "synchronized"; "synchronize" is GitHub's
// spelling, accepted for compatible senders.
func isPlanAction(action string) bool {
	switch action {
	case "opened", "reopened", "synchronized", "synchronize":
		return true
	}
	return false
}

func (h *Handler) pullRequest(ev PullRequestEvent, log *logrus.Entry) string {
	log = log.WithFields(logrus.Fields{"pr": ev.Number, "action": ev.Action, "base": ev.BaseRef})
	if !isPlanAction(ev.Action) || ev.BaseRef != branchName(h.o.DesiredBranch, "main") {
		log.Debug("pull_request ignored")
		return ResultIgnored
	}
	if h.o.OnPullRequest != nil {
		h.o.OnPullRequest(ev)
	}
	return ResultAccepted
}

func (h *Handler) finish(w http.ResponseWriter, code int, result string) {
	if h.o.OnResult != nil {
		h.o.OnResult(result)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, result+"\n")
}

func branchName(f func() string, fallback string) string {
	if f == nil {
		return fallback
	}
	if b := f(); b != "" {
		return b
	}
	return fallback
}
