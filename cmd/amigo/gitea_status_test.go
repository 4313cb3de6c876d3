package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/gitea"
	"github.com/amigo-gitops/amigo/reconciler"
)

func TestStackCommitStatus(t *testing.T) {
	passing := &reconciler.Report{Verdict: "passing"}
	v15, v16 := &reconciler.Release{Version: "v1.5"}, &reconciler.Release{Version: "v1.6"}
	tests := []struct {
		name   string
		status reconciler.Status
		url    string
		want   gitea.CommitStatus
	}{
		{"progressing", reconciler.Status{Phase: reconciler.Progressing, Stable: v15, New: v16, Weight: 50, Analysis: passing}, "http://jaeger/trace/abc",
			gitea.CommitStatus{State: gitea.StatePending, Description: "v1.6 at 50%, analysis passing", TargetURL: "http://jaeger/trace/abc"}},
		{"paused", reconciler.Status{Phase: reconciler.Paused, Stable: v15, New: v16, Weight: 10}, "",
			gitea.CommitStatus{State: gitea.StatePending, Description: "v1.6 at 10% (paused)"}},
		{"healthy", reconciler.Status{Phase: reconciler.Healthy, Stable: v16, Analysis: passing}, "",
			gitea.CommitStatus{State: gitea.StateSuccess, Description: "v1.6 healthy, analysis passing"}},
		{"aborted", reconciler.Status{Phase: reconciler.Aborted, Stable: v15, New: v16, Abort: &reconciler.Abort{Reason: "error rate 2% over 0.1%"}}, "",
			gitea.CommitStatus{State: gitea.StateFailure, Description: "v1.6 aborted: error rate 2% over 0.1%"}},
		{"blocked by the gate", reconciler.Status{Phase: reconciler.Blocked, Stable: v15, Gate: "v1.6 is not Healthy in dev"}, "",
			gitea.CommitStatus{State: gitea.StateFailure, Description: "blocked: v1.6 is not Healthy in dev"}},
		{"blocked by validation", reconciler.Status{Phase: reconciler.Blocked, Message: "config rejected: traffic"}, "",
			gitea.CommitStatus{State: gitea.StateFailure, Description: "blocked: config rejected: traffic"}},
		{"degraded", reconciler.Status{Phase: reconciler.Degraded, Stable: v16, Message: "stable fleet unhealthy"}, "",
			gitea.CommitStatus{State: gitea.StateError, Description: "Degraded: stable fleet unhealthy"}},
		{"clipped", reconciler.Status{Phase: reconciler.Blocked, Message: strings.Repeat("é", 200)}, "",
			gitea.CommitStatus{State: gitea.StateFailure, Description: "blocked: " + strings.Repeat("é", 130) + "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := reconciler.StackPlan{Stack: desired.StackID{Env: "prd", Role: "web"}, Status: tt.status}
			tt.want.Context = "amigo/prd/web"
			got := stackCommitStatus(sp, tt.url)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stackCommitStatus (-want +got):\n%s", diff)
			}
			if n := len([]rune(got.Description)); n > maxDescription {
				t.Errorf("description has %d characters, want at most %d", n, maxDescription)
			}
		})
	}
}

func TestTraceLink(t *testing.T) {
	tests := []struct{ template, id, want string }{
		{"http://127.0.0.1:16686/trace/{trace_id}", "4bf92f35", "http://127.0.0.1:16686/trace/4bf92f35"},
		{"", "4bf92f35", ""},
		{"http://127.0.0.1:16686/trace/{trace_id}", "", ""},
	}
	for _, tt := range tests {
		if got := traceLink(tt.template, tt.id); got != tt.want {
			t.Errorf("traceLink(%q, %q) = %q, want %q", tt.template, tt.id, got, tt.want)
		}
	}
}

func TestGiteaRepoName(t *testing.T) {
	tests := []struct {
		name, flag, repo string
		owner, repoName  string
		wantErr          bool
	}{
		{"from the clone URL", "", "http://127.0.0.1:3000/ops/deploy-config.git", "ops", "deploy-config", false},
		{"under a sub-path", "", "https://example.com/gitea/ops/deploy-config.git", "ops", "deploy-config", false},
		{"flag wins", "team/cfg", "http://127.0.0.1:3000/ops/deploy-config.git", "team", "cfg", false},
		{"local repository needs the flag", "", "/srv/config", "", "", true},
		{"flag without owner", "cfg", "", "", "", true},
		{"URL without a repository", "", "http://127.0.0.1:3000/", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner, name, err := giteaRepoName(tt.flag, tt.repo)
			if (err != nil) != tt.wantErr {
				t.Fatalf("giteaRepoName(%q, %q) error = %v, want error %v", tt.flag, tt.repo, err, tt.wantErr)
			}
			if owner != tt.owner || name != tt.repoName {
				t.Errorf("giteaRepoName(%q, %q) = %s/%s, want %s/%s", tt.flag, tt.repo, owner, name, tt.owner, tt.repoName)
			}
		})
	}
}
