package gitea

import (
	"context"
	"fmt"
	"strings"

	sdk "code.gitea.io/sdk/gitea"
)

// PlanMarker identifies amigo's plan comment on a pull request. It is an
// HTML comment, invisible in Gitea's rendering.
const PlanMarker = "<!-- amigo:plan -->"

// UpsertPlanComment makes the pull request carry exactly one plan comment
// by the token's user with body: it creates it, edits it in place when the
// body changed, and makes no write when it did not. The marker is added to
// body when missing.
func (c *Client) UpsertPlanComment(ctx context.Context, owner, repo string, pr int64, body string) error {
	if !strings.Contains(body, PlanMarker) {
		body = PlanMarker + "\n" + body
	}
	api, cancel, err := c.api(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	existing, err := findPlanComment(api, owner, repo, pr)
	if err != nil {
		return fmt.Errorf("find plan comment on %s/%s#%d: %w", owner, repo, pr, err)
	}
	switch {
	case existing == nil:
		_, resp, err := api.CreateIssueComment(owner, repo, pr, sdk.CreateIssueCommentOption{Body: body})
		if err != nil {
			return fmt.Errorf("create plan comment on %s/%s#%d: %w", owner, repo, pr, apiErr(resp, err))
		}
	case existing.Body != body:
		_, resp, err := api.EditIssueComment(owner, repo, existing.ID, sdk.EditIssueCommentOption{Body: body})
		if err != nil {
			return fmt.Errorf("edit plan comment %d on %s/%s#%d: %w", existing.ID, owner, repo, pr, apiErr(resp, err))
		}
	}
	return nil
}

// findPlanComment returns the oldest comment on pr that carries the marker
// and was written by the token's user. Comments by others are never edited,
// even when they quote the marker.
func findPlanComment(api *sdk.Client, owner, repo string, pr int64) (*sdk.Comment, error) {
	me, resp, err := api.GetMyUserInfo()
	if err != nil {
		return nil, fmt.Errorf("whoami: %w", apiErr(resp, err))
	}
	comments, err := listAll(func(opt sdk.ListOptions) ([]*sdk.Comment, *sdk.Response, error) {
		return api.ListIssueComments(owner, repo, pr, sdk.ListIssueCommentOptions{ListOptions: opt})
	})
	if err != nil {
		return nil, err
	}
	for _, cm := range comments {
		if cm.Poster != nil && cm.Poster.ID == me.ID && strings.Contains(cm.Body, PlanMarker) {
			return cm, nil
		}
	}
	return nil, nil
}
