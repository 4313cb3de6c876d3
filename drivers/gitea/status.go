package gitea

import (
	"context"
	"fmt"

	sdk "code.gitea.io/sdk/gitea"
)

// Commit status states amigo writes.
const (
	StatePending = "pending"
	StateSuccess = "success"
	StateFailure = "failure"
	StateError   = "error"
)

// CommitStatus is one status on a commit, e.g. context amigo/prd/web.
type CommitStatus struct {
	Context     string
	State       string // StatePending, StateSuccess, StateFailure or StateError
	Description string
	TargetURL   string
}

// SetCommitStatus writes st on sha unless the latest status of the same
// context already says the same thing, so an idle pass makes no write and
// the commit's status history only records changes.
func (c *Client) SetCommitStatus(ctx context.Context, owner, repo, sha string, st CommitStatus) error {
	if err := st.validate(); err != nil {
		return fmt.Errorf("set commit status on %s/%s@%s: %w", owner, repo, sha, err)
	}
	api, cancel, err := c.api(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	latest, err := latestStatus(api, owner, repo, sha, st.Context)
	if err != nil {
		return fmt.Errorf("read commit status %s on %s/%s@%s: %w", st.Context, owner, repo, sha, err)
	}
	if latest != nil && *latest == st {
		return nil
	}
	_, resp, err := api.CreateStatus(owner, repo, sha, sdk.CreateStatusOption{
		State: sdk.StatusState(st.State), Context: st.Context,
		Description: st.Description, TargetURL: st.TargetURL,
	})
	if err != nil {
		return fmt.Errorf("write commit status %s on %s/%s@%s: %w", st.Context, owner, repo, sha, apiErr(resp, err))
	}
	return nil
}

func (st CommitStatus) validate() error {
	if st.Context == "" {
		return fmt.Errorf("empty status context")
	}
	switch st.State {
	case StatePending, StateSuccess, StateFailure, StateError:
		return nil
	}
	return fmt.Errorf("status state %q: want pending, success, failure or error", st.State)
}

// latestStatus returns the newest status of context on sha, or nil. It
// reads every page and picks the highest id, so it does not depend on the
// server's sort order.
func latestStatus(api *sdk.Client, owner, repo, sha, context string) (*CommitStatus, error) {
	all, err := listAll(func(opt sdk.ListOptions) ([]*sdk.Status, *sdk.Response, error) {
		return api.ListStatuses(owner, repo, sha, sdk.ListStatusesOption{ListOptions: opt})
	})
	if err != nil {
		return nil, err
	}
	var newest *sdk.Status
	for _, s := range all {
		if s.Context == context && (newest == nil || s.ID > newest.ID) {
			newest = s
		}
	}
	if newest == nil {
		return nil, nil
	}
	return &CommitStatus{
		Context: newest.Context, State: string(newest.State),
		Description: newest.Description, TargetURL: newest.TargetURL,
	}, nil
}
