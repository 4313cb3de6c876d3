package gitea

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	sdk "code.gitea.io/sdk/gitea"
)

// PullRequest is what amigo reads of a Gitea pull request.
type PullRequest struct {
	Number  int64
	Title   string
	Body    string
	State   string // open or closed
	Merged  bool
	HeadRef string
	HeadSHA string
	BaseRef string
	HTMLURL string
}

// NewPR describes a pull request amigo opens itself.
type NewPR struct {
	Title string
	Body  string
	Head  string // branch created from Base to carry Files
	Base  string
	// Files maps slash-separated paths to their new content, committed in
	// one commit on Head.
	Files map[string][]byte
	// Marker, when set, is a hidden string (an HTML comment) put in the
	// body so the pull request is found again even if its branch is renamed.
	Marker string
}

// GetPullRequest reads one pull request. A missing one wraps ErrNotFound.
func (c *Client) GetPullRequest(ctx context.Context, owner, repo string, number int64) (PullRequest, error) {
	api, cancel, err := c.api(ctx)
	if err != nil {
		return PullRequest{}, err
	}
	defer cancel()
	pr, resp, err := api.GetPullRequest(owner, repo, number)
	if err != nil {
		return PullRequest{}, fmt.Errorf("get pull request %s/%s#%d: %w", owner, repo, number, apiErr(resp, err))
	}
	return fromSDK(pr), nil
}

// ListOpenPullRequests returns the open pull requests against base (all
// bases when base is empty).
func (c *Client) ListOpenPullRequests(ctx context.Context, owner, repo, base string) ([]PullRequest, error) {
	api, cancel, err := c.api(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	prs, err := listPulls(api, owner, repo, sdk.StateOpen)
	if err != nil {
		return nil, fmt.Errorf("list open pull requests of %s/%s: %w", owner, repo, err)
	}
	var out []PullRequest
	for _, pr := range prs {
		if base == "" || pr.BaseRef == base {
			out = append(out, pr)
		}
	}
	return out, nil
}

// OpenPullRequest opens pr at most once. When an open pull request, or a
// closed one that was not merged, already has the same head branch or
// carries the same marker, it returns that one's number and created=false:
// a person who closed amigo's proposal has answered it. A head branch left
// by an interrupted earlier call is reused as it is.
func (c *Client) OpenPullRequest(ctx context.Context, owner, repo string, pr NewPR) (number int64, created bool, err error) {
	if err := pr.validate(); err != nil {
		return 0, false, fmt.Errorf("open pull request on %s/%s: %w", owner, repo, err)
	}
	api, cancel, err := c.api(ctx)
	if err != nil {
		return 0, false, err
	}
	defer cancel()
	prs, err := listPulls(api, owner, repo, sdk.StateAll)
	if err != nil {
		return 0, false, fmt.Errorf("list pull requests of %s/%s: %w", owner, repo, err)
	}
	if n, ok := pr.findExisting(prs); ok {
		return n, false, nil
	}
	if err := commitBranch(api, owner, repo, pr); err != nil {
		return 0, false, fmt.Errorf("prepare branch %s on %s/%s: %w", pr.Head, owner, repo, err)
	}
	body := pr.Body
	if pr.Marker != "" && !strings.Contains(body, pr.Marker) {
		body = strings.TrimRight(body, "\n") + "\n\n" + pr.Marker + "\n"
	}
	made, resp, err := api.CreatePullRequest(owner, repo, sdk.CreatePullRequestOption{
		Head: pr.Head, Base: pr.Base, Title: pr.Title, Body: body,
	})
	if err != nil {
		return 0, false, fmt.Errorf("create pull request %s -> %s on %s/%s: %w", pr.Head, pr.Base, owner, repo, apiErr(resp, err))
	}
	return made.Index, true, nil
}

func (pr NewPR) validate() error {
	switch {
	case pr.Title == "":
		return errors.New("empty title")
	case pr.Head == "" || pr.Base == "":
		return errors.New("head and base branches are required")
	case pr.Head == pr.Base:
		return fmt.Errorf("head and base are both %q", pr.Head)
	}
	return nil
}

func (pr NewPR) findExisting(prs []PullRequest) (int64, bool) {
	for _, p := range prs {
		if p.Merged {
			continue
		}
		if p.HeadRef == pr.Head || (pr.Marker != "" && strings.Contains(p.Body, pr.Marker)) {
			return p.Number, true
		}
	}
	return 0, false
}

// commitBranch creates Head from Base with Files in one commit through the
// contents API, unless Head already exists.
func commitBranch(api *sdk.Client, owner, repo string, pr NewPR) error {
	_, resp, err := api.GetRepoBranch(owner, repo, pr.Head)
	if err == nil {
		return nil
	}
	if resp == nil || resp.StatusCode != 404 {
		return fmt.Errorf("read branch: %w", apiErr(resp, err))
	}
	if len(pr.Files) == 0 {
		return errors.New("no files to commit")
	}
	ops, err := fileOps(api, owner, repo, pr.Base, pr.Files)
	if err != nil {
		return err
	}
	_, resp, err = api.ChangeFiles(owner, repo, sdk.ChangeFilesOptions{
		Files: ops, Message: pr.Title, Branch: pr.Base, NewBranch: pr.Head,
	})
	if err != nil {
		return fmt.Errorf("commit files: %w", apiErr(resp, err))
	}
	return nil
}

// fileOps turns Files into create or update operations, depending on
// whether each path exists on base (an update needs the blob sha).
func fileOps(api *sdk.Client, owner, repo, base string, files map[string][]byte) ([]*sdk.ChangeFileOperation, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	ops := make([]*sdk.ChangeFileOperation, 0, len(paths))
	for _, p := range paths {
		op := &sdk.ChangeFileOperation{Operation: "create", Path: p, Content: base64.StdEncoding.EncodeToString(files[p])}
		cur, resp, err := api.GetContents(owner, repo, base, p)
		switch {
		case err == nil:
			op.Operation, op.SHA = "update", cur.SHA
		case resp == nil || resp.StatusCode != 404:
			return nil, fmt.Errorf("read %s on %s: %w", p, base, apiErr(resp, err))
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func listPulls(api *sdk.Client, owner, repo string, state sdk.StateType) ([]PullRequest, error) {
	all, err := listAll(func(opt sdk.ListOptions) ([]*sdk.PullRequest, *sdk.Response, error) {
		return api.ListRepoPullRequests(owner, repo, sdk.ListPullRequestsOptions{ListOptions: opt, State: state})
	})
	if err != nil {
		return nil, err
	}
	out := make([]PullRequest, 0, len(all))
	for _, pr := range all {
		out = append(out, fromSDK(pr))
	}
	return out, nil
}

func fromSDK(pr *sdk.PullRequest) PullRequest {
	out := PullRequest{
		Number: pr.Index, Title: pr.Title, Body: pr.Body, State: string(pr.State),
		Merged: pr.HasMerged, HTMLURL: pr.HTMLURL,
	}
	if pr.Head != nil {
		out.HeadRef, out.HeadSHA = pr.Head.Ref, pr.Head.Sha
	}
	if pr.Base != nil {
		out.BaseRef = pr.Base.Ref
	}
	return out
}
