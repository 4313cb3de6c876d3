package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// fileStamp identifies one version of the state file. A save replaces the
// file by rename, so the inode changes with every write; with size and
// modification time that tells reliably whether another process wrote.
type fileStamp struct {
	ino   uint64
	size  int64
	mtime time.Time
}

func stampOf(fi fs.FileInfo) fileStamp {
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}

// update runs fn on the current state under both locks and saves it
// durably.
func (c *Cloud) update(fn func(s *state) error) error { return c.mutate(true, fn) }

// mutate runs fn and saves. Without durable the file is still replaced
// atomically but not fsynced: for API reads, whose only lasting change is
// a call counter, losing the last few to a crash costs nothing.
func (c *Cloud) mutate(durable bool, fn func(s *state) error) error {
	return c.locked(syscall.LOCK_EX, func() error {
		ferr := fn(c.st)
		c.st.Gen++
		if err := c.save(durable); err != nil {
			c.st = nil // what is in memory was never written: read again
			return err
		}
		return ferr
	})
}

// view runs fn on the current state without saving; fn must not mutate.
func (c *Cloud) view(fn func(s *state) error) error {
	return c.locked(syscall.LOCK_SH, func() error { return fn(c.st) })
}

func (c *Cloud) locked(how int, fn func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	unlock, err := c.flock(how)
	if err != nil {
		return err
	}
	defer unlock()
	if err := c.load(); err != nil {
		return err
	}
	return fn()
}

// flock excludes other processes (and other Cloud values) using the file.
func (c *Cloud) flock(how int) (func(), error) {
	if c.path == "" {
		return func() {}, nil
	}
	f, err := os.OpenFile(c.path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open sim lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock sim state: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// load reads the state file when it changed since it was last read or
// written here; a missing file (or an empty path) starts a new state.
func (c *Cloud) load() error {
	if c.path == "" {
		if c.st == nil {
			c.st = newState(c.wall(), c.speed)
		}
		return nil
	}
	fi, err := os.Stat(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		c.st, c.seen = newState(c.wall(), c.speed), fileStamp{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat sim state: %w", err)
	}
	if c.st != nil && c.seen != (fileStamp{}) && stampOf(fi) == c.seen {
		return nil
	}
	b, err := os.ReadFile(c.path)
	if err != nil {
		return fmt.Errorf("read sim state: %w", err)
	}
	st := &state{}
	if err := json.Unmarshal(b, st); err != nil {
		return fmt.Errorf("parse sim state %s: %w", c.path, err)
	}
	st.fill()
	c.st, c.seen = st, stampOf(fi)
	return nil
}

// save writes the state atomically: temp file, fsync, rename.
func (c *Cloud) save(durable bool) error {
	if c.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(c.st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode sim state: %w", err)
	}
	if err := writeAtomic(c.path, b, durable); err != nil {
		return fmt.Errorf("save sim state: %w", err)
	}
	fi, err := os.Stat(c.path)
	if err != nil {
		return fmt.Errorf("stat sim state: %w", err)
	}
	c.seen = stampOf(fi)
	return nil
}

func writeAtomic(path string, b []byte, durable bool) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if !durable {
		return nil
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
