package reconciler

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/amigo-gitops/amigo/desired"
)

var update = flag.Bool("update", false, "rewrite testdata/plans/*.golden from the planner's output")

// Golden tests of the pure planner: each case is an Input built by hand;
// the golden file holds the rendered actions and the status YAML.

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

const (
	tgBlue  = "tg-blue"
	tgGreen = "tg-green"
	amiV15  = "ami-v15"
	amiV16  = "ami-v16"
)

func testStack(env, strategy, version string, traffic int) desired.Stack {
	st := desired.Stack{
		ID: desired.StackID{Env: env, Role: "web"}, File: "environments/" + env + "/web.yaml",
		Version: version, Strategy: desired.Strategy(strategy), Traffic: traffic,
		Capacity:  desired.Capacity{Desired: 4, Min: 4, Max: 8},
		Analysis:  desired.Analysis{ErrorRate: 0.001, Latency: 2 * time.Second, CPU: 10, Memory: 10},
		OnFailure: desired.OnFailureAbort,
		Routing:   desired.Routing{Priority: 1},
		Target: desired.Target{Listener: "lst-" + env, TargetGroups: []string{tgBlue, tgGreen},
			LaunchTemplate: "lt-web", Subnets: []string{"subnet-1a", "subnet-1c"}},
		Steps: desired.DefaultSteps(desired.Strategy(strategy)),
	}
	if st.Strategy == desired.HybridCanary {
		st.Routing.Stickiness = time.Hour
		st.Routing.Internal = desired.Match{Headers: map[string]string{"X-Blue-Verification": "true"}, SourceCIDRs: []string{"10.0.0.0/16"}}
		st.Routing.Pilot = desired.Match{Headers: map[string]string{"X-Canary-Group": "pilot"}, Cookies: map[string]string{"canary-user": "enabled"}}
	}
	return st
}

func testRepo(stacks ...desired.Stack) *desired.Repo {
	return &desired.Repo{
		Revision: "c0ffee",
		Settings: desired.Settings{Environments: []string{"dev", "stg", "prd"}, Roles: []string{"web", "hlp"},
			Promotion: desired.PromotionSettings{Gate: "healthy"}},
		Stacks: stacks,
	}
}

// testFleet is a fleet of n instances of a version, healthy ones first.
func testFleet(version, tg string, n, healthy int) Fleet {
	ami := amiV15
	if version == "v1.6" {
		ami = amiV16
	}
	f := Fleet{Name: FleetName(desired.StackID{Env: "prd", Role: "web"}, version), Stack: desired.StackID{Env: "prd", Role: "web"},
		Version: version, AMI: ami, TargetGroup: tg, Slot: slotFor(tg),
		Capacity: desired.Capacity{Desired: n, Min: n, Max: max(8, n)}, CreatedAt: t0.Add(-2 * time.Hour)}
	for i := 0; i < n; i++ {
		f.Instances = append(f.Instances, Instance{ID: fmt.Sprintf("i-%s-%d", version, i), AMI: ami, Healthy: i < healthy})
	}
	return f
}

func slotFor(tg string) Slot {
	if tg == tgBlue {
		return SlotBlue
	}
	return SlotGreen
}

// groups builds the target groups of the fleets: a healthy instance has a
// healthy target, others an initial one.
func groups(fleets ...Fleet) map[string]TargetGroup {
	out := map[string]TargetGroup{
		tgBlue:  {ARN: tgBlue, DeregistrationDelay: 5 * time.Minute},
		tgGreen: {ARN: tgGreen, DeregistrationDelay: 5 * time.Minute},
	}
	for _, f := range fleets {
		tg := out[f.TargetGroup]
		for _, in := range f.Instances {
			state := TargetInitial
			if in.Healthy {
				state = TargetHealthy
			}
			tg.Targets = append(tg.Targets, TargetHealth{ID: in.ID, State: state})
		}
		out[f.TargetGroup] = tg
	}
	return out
}

func fwd(blue, green int, sticky time.Duration) Forward {
	return Forward{Weights: []Weight{{TargetGroup: tgBlue, Weight: blue}, {TargetGroup: tgGreen, Weight: green}}, Stickiness: sticky}
}

func image(version string, state ImageState) *Image {
	img := &Image{Name: "idhub-40-web-app-" + version, Version: version, State: state,
		Lineage: []Layer{{Layer: "base", Version: "v1.0", AMI: "ami-base"}, {Layer: "middleware", Version: "v2.3", AMI: "ami-mw"}}}
	if state == ImageAvailable {
		img.AMI = amiV15
		if version == "v1.6" {
			img.AMI = amiV16
		}
	}
	return img
}

func rel(version, tg string) *Release {
	f := testFleet(version, tg, 1, 1)
	return &Release{Version: version, AMI: f.AMI, Fleet: f.Name}
}

// passing is a clean analysis window from the step start until now.
func passing(from time.Time) *Measurements {
	return &Measurements{From: from, To: t0,
		Canary:      TGMetrics{HasData: true, Requests: 9000, Errors5x: 1, Latency: 120 * time.Millisecond},
		CanaryFleet: FleetMetrics{HasData: true, CPU: 35, Memory: 50},
		StableFleet: FleetMetrics{HasData: true, CPU: 34, Memory: 50}}
}

// rolloutPrev is the status of a weighted rollout of v1.6 (green) over
// v1.5 (blue) at step k, started at.
func rolloutPrev(st desired.Stack, k int, at time.Time) Status {
	s := Status{Stack: st.ID.String(), Phase: Progressing, Strategy: string(st.Strategy), Traffic: st.Traffic,
		Step: k, Stable: rel("v1.5", tgBlue), New: rel("v1.6", tgGreen)}
	if k >= 0 {
		s.StepName = st.Steps[k].String()
		s.StepStartedAt = &at
		s.Weight = stepWeight(st, k)
	}
	return s
}

type planCase struct {
	name string
	in   func() Input
}

func one(st desired.Stack, obs Observed, prev *Status) Input {
	in := Input{Repo: testRepo(st), Observed: map[desired.StackID]Observed{st.ID: obs},
		Previous: map[desired.StackID]Status{}, Now: t0}
	if prev != nil {
		in.Previous[st.ID] = *prev
	}
	return in
}

// weighted observes a rollout: stable v1.5 on blue, candidate v1.6 on
// green with healthy instances, listener at the given weights and rules.
func weighted(st desired.Stack, cand int, l Listener, m *Measurements) Observed {
	blue := testFleet("v1.5", tgBlue, 4, 4)
	green := testFleet("v1.6", tgGreen, cand, cand)
	return Observed{Fleets: []Fleet{blue, green}, Listener: l, TargetGroups: groups(blue, green),
		Image: image("v1.6", ImageAvailable), Metrics: m}
}

func listener(st desired.Stack, blue, green int, k int) Listener {
	l := Listener{Ref: ListenerRef{Listener: st.Target.Listener}, Forward: fwd(blue, green, st.Routing.Stickiness)}
	for i, r := range rulesFor(st, tgGreen, k, nil) {
		r.ARN = fmt.Sprintf("rule-%d", i)
		l.Rules = append(l.Rules, r)
	}
	return l
}

func planCases() []planCase {
	bg := testStack("prd", "bluegreen", "v1.6", 100)
	canary := testStack("prd", "canary", "v1.6", 100)
	rolling := testStack("prd", "rolling", "v1.6", 100)
	hybrid := testStack("prd", "hybrid-canary", "v1.6", 100)
	steadyV15 := func(st desired.Stack, img *Image) Observed {
		blue := testFleet("v1.5", tgBlue, 4, 4)
		return Observed{Fleets: []Fleet{blue}, Listener: listener(st, 100, 0, -1), TargetGroups: groups(blue), Image: img}
	}
	healthyV15 := Status{Stack: "prd/web", Phase: Healthy, Step: -1, Weight: 100, Stable: rel("v1.5", tgBlue)}
	return []planCase{
		{"bluegreen-new-fleet", func() Input {
			return one(bg, steadyV15(bg, image("v1.6", ImageAvailable)), &healthyV15)
		}},
		{"bluegreen-wait-healthy", func() Input {
			o := weighted(bg, 4, listener(bg, 100, 0, -1), nil)
			o.Fleets[1].Instances[3].Healthy = false
			o.TargetGroups = groups(o.Fleets...)
			p := rolloutPrev(bg, -1, t0)
			p.WaitingSince = timePtr(t0.Add(-2 * time.Minute))
			return one(bg, o, &p)
		}},
		{"bluegreen-first-step", func() Input {
			p := rolloutPrev(bg, -1, t0)
			return one(bg, weighted(bg, 4, listener(bg, 100, 0, -1), nil), &p)
		}},
		{"bluegreen-pause-running", func() Input {
			at := t0.Add(-10 * time.Minute)
			p := rolloutPrev(bg, 0, at)
			return one(bg, weighted(bg, 4, listener(bg, 90, 10, 0), passing(at)), &p)
		}},
		{"bluegreen-advance", func() Input {
			at := t0.Add(-15 * time.Minute)
			p := rolloutPrev(bg, 0, at)
			return one(bg, weighted(bg, 4, listener(bg, 90, 10, 0), passing(at)), &p)
		}},
		{"bluegreen-no-data-waits", func() Input {
			at := t0.Add(-15 * time.Minute)
			p := rolloutPrev(bg, 0, at)
			return one(bg, weighted(bg, 4, listener(bg, 90, 10, 0), nil), &p)
		}},
		{"bluegreen-complete", func() Input {
			at := t0.Add(-30 * time.Minute)
			p := rolloutPrev(bg, 2, at)
			return one(bg, weighted(bg, 4, listener(bg, 0, 100, 2), passing(at)), &p)
		}},
		{"bluegreen-retire-old", func() Input {
			st := bg
			blue := testFleet("v1.5", tgBlue, 4, 4)
			green := testFleet("v1.6", tgGreen, 4, 4)
			p := Status{Stack: "prd/web", Phase: Healthy, Step: -1, Weight: 100, Stable: rel("v1.6", tgGreen),
				Retiring: []Retiring{{Fleet: blue.Name, Since: t0.Add(-6 * time.Minute)}}}
			return one(st, Observed{Fleets: []Fleet{blue, green}, Listener: listener(st, 0, 100, -1), TargetGroups: groups(blue, green),
				Image: image("v1.6", ImageAvailable)}, &p)
		}},
		{"bluegreen-held-at-ceiling", func() Input {
			st := testStack("prd", "bluegreen", "v1.6", 50)
			at := t0.Add(-2 * time.Hour)
			p := rolloutPrev(st, 1, at)
			return one(st, weighted(st, 4, listener(st, 50, 50, 1), passing(at)), &p)
		}},
		{"bluegreen-restart-adopts-applied-step", func() Input {
			// The last pass moved to 50% and died before its status commit.
			at := t0.Add(-20 * time.Minute)
			p := rolloutPrev(bg, 0, at)
			return one(bg, weighted(bg, 4, listener(bg, 50, 50, 1), passing(at)), &p)
		}},
		{"canary-new-fleet", func() Input {
			return one(canary, steadyV15(canary, image("v1.6", ImageAvailable)), &healthyV15)
		}},
		{"canary-grow-fleet", func() Input {
			at := t0.Add(-30 * time.Minute)
			p := rolloutPrev(canary, 0, at)
			o := weighted(canary, 1, listener(canary, 90, 10, 0), passing(at))
			o.Fleets[1].Capacity = desired.Capacity{Desired: 1, Min: 1, Max: 8}
			return one(canary, o, &p)
		}},
		{"rolling-first-step", func() Input {
			f := testFleet("v1.5", tgBlue, 4, 4)
			o := Observed{Fleets: []Fleet{f}, Listener: listener(rolling, 100, 0, -1), TargetGroups: groups(f), Image: image("v1.6", ImageAvailable)}
			return one(rolling, o, &healthyV15)
		}},
		{"rolling-refresh-running", func() Input {
			f := testFleet("v1.5", tgBlue, 4, 4)
			f.Instances = append(f.Instances, Instance{ID: "i-new-0", AMI: amiV16})
			f.Refresh = &RefreshStatus{Version: "v1.6", AMI: amiV16, Percent: 25}
			p := rolloutPrev(rolling, 0, t0)
			p.StepStartedAt, p.Stable, p.New = nil, rel("v1.5", tgBlue), &Release{Version: "v1.6", AMI: amiV16, Fleet: f.Name}
			p.WaitingSince = timePtr(t0.Add(-time.Minute))
			o := Observed{Fleets: []Fleet{f}, Listener: listener(rolling, 100, 0, -1), TargetGroups: groups(f), Image: image("v1.6", ImageAvailable)}
			return one(rolling, o, &p)
		}},
		{"hybrid-internal-rules", func() Input {
			p := rolloutPrev(hybrid, -1, t0)
			return one(hybrid, weighted(hybrid, 1, listener(hybrid, 100, 0, -1), nil), &p)
		}},
		{"hybrid-shared-alb-rules", func() Input {
			// The stack routes through a path rule on a shared listener:
			// amigo's header and IP rules repeat its path condition.
			st := hybrid
			st.Target.Rule = "rule-api"
			p := rolloutPrev(st, -1, t0)
			l := listener(st, 100, 0, -1)
			l.Ref.Rule = st.Target.Rule
			l.Conditions = []Condition{{Field: FieldPathPattern, Values: []string{"/api/*"}}}
			l.Priority = 100
			return one(st, weighted(st, 1, l, nil), &p)
		}},
		{"hybrid-shared-alb-priority-blocked", func() Input {
			// amigo's rules would land behind the stack's path rule, where
			// they never match: the rollout does not start.
			st := hybrid
			st.Target.Rule = "rule-api"
			o := steadyV15(st, image("v1.6", ImageAvailable))
			o.Listener.Ref.Rule, o.Listener.Priority = st.Target.Rule, 2
			return one(st, o, &healthyV15)
		}},
		{"hybrid-pilot-rules", func() Input {
			at := t0.Add(-24 * time.Hour)
			p := rolloutPrev(hybrid, 0, at)
			o := weighted(hybrid, 1, listener(hybrid, 100, 0, 0), passing(at))
			o.Fleets[1].Capacity = desired.Capacity{Desired: 1, Min: 1, Max: 8}
			return one(hybrid, o, &p)
		}},
		{"gate-blocked", func() Input {
			dev := testStack("dev", "bluegreen", "v1.6", 100)
			stg := testStack("stg", "bluegreen", "v1.6", 100)
			stg.Target.TargetGroups = []string{"tg-stg-blue", "tg-stg-green"}
			in := Input{Repo: testRepo(dev, stg), Now: t0, Observed: map[desired.StackID]Observed{
				dev.ID: weighted(dev, 4, listener(dev, 100, 0, -1), nil),
			}, Previous: map[desired.StackID]Status{}}
			devPrev := rolloutPrev(dev, -1, t0)
			devPrev.Stack = "dev/web"
			in.Previous[dev.ID] = devPrev
			stgPrev := healthyV15
			stgPrev.Stack = "stg/web"
			in.Previous[stg.ID] = stgPrev
			f := testFleet("v1.5", "tg-stg-blue", 4, 4)
			f.Name, f.Stack = FleetName(stg.ID, "v1.5"), stg.ID
			in.Observed[stg.ID] = Observed{Fleets: []Fleet{f}, Image: image("v1.6", ImageAvailable),
				Listener: Listener{Forward: Forward{Weights: []Weight{{TargetGroup: "tg-stg-blue", Weight: 100}, {TargetGroup: "tg-stg-green"}}}}}
			stgPrev.Stable = &Release{Version: "v1.5", AMI: amiV15, Fleet: f.Name}
			in.Previous[stg.ID] = stgPrev
			return in
		}},
		{"image-building", func() Input {
			return one(bg, steadyV15(bg, image("v1.6", ImageBuilding)), &healthyV15)
		}},
		{"image-failed", func() Input {
			return one(bg, steadyV15(bg, image("v1.6", ImageFailed)), &healthyV15)
		}},
		{"abort-analysis", func() Input {
			at := t0.Add(-5 * time.Minute)
			p := rolloutPrev(bg, 0, at)
			m := passing(at)
			m.Canary.Errors5x = 450
			return one(bg, weighted(bg, 4, listener(bg, 90, 10, 0), m), &p)
		}},
		{"abort-revert", func() Input {
			st := bg
			st.OnFailure = desired.OnFailureRevert
			at := t0.Add(-5 * time.Minute)
			p := rolloutPrev(st, 0, at)
			m := passing(at)
			m.Canary.Latency = 3 * time.Second
			m.CanaryFleet.CPU = 60
			return one(st, weighted(st, 4, listener(st, 90, 10, 0), m), &p)
		}},
		{"abort-latched", func() Input {
			p := rolloutPrev(bg, 0, t0)
			p.StepStartedAt = nil
			p.Phase = Aborted
			p.Abort = &Abort{Version: "v1.6", Key: specKey(bg), Reason: "analysis failed at 10%: error rate 5.00% > 0.10%", At: t0.Add(-time.Hour)}
			return one(bg, weighted(bg, 4, listener(bg, 100, 0, -1), nil), &p)
		}},
		{"rollback-version-reverted", func() Input {
			st := testStack("prd", "bluegreen", "v1.5", 100)
			p := rolloutPrev(st, 1, t0.Add(-5*time.Minute))
			return one(st, weighted(st, 4, listener(st, 50, 50, 1), nil), &p)
		}},
		{"rollback-traffic-lowered", func() Input {
			st := testStack("prd", "hybrid-canary", "v1.6", 10)
			at := t0.Add(-time.Hour)
			p := rolloutPrev(st, 2, at)
			return one(st, weighted(st, 2, listener(st, 50, 50, 2), passing(at)), &p)
		}},
		{"drift-put-back", func() Input {
			blue := testFleet("v1.6", tgGreen, 6, 6)
			o := Observed{Fleets: []Fleet{blue}, Listener: listener(bg, 30, 70, -1), TargetGroups: groups(blue)}
			o.Listener.Rules = []Rule{{ARN: "rule-x", Priority: 1, Stack: bg.ID, Route: desired.RouteInternal,
				Conditions: []Condition{{Field: FieldSourceIP, Values: []string{"0.0.0.0/0"}}}, TargetGroup: tgBlue}}
			p := Status{Stack: "prd/web", Phase: Healthy, Step: -1, Weight: 100, Stable: rel("v1.6", tgGreen)}
			return one(bg, o, &p)
		}},
		{"invalid-stack-untouched", func() Input {
			in := one(bg, Observed{}, nil)
			in.Repo.Stacks = nil
			in.Repo.Invalid = []desired.StackError{{ID: bg.ID, File: bg.File, Errors: []*desired.FieldError{
				{File: bg.File, Line: 3, Field: "traffic", Msg: "must be between 0 and 100"},
				{File: bg.File, Line: 5, Field: "capacity.min", Msg: "must not exceed desired"}}}}
			prev := healthyV15
			in.Previous[bg.ID] = prev
			return in
		}},
	}
}

func TestPlanGolden(t *testing.T) {
	for _, tc := range planCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := renderPlan(t, Plan(tc.in()))
			path := filepath.Join("testdata", "plans", tc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("plan differs from %s (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestPlanPure: the same input plans the same output, and planning does
// not change its input.
func TestPlanPure(t *testing.T) {
	for _, tc := range planCases() {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in()
			before := renderInput(t, in)
			a, b := renderPlan(t, Plan(in)), renderPlan(t, Plan(in))
			if a != b {
				t.Errorf("two plans of one input differ:\n%s\n---\n%s", a, b)
			}
			if after := renderInput(t, in); after != before {
				t.Errorf("Plan changed its input")
			}
		})
	}
}

func renderInput(t *testing.T, in Input) string {
	t.Helper()
	return fmt.Sprintf("%+v %+v %+v", in.Observed, in.Previous, in.Repo.Stacks)
}

func renderPlan(t *testing.T, res Result) string {
	t.Helper()
	var b strings.Builder
	for _, sp := range res.Stacks {
		fmt.Fprintf(&b, "# %s\n## actions\n", sp.Stack)
		if len(sp.Actions) == 0 {
			b.WriteString("(none)\n")
		}
		for _, a := range sp.Actions {
			mark := "-"
			if a.Urgent {
				mark = "!"
			}
			fmt.Fprintf(&b, "%s %s\n", mark, a)
			for _, r := range []Rule{a.Rule} {
				if a.Kind == ActCreateRule || a.Kind == ActDeleteRule {
					fmt.Fprintf(&b, "    conditions: %v\n", r.Conditions)
				}
			}
		}
		data, err := yaml.Marshal(sp.Status)
		if err != nil {
			t.Fatalf("marshal status: %v", err)
		}
		b.WriteString("## status\n")
		b.Write(data)
	}
	return b.String()
}
