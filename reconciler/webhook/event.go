package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrInvalidEvent marks a body that is not a usable delivery: malformed
// JSON or a required field missing. The handler answers 400 for it.
var ErrInvalidEvent = errors.New("invalid webhook event")

// PushEvent is the part of a Gitea push delivery the daemon acts on.
type PushEvent struct {
	Ref     string // full ref, e.g. refs/heads/main
	Before  string // commit before the push (all zeros for a new branch)
	After   string // commit after the push
	Repo    string // owner/name
	Commits int    // number of commits in the push
	Pusher  string // login of the user who pushed
}

// PullRequestEvent is the part of a Gitea pull_request delivery the daemon
// needs to compute a plan for the pull request's head.
type PullRequestEvent struct {
	Number  int64
	Action  string // opened, synchronized, reopened, closed, ...
	HeadSHA string
	HeadRef string
	BaseRef string
	Repo    string // owner/name of the base repository
	Merged  bool
}

type repoJSON struct {
	FullName string `json:"full_name"`
}

type userJSON struct {
	Login    string `json:"login"`
	Username string `json:"username"`
}

type pushJSON struct {
	Ref          string            `json:"ref"`
	Before       string            `json:"before"`
	After        string            `json:"after"`
	Commits      []json.RawMessage `json:"commits"`
	TotalCommits *int              `json:"total_commits"`
	Repository   *repoJSON         `json:"repository"`
	Pusher       *userJSON         `json:"pusher"`
}

type branchJSON struct {
	Ref string `json:"ref"`
	SHA string `json:"sha"`
}

type pullRequestJSON struct {
	Action      string    `json:"action"`
	Number      int64     `json:"number"`
	Repository  *repoJSON `json:"repository"`
	PullRequest *struct {
		Number int64       `json:"number"`
		Merged bool        `json:"merged"`
		Head   *branchJSON `json:"head"`
		Base   *branchJSON `json:"base"`
	} `json:"pull_request"`
}

// ParsePush decodes a push delivery body. Ref, after and the repository's
// full name are required; everything else may be absent.
func ParsePush(body []byte) (PushEvent, error) {
	var p pushJSON
	if err := json.Unmarshal(body, &p); err != nil {
		return PushEvent{}, fmt.Errorf("decode push event: %w: %w", ErrInvalidEvent, err)
	}
	ev := PushEvent{Ref: p.Ref, Before: p.Before, After: p.After, Commits: len(p.Commits)}
	if p.TotalCommits != nil {
		// Gitea caps the commits list; total_commits is the real count.
		ev.Commits = *p.TotalCommits
	}
	if p.Repository != nil {
		ev.Repo = p.Repository.FullName
	}
	if p.Pusher != nil {
		ev.Pusher = firstNonEmpty(p.Pusher.Login, p.Pusher.Username)
	}
	if err := requireFields("push event",
		field{"ref", ev.Ref}, field{"after", ev.After}, field{"repository.full_name", ev.Repo},
	); err != nil {
		return PushEvent{}, err
	}
	return ev, nil
}

// ParsePullRequest decodes a pull_request delivery body. The action, the
// number, the head sha and ref, the base ref and the repository's full name
// are required.
func ParsePullRequest(body []byte) (PullRequestEvent, error) {
	var p pullRequestJSON
	if err := json.Unmarshal(body, &p); err != nil {
		return PullRequestEvent{}, fmt.Errorf("decode pull_request event: %w: %w", ErrInvalidEvent, err)
	}
	if p.PullRequest == nil {
		return PullRequestEvent{}, fmt.Errorf("pull_request event: %w: missing pull_request", ErrInvalidEvent)
	}
	ev := PullRequestEvent{Action: p.Action, Number: p.Number, Merged: p.PullRequest.Merged}
	if ev.Number == 0 {
		ev.Number = p.PullRequest.Number
	}
	if h := p.PullRequest.Head; h != nil {
		ev.HeadRef, ev.HeadSHA = h.Ref, h.SHA
	}
	if b := p.PullRequest.Base; b != nil {
		ev.BaseRef = b.Ref
	}
	if p.Repository != nil {
		ev.Repo = p.Repository.FullName
	}
	if ev.Number <= 0 {
		return PullRequestEvent{}, fmt.Errorf("pull_request event: %w: number %d is not positive", ErrInvalidEvent, ev.Number)
	}
	if err := requireFields("pull_request event",
		field{"action", ev.Action}, field{"pull_request.head.sha", ev.HeadSHA},
		field{"pull_request.head.ref", ev.HeadRef}, field{"pull_request.base.ref", ev.BaseRef},
		field{"repository.full_name", ev.Repo},
	); err != nil {
		return PullRequestEvent{}, err
	}
	return ev, nil
}

type field struct{ name, value string }

// requireFields reports the first empty field, in the order given.
func requireFields(what string, fields ...field) error {
	for _, f := range fields {
		if f.value == "" {
			return fmt.Errorf("%s: %w: missing %s", what, ErrInvalidEvent, f.name)
		}
	}
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
