package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxFileSize bounds the files Files returns: config files are small, and
// a large blob in the config repository must not be read on every pass.
const maxFileSize = 1 << 20

// statusDir is skipped on the desired branch: status lives on its own
// branch, and a copy merged into the desired branch must not be read as
// config.
const statusDir = "status/"

// Files returns the regular files of the tree at rev, except files over
// 1 MiB and the status/ folder.
func (r *Repo) Files(ctx context.Context, rev string) (map[string][]byte, error) {
	defer r.mu.Unlock()
	if err := r.lock(); err != nil {
		return nil, err
	}
	c, err := r.commit(rev)
	if err != nil {
		return nil, fmt.Errorf("files at %s: %w", rev, err)
	}
	files, err := r.readTree(c.TreeHash, func(path string, size int64) bool {
		return size <= maxFileSize && !strings.HasPrefix(path, statusDir)
	})
	if err != nil {
		return nil, fmt.Errorf("files at %s: %w", rev, err)
	}
	return files, nil
}

// CommitSubject returns the first line of the message of commit rev.
func (r *Repo) CommitSubject(ctx context.Context, rev string) (string, error) {
	defer r.mu.Unlock()
	if err := r.lock(); err != nil {
		return "", err
	}
	c, err := r.commit(rev)
	if err != nil {
		return "", fmt.Errorf("commit subject of %s: %w", rev, err)
	}
	return subject(c.Message), nil
}

func subject(message string) string {
	s, _, _ := strings.Cut(strings.TrimLeft(message, "\n"), "\n")
	return strings.TrimSpace(s)
}

// commit resolves a full commit hash. Only hashes are accepted: rev comes
// from Fetch, and a branch name here would hide a race.
func (r *Repo) commit(rev string) (*object.Commit, error) {
	if !plumbing.IsHash(rev) {
		return nil, fmt.Errorf("revision %q is not a commit hash", rev)
	}
	return r.repo.CommitObject(plumbing.NewHash(rev))
}

// readTree reads the regular files of a tree that keep passes.
func (r *Repo) readTree(tree plumbing.Hash, keep func(path string, size int64) bool) (map[string][]byte, error) {
	t, err := r.repo.TreeObject(tree)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	err = t.Files().ForEach(func(f *object.File) error {
		if f.Mode != filemode.Regular && f.Mode != filemode.Executable {
			return nil
		}
		if !keep(f.Name, f.Size) {
			return nil
		}
		b, err := blobBytes(f)
		if err != nil {
			return fmt.Errorf("read %s: %w", f.Name, err)
		}
		files[f.Name] = b
		return nil
	})
	return files, err
}

func blobBytes(f *object.File) ([]byte, error) {
	rd, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// buildTree stores files as blobs and trees and returns the root tree.
func (r *Repo) buildTree(files map[string][]byte) (plumbing.Hash, error) {
	edits := make(map[string]*object.TreeEntry, len(files))
	for path, content := range files {
		if err := validPath(path); err != nil {
			return plumbing.ZeroHash, err
		}
		h, err := r.writeBlob(content)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		edits[path] = &object.TreeEntry{Mode: filemode.Regular, Hash: h}
	}
	return r.editTree(plumbing.ZeroHash, edits)
}

func validPath(path string) error {
	for _, part := range strings.Split(path, "/") {
		if part == "" || part == "." || part == ".." || strings.EqualFold(part, ".git") {
			return fmt.Errorf("invalid path %q", path)
		}
	}
	return nil
}

func (r *Repo) writeBlob(content []byte) (plumbing.Hash, error) {
	obj := r.repo.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(content); err != nil {
		w.Close()
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.repo.Storer.SetEncodedObject(obj)
}

// editTree returns the tree that is base (zero: empty) with edits applied:
// each path is set to its entry, or removed when the entry is nil. Other
// entries keep their mode and content; folders left empty disappear.
func (r *Repo) editTree(base plumbing.Hash, edits map[string]*object.TreeEntry) (plumbing.Hash, error) {
	entries, err := r.treeEntries(base)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	direct, nested := splitEdits(edits)
	for name, e := range direct {
		delete(entries, name)
		if e != nil {
			entries[name] = object.TreeEntry{Name: name, Mode: e.Mode, Hash: e.Hash}
		}
	}
	for dir, sub := range nested {
		if err := r.editSubtree(entries, dir, sub); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	return r.writeTree(entries)
}

func (r *Repo) editSubtree(entries map[string]object.TreeEntry, dir string, edits map[string]*object.TreeEntry) error {
	var base plumbing.Hash
	if old, ok := entries[dir]; ok && old.Mode == filemode.Dir {
		base = old.Hash
	}
	h, err := r.editTree(base, edits)
	if err != nil {
		return err
	}
	delete(entries, dir)
	if h != emptyTree {
		entries[dir] = object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: h}
	}
	return nil
}

// emptyTree is the well-known hash of the tree with no entries.
var emptyTree = plumbing.NewHash("4b825dc642cb6eb9a060e54bf8d69288fbee4904")

func splitEdits(edits map[string]*object.TreeEntry) (map[string]*object.TreeEntry, map[string]map[string]*object.TreeEntry) {
	direct := map[string]*object.TreeEntry{}
	nested := map[string]map[string]*object.TreeEntry{}
	for path, e := range edits {
		dir, rest, ok := strings.Cut(path, "/")
		if !ok {
			direct[path] = e
			continue
		}
		if nested[dir] == nil {
			nested[dir] = map[string]*object.TreeEntry{}
		}
		nested[dir][rest] = e
	}
	return direct, nested
}

func (r *Repo) treeEntries(h plumbing.Hash) (map[string]object.TreeEntry, error) {
	entries := map[string]object.TreeEntry{}
	if h.IsZero() {
		return entries, nil
	}
	t, err := r.repo.TreeObject(h)
	if err != nil {
		return nil, err
	}
	for _, e := range t.Entries {
		entries[e.Name] = e
	}
	return entries, nil
}

// writeTree stores a tree, its entries in git's order (folders compare as
// if their name ended in "/").
func (r *Repo) writeTree(entries map[string]object.TreeEntry) (plumbing.Hash, error) {
	t := &object.Tree{Entries: make([]object.TreeEntry, 0, len(entries))}
	for _, e := range entries {
		t.Entries = append(t.Entries, e)
	}
	sort.Slice(t.Entries, func(i, j int) bool {
		return sortKey(t.Entries[i]) < sortKey(t.Entries[j])
	})
	obj := r.repo.Storer.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.repo.Storer.SetEncodedObject(obj)
}

func sortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// entryAt returns the entry at path in tree (zero tree: empty), nil when
// absent.
func (r *Repo) entryAt(tree plumbing.Hash, path string) (*object.TreeEntry, error) {
	if tree.IsZero() {
		return nil, nil
	}
	t, err := r.repo.TreeObject(tree)
	if err != nil {
		return nil, err
	}
	e, err := t.FindEntry(path)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return nil, nil
	}
	return e, err
}

// writeCommit stores a commit of tree on parent (zero: a root commit).
func (r *Repo) writeCommit(tree, parent plumbing.Hash, message string) (plumbing.Hash, error) {
	sig := object.Signature{Name: r.o.AuthorName, Email: r.o.AuthorEmail, When: r.o.Clock()}
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	obj := r.repo.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.repo.Storer.SetEncodedObject(obj)
}

// treeOf returns the tree of commit h, zero for the zero commit.
func (r *Repo) treeOf(h plumbing.Hash) (plumbing.Hash, error) {
	if h.IsZero() {
		return plumbing.ZeroHash, nil
	}
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return c.TreeHash, nil
}
