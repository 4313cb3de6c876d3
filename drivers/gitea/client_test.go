package gitea_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/amigo-gitops/amigo/drivers/gitea"
)

func TestNewRejects(t *testing.T) {
	const token = "s3cr3t-token-value"
	tests := []struct {
		name, url, token string
	}{
		{"not a url", "://x", token},
		{"no scheme", "gitea.example.com", token},
		{"ftp", "ftp://gitea.example.com", token},
		{"credentials in url", "https://user:pw@gitea.example.com", token},
		{"empty token", "https://gitea.example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gitea.New(tt.url, tt.token, gitea.Options{})
			if err == nil {
				t.Fatalf("New(%q) succeeded, want an error", tt.url)
			}
			for _, secret := range []string{token, "pw"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains a credential %q", err, secret)
				}
			}
		})
	}
}

func TestNewMakesNoRequest(t *testing.T) {
	var calls atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return nil, errors.New("no network in this test")
	})}
	c, err := gitea.New("http://127.0.0.1:1/", "tok", gitea.Options{HTTPClient: hc})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := calls.Load(); got != 0 {
		t.Errorf("New made %d requests, want 0 (the daemon must start while Gitea is down)", got)
	}
	if got, want := c.URL(), "http://127.0.0.1:1"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	err = c.SetCommitStatus(context.Background(), "o", "r", "abc", gitea.CommitStatus{Context: "amigo/plan", State: "done"})
	if err == nil || calls.Load() != 0 {
		t.Errorf("invalid state: got err %v after %d requests, want an error before any request", err, calls.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
