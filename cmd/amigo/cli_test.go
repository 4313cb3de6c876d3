package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/amigo-gitops/amigo/drivers/sim"
)

// amigo runs the command in-process and returns its output and exit code.
func amigo(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code := 0
	if err != nil {
		code = 1
		if ee, ok := err.(*exitError); ok {
			code = ee.code
		}
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

// exampleRepo commits a copy of the example estate in a temp dir.
func exampleRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "config")
	if err := seedRepo(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestValidateExample(t *testing.T) {
	out, errs, code := amigo(t, "validate", "../../examples/config-repo")
	if code != 0 {
		t.Fatalf("validate example: exit %d, stderr %s", code, errs)
	}
	if !strings.Contains(out, "6 stacks valid") {
		t.Errorf("validate output %q, want 6 stacks valid", out)
	}
}

func TestValidateBroken(t *testing.T) {
	tests := []struct {
		name, file, from, to, want string
	}{
		{"traffic", "environments/stg/web.yaml", "traffic: 100", "traffic: 150", "environments/stg/web.yaml:3: traffic"},
		{"strategy", "environments/dev/hlp.yaml", "strategy: canary", "strategy: yolo", "environments/dev/hlp.yaml:2: strategy"},
		{"unknown field", "environments/prd/web.yaml", "onFailure: abort", "onFailure: abort\nretries: 3", "environments/prd/web.yaml:11: retries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS("../../examples/config-repo")); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tt.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			broken := strings.Replace(string(data), tt.from, tt.to, 1)
			if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			_, errs, code := amigo(t, "validate", dir)
			if code == 0 {
				t.Fatalf("validate broken copy: exit 0, want non-zero")
			}
			if !strings.Contains(errs, tt.want) {
				t.Errorf("stderr %q does not name %q", errs, tt.want)
			}
		})
	}
}

// TestScriptedRollout drives dev/web from v1.5 to v1.6 with run --once and
// sim advance, as a script would, then checks that an idle pass writes
// nothing to the cloud and commits no status.
func TestScriptedRollout(t *testing.T) {
	repo := exampleRepo(t)
	state := filepath.Join(t.TempDir(), "sim.json")
	once := func() {
		t.Helper()
		if _, errs, code := amigo(t, "run", "--repo", repo, "--sim-state", state, "--once", "--log-level", "error"); code != 0 {
			t.Fatalf("run --once: exit %d: %s", code, errs)
		}
	}
	// Flags after the directory, as people type them.
	out, errs, code := amigo(t, "plan", repo, "--sim-state", state)
	if code != 2 || !strings.Contains(out, "+ refresh fleet amigo-dev-web-v1-5 to v1.6") {
		t.Fatalf("plan before the first pass: exit %d, want 2 with the refresh; out %s err %s", code, out, errs)
	}
	once()
	if got := devWebStatus(t, repo); got.Phase != "Progressing" {
		t.Fatalf("after the first pass dev/web is %s, want Progressing", got.Phase)
	}
	for i := 0; i < 40 && devWebStatus(t, repo).Phase != "Healthy"; i++ {
		if _, errs, code := amigo(t, "sim", "advance", "--sim-state", state, "6m"); code != 0 {
			t.Fatalf("sim advance: %s", errs)
		}
		once()
	}
	st := devWebStatus(t, repo)
	if st.Phase != "Healthy" || st.Stable == nil || st.Stable.Version != "v1.6" {
		t.Fatalf("dev/web: phase %s stable %+v, want Healthy on v1.6", st.Phase, st.Stable)
	}
	out, errs, code = amigo(t, "sim", "show", "--sim-state", state, "--json")
	if code != 0 {
		t.Fatalf("sim show: %s", errs)
	}
	var snap sim.Snapshot
	if err := json.Unmarshal([]byte(out), &snap); err != nil {
		t.Fatalf("sim show --json: %v", err)
	}
	for _, f := range snap.Fleets {
		if f.Stack == "dev/web" && f.Version != "v1.6" {
			t.Errorf("dev/web fleet %s runs %s, want v1.6", f.Name, f.Version)
		}
	}
	// Let every stack settle, then an idle pass must write nothing.
	for i := 0; i < 60 && !allHealthy(t, repo); i++ {
		amigo(t, "sim", "advance", "--sim-state", state, "6h")
		once()
	}
	once()
	head := statusHead(t, repo)
	before := writes(t, state)
	once()
	if got := writes(t, state); got != before {
		t.Errorf("idle pass made %d cloud writes, want 0", got-before)
	}
	if got := statusHead(t, repo); got != head {
		t.Errorf("idle pass committed status %s (was %s), want no commit", got, head)
	}
	if out, errs, code := amigo(t, "plan", "--sim-state", state, repo); code != 0 {
		t.Errorf("plan at rest: exit %d, want 0; out %s err %s", code, out, errs)
	}
}

type statusView struct {
	Phase  string
	Stable *struct{ Version string }
}

func devWebStatus(t *testing.T, repo string) statusView {
	t.Helper()
	out, errs, code := amigo(t, "status", "--repo", repo, "--json")
	if code != 0 {
		t.Fatalf("status: %s", errs)
	}
	var list []struct {
		Stack  string
		Phase  string
		Stable *struct{ Version string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("status --json: %v: %s", err, out)
	}
	for _, s := range list {
		if s.Stack == "dev/web" {
			return statusView{Phase: s.Phase, Stable: s.Stable}
		}
	}
	t.Fatalf("no dev/web in status %s", out)
	return statusView{}
}

func allHealthy(t *testing.T, repo string) bool {
	out, _, _ := amigo(t, "status", "--repo", repo, "--json")
	var list []struct{ Phase string }
	if json.Unmarshal([]byte(out), &list) != nil || len(list) == 0 {
		return false
	}
	for _, s := range list {
		if s.Phase != "Healthy" {
			return false
		}
	}
	return true
}

func statusHead(t *testing.T, repo string) plumbing.Hash {
	t.Helper()
	r, err := git.PlainOpen(repo)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName("amigo/status"), true)
	if err != nil {
		t.Fatalf("status branch: %v", err)
	}
	return ref.Hash()
}

func writes(t *testing.T, state string) int {
	t.Helper()
	c, err := sim.Open(state, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Calls().TotalWrites()
}
