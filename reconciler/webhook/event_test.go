package webhook

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePush(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want PushEvent
	}{
		{
			name: "new branch",
			body: loadDelivery(t, "01-push").body,
			want: PushEvent{
				Ref: "refs/heads/promote-stg-web", Before: "0000000000000000000000000000000000000000",
				After: "33d149a862aea32ef984cc09d858cf8d2865eb9d", Repo: "op/deploy-config", Commits: 1, Pusher: "op",
			},
		},
		{
			name: "merge to main",
			body: loadDelivery(t, "06-push").body,
			want: PushEvent{
				Ref: "refs/heads/main", Before: "32ef9f1da036079f241fb21e744ebed239c03f11",
				After: "e1a4631bd90a71e799fe04fb134ebc54ba486832", Repo: "op/deploy-config", Commits: 3, Pusher: "op",
			},
		},
		{
			name: "total_commits absent counts the list",
			body: []byte(`{"ref":"refs/heads/main","after":"b","commits":[{},{}],"repository":{"full_name":"o/r"}}`),
			want: PushEvent{Ref: "refs/heads/main", After: "b", Repo: "o/r", Commits: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePush(tt.body)
			if err != nil {
				t.Fatalf("ParsePush: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePush mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePushErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty", ``},
		{"not json", `ref=main`},
		{"wrong type", `{"ref":1}`},
		{"missing ref", `{"after":"b","repository":{"full_name":"o/r"}}`},
		{"missing after", `{"ref":"refs/heads/main","repository":{"full_name":"o/r"}}`},
		{"missing repository", `{"ref":"refs/heads/main","after":"b"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePush([]byte(tt.body))
			if !errors.Is(err, ErrInvalidEvent) {
				t.Errorf("ParsePush(%q) error = %v, want ErrInvalidEvent", tt.body, err)
			}
		})
	}
}

func TestParsePullRequest(t *testing.T) {
	tests := []struct {
		name string
		want PullRequestEvent
	}{
		{
			name: "02-pull_request-opened",
			want: PullRequestEvent{
				Number: 1, Action: "opened", HeadSHA: "33d149a862aea32ef984cc09d858cf8d2865eb9d",
				HeadRef: "promote-stg-web", BaseRef: "main", Repo: "op/deploy-config",
			},
		},
		{
			name: "05-pull_request-closed",
			want: PullRequestEvent{
				Number: 1, Action: "closed", HeadSHA: "00e81907a3bdb7f8425fe9b40e03d5e3515abdd2",
				HeadRef: "promote-stg-web", BaseRef: "main", Repo: "op/deploy-config", Merged: true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePullRequest(loadDelivery(t, tt.name).body)
			if err != nil {
				t.Fatalf("ParsePullRequest: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePullRequest mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePullRequestErrors(t *testing.T) {
	full := `"action":"opened","number":3,"repository":{"full_name":"o/r"}`
	tests := []struct {
		name string
		body string
	}{
		{"empty", ``},
		{"not json", `[`},
		{"missing pull_request", `{` + full + `}`},
		{"missing head", `{` + full + `,"pull_request":{"base":{"ref":"main"}}}`},
		{"missing base", `{` + full + `,"pull_request":{"head":{"ref":"x","sha":"a"}}}`},
		{"missing action", `{"number":3,"repository":{"full_name":"o/r"},"pull_request":{"head":{"ref":"x","sha":"a"},"base":{"ref":"main"}}}`},
		{"zero number", `{"action":"opened","repository":{"full_name":"o/r"},"pull_request":{"head":{"ref":"x","sha":"a"},"base":{"ref":"main"}}}`},
		{"negative number", `{"action":"opened","number":-1,"repository":{"full_name":"o/r"},"pull_request":{"head":{"ref":"x","sha":"a"},"base":{"ref":"main"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePullRequest([]byte(tt.body))
			if !errors.Is(err, ErrInvalidEvent) {
				t.Errorf("ParsePullRequest(%q) error = %v, want ErrInvalidEvent", tt.body, err)
			}
		})
	}
}
