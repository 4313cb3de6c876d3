package desired

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// stackHead is a valid stack of six lines; cases append from line 7.
const stackHead = `version: v1.6
target:
  listener: lst-1
  targetGroups: [tg-a, tg-b]
  launchTemplate: lt-1
  subnets: [subnet-a]
`

// stackOn is a valid stack with the given listener and target groups.
func stackOn(version, listener, tgs, extra string) string {
	return "version: " + version + "\ntarget:\n  listener: " + listener + "\n  targetGroups: " + tgs +
		"\n  launchTemplate: lt-1\n  subnets: [subnet-a]\n" + extra
}

const devWeb = "environments/dev/web.yaml"

// fe builds an expected error; messages are not compared.
func fe(file string, line int, field string) *FieldError {
	return &FieldError{File: file, Line: line, Field: field}
}

var ignoreMsg = cmpopts.IgnoreFields(FieldError{}, "Msg")

func TestLoadRejectsStack(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // added to amigo.yaml "project: p"
		want  []*FieldError
	}{
		{"unknown field", map[string]string{devWeb: stackHead + "colour: blue\n"}, []*FieldError{fe(devWeb, 7, "colour")}},
		{"unknown nested field", map[string]string{devWeb: stackHead + "capacity: {desired: 2, mni: 1}\n"}, []*FieldError{fe(devWeb, 7, "capacity.mni")}},
		{"field given twice", map[string]string{devWeb: stackHead + "traffic: 10\ntraffic: 20\n"}, []*FieldError{fe(devWeb, 8, "traffic")}},
		{"string for integer", map[string]string{devWeb: stackHead + "traffic: ten\n"}, []*FieldError{fe(devWeb, 7, "traffic")}},
		{"scalar for mapping", map[string]string{devWeb: stackHead + "capacity: 4\n"}, []*FieldError{fe(devWeb, 7, "capacity")}},
		{"mapping for list", map[string]string{devWeb: stackHead + "steps: {traffic: 100}\n"}, []*FieldError{fe(devWeb, 7, "steps")}},
		{"document is a list", map[string]string{devWeb: "- version: v1.6\n"}, []*FieldError{
			fe(devWeb, 0, "version"), fe(devWeb, 0, "target.listener"), fe(devWeb, 0, "target.launchTemplate"),
			fe(devWeb, 0, "target.targetGroups"), fe(devWeb, 0, "target.subnets"), fe(devWeb, 1, "document"),
		}},
		{"syntax error", map[string]string{devWeb: stackHead + "traffic: [10\n"}, []*FieldError{fe(devWeb, 6, "yaml")}},
		{"two documents", map[string]string{devWeb: stackHead + "---\nversion: v1.7\n"}, []*FieldError{fe(devWeb, 7, "yaml")}},
		{"version missing", map[string]string{devWeb: strings.Replace(stackHead, "version: v1.6\n", "", 1)}, []*FieldError{fe(devWeb, 0, "version")}},
		{"version null", map[string]string{devWeb: strings.Replace(stackHead, "version: v1.6\n", "version:\n", 1)}, []*FieldError{fe(devWeb, 1, "version")}},
		{"version malformed", map[string]string{devWeb: strings.Replace(stackHead, "v1.6", "1.6", 1)}, []*FieldError{fe(devWeb, 1, "version")}},
		{"traffic above 100", map[string]string{devWeb: stackHead + "traffic: 101\n"}, []*FieldError{fe(devWeb, 7, "traffic")}},
		{"traffic negative", map[string]string{devWeb: stackHead + "traffic: -1\n"}, []*FieldError{fe(devWeb, 7, "traffic")}},
		{"unknown strategy", map[string]string{devWeb: stackHead + "strategy: blue\n"}, []*FieldError{fe(devWeb, 7, "strategy")}},
		{"unknown onFailure", map[string]string{devWeb: stackHead + "onFailure: retry\n"}, []*FieldError{fe(devWeb, 7, "onFailure")}},
		{"min above desired", map[string]string{devWeb: stackHead + "capacity: {desired: 2, min: 3}\n"}, []*FieldError{fe(devWeb, 7, "capacity.min")}},
		{"max below desired", map[string]string{devWeb: stackHead + "capacity:\n  desired: 4\n  max: 3\n"}, []*FieldError{fe(devWeb, 9, "capacity.max")}},
		{"min zero", map[string]string{devWeb: stackHead + "capacity:\n  min: 0\n"}, []*FieldError{fe(devWeb, 8, "capacity.min")}},
		{"negative desired", map[string]string{devWeb: stackHead + "capacity:\n  desired: -1\n"}, []*FieldError{fe(devWeb, 8, "capacity.desired")}},
		{"bad percent", map[string]string{devWeb: stackHead + "analysis: {errorRate: lots}\n"}, []*FieldError{fe(devWeb, 7, "analysis.errorRate")}},
		{"zero error rate", map[string]string{devWeb: stackHead + "analysis: {errorRate: 0%}\n"}, []*FieldError{fe(devWeb, 7, "analysis.errorRate")}},
		{"zero latency", map[string]string{devWeb: stackHead + "analysis:\n  latency: 0s\n"}, []*FieldError{fe(devWeb, 8, "analysis.latency")}},
		{"bad latency", map[string]string{devWeb: stackHead + "analysis:\n  latency: fast\n"}, []*FieldError{fe(devWeb, 8, "analysis.latency")}},
		{"cpu above 100%", map[string]string{devWeb: stackHead + "analysis:\n  cpu: 150%\n"}, []*FieldError{fe(devWeb, 8, "analysis.cpu")}},
		{"empty steps", map[string]string{devWeb: stackHead + "steps: []\n"}, []*FieldError{fe(devWeb, 7, "steps")}},
		{"steps fall", map[string]string{devWeb: stackHead + "steps:\n  - {traffic: 50}\n  - {traffic: 10}\n  - {traffic: 100}\n"}, []*FieldError{fe(devWeb, 9, "steps[1].traffic")}},
		{"steps repeat", map[string]string{devWeb: stackHead + "steps:\n  - {traffic: 50}\n  - {traffic: 50}\n  - {traffic: 100}\n"}, []*FieldError{fe(devWeb, 9, "steps[1].traffic")}},
		{"last step short of 100", map[string]string{devWeb: stackHead + "steps: [{traffic: 10}, {traffic: 50}]\n"}, []*FieldError{fe(devWeb, 7, "steps[1].traffic")}},
		{"step above 100", map[string]string{devWeb: stackHead + "steps:\n  - traffic: 10\n  - traffic: 101\n"}, []*FieldError{fe(devWeb, 9, "steps[1].traffic")}},
		{"step without traffic", map[string]string{devWeb: stackHead + "steps:\n  - pause: 1m\n  - traffic: 100\n"}, []*FieldError{fe(devWeb, 8, "steps[0].traffic")}},
		{"route on bluegreen", map[string]string{devWeb: stackHead + "steps:\n  - {traffic: 100, route: internal}\n"}, []*FieldError{fe(devWeb, 8, "steps[0].route")}},
		{"unknown route", map[string]string{devWeb: stackHead + "steps:\n  - {traffic: 100, route: vip}\n"}, []*FieldError{fe(devWeb, 8, "steps[0].route")}},
		{"negative pause", map[string]string{devWeb: stackHead + "steps:\n  - {traffic: 100, pause: -5m}\n"}, []*FieldError{fe(devWeb, 8, "steps[0].pause")}},
		{"bad pause", map[string]string{devWeb: stackHead + "steps:\n  - {traffic: 100, pause: soon}\n"}, []*FieldError{fe(devWeb, 8, "steps[0].pause")}},
		{"hybrid-canary without internal", map[string]string{devWeb: stackHead + "strategy: hybrid-canary\n"}, []*FieldError{fe(devWeb, 0, "routing.internal"), fe(devWeb, 0, "routing.pilot")}},
		{"hybrid-canary pilot step without pilot", map[string]string{devWeb: stackHead + "strategy: hybrid-canary\nrouting:\n  internal: {headers: {X-Internal: \"1\"}}\n"}, []*FieldError{fe(devWeb, 8, "routing.pilot")}},
		{"bad CIDR", map[string]string{devWeb: stackHead + "routing:\n  internal:\n    sourceCIDRs: [10.0.0.0/8, 10.0.0.0/33]\n"}, []*FieldError{fe(devWeb, 9, "routing.internal.sourceCIDRs[1]")}},
		{"bad header name", map[string]string{devWeb: stackHead + "routing:\n  pilot:\n    headers:\n      X Pilot: \"1\"\n"}, []*FieldError{fe(devWeb, 10, "routing.pilot.headers.X Pilot")}},
		{"negative stickiness", map[string]string{devWeb: stackHead + "routing: {stickiness: -1h}\n"}, []*FieldError{fe(devWeb, 7, "routing.stickiness")}},
		{"priority zero", map[string]string{devWeb: stackHead + "routing: {priority: 0}\n"}, []*FieldError{fe(devWeb, 7, "routing.priority")}},
		{"listener with space", map[string]string{devWeb: strings.Replace(stackHead, "lst-1", "lst 1", 1)}, []*FieldError{fe(devWeb, 3, "target.listener")}},
		{"listener missing", map[string]string{devWeb: strings.Replace(stackHead, "  listener: lst-1\n", "", 1)}, []*FieldError{fe(devWeb, 2, "target.listener")}},
		{"one target group", map[string]string{devWeb: strings.Replace(stackHead, "[tg-a, tg-b]", "[tg-a]", 1)}, []*FieldError{fe(devWeb, 4, "target.targetGroups")}},
		{"same target group twice", map[string]string{devWeb: strings.Replace(stackHead, "[tg-a, tg-b]", "[tg-a, tg-a]", 1)}, []*FieldError{fe(devWeb, 4, "target.targetGroups[1]")}},
		{"no subnets", map[string]string{devWeb: strings.Replace(stackHead, "[subnet-a]", "[]", 1)}, []*FieldError{fe(devWeb, 6, "target.subnets")}},
		{"launch template missing", map[string]string{devWeb: strings.Replace(stackHead, "  launchTemplate: lt-1\n", "", 1)}, []*FieldError{fe(devWeb, 2, "target.launchTemplate")}},
		{"unknown env", map[string]string{"environments/qa/web.yaml": stackHead}, []*FieldError{fe("environments/qa/web.yaml", 0, "env")}},
		{"unknown role", map[string]string{"environments/dev/db.yaml": stackHead}, []*FieldError{fe("environments/dev/db.yaml", 0, "role")}},
		{"same target group in two stacks", map[string]string{
			devWeb:                      stackOn("v1.6", "lst-dev", "[tg-a, tg-b]", ""),
			"environments/dev/hlp.yaml": stackOn("v1.6", "lst-dev", "[tg-c, tg-a]", "routing: {priority: 11}\n"),
		}, []*FieldError{fe("environments/dev/hlp.yaml", 4, "target.targetGroups[1]")}},
		{"priorities overlap on one listener", map[string]string{
			devWeb:                      stackOn("v1.6", "lst-dev", "[tg-a, tg-b]", ""),
			"environments/dev/hlp.yaml": stackOn("v1.6", "lst-dev", "[tg-c, tg-d]", ""),
		}, []*FieldError{fe("environments/dev/hlp.yaml", 3, "routing.priority")}},
		{"priorities overlap at given priority", map[string]string{
			devWeb:                      stackOn("v1.6", "lst-dev", "[tg-a, tg-b]", "routing: {priority: 20}\n"),
			"environments/dev/hlp.yaml": stackOn("v1.6", "lst-dev", "[tg-c, tg-d]", "routing:\n  priority: 29\n"),
		}, []*FieldError{fe("environments/dev/hlp.yaml", 8, "routing.priority")}},
		{"version skips promotion order", map[string]string{
			devWeb:                      stackOn("v1.6", "lst-dev", "[tg-a, tg-b]", ""),
			"environments/stg/web.yaml": stackOn("v1.10", "lst-stg", "[tg-c, tg-d]", ""),
		}, []*FieldError{fe("environments/stg/web.yaml", 1, "version")}},
		{"blank override is no reason", map[string]string{
			devWeb:                      stackOn("v1.6", "lst-dev", "[tg-a, tg-b]", ""),
			"environments/stg/web.yaml": stackOn("v1.7", "lst-stg", "[tg-c, tg-d]", "promotion: {override: \" \"}\n"),
		}, []*FieldError{fe("environments/stg/web.yaml", 1, "version")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{"amigo.yaml": []byte("project: p\n")}
			for p, c := range tt.files {
				files[p] = []byte(c)
			}
			repo, err := Load(files, "")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, repo.Errors, ignoreMsg); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s\ngot:\n%s", diff, errorLines(repo.Errors))
			}
			for _, e := range repo.Errors {
				if e.Msg == "" {
					t.Errorf("%v: got an empty message", e)
				}
			}
			assertInvalid(t, repo, tt.want[0].File)
		})
	}
}

// assertInvalid wants the stack in file rejected and every other one valid.
func assertInvalid(t *testing.T, repo *Repo, file string) {
	t.Helper()
	if len(repo.Invalid) != 1 || repo.Invalid[0].File != file {
		t.Errorf("got invalid stacks %v, want only %s", repo.Invalid, file)
	}
	for _, s := range repo.Stacks {
		if s.File == file {
			t.Errorf("got %s among valid stacks, want it left out", file)
		}
	}
}

func errorLines(errs []*FieldError) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

func TestLoadAccepts(t *testing.T) {
	tests := []struct {
		name     string
		settings string
		files    map[string]string
		stacks   int
		override string // wanted on stg/web, when it loads
	}{
		{"override lets a version past the order", "project: p\n", map[string]string{
			devWeb:                      stackOn("v1.6", "lst-dev", "[tg-a, tg-b]", ""),
			"environments/stg/web.yaml": stackOn("v1.7", "lst-stg", "[tg-c, tg-d]", "promotion: {override: \" CVE-2026-1234 \"}\n"),
		}, 2, "CVE-2026-1234"},
		{"gate none skips the order", "project: p\npromotion: {gate: none}\n", map[string]string{
			devWeb:                      stackOn("v1.6", "lst-dev", "[tg-a, tg-b]", ""),
			"environments/stg/web.yaml": stackOn("v1.7", "lst-stg", "[tg-c, tg-d]", ""),
		}, 2, ""},
		{"older version goes back freely", "project: p\n", map[string]string{
			devWeb:                      stackOn("v1.6", "lst-dev", "[tg-a, tg-b]", ""),
			"environments/stg/web.yaml": stackOn("v1.5.9", "lst-stg", "[tg-c, tg-d]", ""),
		}, 2, ""},
		{"priorities apart on one listener", "project: p\n", map[string]string{
			devWeb:                      stackOn("v1.6", "lst-dev", "[tg-a, tg-b]", ""),
			"environments/dev/hlp.yaml": stackOn("v1.6", "lst-dev", "[tg-c, tg-d]", "routing: {priority: 11}\n"),
		}, 2, ""},
		{"aliases and ignored files", "project: p\n", map[string]string{
			devWeb: stackHead + "strategy: hybrid-canary\nrouting:\n  internal: &in {sourceCIDRs: [10.0.0.0/8]}\n  pilot: *in\n" +
				"steps: [{traffic: 5, route: internal}, {traffic: 100}]\n",
			"environments/README.md": "# stacks\n",
			"status/dev/web.yaml":    "phase: Healthy\n",
			".gitea/workflows/x.yml": "on: push\n",
		}, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{"amigo.yaml": []byte(tt.settings)}
			for p, c := range tt.files {
				files[p] = []byte(c)
			}
			repo, err := Load(files, "")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(repo.Errors) != 0 || len(repo.Stacks) != tt.stacks {
				t.Fatalf("got %d stacks, want %d; errors:\n%s", len(repo.Stacks), tt.stacks, errorLines(repo.Errors))
			}
			if s, ok := repo.Stack(StackID{"stg", "web"}); ok && s.Override != tt.override {
				t.Errorf("got override %q, want %q", s.Override, tt.override)
			}
		})
	}
}

func TestLoadPromotionUsesValidStacksOnly(t *testing.T) {
	files := map[string][]byte{
		"amigo.yaml":                []byte("project: p\n"),
		devWeb:                      []byte(stackOn("v1.6", "lst-dev", "[tg-a, tg-b]", "")),
		"environments/stg/web.yaml": []byte(stackOn("v1.8", "lst-stg", "[tg-c, tg-d]", "")),
		"environments/prd/web.yaml": []byte(stackOn("v1.9", "lst-prd", "[tg-e, tg-f]", "")),
	}
	repo, err := Load(files, "")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var got []string
	for _, s := range repo.Stacks {
		got = append(got, s.ID.String())
	}
	// stg skipped dev and is rejected, so prd has nothing to be checked against.
	if diff := cmp.Diff([]string{"dev/web", "prd/web"}, got); diff != "" {
		t.Errorf("valid stacks mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadMisplacedStackFile(t *testing.T) {
	files := map[string][]byte{
		"amigo.yaml":                 []byte("project: p\n"),
		"environments/dev/web.yml":   []byte(stackHead),
		"environments/dev/x/y.yaml":  []byte(stackHead),
		"environments/dev/notes.txt": []byte("ignored"),
	}
	repo, err := Load(files, "")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []*FieldError{fe("environments/dev/web.yml", 0, "path"), fe("environments/dev/x/y.yaml", 0, "path")}
	if diff := cmp.Diff(want, repo.Errors, ignoreMsg); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
	if len(repo.Stacks)+len(repo.Invalid) != 0 {
		t.Errorf("got %d stacks and %d invalid, want none", len(repo.Stacks), len(repo.Invalid))
	}
}

func TestLoadRejectsSettings(t *testing.T) {
	const a = "amigo.yaml"
	tests := []struct {
		name     string
		settings *string
		want     []*FieldError
	}{
		{"missing", nil, []*FieldError{fe(a, 0, "file")}},
		{"project missing", ptr("apiVersion: amigo/v1\n"), []*FieldError{fe(a, 0, "project")}},
		{"other apiVersion", ptr("apiVersion: amigo/v2\nproject: p\n"), []*FieldError{fe(a, 1, "apiVersion")}},
		{"unknown field", ptr("project: p\nimages:\n  keep: 3\n"), []*FieldError{fe(a, 3, "images.keep")}},
		{"environment twice", ptr("project: p\nenvironments:\n  - dev\n  - prd\n  - dev\n"), []*FieldError{fe(a, 5, "environments[2]")}},
		{"role twice", ptr("project: p\nroles: [web, web]\n"), []*FieldError{fe(a, 2, "roles[1]")}},
		{"no roles", ptr("project: p\nroles: []\n"), []*FieldError{fe(a, 2, "roles")}},
		{"env with slash", ptr("project: p\nenvironments: [dev/x]\n"), []*FieldError{fe(a, 2, "environments[0]")}},
		{"retain zero", ptr("project: p\nimages: {retain: 0}\n"), []*FieldError{fe(a, 2, "images.retain")}},
		{"unknown gate", ptr("project: p\npromotion:\n  gate: always\n"), []*FieldError{fe(a, 3, "promotion.gate")}},
		{"pullRequests not a bool", ptr("project: p\npromotion:\n  pullRequests: yes\n"), []*FieldError{fe(a, 3, "promotion.pullRequests")}},
		{"empty branch", ptr("project: p\nstatus: {branch: \"\"}\n"), []*FieldError{fe(a, 2, "status.branch")}},
		{"syntax error", ptr("project: p\nroles: [web\n"), []*FieldError{fe(a, 1, "yaml")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{devWeb: []byte(stackHead)}
			if tt.settings != nil {
				files[a] = []byte(*tt.settings)
			}
			repo, err := Load(files, "")
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("got repo %v and error %v, want a *LoadError", repo, err)
			}
			if diff := cmp.Diff(tt.want, le.Errors, ignoreMsg); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s\ngot:\n%s", diff, err)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		err  *FieldError
		want string
	}{
		{&FieldError{File: devWeb, Line: 7, Field: "capacity.min", Msg: "min 3 is above desired 2"}, "environments/dev/web.yaml:7: capacity.min: min 3 is above desired 2"},
		{&FieldError{File: devWeb, Field: "env", Msg: "unknown"}, "environments/dev/web.yaml: env: unknown"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	le := &LoadError{Errors: []*FieldError{tests[0].err, tests[1].err}}
	if got, want := le.Error(), tests[0].want+"\n"+tests[1].want; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
