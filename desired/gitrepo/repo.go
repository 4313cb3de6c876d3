package gitrepo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/amigo-gitops/amigo/reconciler"
)

// Defaults applied by Open.
const (
	DefaultStatusBranch = "amigo/status"
	DefaultBranch       = "main"
	DefaultTimeout      = 30 * time.Second
	DefaultUsername     = "amigo"
	DefaultAuthorName   = "amigo"
	DefaultAuthorEmail  = "amigo@localhost"
)

const remoteName = "origin"

var _ reconciler.Source = (*Repo)(nil)

// Options configure Open.
type Options struct {
	// URL is an http, https or file:// URL of the config repository, or the
	// path of a local working copy or bare repository. Userinfo in the URL is
	// moved into Username/Token and never stored.
	URL string
	// Branch is the desired branch; empty means the remote's HEAD branch
	// (the checked-out branch in local mode), else "main".
	Branch string
	// StatusBranch is the branch amigo writes status to (default
	// "amigo/status").
	StatusBranch string
	// CacheDir is where a remote repository is cloned (bare). Empty means
	// os.UserCacheDir()/amigo/repos/<hash of URL>.
	CacheDir string
	// Username for HTTP basic auth when Token is set (default "amigo").
	Username string
	// Token is the HTTP basic auth password. It is never logged, never put
	// into a URL and never part of an error message.
	Token string
	// AuthorName and AuthorEmail sign amigo's commits (default
	// "amigo" <amigo@localhost>).
	AuthorName  string
	AuthorEmail string
	// Timeout bounds each network git operation (default 30s).
	Timeout time.Duration
	// Clock stamps commits (default time.Now).
	Clock func() time.Time
}

// Repo is a config repository opened by Open. Its methods are safe for
// concurrent use; git operations are serialised.
type Repo struct {
	o       Options
	url     string // URL without userinfo, or the cleaned local path
	local   bool
	gitDir  string // local mode: the directory holding refs and objects
	bare    bool
	auth    transport.AuthMethod
	mu      sync.Mutex
	repo    *git.Repository
	backoff time.Duration
}

// Open opens the repository described by o. In remote mode it creates or
// reuses the bare cache clone and resolves the default branch with one
// ls-remote when o.Branch is empty; it does not fetch (Fetch does).
func Open(ctx context.Context, o Options) (*Repo, error) {
	r := &Repo{backoff: 50 * time.Millisecond}
	if err := r.configure(o); err != nil {
		return nil, err
	}
	var err error
	if r.local {
		err = r.openLocal()
	} else {
		err = r.openRemote(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", r.Describe(), err)
	}
	return r, nil
}

// configure applies defaults and splits credentials out of the URL.
func (r *Repo) configure(o Options) error {
	if o.URL == "" {
		return errors.New("open repository: empty URL")
	}
	u, remote, err := parseURL(o.URL)
	if err != nil {
		return err
	}
	if remote && u.User != nil {
		if o.Username == "" {
			o.Username = u.User.Username()
		}
		if p, ok := u.User.Password(); ok && o.Token == "" {
			o.Token = p
		}
		u.User = nil
	}
	r.local = !remote
	r.url = filepath.Clean(o.URL)
	if remote {
		r.url = u.String()
	}
	setDefaults(&o)
	if o.Token != "" {
		r.auth = &githttp.BasicAuth{Username: o.Username, Password: o.Token}
	}
	r.o = o
	return nil
}

func setDefaults(o *Options) {
	if o.StatusBranch == "" {
		o.StatusBranch = DefaultStatusBranch
	}
	if o.Username == "" {
		o.Username = DefaultUsername
	}
	if o.AuthorName == "" {
		o.AuthorName = DefaultAuthorName
	}
	if o.AuthorEmail == "" {
		o.AuthorEmail = DefaultAuthorEmail
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
}

// parseURL tells a remote URL from a local path. The error never repeats
// the URL, which may carry a password.
func parseURL(raw string) (*url.URL, bool, error) {
	if !strings.Contains(raw, "://") {
		return nil, false, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, false, errors.New("open repository: malformed URL")
	}
	switch u.Scheme {
	case "http", "https", "file":
		return u, true, nil
	}
	return nil, false, fmt.Errorf("open repository: unsupported URL scheme %q", u.Scheme)
}

// Describe names the repository for logs: its URL without userinfo, or its
// local path.
func (r *Repo) Describe() string { return r.url }

// Branch returns the desired branch in use.
func (r *Repo) Branch() string { return r.o.Branch }

// StatusBranch returns the status branch in use.
func (r *Repo) StatusBranch() string { return r.o.StatusBranch }

func (r *Repo) openLocal() error {
	if err := r.reopen(); err != nil {
		return err
	}
	repo := r.repo
	r.gitDir = r.url
	if _, err := repo.Worktree(); errors.Is(err, git.ErrIsBareRepository) {
		r.bare = true
	} else {
		r.gitDir = filepath.Join(r.url, ".git")
	}
	if r.o.Branch == "" {
		r.o.Branch = DefaultBranch
		if head, err := repo.Storer.Reference(plumbing.HEAD); err == nil && head.Type() == plumbing.SymbolicReference {
			r.o.Branch = head.Target().Short()
		}
	}
	return nil
}

// reopen re-reads a local repository. go-git indexes pack files once, so
// objects that another process's git gc moved into a new pack would be
// invisible to a long-lived handle; every local operation starts afresh.
func (r *Repo) reopen() error {
	repo, err := git.PlainOpenWithOptions(r.url, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return err
	}
	r.repo = repo
	return nil
}

// lock serialises git operations and, in local mode, reopens the
// repository. It holds r.mu on return, error or not; the caller unlocks.
func (r *Repo) lock() error {
	r.mu.Lock()
	if !r.local {
		return nil
	}
	if err := r.reopen(); err != nil {
		return fmt.Errorf("open %s: %w", r.url, err)
	}
	return nil
}

func (r *Repo) openRemote(ctx context.Context) error {
	dir := r.o.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("cache dir: %w", err)
		}
		sum := sha256.Sum256([]byte(r.url))
		dir = filepath.Join(base, "amigo", "repos", hex.EncodeToString(sum[:8]))
	}
	repo, err := openCache(dir, r.url)
	if err != nil {
		return err
	}
	r.repo = repo
	if r.o.Branch != "" {
		return nil
	}
	refs, err := r.lsRemote(ctx)
	if err != nil {
		return err
	}
	r.o.Branch = defaultBranch(refs)
	return nil
}

// openCache reuses the bare clone in dir, or creates it with origin at url.
func openCache(dir, url string) (*git.Repository, error) {
	repo, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return initCache(dir, url)
	}
	if err != nil {
		return nil, fmt.Errorf("open cache %s: %w", dir, err)
	}
	rem, err := repo.Remote(remoteName)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", dir, err)
	}
	if urls := rem.Config().URLs; len(urls) != 1 || urls[0] != url {
		return nil, fmt.Errorf("cache %s holds another repository", dir)
	}
	return repo, nil
}

func initCache(dir, url string) (*git.Repository, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cache: %w", err)
	}
	repo, err := git.PlainInit(dir, true)
	if err != nil {
		return nil, fmt.Errorf("init cache %s: %w", dir, err)
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{url}})
	if err != nil {
		return nil, fmt.Errorf("init cache %s: %w", dir, err)
	}
	return repo, nil
}

// defaultBranch is the branch the remote's HEAD points to, else "main".
func defaultBranch(refs map[plumbing.ReferenceName]*plumbing.Reference) string {
	head, ok := refs[plumbing.HEAD]
	if !ok {
		return DefaultBranch
	}
	if head.Type() == plumbing.SymbolicReference && head.Target().IsBranch() {
		return head.Target().Short()
	}
	// A HEAD without symref: the branch at the same commit, main first,
	// else the first by name, so the choice does not vary between runs.
	var names []string
	for name, ref := range refs {
		if name.IsBranch() && ref.Hash() == head.Hash() {
			names = append(names, name.Short())
		}
	}
	if len(names) == 0 || slices.Contains(names, DefaultBranch) {
		return DefaultBranch
	}
	slices.Sort(names)
	return names[0]
}

// withTimeout bounds one network operation.
func (r *Repo) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.o.Timeout)
}
