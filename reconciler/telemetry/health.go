package telemetry

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Health answers /healthz and /readyz from the outcome of passes.
type Health struct {
	stale time.Duration
	now   func() time.Time

	mu      sync.Mutex
	lastAt  time.Time // end of the last pass
	lastErr error
	okAt    time.Time // end of the last successful pass
}

// NewHealth returns a Health that stays ready for stale after a successful
// pass even when later passes fail, so that a brief outage of git or the
// cloud does not take the daemon out of service. now reads the clock;
// time.Now when nil.
func NewHealth(stale time.Duration, now func() time.Time) *Health {
	if now == nil {
		now = time.Now
	}
	return &Health{stale: stale, now: now}
}

// ObservePass records the outcome of a pass that ended at.
func (h *Health) ObservePass(err error, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastAt, h.lastErr = at, err
	if err == nil {
		h.okAt = at
	}
}

// Ready reports whether the last pass succeeded or one succeeded within
// the staleness bound, and why not when it is not.
func (h *Health) Ready() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.lastAt.IsZero():
		return false, "no pass has finished yet"
	case h.lastErr == nil:
		return true, "last pass succeeded"
	case !h.okAt.IsZero() && h.now().Sub(h.okAt) <= h.stale:
		return true, fmt.Sprintf("last pass failed; one succeeded at %s", h.okAt.UTC().Format(time.RFC3339))
	case h.okAt.IsZero():
		return false, "no pass has succeeded yet"
	default:
		return false, fmt.Sprintf("no pass has succeeded since %s", h.okAt.UTC().Format(time.RFC3339))
	}
}

// Healthz answers 200 while the process serves at all.
func (h *Health) Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
}

// Readyz answers 200 when Ready, else 503, with the reason as the body.
// The reason never carries the pass's error, which may name internal
// addresses; the log has it.
func (h *Health) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ok, reason := h.Ready()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, reason)
	})
}
