package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/gitea"
	"github.com/amigo-gitops/amigo/reconciler"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// exampleAt loads the example config repository with some stacks' versions
// replaced (by "env/role").
func exampleAt(t *testing.T, rev string, versions map[string]string) *desired.Repo {
	t.Helper()
	files := bytesMap(readExample(t))
	for id, v := range versions {
		path := "environments/" + id + ".yaml"
		out, err := desired.SetVersion(files[path], v)
		if err != nil {
			t.Fatalf("set %s to %s: %v", id, v, err)
		}
		files[path] = out
	}
	repo, err := desired.Load(files, rev)
	if err != nil {
		t.Fatalf("load example: %v", err)
	}
	return repo
}

// atV15 is the estate of the end-to-end test: dev on v1.6, the rest on v1.5.
var atV15 = map[string]string{"stg/web": "v1.5", "stg/hlp": "v1.5", "prd/web": "v1.5", "prd/hlp": "v1.5"}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		if a != k {
			out[a] = b
		}
	}
	return out
}

func sp(id string, s reconciler.Status, actions ...reconciler.Action) reconciler.StackPlan {
	sid, _ := desired.ParseStackID(id)
	s.Stack = id
	return reconciler.StackPlan{Stack: sid, Status: s, Actions: actions}
}

func healthy(v string) reconciler.Status {
	return reconciler.Status{Phase: reconciler.Healthy, Stable: &reconciler.Release{Version: v}, Strategy: "bluegreen"}
}

func TestPromotions(t *testing.T) {
	repo := exampleAt(t, "base", atV15)
	noPRs := exampleAt(t, "base", atV15)
	noPRs.Settings.Promotion.PullRequests = false
	progressing := reconciler.Status{Phase: reconciler.Progressing, Stable: &reconciler.Release{Version: "v1.5"}, New: &reconciler.Release{Version: "v1.6"}}
	tests := []struct {
		name   string
		repo   *desired.Repo
		stacks []reconciler.StackPlan
		want   []string
	}{
		{"dev healthy proposes stg", repo, []reconciler.StackPlan{sp("dev/web", healthy("v1.6")), sp("dev/hlp", healthy("v1.6"))},
			[]string{"amigo:promote:stg/web:v1.6", "amigo:promote:stg/hlp:v1.6"}},
		{"a rollout under way proposes nothing", repo, []reconciler.StackPlan{sp("dev/web", progressing)}, nil},
		{"healthy on another version than asked", repo, []reconciler.StackPlan{sp("dev/web", healthy("v1.5"))}, nil},
		{"next environment not older", repo, []reconciler.StackPlan{sp("stg/web", healthy("v1.5")), sp("prd/web", healthy("v1.5"))}, nil},
		{"pullRequests off", noPRs, []reconciler.StackPlan{sp("dev/web", healthy("v1.6"))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range promotions(tt.repo, tt.stacks) {
				got = append(got, p.Marker())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("promotions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPromotionPR(t *testing.T) {
	repo := exampleAt(t, "base", atV15)
	g := &giteaReporter{traceURL: "http://jaeger/trace/{trace_id}", src: nil}
	st := healthy("v1.6")
	st.TraceID = "4bf92f3577b34da6"
	st.Analysis = &reconciler.Report{Window: "30m0s", Requests: 1200, ErrorRate: 0.0002, LatencyMS: 140, Verdict: "passing"}
	p := promotions(repo, []reconciler.StackPlan{sp("dev/web", st)})[0]
	files := bytesMap(readExample(t))
	pr, err := g.promotionPRFor(p, files[p.To.File], "main")
	if err != nil {
		t.Fatalf("promotionPR: %v", err)
	}
	changed, _ := desired.SetVersion(files[p.To.File], "v1.6")
	if diff := cmp.Diff(map[string][]byte{"environments/stg/web.yaml": changed}, pr.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	for _, want := range []string{"Healthy in **dev**", "0.020%", "140 ms", "[4bf92f3577b34da6](http://jaeger/trace/4bf92f3577b34da6)"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	if pr.Head != "amigo/promote-stg-web-v1.6" || pr.Base != "main" || pr.Marker != "<!-- amigo:promote:stg/web:v1.6 -->" {
		t.Errorf("pull request = head %q base %q marker %q", pr.Head, pr.Base, pr.Marker)
	}
}

// planCases are pull requests against the end-to-end estate.
func planCases(t *testing.T) map[string]prPlan {
	base := exampleAt(t, "base", atV15)
	createFleet := reconciler.Action{Kind: reconciler.ActCreateFleet, Reason: "new fleet for v1.6",
		Spec: reconciler.FleetSpec{Name: "amigo-stg-web-v1-6", Version: "v1.6", AMI: "ami-0123", Slot: reconciler.SlotGreen, Capacity: desired.Capacity{Desired: 2, Min: 2, Max: 4}}}
	progressing := reconciler.Status{Phase: reconciler.Progressing, Strategy: "bluegreen", Gate: "v1.6 is Healthy in dev",
		Stable: &reconciler.Release{Version: "v1.5"}, New: &reconciler.Release{Version: "v1.6"}, Message: "v1.6: creating fleet amigo-stg-web-v1-6"}
	gated := reconciler.Status{Phase: reconciler.Blocked, Strategy: "bluegreen", Gate: "v1.7 is not Healthy in dev",
		Stable: &reconciler.Release{Version: "v1.5"}, Message: "waiting for the promotion gate"}
	rest := []reconciler.StackPlan{sp("dev/web", healthy("v1.6")), sp("dev/hlp", healthy("v1.6"))}
	skip := exampleAt(t, "head", with(atV15, "prd/web", "v1.6"))
	return map[string]prPlan{
		"promote": {Number: 2, Head: "641c736ffe00000000000000000000000000aaaa", Base: base, Repo: exampleAt(t, "head", with(atV15, "stg/web", "v1.6")),
			Plan: reconciler.Result{Stacks: append(rest, sp("stg/web", progressing, createFleet))}},
		"gate": {Number: 4, Head: "b", Base: base, Repo: exampleAt(t, "head", with(atV15, "stg/web", "v1.6")),
			Plan: reconciler.Result{Stacks: append(rest, sp("stg/web", gated))}},
		"gate on an unchanged stack": {Number: 5, Head: "c", Base: base, Repo: exampleAt(t, "head", atV15),
			Plan: reconciler.Result{Stacks: append(rest, sp("stg/web", gated))}},
		"skip stg": {Number: 3, Head: "ac9970c76d000000000000000000000000000bbbb", Base: base, Repo: skip,
			Plan: reconciler.Result{Stacks: append(rest, sp("prd/web", reconciler.Status{Phase: reconciler.Blocked, Message: "config rejected: " + skip.Errors[0].Error()}))}},
		"broken amigo.yaml": {Number: 6, Head: "d", Base: base, LoadErr: errors.New("amigo.yaml:3: environments: must not be empty")},
		"cloud unreachable": {Number: 7, Head: "e", Base: base, Repo: exampleAt(t, "head", atV15), PlanErr: errors.New("observe: connection refused")},
	}
}

func TestJudge(t *testing.T) {
	cases := planCases(t)
	tests := []struct {
		name, state, summary string
	}{
		{"promote", gitea.StateSuccess, "valid; 1 version change(s), 1 action(s) next pass, gate open"},
		{"gate", gitea.StateFailure, "promotion gate blocks stg/web: v1.7 is not Healthy in dev"},
		{"gate on an unchanged stack", gitea.StateSuccess, "valid; 0 version change(s), 0 action(s) next pass, gate open"},
		{"skip stg", gitea.StateFailure, "1 validation error(s), first environments/prd/web.yaml:1: version: v1.6 is newer than v1.5 in stg/web: promote through stg first, or give promotion.override a reason"},
		{"broken amigo.yaml", gitea.StateFailure, "config does not load: amigo.yaml:3: environments: must not be empty"},
		{"cloud unreachable", gitea.StateError, "plan failed: observe: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := judge(cases[tt.name])
			if v.State != tt.state || v.Summary != tt.summary {
				t.Errorf("judge = %s %q, want %s %q", v.State, v.Summary, tt.state, tt.summary)
			}
			st := planStatus(cases[tt.name])
			if st.Context != "amigo/plan" || len([]rune(st.Description)) > maxDescription {
				t.Errorf("planStatus = %+v, want context amigo/plan and a description of at most %d characters", st, maxDescription)
			}
		})
	}
}

func TestRenderPlanGolden(t *testing.T) {
	cases := planCases(t)
	for _, name := range []string{"promote", "skip stg", "broken amigo.yaml"} {
		t.Run(name, func(t *testing.T) {
			got := renderPlan(cases[name])
			path := filepath.Join("testdata", "gitea_plan_"+strings.ReplaceAll(strings.ReplaceAll(name, " ", "_"), ".", "_")+".md")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("plan comment (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(got, gitea.PlanMarker+"\n") {
				t.Errorf("plan comment does not start with the marker")
			}
		})
	}
}
