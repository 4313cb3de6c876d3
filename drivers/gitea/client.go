package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "code.gitea.io/sdk/gitea"
)

// ErrNotFound is returned (wrapped) when Gitea answers 404: a repository,
// commit or pull request that does not exist, or a token that may not see it.
var ErrNotFound = errors.New("not found in gitea")

// DefaultTimeout bounds one method call (which may make several requests).
const DefaultTimeout = 30 * time.Second

// Options tunes a Client. The zero value is usable.
type Options struct {
	// HTTPClient carries the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// Timeout bounds each method call; 0 means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent with every request; empty means "amigo".
	UserAgent string
}

// Client talks to one Gitea server with one access token. It is safe for
// concurrent use.
type Client struct {
	baseURL string
	token   string
	o       Options
}

// New checks baseURL and returns a Client. It makes no request, so the
// daemon can start while Gitea is down.
func New(baseURL, token string, o Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("parse gitea url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("gitea url %q: want http(s)://host[/path]", u.Redacted())
	}
	if u.User != nil {
		// Credentials in the URL would end up in every transport error.
		return nil, fmt.Errorf("gitea url %q: must not carry credentials, pass a token", u.Redacted())
	}
	if token == "" {
		return nil, errors.New("gitea token is empty")
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = "amigo"
	}
	return &Client{baseURL: strings.TrimSuffix(u.String(), "/"), token: token, o: o}, nil
}

// URL returns the server's base URL.
func (c *Client) URL() string { return c.baseURL }

// api returns an SDK client bound to ctx, with the call timeout applied.
// The SDK version probe is skipped: amigo targets Gitea >= 1.26 and must
// not spend a request per call on it.
func (c *Client) api(ctx context.Context) (*sdk.Client, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	cl, err := sdk.NewClient(c.baseURL,
		sdk.SetToken(c.token),
		sdk.SetHTTPClient(c.o.HTTPClient),
		sdk.SetContext(ctx),
		sdk.SetUserAgent(c.o.UserAgent),
		sdk.SetGiteaVersion(""),
	)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("gitea client: %w", err)
	}
	return cl, cancel, nil
}

// apiErr classifies an SDK error. SDK errors carry the server's message and
// the request path, never the Authorization header, so they are safe to wrap.
func apiErr(resp *sdk.Response, err error) error {
	if err == nil {
		return nil
	}
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// maxPages stops a paging loop against a server that keeps sending a next
// page; no list amigo reads is near this long.
const maxPages = 100

// listAll follows Gitea's Link-header pagination.
func listAll[T any](fetch func(opt sdk.ListOptions) ([]T, *sdk.Response, error)) ([]T, error) {
	var all []T
	opt := sdk.ListOptions{Page: 1, PageSize: 50}
	for range maxPages {
		items, resp, err := fetch(opt)
		if err != nil {
			return nil, apiErr(resp, err)
		}
		all = append(all, items...)
		if resp == nil || resp.NextPage <= opt.Page {
			return all, nil
		}
		opt.Page = resp.NextPage
	}
	return nil, fmt.Errorf("more than %d pages", maxPages)
}
