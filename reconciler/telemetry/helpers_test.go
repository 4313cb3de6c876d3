package telemetry_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
	"github.com/amigo-gitops/amigo/reconciler/telemetry"
)

// configFiles is a config repository with one bluegreen stack, dev/web,
// moving from v1.6 (seeded as running) to v1.7 through the default steps
// 10%, 50%, 100%.
var configFiles = map[string][]byte{
	"amigo.yaml": []byte(`apiVersion: amigo/v1
project: demo
environments: [dev]
roles: [web]
promotion:
  gate: none
aws:
  region: us-east-1
`),
	"environments/dev/web.yaml": []byte(`version: v1.7
strategy: bluegreen
capacity: {desired: 2}
target:
  listener: lst-dev
  targetGroups: [tg-dev-web-blue, tg-dev-web-green]
  launchTemplate: lt-dev-web
  subnets: [subnet-1a]
`),
}

// memSource is a config repository held in memory: fixed desired files at
// one revision and a status branch that keeps what is written to it. When
// log is set, Fetch logs through it with the pass's context, as code
// inside a pass does.
type memSource struct {
	rev   string
	files map[string][]byte
	log   *logrus.Logger

	mu     sync.Mutex
	status map[string][]byte
}

var _ reconciler.Source = (*memSource)(nil)

func (s *memSource) Fetch(ctx context.Context) (string, error) {
	if s.log != nil {
		s.log.WithContext(ctx).WithField("revision", s.rev).Info("fetched")
	}
	return s.rev, nil
}

func (s *memSource) Files(ctx context.Context, rev string) (map[string][]byte, error) {
	if rev != s.rev {
		return nil, errors.New("unknown revision " + rev)
	}
	return maps.Clone(s.files), nil
}

func (s *memSource) ReadStatus(ctx context.Context) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.status), nil
}

func (s *memSource) WriteStatus(ctx context.Context, files map[string][]byte, message string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if maps.EqualFunc(s.status, files, func(a, b []byte) bool { return string(a) == string(b) }) {
		return false, nil
	}
	s.status = maps.Clone(files)
	return true, nil
}

func (s *memSource) Revert(ctx context.Context, rev, path, message string) (string, error) {
	return "", errors.New("revert: not supported by the in-memory source")
}

// world is a reconciler on the simulated cloud, traced into an in-memory
// recorder.
type world struct {
	sim      *sim.Cloud
	src      *memSource
	rec      *tracetest.SpanRecorder
	recon    *reconciler.Reconciler
	provider *sdktrace.TracerProvider
}

// newWorld seeds a simulated cloud for configFiles and builds a reconciler
// on it. wrap, when not nil, wraps the traced cloud further (counting).
func newWorld(t *testing.T, log *logrus.Logger, wrap func(reconciler.Cloud) reconciler.Cloud) *world {
	t.Helper()
	s, err := sim.Open("", sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	repo, err := desired.Load(configFiles, "rev-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(repo.Stacks) != 1 {
		t.Fatalf("config: got %d valid stacks, want 1 (invalid: %+v)", len(repo.Stacks), repo.Invalid)
	}
	if err := s.Seed(repo.Settings, repo.Stacks); err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tracer := tp.Tracer("amigo")
	cloud := telemetry.TraceCloud(s.Cloud(), tracer)
	if wrap != nil {
		cloud = wrap(cloud)
	}
	src := &memSource{rev: "rev-1", files: configFiles, log: log}
	opts := reconciler.Options{Source: src, Cloud: cloud, Tracer: tracer, RetryBackoff: time.Millisecond}
	if log != nil {
		opts.Log = logrus.NewEntry(log)
	}
	return &world{sim: s, src: src, rec: rec, recon: reconciler.New(opts), provider: tp}
}

// pass is one reconcile pass and the spans of its trace.
type pass struct {
	res   reconciler.PassResult
	err   error
	spans []sdktrace.ReadOnlySpan
}

// run runs one pass.
func (w *world) run(t *testing.T) pass {
	t.Helper()
	res, err := w.recon.Reconcile(context.Background(), "poll")
	var spans []sdktrace.ReadOnlySpan
	for _, s := range w.rec.Ended() {
		if s.SpanContext().TraceID().String() == res.TraceID {
			spans = append(spans, s)
		}
	}
	return pass{res: res, err: err, spans: spans}
}

// untilPromoted runs passes, advancing the simulated clock between them,
// until a pass moves the stack from one traffic step to a higher one, and
// returns that pass and the ones before it.
func (w *world) untilPromoted(t *testing.T) (promoted pass, before []pass) {
	t.Helper()
	weight := -1
	for i := 0; i < 40; i++ {
		p := w.run(t)
		if p.err != nil {
			t.Fatalf("pass %d: %v", i, p.err)
		}
		st := p.res.Plan.Stacks[0].Status
		if weight > 0 && st.Weight > weight {
			return p, before
		}
		weight = st.Weight
		before = append(before, p)
		if err := w.sim.Advance(2 * time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("no step was promoted in 40 passes; last weight %d", weight)
	return pass{}, nil
}

// tree indexes the spans of one trace.
type tree struct {
	byID map[string]sdktrace.ReadOnlySpan
}

func newTree(spans []sdktrace.ReadOnlySpan) tree {
	tr := tree{byID: map[string]sdktrace.ReadOnlySpan{}}
	for _, s := range spans {
		tr.byID[s.SpanContext().SpanID().String()] = s
	}
	return tr
}

// parent is the name of the span's parent in the trace, "" for a root and
// "?" for a parent outside it.
func (tr tree) parent(s sdktrace.ReadOnlySpan) string {
	if !s.Parent().IsValid() {
		return ""
	}
	p, ok := tr.byID[s.Parent().SpanID().String()]
	if !ok {
		return "?"
	}
	return p.Name()
}

// named returns the spans called name.
func (tr tree) named(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tr.byID {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// chain is the names from the span up to the root: "observe < reconcile".
func (tr tree) chain(s sdktrace.ReadOnlySpan) []string {
	var out []string
	for i := 0; s != nil && i < 64; i++ {
		out = append(out, s.Name())
		if !s.Parent().IsValid() {
			return out
		}
		s = tr.byID[s.Parent().SpanID().String()]
	}
	return append(out, "?")
}
