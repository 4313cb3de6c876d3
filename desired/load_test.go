package desired

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadDirComplete(t *testing.T) {
	got, err := LoadDir("testdata/complete")
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	want := &Repo{
		Settings: Settings{
			APIVersion:   APIVersion,
			Project:      "idhub-40",
			Environments: []string{"dev", "stg", "prd"},
			Roles:        []string{"web", "hlp"},
			Images:       ImageSettings{Layers: []string{"base", "middleware", "app"}, Retain: 5},
			Promotion:    PromotionSettings{Gate: "healthy", PullRequests: false},
			Status:       StatusSettings{Branch: "ops/status"},
			AWS:          AWSSettings{Region: "us-east-1"},
		},
		Stacks: []Stack{completeDevWeb(), completeDevHlp(), completeStgWeb(), completePrdWeb()},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadDir mismatch (-want +got):\n%s", diff)
	}
}

func completeDevWeb() Stack {
	return Stack{
		ID: StackID{"dev", "web"}, File: "environments/dev/web.yaml",
		Version: "v1.7", Strategy: Canary, Traffic: 50,
		Capacity:  Capacity{Desired: 1, Min: 1, Max: 2},
		Analysis:  Analysis{ErrorRate: 0.001, Latency: 2 * time.Second, CPU: 10, Memory: 10},
		OnFailure: OnFailureAbort,
		Routing:   Routing{Priority: 1},
		Target: Target{Listener: "lst-dev", TargetGroups: []string{"tg-dev-web-blue", "tg-dev-web-green"},
			LaunchTemplate: "lt-dev-web", Subnets: []string{"subnet-1a"}},
		Steps: DefaultSteps(Canary),
	}
}

func completeDevHlp() Stack {
	return Stack{
		ID: StackID{"dev", "hlp"}, File: "environments/dev/hlp.yaml",
		Version: "v2.0.1", Strategy: Rolling, Traffic: 100,
		Capacity:  Capacity{},
		Analysis:  Analysis{ErrorRate: 0.001, Latency: 2 * time.Second, CPU: 10, Memory: 10},
		OnFailure: OnFailureAbort,
		Routing:   Routing{Priority: 1},
		Target: Target{Listener: "lst-dev", Rule: "rule-hlp", TargetGroups: []string{"tg-dev-hlp-blue", "tg-dev-hlp-green"},
			LaunchTemplate: "lt-dev-hlp", Subnets: []string{"subnet-1a", "subnet-1c"}},
		Steps: DefaultSteps(Rolling),
	}
}

func completeStgWeb() Stack {
	return Stack{
		ID: StackID{"stg", "web"}, File: "environments/stg/web.yaml",
		Version: "v1.6", Strategy: BlueGreen, Traffic: 100,
		Capacity:  Capacity{Desired: 2, Min: 2, Max: 4},
		Analysis:  Analysis{ErrorRate: 0.001, Latency: 2 * time.Second, CPU: 10, Memory: 10},
		OnFailure: OnFailureAbort,
		Routing:   Routing{Priority: 1},
		Target: Target{Listener: "lst-stg", TargetGroups: []string{"tg-stg-web-blue", "tg-stg-web-green"},
			LaunchTemplate: "lt-stg-web", Subnets: []string{"subnet-1a", "subnet-1c"}},
		Steps: []Step{{Traffic: 20, Pause: 10 * time.Minute}, {Traffic: 100, Pause: time.Hour}},
	}
}

func completePrdWeb() Stack {
	const arn = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:"
	return Stack{
		ID: StackID{"prd", "web"}, File: "environments/prd/web.yaml",
		Version: "v1.6", Strategy: HybridCanary, Traffic: 100,
		Capacity:  Capacity{Desired: 4, Min: 4, Max: 8},
		Analysis:  Analysis{ErrorRate: 0.005, Latency: 1500 * time.Millisecond, CPU: 20, Memory: 15},
		OnFailure: OnFailureRevert,
		Routing: Routing{
			Internal:   Match{Headers: map[string]string{"X-Blue-Verification": "true"}, SourceCIDRs: []string{"10.0.0.0/16"}},
			Pilot:      Match{Headers: map[string]string{"X-Canary-Group": "pilot"}, Cookies: map[string]string{"canary-user": "enabled"}},
			Stickiness: 2 * time.Hour,
			Priority:   100,
		},
		Target: Target{
			Listener:       arn + "listener/app/idhub-40-prd/50dc6c495c0c9188/f2f7dc8efc522ab2",
			TargetGroups:   []string{arn + "targetgroup/prd-web-blue/73e2d6bc24d8a067", arn + "targetgroup/prd-web-green/73e2d6bc24d8a068"},
			LaunchTemplate: "lt-0123456789abcdef0",
			Subnets:        []string{"subnet-1a", "subnet-1c"},
		},
		Steps: []Step{
			{Traffic: 5, Route: RouteInternal, Pause: 24 * time.Hour},
			{Traffic: 20, Route: RoutePilot, Pause: 48 * time.Hour},
			{Traffic: 50, Route: RouteWeighted, Pause: 24 * time.Hour},
			{Traffic: 100, Route: RouteWeighted, Pause: 168 * time.Hour},
		},
		Override: "CVE-2026-1234 emergency, approved by ops",
	}
}

func TestLoadDefaults(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  func(*Stack)
	}{
		{"bluegreen", "", func(*Stack) {}},
		{"desired sets min and max", "capacity: {desired: 3}\n", func(s *Stack) {
			s.Capacity = Capacity{Desired: 3, Min: 3, Max: 6}
		}},
		{"hybrid-canary is sticky for an hour", "strategy: hybrid-canary\nrouting:\n  internal: {sourceCIDRs: [10.0.0.0/8]}\n  pilot: {cookies: {pilot: \"1\"}}\n", func(s *Stack) {
			s.Strategy = HybridCanary
			s.Steps = DefaultSteps(HybridCanary)
			s.Routing.Stickiness = time.Hour
			s.Routing.Internal = Match{SourceCIDRs: []string{"10.0.0.0/8"}}
			s.Routing.Pilot = Match{Cookies: map[string]string{"pilot": "1"}}
		}},
		{"null values count as absent", "traffic:\ncapacity: {desired: ~}\n", func(*Stack) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, err := Load(map[string][]byte{
				"amigo.yaml":                []byte("project: p\n"),
				"environments/dev/web.yaml": []byte(stackHead + tt.extra),
			}, "abc123")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Stack{
				ID: StackID{"dev", "web"}, File: "environments/dev/web.yaml",
				Version: "v1.6", Strategy: BlueGreen, Traffic: 100,
				Capacity:  Capacity{Desired: 2, Min: 2, Max: 4},
				Analysis:  Analysis{ErrorRate: 0.001, Latency: 2 * time.Second, CPU: 10, Memory: 10},
				OnFailure: OnFailureAbort,
				Routing:   Routing{Priority: 1},
				Target: Target{Listener: "lst-1", TargetGroups: []string{"tg-a", "tg-b"},
					LaunchTemplate: "lt-1", Subnets: []string{"subnet-a"}},
				Steps: DefaultSteps(BlueGreen),
			}
			tt.want(&want)
			wantRepo := &Repo{Revision: "abc123", Settings: defaultSettings(), Stacks: []Stack{want}}
			wantRepo.Settings.Project = "p"
			if diff := cmp.Diff(wantRepo, repo); diff != "" {
				t.Errorf("Load mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadDirSkipsGit(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("amigo.yaml", "project: p\n")
	write("environments/dev/web.yaml", stackHead)
	write(".git/environments/dev/hlp.yaml", "not: a stack")
	repo, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	if len(repo.Stacks) != 1 || len(repo.Errors) != 0 {
		t.Errorf("got %d stacks and errors %v, want 1 stack and no errors", len(repo.Stacks), repo.Errors)
	}
}

func TestLoadDirMissingSettings(t *testing.T) {
	_, err := LoadDir(t.TempDir())
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("got error %v, want a *LoadError", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.File != "amigo.yaml" {
		t.Errorf("got field error %v, want one about amigo.yaml", fe)
	}
}
