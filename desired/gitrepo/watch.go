package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce coalesces the burst of file events one git command makes.
const debounce = 50 * time.Millisecond

// Watch calls notify when the desired branch of a local repository may have
// moved: a change to HEAD, packed-refs or the branch's ref file. Events
// within ~50ms coalesce into one call. It runs on the caller's goroutine and
// returns nil when ctx is done, closing the watcher. In remote mode it
// returns nil at once: the daemon polls and takes webhooks instead.
func (r *Repo) Watch(ctx context.Context, notify func()) error {
	if !r.local {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", r.url, err)
	}
	defer w.Close()
	if err := r.addWatches(w); err != nil {
		return fmt.Errorf("watch %s: %w", r.url, err)
	}
	return r.watchLoop(ctx, w, notify)
}

// addWatches watches the git dir (HEAD, packed-refs) and every folder under
// refs/heads, since fsnotify does not recurse.
func (r *Repo) addWatches(w *fsnotify.Watcher) error {
	if err := w.Add(r.gitDir); err != nil {
		return err
	}
	heads := filepath.Join(r.gitDir, "refs", "heads")
	return filepath.WalkDir(heads, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return w.Add(path)
		}
		return nil
	})
}

func (r *Repo) watchLoop(ctx context.Context, w *fsnotify.Watcher, notify func()) error {
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			r.followNewDir(w, ev)
			if fire == nil && r.relevant(ev.Name) {
				fire = time.After(debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				return fmt.Errorf("watch %s: %w", r.url, err)
			}
			if fire == nil {
				fire = time.After(debounce)
			}
		case <-fire:
			fire = nil
			notify()
		}
	}
}

// followNewDir starts watching a folder created under refs/heads, e.g. the
// first branch named "feature/...".
func (r *Repo) followNewDir(w *fsnotify.Watcher, ev fsnotify.Event) {
	if !ev.Has(fsnotify.Create) {
		return
	}
	if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
		_ = w.Add(ev.Name) // a folder removed again at once needs no watch
	}
}

// relevant reports whether a changed file can move the desired branch.
func (r *Repo) relevant(name string) bool {
	rel, err := filepath.Rel(r.gitDir, name)
	if err != nil {
		return false
	}
	switch filepath.ToSlash(rel) {
	case "HEAD", "packed-refs", "refs/heads/" + r.o.Branch:
		return true
	}
	return false
}
