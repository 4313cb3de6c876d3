package telemetry_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/amigo-gitops/amigo/reconciler/telemetry"
)

func TestReadyz(t *testing.T) {
	t0 := time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC)
	boom := errors.New("fetch desired: connection refused")
	type obs struct {
		err error
		at  time.Duration // after t0
	}
	tests := []struct {
		name       string
		passes     []obs
		now        time.Duration
		wantCode   int
		wantReason string
	}{
		{"no pass yet", nil, 0, 503, "no pass has finished"},
		{"last pass ok", []obs{{nil, 0}}, time.Hour, 200, "last pass succeeded"},
		{"failed after a recent success", []obs{{nil, 0}, {boom, time.Minute}}, 4 * time.Minute, 200, "one succeeded"},
		{"failed long after success", []obs{{nil, 0}, {boom, 10 * time.Minute}}, 10 * time.Minute, 503, "no pass has succeeded since"},
		{"only failures", []obs{{boom, 0}, {boom, time.Minute}}, time.Minute, 503, "no pass has succeeded yet"},
		{"recovered", []obs{{boom, 0}, {nil, time.Minute}}, time.Hour, 200, "last pass succeeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := telemetry.NewHealth(5*time.Minute, func() time.Time { return t0.Add(tt.now) })
			for _, p := range tt.passes {
				h.ObservePass(p.err, t0.Add(p.at))
			}
			code, body := serve(t, h.Readyz())
			if code != tt.wantCode {
				t.Errorf("code: got %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(body, tt.wantReason) {
				t.Errorf("body: got %q, want it to contain %q", body, tt.wantReason)
			}
			if strings.Contains(body, "connection refused") {
				t.Errorf("body %q carries the pass error", body)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	h := telemetry.NewHealth(time.Minute, nil)
	h.ObservePass(errors.New("boom"), time.Now())
	if code, _ := serve(t, h.Healthz()); code != http.StatusOK {
		t.Errorf("code: got %d, want 200", code)
	}
}

func serve(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	b, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Code, string(b)
}
