package reconciler_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/desired/gitrepo"
	"github.com/amigo-gitops/amigo/desired/gitrepo/gittest"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
)

// The scenario suite drives the whole pass (git, plan, apply, status) on
// the simulated cloud and checks the safety invariants after every pass.

const amigoYAML = `apiVersion: amigo/v1
project: idhub-40
environments: [dev, stg, prd]
roles: [web, hlp]
promotion:
  pullRequests: false
`

// stackCfg is one environments/<env>/<role>.yaml.
type stackCfg struct {
	env, role string
	version   string
	strategy  string
	traffic   int
	desired   int
	onFailure string
	steps     string // YAML list, optional
}

func (c stackCfg) id() desired.StackID { return desired.StackID{Env: c.env, Role: c.role} }

func (c stackCfg) path() string { return "environments/" + c.env + "/" + c.role + ".yaml" }

func (c stackCfg) listener() string { return "lst-" + c.env + "-" + c.role }

func (c stackCfg) tg(slot string) string { return "tg-" + c.env + "-" + c.role + "-" + slot }

func (c stackCfg) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: %s\nstrategy: %s\ntraffic: %d\n", c.version, c.strategy, c.traffic)
	d := c.desired
	if d == 0 {
		d = 4
	}
	fmt.Fprintf(&b, "capacity: {desired: %d, min: %d, max: %d}\n", d, d, 2*d)
	if c.onFailure != "" {
		fmt.Fprintf(&b, "onFailure: %s\n", c.onFailure)
	}
	if c.strategy == "hybrid-canary" {
		b.WriteString("routing:\n  internal: {headers: {X-Blue-Verification: \"true\"}, sourceCIDRs: [10.0.0.0/16]}\n" +
			"  pilot: {headers: {X-Canary-Group: pilot}, cookies: {canary-user: enabled}}\n")
	}
	fmt.Fprintf(&b, "target:\n  listener: %s\n  targetGroups: [%s, %s]\n  launchTemplate: lt-%s-%s\n  subnets: [subnet-1a, subnet-1c]\n",
		c.listener(), c.tg("blue"), c.tg("green"), c.env, c.role)
	if c.steps != "" {
		b.WriteString("steps:\n" + c.steps)
	}
	return b.String()
}

// harness is one config repository, one simulated cloud and a daemon.
type harness struct {
	t       testing.TB
	ctx     context.Context
	dir     string // bare config repository
	simPath string // "" keeps the cloud in memory
	stacks  map[desired.StackID]stackCfg
	cloud   *sim.Cloud
	src     *gitrepo.Repo
	rec     *reconciler.Reconciler
	log     *logtest.Hook
	last    reconciler.PassResult
	passes  int
	kill    *killable
	commits int // status commits made
}

// killable is the daemon's Source; with die set, the process "dies" after
// applying a pass's actions and before recording its status.
type killable struct {
	reconciler.Source
	die bool
}

func (k *killable) WriteStatus(ctx context.Context, files map[string][]byte, msg string) (bool, error) {
	if k.die {
		return false, errKilled
	}
	return k.Source.WriteStatus(ctx, files, msg)
}

var errKilled = errors.New("killed before the status commit")

func newHarness(t testing.TB, onFile bool, stacks ...stackCfg) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), stacks: map[desired.StackID]stackCfg{}}
	files := map[string]string{"amigo.yaml": amigoYAML}
	for _, c := range stacks {
		h.stacks[c.id()] = c
		files[c.path()] = c.yaml()
	}
	h.dir = gittest.NewBareRepo(t, files)
	if onFile {
		h.simPath = filepath.Join(t.TempDir(), "sim.json")
	}
	h.openCloud()
	repo := h.load()
	if err := h.cloud.Seed(repo.Settings, repo.Stacks); err != nil {
		t.Fatalf("seed: %v", err)
	}
	h.restart()
	return h
}

func (h *harness) openCloud() {
	h.t.Helper()
	c, err := sim.Open(h.simPath, sim.Options{})
	if err != nil {
		h.t.Fatalf("open sim: %v", err)
	}
	h.cloud = c
}

// restart is a daemon killed and started again: a new Source, a new
// Reconciler and, on a state file, the cloud reopened.
func (h *harness) restart() {
	h.t.Helper()
	if h.simPath != "" {
		h.openCloud()
	}
	src, err := gitrepo.Open(h.ctx, gitrepo.Options{URL: h.dir})
	if err != nil {
		h.t.Fatalf("open repo: %v", err)
	}
	h.src = src
	h.kill = &killable{Source: src}
	l := logrus.New()
	l.SetLevel(logrus.InfoLevel)
	l.SetOutput(discard{})
	h.log = logtest.NewLocal(l)
	h.rec = reconciler.New(reconciler.Options{Source: h.kill, Cloud: h.cloud.Cloud(), Log: logrus.NewEntry(l)})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// load parses the desired branch as it stands.
func (h *harness) load() *desired.Repo {
	h.t.Helper()
	files := map[string][]byte{}
	for p, c := range gittest.Files(h.t, h.dir, "main") {
		files[p] = []byte(c)
	}
	repo, err := desired.Load(files, "test")
	if err != nil {
		h.t.Fatalf("load config: %v", err)
	}
	return repo
}

// commit changes stack files on the desired branch.
func (h *harness) commit(msg string, stacks ...stackCfg) string {
	h.t.Helper()
	files := map[string]string{}
	for _, c := range stacks {
		h.stacks[c.id()] = c
		files[c.path()] = c.yaml()
	}
	return gittest.Commit(h.t, h.dir, "main", files, msg)
}

func (h *harness) head() string {
	h.t.Helper()
	rev, err := h.src.Fetch(h.ctx)
	if err != nil {
		h.t.Fatalf("fetch: %v", err)
	}
	return rev
}

func (h *harness) show() sim.Snapshot {
	h.t.Helper()
	s, err := h.cloud.Show()
	if err != nil {
		h.t.Fatalf("show: %v", err)
	}
	return s
}

func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	if err := h.cloud.Advance(d); err != nil {
		h.t.Fatalf("advance: %v", err)
	}
}

// pass runs one reconcile and the invariant checks; after a pass that
// applied nothing, a second pass at the same sim time must write nothing
// and commit nothing.
func (h *harness) pass() reconciler.PassResult {
	h.t.Helper()
	before := h.show()
	res := h.reconcile()
	h.check(before, h.show())
	if len(res.Applied) == 0 {
		writes := h.cloud.Calls().TotalWrites()
		again := h.reconcile()
		if d := h.cloud.Calls().TotalWrites() - writes; d != 0 || again.Committed {
			h.t.Fatalf("pass %d: quiet pass wrote %d times, committed %v: %v\nstatus before:\n%s\nstatus after:\n%s",
				h.passes, d, again.Committed, again.Applied, statusText(res), statusText(again))
		}
	}
	return res
}

func (h *harness) reconcile() reconciler.PassResult {
	h.t.Helper()
	res, err := h.rec.Reconcile(h.ctx, "test")
	h.passes++
	if h.kill.die && errors.Is(err, errKilled) {
		h.last = res
		return res
	}
	if err != nil {
		h.t.Fatalf("pass %d: %v", h.passes, err)
	}
	h.last = res
	if res.Committed {
		h.commits++
	}
	return res
}

// check holds the snapshot after a pass to the safety invariants.
func (h *harness) check(before, after sim.Snapshot) {
	h.t.Helper()
	routed := routedGroups(after)
	health := groupHealth(after)
	prevRouted := routedGroups(before)
	prevW := weights(before)
	for tg, w := range weights(after) {
		// (a) traffic moves only to a group whose targets are all healthy,
		// and never stays on one with a failing target.
		if health[tg].unhealthy > 0 {
			h.t.Errorf("pass %d: %s routed (weight %d) with %d unhealthy targets", h.passes, tg, w, health[tg].unhealthy)
		}
		if w > prevW[tg] && health[tg].notHealthy > 0 {
			h.t.Errorf("pass %d: weight of %s raised %d -> %d with %d targets not healthy", h.passes, tg, prevW[tg], w, health[tg].notHealthy)
		}
	}
	for tg := range ruled(after) {
		if !ruled(before)[tg] && health[tg].notHealthy > 0 {
			h.t.Errorf("pass %d: rule to %s added with %d targets not healthy", h.passes, tg, health[tg].notHealthy)
		}
	}
	// (b) serving capacity never under capacity.min.
	for id, c := range h.stacks {
		min := c.desired
		if min == 0 {
			min = 4
		}
		if n := servingInstances(after, id, routed); n < min {
			h.t.Errorf("pass %d: %s serving with %d healthy instances, min %d", h.passes, id, n, min)
		}
	}
	// (c) no fleet deleted while weighted or ruled at the last observation.
	have := map[string]bool{}
	for _, f := range after.Fleets {
		have[f.Name] = true
	}
	for _, f := range before.Fleets {
		if !have[f.Name] && prevRouted[f.TargetGroup] {
			h.t.Errorf("pass %d: fleet %s deleted while its group was routed", h.passes, f.Name)
		}
	}
}

type tgHealth struct{ notHealthy, unhealthy int }

func groupHealth(s sim.Snapshot) map[string]tgHealth {
	out := map[string]tgHealth{}
	for _, tg := range s.TargetGroups {
		var h tgHealth
		for _, t := range tg.Targets {
			switch t.State {
			case reconciler.TargetHealthy, reconciler.TargetDraining:
			case reconciler.TargetUnhealthy:
				h.unhealthy++
				h.notHealthy++
			default:
				h.notHealthy++
			}
		}
		out[tg.ARN] = h
	}
	return out
}

// weights is the default-action weight of every group, rules counted as
// a weight of 1 so that a rule-only group counts as routed.
func weights(s sim.Snapshot) map[string]int {
	out := map[string]int{}
	for _, l := range s.Listeners {
		for _, w := range l.Weights {
			if w.Weight > 0 {
				out[w.TargetGroup] += w.Weight
			}
		}
		for _, r := range l.Rules {
			for _, w := range r.Weights {
				if w.Weight > 0 && r.Stack != "" {
					out[w.TargetGroup]++
				}
			}
		}
	}
	return out
}

func ruled(s sim.Snapshot) map[string]bool {
	out := map[string]bool{}
	for _, l := range s.Listeners {
		for _, r := range l.Rules {
			for _, w := range r.Weights {
				if r.Stack != "" && w.Weight > 0 {
					out[w.TargetGroup] = true
				}
			}
		}
	}
	return out
}

func routedGroups(s sim.Snapshot) map[string]bool {
	out := map[string]bool{}
	for tg := range weights(s) {
		out[tg] = true
	}
	return out
}

// servingInstances counts healthy instances of the stack's fleets whose
// group gets traffic.
func servingInstances(s sim.Snapshot, id desired.StackID, routed map[string]bool) int {
	n := 0
	for _, f := range s.Fleets {
		if f.Stack != id.String() || !routed[f.TargetGroup] {
			continue
		}
		for _, in := range f.Instances {
			if in.State == "in-service" && in.Health == string(reconciler.TargetHealthy) {
				n++
			}
		}
	}
	return n
}

// status is the stack's status as the last pass planned it.
func (h *harness) status(id desired.StackID) reconciler.Status {
	h.t.Helper()
	for _, sp := range h.last.Plan.Stacks {
		if sp.Stack == id {
			return sp.Status
		}
	}
	h.t.Fatalf("no status for %s in the last pass", id)
	return reconciler.Status{}
}

// statusFile is the stack's status as committed on the status branch.
func (h *harness) statusFile(id desired.StackID) reconciler.Status {
	h.t.Helper()
	files := map[string][]byte{}
	for p, c := range gittest.Files(h.t, h.dir, gitrepo.DefaultStatusBranch) {
		files[p] = []byte(c)
	}
	all, err := reconciler.ParseStatusFiles(files)
	if err != nil {
		h.t.Fatalf("parse status: %v", err)
	}
	return all[id]
}

// listenerWeights is the stack's default-action weights by slot.
func (h *harness) listenerWeights(c stackCfg) (blue, green int) {
	h.t.Helper()
	for _, l := range h.show().Listeners {
		if l.ARN != c.listener() {
			continue
		}
		for _, w := range l.Weights {
			switch w.TargetGroup {
			case c.tg("blue"):
				blue = w.Weight
			case c.tg("green"):
				green = w.Weight
			}
		}
	}
	return blue, green
}

func (h *harness) rules(c stackCfg) []sim.RuleSnapshot {
	var out []sim.RuleSnapshot
	for _, l := range h.show().Listeners {
		if l.ARN == c.listener() {
			for _, r := range l.Rules {
				if r.Stack != "" {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

func (h *harness) fleets(c stackCfg) []string {
	var out []string
	for _, f := range h.show().Fleets {
		if f.Stack == c.id().String() {
			out = append(out, f.Name+"@"+f.Version)
		}
	}
	sort.Strings(out)
	return out
}

// stepLog records the sim time at which each step of a rollout was first
// reported, and when it completed.
type stepLog struct {
	reached map[int]time.Time
	order   []int
	done    time.Time
}

// runUntil runs passes, advancing tick after each, until cond holds.
func (h *harness) runUntil(tick time.Duration, max int, id desired.StackID, log *stepLog, cond func(reconciler.Status) bool) reconciler.Status {
	h.t.Helper()
	for i := 0; i < max; i++ {
		h.pass()
		s := h.status(id)
		if log != nil {
			log.note(h.cloud.Now(), s)
		}
		if cond(s) {
			return s
		}
		h.advance(tick)
	}
	s := h.status(id)
	h.t.Fatalf("%s: condition not reached after %d passes: phase %s, step %s: %s", id, max, s.Phase, s.StepName, s.Message)
	return s
}

func (l *stepLog) note(now time.Time, s reconciler.Status) {
	if l.reached == nil {
		l.reached = map[int]time.Time{}
	}
	if s.New != nil && s.Step >= 0 {
		if _, ok := l.reached[s.Step]; !ok {
			l.reached[s.Step] = now
			l.order = append(l.order, s.Step)
		}
	}
	if s.Phase == reconciler.Healthy && s.New == nil && l.done.IsZero() && len(l.order) > 0 {
		l.done = now
	}
}

// checkPauses asserts every step was reached in order and lasted at least
// its pause.
func checkPauses(t *testing.T, l *stepLog, steps []desired.Step) {
	t.Helper()
	want := make([]int, len(steps))
	for i := range steps {
		want[i] = i
	}
	if fmt.Sprint(l.order) != fmt.Sprint(want) {
		t.Fatalf("steps reached %v, want %v", l.order, want)
	}
	if l.done.IsZero() {
		t.Fatalf("rollout never completed")
	}
	for k, s := range steps {
		end := l.done
		if k+1 < len(steps) {
			end = l.reached[k+1]
		}
		if got := end.Sub(l.reached[k]); got < s.Pause {
			t.Errorf("step %d (%s) lasted %s, want at least %s", k, s, got, s.Pause)
		}
	}
}

// tickFor is a pass interval fine enough for the strategy's pauses.
func tickFor(strategy string) time.Duration {
	if strategy == "hybrid-canary" {
		return time.Hour
	}
	return time.Minute
}

func defaultSteps(strategy string) []desired.Step {
	return desired.DefaultSteps(desired.Strategy(strategy))
}

var strategies = []string{"bluegreen", "rolling", "canary", "hybrid-canary"}

func prdWeb(strategy string) stackCfg {
	return stackCfg{env: "prd", role: "web", version: "v1.6", strategy: strategy, traffic: 100}
}

// TestRolloutEndToEnd takes each strategy from v1.5 (seeded) to v1.6.
func TestRolloutEndToEnd(t *testing.T) {
	for _, strategy := range strategies {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			c := prdWeb(strategy)
			h := newHarness(t, false, c)
			var log stepLog
			s := h.runUntil(tickFor(strategy), 2000, c.id(), &log, func(s reconciler.Status) bool {
				return s.Phase == reconciler.Healthy && s.New == nil && s.Stable != nil && s.Stable.Version == "v1.6" && len(s.Retiring) == 0 && len(h.fleets(c)) == 1
			})
			checkPauses(t, &log, defaultSteps(strategy))
			// A status commit marks a change of step or of fleets, not
			// the passing of a pause.
			if limit := 12 + 4*len(defaultSteps(strategy)); h.commits > limit {
				t.Errorf("%d status commits in %d passes, want at most %d", h.commits, h.passes, limit)
			}
			if got, want := h.fleets(c), []string{"amigo-prd-web-v1-" + lastFleet(strategy)}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("fleets = %v, want %v", got, want)
			}
			blue, green := h.listenerWeights(c)
			if blue+green != 100 || len(h.rules(c)) != 0 {
				t.Errorf("weights blue %d green %d, rules %d; want 100 on one group and no rules", blue, green, len(h.rules(c)))
			}
			if got := h.statusFile(c.id()); got.Phase != reconciler.Healthy || got.Stable == nil || got.Stable.Version != "v1.6" {
				t.Errorf("status file phase %s stable %+v, want Healthy v1.6", got.Phase, got.Stable)
			}
			if s.Stable.Lineage == nil {
				t.Errorf("stable release has no lineage: %+v", s.Stable)
			}
		})
	}
}

// lastFleet is the version suffix of the fleet left serving: rolling
// refreshes the v1.5 fleet in place.
func lastFleet(strategy string) string {
	if strategy == "rolling" {
		return "5@v1.6"
	}
	return "6@v1.6"
}

func statusText(res reconciler.PassResult) string {
	var b strings.Builder
	for _, sp := range res.Plan.Stacks {
		fmt.Fprintf(&b, "%+v\n", sp.Status)
	}
	return b.String()
}

// steadyAt starts from a stack serving from (seeded as the fleet before
// c.version) with the desired branch saying so, and runs the first pass.
func steadyHarness(t testing.TB, onFile bool, cs ...stackCfg) *harness {
	t.Helper()
	h := newHarness(t, onFile, cs...)
	var old []stackCfg
	for _, c := range cs {
		c.version = "v1.5"
		old = append(old, c)
	}
	h.commit("run v1.5", old...)
	h.pass()
	for _, c := range old {
		if s := h.status(c.id()); s.Phase != reconciler.Healthy || s.Stable == nil || s.Stable.Version != "v1.5" {
			t.Fatalf("%s after the first pass: %s %s", c.id(), s.Phase, s.Message)
		}
	}
	return h
}

// TestHoldAtCeiling: traffic 50 holds the rollout Paused at the 50% step
// until the file raises it to 100.
func TestHoldAtCeiling(t *testing.T) {
	for _, strategy := range strategies {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			c := prdWeb(strategy)
			c.traffic = 50
			h := newHarness(t, false, c)
			tick := tickFor(strategy)
			s := h.runUntil(tick, 1000, c.id(), nil, func(s reconciler.Status) bool { return s.Phase == reconciler.Paused })
			steps := defaultSteps(strategy)
			want := steps[ceilingIndex(steps, 50)]
			if s.StepName != want.String() || s.Weight != want.Traffic {
				t.Fatalf("paused at %q weight %d, want %q weight %d", s.StepName, s.Weight, want, want.Traffic)
			}
			held := s
			// Twice the longest pause: nothing moves.
			for i := 0; i < 20; i++ {
				h.advance(steps[len(steps)-1].Pause / 10)
				res := h.pass()
				if len(res.Applied) > 0 || res.Committed {
					t.Fatalf("held rollout applied %v, committed %v", res.Applied, res.Committed)
				}
				if got := h.status(c.id()); got.Phase != reconciler.Paused || got.Step != held.Step {
					t.Fatalf("held rollout moved: %s step %d", got.Phase, got.Step)
				}
			}
			if strategy != "rolling" {
				if _, green := h.listenerWeights(c); green != stepWeight(want) {
					t.Errorf("green weight %d while paused, want %d", green, stepWeight(want))
				}
			}
			c.traffic = 100
			h.commit("traffic 100", c)
			h.runUntil(tick, 2000, c.id(), nil, func(s reconciler.Status) bool {
				return s.Phase == reconciler.Healthy && s.Stable.Version == "v1.6" && len(h.fleets(c)) == 1
			})
		})
	}
}

func ceilingIndex(steps []desired.Step, traffic int) int {
	k := -1
	for i, s := range steps {
		if s.Traffic <= traffic {
			k = i
		}
	}
	return k
}

func stepWeight(s desired.Step) int {
	if s.Route != desired.RouteWeighted {
		return 0
	}
	return s.Traffic
}

// TestRevertMidRollout: a git revert of the version bump moves traffic
// back in the first pass that sees it, then retires the new fleet once
// the listener reads back nothing for it.
func TestRevertMidRollout(t *testing.T) {
	for _, strategy := range strategies {
		t.Run(strategy, func(t *testing.T) {
			c := prdWeb(strategy)
			h := steadyHarness(t, false, c)
			h.commit("v1.6", c)
			steps := defaultSteps(strategy)
			mid := len(steps) / 2 // a step short of 100%, not its first
			h.runUntil(tickFor(strategy), 1000, c.id(), nil, func(s reconciler.Status) bool {
				return s.Step == mid && s.StepStartedAt != nil && h.cloud.Now().Sub(*s.StepStartedAt) >= tickFor(strategy)
			})
			if _, err := h.src.Revert(h.ctx, h.head(), c.path(), "roll back"); err != nil {
				t.Fatalf("revert: %v", err)
			}
			c.version = "v1.5"
			h.stacks[c.id()] = c
			res := h.pass()
			if len(res.Applied) == 0 || !res.Applied[0].Urgent {
				t.Fatalf("first action of the rollback pass is %v, want an urgent one", res.Applied)
			}
			if strategy == "rolling" {
				checkRollingBack(t, h, c)
			} else {
				blue, green := h.listenerWeights(c)
				if blue != 100 || green != 0 || len(h.rules(c)) != 0 {
					t.Fatalf("after the rollback pass: blue %d green %d rules %d, want 100/0/0", blue, green, len(h.rules(c)))
				}
				if got := h.fleets(c); len(got) != 2 {
					t.Fatalf("fleets %v right after rollback, want the new one kept until drained", got)
				}
			}
			h.runUntil(time.Minute, 100, c.id(), nil, func(s reconciler.Status) bool {
				return s.Phase == reconciler.Healthy && len(h.fleets(c)) == 1 && len(s.Retiring) == 0
			})
			if got, want := h.fleets(c), []string{"amigo-prd-web-v1-5@v1.5"}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("fleets = %v, want %v", got, want)
			}
		})
	}
}

// checkRollingBack: a rolling rollback refreshes the fleet back to the old
// image at once, to 100%.
func checkRollingBack(t *testing.T, h *harness, c stackCfg) {
	t.Helper()
	for _, f := range h.show().Fleets {
		if f.Stack == c.id().String() {
			if f.Refresh == nil || f.Refresh.Version != "v1.5" || f.Refresh.Percent != 100 {
				t.Fatalf("fleet %s refresh %+v, want back to v1.5 at 100%%", f.Name, f.Refresh)
			}
		}
	}
}

// TestAnalysisFailure: 5% errors at the first step abort the rollout in
// one pass; the new fleet is kept and nothing retries.
func TestAnalysisFailure(t *testing.T) {
	for _, onFailure := range []string{"abort", "revert"} {
		for _, strategy := range strategies {
			t.Run(onFailure+"/"+strategy, func(t *testing.T) {
				c := prdWeb(strategy)
				c.onFailure = onFailure
				h := steadyHarness(t, false, c)
				bump := h.commit("v1.6", c)
				tick := tickFor(strategy)
				h.runUntil(tick, 1000, c.id(), nil, func(s reconciler.Status) bool { return s.Step == 0 && s.StepStartedAt != nil })
				if err := h.cloud.Inject(sim.Fault{Stack: c.id(), Version: "v1.6", ErrorRate: 0.05}); err != nil {
					t.Fatal(err)
				}
				h.advance(tick)
				s := h.runUntil(tick, 5, c.id(), nil, func(s reconciler.Status) bool { return s.Phase == reconciler.Aborted })
				if s.Analysis == nil || s.Analysis.Verdict != reconciler.VerdictFailing || len(s.Analysis.Failures) == 0 || s.Abort == nil {
					t.Fatalf("aborted without figures: analysis %+v abort %+v", s.Analysis, s.Abort)
				}
				if !strings.Contains(s.Message, "error rate") {
					t.Errorf("message %q does not name the failed figure", s.Message)
				}
				if strategy == "rolling" {
					checkRollingBack(t, h, c)
				} else {
					if blue, green := h.listenerWeights(c); blue != 100 || green != 0 || len(h.rules(c)) != 0 {
						t.Fatalf("after abort: blue %d green %d rules %d", blue, green, len(h.rules(c)))
					}
					if got := h.fleets(c); len(got) != 2 {
						t.Fatalf("fleets %v after abort, want the new one kept", got)
					}
				}
				if onFailure == "abort" {
					checkNoRetry(t, h, c)
					checkRetry(t, h, c)
					return
				}
				checkReverted(t, h, c, bump)
			})
		}
	}
}

// checkNoRetry runs passes for hours: the rollout stays aborted, the new
// fleet stays for inspection (weighted strategies) and nothing is written
// once the rollback settled.
func checkNoRetry(t *testing.T, h *harness, c stackCfg) {
	t.Helper()
	h.runUntil(time.Minute, 60, c.id(), nil, func(reconciler.Status) bool {
		return h.last.Applied == nil && h.status(c.id()).Phase == reconciler.Aborted && rollingSettled(h, c)
	})
	writes := h.cloud.Calls().TotalWrites()
	for i := 0; i < 12; i++ {
		h.advance(30 * time.Minute)
		h.pass()
		if s := h.status(c.id()); s.Phase != reconciler.Aborted {
			t.Fatalf("phase %s after abort, want Aborted held", s.Phase)
		}
	}
	if d := h.cloud.Calls().TotalWrites() - writes; d != 0 {
		t.Errorf("%d writes after the abort settled, want 0", d)
	}
	if c.strategy != "rolling" && len(h.fleets(c)) != 2 {
		t.Errorf("fleets %v, want the aborted fleet kept", h.fleets(c))
	}
}

func rollingSettled(h *harness, c stackCfg) bool {
	for _, f := range h.show().Fleets {
		if f.Stack == c.id().String() && f.Refresh != nil {
			return false
		}
	}
	return true
}

// checkReverted: onFailure revert pushed the inverse of the version bump
// and the next passes retire the new fleet.
func checkReverted(t *testing.T, h *harness, c stackCfg, bump string) {
	t.Helper()
	s := h.status(c.id())
	if s.Abort == nil || s.Abort.Revert == "" {
		t.Fatalf("abort %+v, want the revert commit recorded", s.Abort)
	}
	files := gittest.Files(t, h.dir, "main")
	if !strings.Contains(files[c.path()], "version: v1.5") {
		t.Fatalf("desired branch after revert:\n%s", files[c.path()])
	}
	if h.head() == bump {
		t.Fatalf("head did not move")
	}
	c.version = "v1.5"
	h.stacks[c.id()] = c
	h.runUntil(time.Minute, 100, c.id(), nil, func(s reconciler.Status) bool {
		return s.Phase == reconciler.Healthy && s.Stable.Version == "v1.5" && len(h.fleets(c)) == 1
	})
	if got, want := h.fleets(c), []string{"amigo-prd-web-v1-5@v1.5"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fleets = %v, want %v", got, want)
	}
}

// TestLowerTraffic: lowering traffic mid-rollout moves traffic back to the
// lower step in the first pass, without waiting for any pause.
func TestLowerTraffic(t *testing.T) {
	for _, strategy := range strategies {
		t.Run(strategy, func(t *testing.T) {
			c := prdWeb(strategy)
			h := newHarness(t, false, c)
			steps := defaultSteps(strategy)
			last := len(steps) - 1
			h.runUntil(tickFor(strategy), 2000, c.id(), nil, func(s reconciler.Status) bool { return s.Step == last-1 && s.StepStartedAt != nil })
			c.traffic = steps[0].Traffic
			h.commit("lower traffic", c)
			res := h.pass()
			if len(res.Applied) == 0 || !res.Applied[0].Urgent {
				t.Fatalf("first action of the lowering pass is %v, want an urgent one", res.Applied)
			}
			s := h.status(c.id())
			if s.Step != 0 || s.Phase != reconciler.Paused {
				t.Errorf("after lowering: step %d phase %s, want step 0 Paused", s.Step, s.Phase)
			}
			if strategy == "rolling" {
				return
			}
			if _, green := h.listenerWeights(c); green != stepWeight(steps[0]) {
				t.Errorf("green weight %d after lowering, want %d", green, stepWeight(steps[0]))
			}
			if want := internalRules(strategy); len(h.rules(c)) != want {
				t.Errorf("%d rules after lowering, want %d", len(h.rules(c)), want)
			}
		})
	}
}

// internalRules is how many rules the internal route needs: one header,
// one CIDR list.
func internalRules(strategy string) int {
	if strategy == "hybrid-canary" {
		return 2
	}
	return 0
}

// TestPromotion: dev -> stg -> prd by commits; stg is Blocked, untouched,
// while the version is not Healthy in dev.
func TestPromotion(t *testing.T) {
	quick := "  - {traffic: 50, pause: 5m}\n  - {traffic: 100, pause: 5m}\n"
	var cs []stackCfg
	for _, env := range []string{"dev", "stg", "prd"} {
		cs = append(cs, stackCfg{env: env, role: "web", version: "v1.6", strategy: "canary", traffic: 100, desired: 2, steps: quick})
	}
	dev, stg, prd := cs[0], cs[1], cs[2]
	h := steadyHarness(t, false, cs...)
	h.commit("dev and stg to v1.6", dev, stg)
	h.pass()
	if s := h.status(stg.id()); s.Phase != reconciler.Blocked || !strings.Contains(s.Message, "not Healthy in dev") {
		t.Fatalf("stg: %s %q, want Blocked by the gate", s.Phase, s.Message)
	}
	if got := h.fleets(stg); len(got) != 1 {
		t.Fatalf("stg fleets %v while blocked", got)
	}
	stgBlocked := 0
	h.runUntil(time.Minute, 200, dev.id(), nil, func(s reconciler.Status) bool {
		if h.status(stg.id()).Phase == reconciler.Blocked {
			stgBlocked++
			if len(h.fleets(stg)) != 1 {
				t.Fatalf("stg got a fleet while blocked: %v", h.fleets(stg))
			}
		}
		return s.Phase == reconciler.Healthy && s.Stable.Version == "v1.6"
	})
	if stgBlocked < 5 {
		t.Errorf("stg blocked for %d passes, want it blocked during dev's rollout", stgBlocked)
	}
	if s := h.status(stg.id()); s.Phase == reconciler.Blocked {
		t.Fatalf("stg still blocked once dev is Healthy: %s", s.Message)
	}
	h.runUntil(time.Minute, 200, stg.id(), nil, func(s reconciler.Status) bool {
		return s.Phase == reconciler.Healthy && s.Stable.Version == "v1.6"
	})
	h.commit("prd to v1.6", prd)
	h.runUntil(time.Minute, 200, prd.id(), nil, func(s reconciler.Status) bool {
		return s.Phase == reconciler.Healthy && s.Stable.Version == "v1.6" && len(h.fleets(prd)) == 1
	})
}

// TestDrift: weights and fleet sizes changed outside amigo are put back
// and reported, at rest and mid-rollout.
func TestDrift(t *testing.T) {
	t.Run("steady", func(t *testing.T) {
		c := prdWeb("bluegreen")
		h := steadyHarness(t, false, c)
		if err := h.cloud.SetWeights(c.listener(), []reconciler.Weight{{TargetGroup: c.tg("blue"), Weight: 50}, {TargetGroup: c.tg("green"), Weight: 50}}); err != nil {
			t.Fatal(err)
		}
		if err := h.cloud.ScaleFleet(h.ctx, "amigo-prd-web-v1-5", desired.Capacity{Desired: 6, Min: 6, Max: 8}); err != nil {
			t.Fatal(err)
		}
		h.pass()
		if blue, green := h.listenerWeights(c); blue != 100 || green != 0 {
			t.Errorf("weights blue %d green %d after the pass, want 100/0", blue, green)
		}
		for _, f := range h.show().Fleets {
			if f.Name == "amigo-prd-web-v1-5" && f.Capacity != (desired.Capacity{Desired: 4, Min: 4, Max: 8}) {
				t.Errorf("capacity %+v after the pass, want 4/4/8", f.Capacity)
			}
		}
		s := h.status(c.id())
		checkDrift(t, h, s, "forward was", "capacity was 6")
	})
	t.Run("mid-rollout", func(t *testing.T) {
		c := prdWeb("bluegreen")
		c.traffic = 50
		h := newHarness(t, false, c)
		h.runUntil(time.Minute, 200, c.id(), nil, func(s reconciler.Status) bool { return s.Phase == reconciler.Paused })
		if err := h.cloud.SetWeights(c.listener(), []reconciler.Weight{{TargetGroup: c.tg("blue"), Weight: 100}, {TargetGroup: c.tg("green"), Weight: 0}}); err != nil {
			t.Fatal(err)
		}
		h.pass()
		if blue, green := h.listenerWeights(c); blue != 50 || green != 50 {
			t.Errorf("weights blue %d green %d after the pass, want 50/50", blue, green)
		}
		s := h.status(c.id())
		if s.Phase != reconciler.Paused || s.Step != 1 {
			t.Errorf("phase %s step %d after drift, want Paused at step 1", s.Phase, s.Step)
		}
		checkDrift(t, h, s, "forward was")
	})
}

// checkDrift wants each fragment in status.drift and a log line that shows
// what was found and what was put back.
func checkDrift(t *testing.T, h *harness, s reconciler.Status, fragments ...string) {
	t.Helper()
	all := strings.Join(s.Drift, "\n")
	for _, f := range fragments {
		if !strings.Contains(all, f) {
			t.Errorf("status.drift %q lacks %q", s.Drift, f)
		}
	}
	logged := false
	for _, e := range h.log.AllEntries() {
		if strings.Contains(e.Message, "drift") && e.Data["before"] != nil && e.Data["after"] != nil {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no drift log line with before and after fields")
	}
}

// TestRestart kills the daemon at every pass of each strategy's rollout:
// a new Reconciler, a new Source and the sim reopened from its state file.
// The rollout ends as an uninterrupted one does, and no pause is cut short.
// In the "dying" variant every third pass also dies between applying its
// actions and committing its status.
func TestRestart(t *testing.T) {
	for _, strategy := range strategies {
		for _, dying := range []bool{false, true} {
			name := strategy + "/restart"
			if dying {
				name = strategy + "/dying"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				c := prdWeb(strategy)
				want := rollout(t, c, false, false)
				got := rollout(t, c, true, dying)
				if diff := cmp.Diff(want.cloud, got.cloud); diff != "" {
					t.Errorf("cloud after the rollout (-uninterrupted +restarted):\n%s", diff)
				}
				if !dying {
					if diff := cmp.Diff(want.status, got.status); diff != "" {
						t.Errorf("status after the rollout (-uninterrupted +restarted):\n%s", diff)
					}
				}
				checkPauses(t, &got.log, defaultSteps(strategy))
			})
		}
	}
}

type outcome struct {
	cloud  []string
	status reconciler.Status
	log    stepLog
}

func rollout(t *testing.T, c stackCfg, restart, dying bool) outcome {
	t.Helper()
	h := newHarness(t, restart, c)
	var out outcome
	tick := tickFor(c.strategy)
	for i := 0; ; i++ {
		if i > 2000 {
			t.Fatalf("rollout did not complete")
		}
		if restart {
			h.restart()
			h.kill.die = dying && i%3 == 2
		}
		h.pass()
		s := h.status(c.id())
		if !h.kill.die || h.last.Applied != nil {
			out.log.note(h.cloud.Now(), s)
		}
		if !h.kill.die && s.Phase == reconciler.Healthy && s.New == nil && s.Stable.Version == "v1.6" && len(h.fleets(c)) == 1 && len(s.Retiring) == 0 {
			break
		}
		h.advance(tick)
	}
	out.status = h.statusFile(c.id())
	out.status.TraceID = ""
	snap := h.show()
	for _, f := range snap.Fleets {
		out.cloud = append(out.cloud, fmt.Sprintf("fleet %s %s %s %+v %d instances", f.Name, f.Version, f.AMI, f.Capacity, len(f.Instances)))
	}
	for _, l := range snap.Listeners {
		out.cloud = append(out.cloud, fmt.Sprintf("listener %s %v %s %d rules", l.ARN, l.Weights, l.Stickiness, len(l.Rules)))
	}
	return out
}

// TestNeverHealthy: a new fleet whose targets never pass health checks is
// aborted at the health deadline; no traffic ever reaches it.
func TestNeverHealthy(t *testing.T) {
	for _, strategy := range []string{"bluegreen", "canary", "hybrid-canary"} {
		t.Run(strategy, func(t *testing.T) {
			c := prdWeb(strategy)
			h := steadyHarness(t, false, c)
			if err := h.cloud.Inject(sim.Fault{Stack: c.id(), Version: "v1.6", Unhealthy: 1}); err != nil {
				t.Fatal(err)
			}
			h.commit("v1.6", c)
			start := h.cloud.Now()
			s := h.runUntil(time.Minute, 30, c.id(), nil, func(s reconciler.Status) bool {
				if _, green := h.listenerWeights(c); green != 0 || len(h.rules(c)) != 0 {
					t.Fatalf("traffic reached the failing fleet: green %d, %d rules", green, len(h.rules(c)))
				}
				return s.Phase == reconciler.Aborted
			})
			if took := h.cloud.Now().Sub(start); took < reconciler.DefaultHealthDeadline {
				t.Errorf("aborted after %s, before the %s deadline", took, reconciler.DefaultHealthDeadline)
			}
			if !strings.Contains(s.Message, "not healthy after") {
				t.Errorf("message %q, want the health deadline named", s.Message)
			}
			if got := h.fleets(c); len(got) != 2 {
				t.Errorf("fleets %v, want the failing one kept for inspection", got)
			}
		})
	}
}

// BenchmarkRevertToWeights times the pass that sees a revert commit, from
// a bluegreen rollout at 50%, until the listener gives stable 100%.
func BenchmarkRevertToWeights(b *testing.B) {
	c := prdWeb("bluegreen")
	tmpl := steadyHarness(b, true, c)
	tmpl.commit("v1.6", c)
	tmpl.runUntil(time.Minute, 200, c.id(), nil, func(s reconciler.Status) bool { return s.Step == 1 })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := tmpl.clone()
		h.pass() // the daemon has been running: statuses are read
		if _, err := h.src.Revert(h.ctx, h.head(), c.path(), "roll back"); err != nil {
			b.Fatalf("revert: %v", err)
		}
		b.StartTimer()
		if _, err := h.rec.Reconcile(h.ctx, "bench"); err != nil {
			b.Fatalf("pass: %v", err)
		}
		b.StopTimer()
		if blue, green := h.listenerWeights(c); blue != 100 || green != 0 {
			b.Fatalf("after the pass: blue %d green %d, want 100/0", blue, green)
		}
		b.StartTimer()
	}
}

// clone copies the repository and the sim state file into fresh
// directories and starts a daemon on them.
func (h *harness) clone() *harness {
	h.t.Helper()
	n := &harness{t: h.t, ctx: h.ctx, stacks: map[desired.StackID]stackCfg{}}
	for k, v := range h.stacks {
		n.stacks[k] = v
	}
	root := h.t.TempDir()
	n.dir = filepath.Join(root, "config.git")
	n.simPath = filepath.Join(root, "sim.json")
	if err := os.CopyFS(n.dir, os.DirFS(h.dir)); err != nil {
		h.t.Fatalf("copy repo: %v", err)
	}
	data, err := os.ReadFile(h.simPath)
	if err != nil {
		h.t.Fatalf("read sim state: %v", err)
	}
	if err := os.WriteFile(n.simPath, data, 0o644); err != nil {
		h.t.Fatalf("write sim state: %v", err)
	}
	n.restart()
	return n
}

// checkRetry: once the stack changes (here: traffic 50, the fault gone)
// the rollout starts over from its first step and holds at 50%.
func checkRetry(t *testing.T, h *harness, c stackCfg) {
	t.Helper()
	if err := h.cloud.ClearFaults(c.id()); err != nil {
		t.Fatal(err)
	}
	c.traffic = 50
	h.commit("retry at 50%", c)
	var log stepLog
	s := h.runUntil(tickFor(c.strategy), 1000, c.id(), &log, func(s reconciler.Status) bool { return s.Phase == reconciler.Paused })
	steps := defaultSteps(c.strategy)
	k := ceilingIndex(steps, 50)
	if s.Step != k || log.order[0] != 0 {
		t.Fatalf("retry paused at step %d after steps %v, want step %d starting from 0", s.Step, log.order, k)
	}
	for i := 0; i < k; i++ {
		if got := log.reached[i+1].Sub(log.reached[i]); got < steps[i].Pause {
			t.Errorf("retry: step %d lasted %s, want at least %s", i, got, steps[i].Pause)
		}
	}
}
