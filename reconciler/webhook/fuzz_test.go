package webhook

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
)

func FuzzParsePush(f *testing.F) {
	for _, name := range deliveryNames {
		f.Add(loadDelivery(f, name).body)
	}
	f.Add([]byte(`{"ref":"refs/heads/main","after":"a","repository":{"full_name":"o/r"},"total_commits":-1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParsePush(body)
		if err != nil {
			return
		}
		if ev.Ref == "" || ev.After == "" || ev.Repo == "" {
			t.Errorf("ParsePush accepted %q with a required field empty: %+v", body, ev)
		}
	})
}

func FuzzParsePullRequest(f *testing.F) {
	for _, name := range deliveryNames {
		f.Add(loadDelivery(f, name).body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParsePullRequest(body)
		if err != nil {
			return
		}
		if ev.Number <= 0 || ev.Action == "" || ev.HeadSHA == "" || ev.HeadRef == "" || ev.BaseRef == "" || ev.Repo == "" {
			t.Errorf("ParsePullRequest accepted %q with a required field empty: %+v", body, ev)
		}
	})
}

// FuzzHandler checks that no request panics the handler and that only a
// correctly signed one reaches a callback.
func FuzzHandler(f *testing.F) {
	for _, name := range deliveryNames {
		d := loadDelivery(f, name)
		f.Add(d.header.Get("X-Gitea-Event"), d.header.Get("X-Gitea-Signature"), d.body)
		f.Add(d.header.Get("X-Gitea-Event"), "", d.body)
	}
	f.Fuzz(func(t *testing.T, event, sig string, body []byte) {
		called := false
		h := NewHandler(Options{
			Secret:        func() []byte { return []byte(testSecret) },
			MaxBody:       64 << 10,
			OnPush:        func(PushEvent) { called = true },
			OnPullRequest: func(PullRequestEvent) { called = true },
		})
		req := httptest.NewRequest(http.MethodPost, "/hooks/gitea", bytes.NewReader(body))
		req.Header.Set("X-Gitea-Event", event)
		req.Header.Set("X-Gitea-Signature", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		got, _ := hex.DecodeString(sig)
		want, _ := hex.DecodeString(sign(testSecret, body))
		valid := sig != "" && hmac.Equal(got, want)
		if called && !valid {
			t.Errorf("callback reached with invalid signature %q", sig)
		}
		if !valid && rec.Code != http.StatusUnauthorized && rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("got status %d for invalid signature, want 401 or 413", rec.Code)
		}
	})
}
