package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"
	"go.yaml.in/yaml/v3"
)

// settings are the daemon's own knobs that a config file may change while
// it runs: the poll interval, the secrets and the log level.
type settings struct {
	mu            sync.RWMutex
	interval      time.Duration
	busy          time.Duration
	logLevel      string
	webhookSecret []byte
	token         string
}

func (s *settings) Interval() time.Duration { s.mu.RLock(); defer s.mu.RUnlock(); return s.interval }
func (s *settings) Busy() time.Duration     { s.mu.RLock(); defer s.mu.RUnlock(); return s.busy }
func (s *settings) Secret() []byte          { s.mu.RLock(); defer s.mu.RUnlock(); return s.webhookSecret }
func (s *settings) Token() string           { s.mu.RLock(); defer s.mu.RUnlock(); return s.token }

// parseInterspersed parses flags that may come after positional
// arguments (`amigo plan DIR --sim-state F`), which flag.Parse alone
// stops at. The positional arguments are left in fs.Args().
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

// readConfigFile reads a daemon config file: YAML whose keys are the long
// flag names of `amigo run` (e.g. `interval: 30s`, `log-level: debug`).
func readConfigFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case []any:
			parts := make([]string, len(v))
			for i, p := range v {
				parts[i] = fmt.Sprint(p)
			}
			out[k] = strings.Join(parts, ",")
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}

// secretFrom reads a secret from a file (trailing newline dropped), else
// from an environment variable.
func secretFrom(file, env string) (string, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read secret file: %w", err)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}
	return os.Getenv(env), nil
}

// watchFile calls reload when path changes, until done is closed. Editors
// replace files by rename, so the directory is watched.
func watchFile(path string, done <-chan struct{}, log *logrus.Entry, reload func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		return err
	}
	var timer <-chan time.Time
	for {
		select {
		case <-done:
			return nil
		case ev := <-w.Events:
			if filepath.Clean(ev.Name) == abs {
				timer = time.After(100 * time.Millisecond)
			}
		case err := <-w.Errors:
			log.WithError(err).Warn("config file watch")
		case <-timer:
			reload()
		}
	}
}
