package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// TestReload: a changed config file changes the running settings, flags
// given on the command line still win, and a bad file changes nothing.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amigo.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("log-level: info\nbusy-interval: 2s\n")
	args := []string{"--config", cfg, "--repo", exampleRepo(t), "--sim-state", filepath.Join(dir, "sim.json"), "--interval", "5s"}
	f, _, err := parseRunFlags("run", args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	d, err := newDaemon(context.Background(), f, log)
	if err != nil {
		t.Fatal(err)
	}
	d.args = args
	if got := d.set.Busy(); got != 2*time.Second {
		t.Fatalf("busy interval from the file: got %s, want 2s", got)
	}
	write("log-level: debug\nbusy-interval: 3s\ninterval: 1m\nwebhook-secret-file: " + filepath.Join(dir, "secret") + "\n")
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.reload()
	if got := d.set.Busy(); got != 3*time.Second {
		t.Errorf("busy interval after reload: got %s, want 3s", got)
	}
	if got := d.set.Interval(); got != 5*time.Second {
		t.Errorf("interval after reload: got %s, want the command line's 5s", got)
	}
	if got := log.GetLevel(); got != logrus.DebugLevel {
		t.Errorf("log level after reload: got %s, want debug", got)
	}
	if got := string(d.set.Secret()); got != "s3cret" {
		t.Errorf("webhook secret after reload: got %q, want s3cret", got)
	}
	write("busy-interval: soon\n")
	d.reload()
	if got := d.set.Busy(); got != 3*time.Second {
		t.Errorf("busy interval after a bad file: got %s, want 3s kept", got)
	}
}
