package estate

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"sort"
	"sync"

	"github.com/amigo-gitops/amigo/reconciler"
)

var _ reconciler.Source = (*Memory)(nil)

// Memory is a config repository held in memory: a fake Source for
// figures where git is not what is measured.
type Memory struct {
	mu     sync.Mutex
	rev    string
	files  map[string][]byte
	status map[string][]byte
}

// NewMemory returns a Memory holding files at one revision.
func NewMemory(files map[string][]byte) *Memory {
	m := &Memory{}
	m.Set(files)
	return m
}

// Set replaces the desired branch: a new commit.
func (m *Memory) Set(files map[string][]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files = files
	m.rev = digest(files)
}

// Rev is the current revision.
func (m *Memory) Rev() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rev
}

func digest(files map[string][]byte) string {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha1.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write(files[k])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Fetch returns the current revision.
func (m *Memory) Fetch(context.Context) (string, error) { return m.Rev(), nil }

// Files returns the files of the current revision.
func (m *Memory) Files(_ context.Context, rev string) (map[string][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rev != m.rev {
		return nil, errors.New("memory source keeps only its current revision")
	}
	return m.files, nil
}

// ReadStatus returns the status files last written.
func (m *Memory) ReadStatus(context.Context) (map[string][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status, nil
}

// WriteStatus stores files, reporting a commit when they differ.
func (m *Memory) WriteStatus(_ context.Context, files map[string][]byte, _ string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if same(m.status, files) {
		return false, nil
	}
	m.status = files
	return true, nil
}

func same(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// Revert is not supported: generated estates never fail analysis.
func (m *Memory) Revert(context.Context, string, string, string) (string, error) {
	return "", errors.New("memory source cannot revert")
}
