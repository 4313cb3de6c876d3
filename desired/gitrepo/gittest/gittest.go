// Package gittest builds real git repositories and serves them over smart
// HTTP for tests and benchmarks. Repositories live in t.TempDir(); servers
// bind 127.0.0.1 and stop when the test ends. The HTTP server runs the
// system `git http-backend`; tests that need it are skipped without git.
package gittest

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
)

// When is the fixed commit time of fixtures, so their hashes are stable.
var When = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// NewBareRepo creates a bare repository whose HEAD is main, holding one
// commit on main with files.
func NewBareRepo(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "config.git")
	repo, err := git.PlainInit(dir, true)
	if err != nil {
		t.Fatalf("init bare repo: %v", err)
	}
	head := plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName("main"))
	if err := repo.Storer.SetReference(head); err != nil {
		t.Fatalf("set HEAD: %v", err)
	}
	Commit(t, dir, "main", files, "initial config")
	return dir
}

// Commit adds a commit on branch of the repository at dir (bare or not)
// that sets files on top of the branch's tree (a missing branch starts
// empty); an empty content deletes the file. It moves only the branch ref,
// never a worktree, and returns the commit hash.
func Commit(t testing.TB, dir, branch string, files map[string]string, message string) string {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	s := repo.Storer
	name := plumbing.NewBranchReferenceName(branch)
	all := map[string]string{}
	var parents []plumbing.Hash
	if ref, err := s.Reference(name); err == nil {
		parents = []plumbing.Hash{ref.Hash()}
		all = readAll(t, repo, ref.Hash())
	}
	for p, c := range files {
		if c == "" {
			delete(all, p)
		} else {
			all[p] = c
		}
	}
	sig := object.Signature{Name: "test", Email: "test@localhost", When: When}
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: writeTree(t, s, all), ParentHashes: parents}
	h := store(t, s, c)
	if err := s.SetReference(plumbing.NewHashReference(name, h)); err != nil {
		t.Fatalf("set %s: %v", name, err)
	}
	return h.String()
}

// Files returns the files at the head of branch in the repository at dir,
// nil when the branch does not exist.
func Files(t testing.TB, dir, branch string) map[string]string {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	ref, err := repo.Storer.Reference(plumbing.NewBranchReferenceName(branch))
	if err != nil {
		return nil
	}
	return readAll(t, repo, ref.Hash())
}

func readAll(t testing.TB, repo *git.Repository, commit plumbing.Hash) map[string]string {
	t.Helper()
	c, err := repo.CommitObject(commit)
	if err != nil {
		t.Fatalf("read commit %s: %v", commit, err)
	}
	tree, err := c.Tree()
	if err != nil {
		t.Fatalf("read tree of %s: %v", commit, err)
	}
	out := map[string]string{}
	err = tree.Files().ForEach(func(f *object.File) error {
		s, err := f.Contents()
		out[f.Name] = s
		return err
	})
	if err != nil {
		t.Fatalf("read files of %s: %v", commit, err)
	}
	return out
}

// writeTree stores files (slash-separated paths) as nested trees.
func writeTree(t testing.TB, s storage.Storer, files map[string]string) plumbing.Hash {
	t.Helper()
	sub := map[string]map[string]string{}
	tree := &object.Tree{}
	for p, content := range files {
		if dir, rest, ok := strings.Cut(p, "/"); ok {
			if sub[dir] == nil {
				sub[dir] = map[string]string{}
			}
			sub[dir][rest] = content
			continue
		}
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: p, Mode: filemode.Regular, Hash: blob(t, s, content)})
	}
	for dir, fs := range sub {
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: writeTree(t, s, fs)})
	}
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(tree.Entries, func(i, j int) bool { return key(tree.Entries[i]) < key(tree.Entries[j]) })
	return store(t, s, tree)
}

func blob(t testing.TB, s storage.Storer, content string) plumbing.Hash {
	t.Helper()
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		t.Fatalf("blob: %v", err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatalf("blob: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("blob: %v", err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		t.Fatalf("store blob: %v", err)
	}
	return h
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func store(t testing.TB, s storage.Storer, o encoder) plumbing.Hash {
	t.Helper()
	obj := s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		t.Fatalf("encode: %v", err)
	}
	h, err := s.SetEncodedObject(obj)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	return h
}

// Request is one HTTP request the server received.
type Request struct {
	Method string
	Path   string // path and query, e.g. /config.git/info/refs?service=git-upload-pack
}

// Server serves bare repositories over git's smart HTTP protocol.
type Server struct {
	// URL is the repository's URL.
	URL  string
	mu   sync.Mutex
	reqs []Request
	user string
	pass string
}

// Option configures a Server.
type Option func(*Server)

// WithBasicAuth makes the server answer 401 unless a request carries these
// basic auth credentials.
func WithBasicAuth(user, password string) Option {
	return func(s *Server) { s.user, s.pass = user, password }
}

// NewHTTPServer serves the bare repository at bareDir (fetch and push) on
// 127.0.0.1 until the test ends and returns its URL.
func NewHTTPServer(t testing.TB, bareDir string, opts ...Option) string {
	return StartHTTPServer(t, bareDir, opts...).URL
}

// StartHTTPServer is NewHTTPServer returning the Server, whose Requests
// tell what clients asked for.
func StartHTTPServer(t testing.TB, bareDir string, opts ...Option) *Server {
	t.Helper()
	backend := httpBackend(t)
	s := &Server{}
	for _, o := range opts {
		o(s)
	}
	h := &cgi.Handler{
		Path: backend,
		Root: "/",
		Env: []string{
			"GIT_PROJECT_ROOT=" + filepath.Dir(bareDir),
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + t.TempDir(),
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.receivepack",
			"GIT_CONFIG_VALUE_0=true",
		},
		InheritEnv: []string{"PATH"},
	}
	srv := httptest.NewUnstartedServer(s.handler(h))
	srv.Start()
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/" + filepath.Base(bareDir)
	return s
}

func httpBackend(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git not available: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
}

func (s *Server) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.RequestURI()})
		s.mu.Unlock()
		if s.user != "" || s.pass != "" {
			u, p, ok := r.BasicAuth()
			if !ok || u != s.user || p != s.pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Reset forgets the requests received so far.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}
