package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sirupsen/logrus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestGiteaCallsAreSpans: the Gitea client setupGitea builds makes every
// request a span under the caller's.
func TestGiteaCallsAreSpans(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"version":"1.26.0"}`))
	}))
	defer srv.Close()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	d := &daemon{
		flags: &runFlags{giteaURL: srv.URL, giteaRepo: "idhub/deploy", repo: srv.URL + "/idhub/deploy.git"},
		set:   &settings{token: "t0ken"}, log: logrus.New(), tp: tp, tracer: tp.Tracer("amigo"),
		jobs: make(chan func(context.Context), 1),
	}
	if err := setupGitea(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	g := d.reporter.(*giteaReporter)
	ctx, parent := d.tracer.Start(context.Background(), "reconcile")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/version", nil)
	resp, err := g.link.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()
	for _, s := range rec.Ended() {
		if s.Name() == "gitea GET /api/v1/version" {
			if s.Parent().SpanID() != parent.SpanContext().SpanID() {
				t.Errorf("gitea span parent %s, want the reconcile span", s.Parent().SpanID())
			}
			return
		}
	}
	t.Errorf("no gitea span among %d spans", len(rec.Ended()))
}
