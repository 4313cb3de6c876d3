package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

func TestStatusPage(t *testing.T) {
	p := &page{traceURL: "http://127.0.0.1:16686/trace/{trace_id}"}
	srv := httptest.NewServer(p)
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, "No pass yet") {
		t.Errorf("before a pass: %d %q, want 200 and no pass yet", code, body)
	}
	res := reconciler.PassResult{Revision: "abc123", Plan: reconciler.Result{Stacks: []reconciler.StackPlan{
		{Stack: desired.StackID{Env: "prd", Role: "web"}, Status: reconciler.Status{Stack: "prd/web", Phase: reconciler.Progressing,
			StepName: "50%", Weight: 50, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Message: "v1.6 at 50% <b>x</b>",
			Stable: &reconciler.Release{Version: "v1.5", AMI: "ami-1"}, New: &reconciler.Release{Version: "v1.6", AMI: "ami-2"}}},
		{Stack: desired.StackID{Env: "prd", Role: "hlp"}, Status: reconciler.Status{Stack: "prd/hlp", Phase: reconciler.Aborted}},
	}}}
	p.observe("webhook", res, errors.New("prd/hlp: boom"))
	code, body := get("/")
	if code != 200 {
		t.Fatalf("status page: %d", code)
	}
	for _, want := range []string{
		"prd/web", `class="Progressing"`, "v1.5 <code>ami-1</code>", "v1.6 <code>ami-2</code>", "50%",
		`href="http://127.0.0.1:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736"`, "prd/hlp", `class="Aborted"`,
		"abc123", "(webhook)", "prd/hlp: boom", "&lt;b&gt;x&lt;/b&gt;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if code, _ := get("/nope"); code != http.StatusNotFound {
		t.Errorf("GET /nope: %d, want 404", code)
	}
}
