package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// commitTime is the fixed time of generated commits (2026-01-02 03:04:05
// UTC), so that generated repositories are the same on every run.
const commitTime = 1767323045

// stream writes a git fast-import stream: far faster than committing one
// object at a time when a history of thousands of commits is wanted.
type stream struct {
	b      bytes.Buffer
	n      int    // commits written
	parent string // the branch's tip when the import continues a history
}

// continueMain makes the next commit follow main's current tip.
func (s *stream) continueMain() { s.parent = "refs/heads/main^0" }

// commit adds a commit on main setting files on top of the previous one.
func (s *stream) commit(message string, files map[string][]byte) {
	fmt.Fprintf(&s.b, "commit refs/heads/main\ncommitter bench <bench@localhost> %d +0000\n", commitTime+s.n)
	fmt.Fprintf(&s.b, "data %d\n%s\n", len(message), message)
	if s.n == 0 && s.parent != "" {
		fmt.Fprintf(&s.b, "from %s\n", s.parent)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(&s.b, "M 100644 inline %s\ndata %d\n%s\n", p, len(files[p]), files[p])
	}
	s.n++
}

// importInto runs git fast-import of the stream into the repository at dir.
func (s *stream) importInto(ctx context.Context, dir string) error {
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "fast-import", "--quiet")
	cmd.Stdin = &s.b
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git fast-import: %w: %s", err, out)
	}
	return nil
}

func gitRun(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// newBare creates a bare repository at dir with HEAD on main holding the
// stream's commits.
func newBare(ctx context.Context, dir string, s *stream) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := gitRun(ctx, ".", "init", "-q", "--bare", "-b", "main", dir); err != nil {
		return err
	}
	return s.importInto(ctx, dir)
}

// newWorkingCopy creates a working copy at dir with main checked out.
func newWorkingCopy(ctx context.Context, dir string, s *stream) error {
	if err := gitRun(ctx, ".", "init", "-q", "-b", "main", dir); err != nil {
		return err
	}
	if err := s.importInto(ctx, dir); err != nil {
		return err
	}
	return gitRun(ctx, dir, "reset", "-q", "--hard", "main")
}

// gitServer serves the bare repositories under one directory over git's
// smart HTTP protocol (git http-backend, fetch and push) on 127.0.0.1.
type gitServer struct {
	srv *httptest.Server
}

// newGitServer serves root; home is an empty directory for git's HOME.
func newGitServer(ctx context.Context, root, home string) (*gitServer, error) {
	out, err := exec.CommandContext(ctx, "git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("git --exec-path: %w", err)
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	h := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Root: "/",
		Env: []string{
			"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + home,
			"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true",
		},
		InheritEnv: []string{"PATH"},
	}
	return &gitServer{srv: httptest.NewServer(http.Handler(h))}, nil
}

// url is the URL of the bare repository dir (a child of the root).
func (g *gitServer) url(dir string) string { return g.srv.URL + "/" + filepath.Base(dir) }

func (g *gitServer) close() { g.srv.Close() }
