package reconciler

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"time"

	"github.com/sirupsen/logrus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/amigo-gitops/amigo/desired"
)

// TerminalError is a failure that retrying will not mend: the desired state
// must change first (a broken amigo.yaml, say).
type TerminalError struct{ Err error }

func (e *TerminalError) Error() string { return e.Err.Error() }
func (e *TerminalError) Unwrap() error { return e.Err }

// Reporter publishes the outcome of a pass outside git, e.g. Gitea commit
// statuses. It must be idempotent: a pass that changes nothing calls it too.
type Reporter interface {
	Report(ctx context.Context, rev string, stacks []StackPlan) error
}

// Options configure a Reconciler.
type Options struct {
	Source         Source
	Cloud          Cloud
	Log            *logrus.Entry
	Tracer         trace.Tracer // nil: no tracing
	Reporter       Reporter     // nil: none
	HealthDeadline time.Duration
	CallTimeout    time.Duration // per cloud call; default 30s
	Retries        int           // attempts for a throttled call; default 5
	RetryBackoff   time.Duration // first backoff; default 200ms
}

// Reconciler runs passes. It remembers between passes only what can be
// rebuilt from git and the cloud: the last parsed revision and statuses.
type Reconciler struct {
	src      Source
	cloud    Cloud
	log      *logrus.Entry
	tracer   trace.Tracer
	reporter Reporter
	deadline time.Duration
	timeout  time.Duration
	retries  int
	backoff  time.Duration

	rev      string
	repo     *desired.Repo
	statuses map[desired.StackID]Status
	passes   int  // passes observed, for the rule sweep every sweepEvery
	written  bool // statuses is what this process last wrote to the status branch
}

// New returns a Reconciler.
func New(o Options) *Reconciler {
	r := &Reconciler{
		src: o.Source, cloud: o.Cloud, log: o.Log, tracer: o.Tracer, reporter: o.Reporter,
		deadline: o.HealthDeadline, timeout: o.CallTimeout, retries: o.Retries, backoff: o.RetryBackoff,
	}
	if r.log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		r.log = logrus.NewEntry(l)
	}
	if r.tracer == nil {
		r.tracer = noop.NewTracerProvider().Tracer("amigo")
	}
	if r.timeout <= 0 {
		r.timeout = 30 * time.Second
	}
	if r.retries <= 0 {
		r.retries = 5
	}
	if r.backoff <= 0 {
		r.backoff = 200 * time.Millisecond
	}
	return r
}

// PassResult is what one pass did.
type PassResult struct {
	Revision  string
	TraceID   string
	Plan      Result
	Applied   []Action
	Failed    map[desired.StackID]error
	Committed bool
}

// Reconcile runs one pass: fetch, load and validate, observe, plan, apply,
// write status. A panic inside the pass becomes its error.
func (r *Reconciler) Reconcile(ctx context.Context, trigger string) (res PassResult, err error) {
	ctx, span := r.tracer.Start(ctx, "reconcile", trace.WithAttributes(attribute.String("amigo.trigger", trigger)))
	defer span.End()
	res.TraceID = traceID(span)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pass panicked: %v\n%s", p, debug.Stack())
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}()
	repo, err := r.load(ctx)
	if err != nil {
		return res, err
	}
	res.Revision = repo.Revision
	span.SetAttributes(attribute.String("amigo.revision", repo.Revision))
	prev, err := r.previous(ctx)
	if err != nil {
		return res, err
	}
	sweep := r.passes%sweepEvery == 0
	r.passes++
	obs, err := r.observePass(ctx, repo, prev, sweep)
	if err != nil {
		return res, err
	}
	res.Plan = r.plan(ctx, repo, obs, prev)
	res.Applied, res.Failed = r.apply(ctx, &res.Plan)
	r.logDrift(ctx, res.Plan, res.Failed)
	res.Committed, err = r.writeStatus(ctx, repo, res.Plan, prev, res.Failed, res.TraceID, sweep)
	if err != nil {
		return res, err
	}
	for i := range res.Plan.Stacks { // the reporter links the trace that last changed each stack
		if st, ok := r.statuses[res.Plan.Stacks[i].Stack]; ok {
			res.Plan.Stacks[i].Status.TraceID = st.TraceID
		}
	}
	if r.reporter != nil {
		if err := r.reporter.Report(ctx, repo.Revision, res.Plan.Stacks); err != nil {
			return res, fmt.Errorf("report: %w", err)
		}
	}
	if len(res.Failed) > 0 {
		return res, failedErr(res.Failed)
	}
	return res, nil
}

func failedErr(failed map[desired.StackID]error) error {
	ids := make([]string, 0, len(failed))
	for id := range failed {
		ids = append(ids, id.String())
	}
	sort.Strings(ids)
	var errs []error
	for _, id := range ids {
		sid, _ := desired.ParseStackID(id)
		errs = append(errs, fmt.Errorf("%s: %w", id, failed[sid]))
	}
	return errors.Join(errs...)
}

func traceID(span trace.Span) string {
	sc := span.SpanContext()
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

// load fetches the desired branch and parses it, unless the revision is
// the one already parsed.
func (r *Reconciler) load(ctx context.Context) (*desired.Repo, error) {
	fctx, span := r.tracer.Start(ctx, "git fetch")
	rev, err := r.src.Fetch(fctx)
	span.SetAttributes(attribute.String("amigo.revision", rev))
	endSpan(span, err)
	if err != nil {
		return nil, fmt.Errorf("fetch desired: %w", err)
	}
	if rev == r.rev && r.repo != nil {
		return r.repo, nil
	}
	ctx, span = r.tracer.Start(ctx, "load and validate")
	defer span.End()
	files, err := r.src.Files(ctx, rev)
	if err != nil {
		endSpan(span, err)
		return nil, fmt.Errorf("read %s: %w", short(rev), err)
	}
	repo, err := desired.Load(files, rev)
	if err != nil {
		endSpan(span, err)
		return nil, &TerminalError{Err: fmt.Errorf("config at %s: %w", short(rev), err)}
	}
	span.SetAttributes(attribute.Int("amigo.stacks", len(repo.Stacks)), attribute.Int("amigo.invalid", len(repo.Invalid)))
	for _, inv := range repo.Invalid {
		for _, fe := range inv.Errors {
			r.log.WithContext(ctx).WithFields(logrus.Fields{"stack": inv.ID.String(), "file": fe.File, "line": fe.Line, "field": fe.Field}).Warn("stack rejected: " + fe.Msg)
		}
	}
	r.rev, r.repo = rev, repo
	return repo, nil
}

func short(rev string) string {
	if len(rev) > 10 {
		return rev[:10]
	}
	return rev
}

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// previous returns the statuses of the last pass, read from the status
// branch the first time.
func (r *Reconciler) previous(ctx context.Context) (map[desired.StackID]Status, error) {
	if r.statuses != nil {
		return r.statuses, nil
	}
	ctx, span := r.tracer.Start(ctx, "read status")
	files, err := r.src.ReadStatus(ctx)
	endSpan(span, err)
	if err != nil {
		return nil, fmt.Errorf("read status branch: %w", err)
	}
	st, err := ParseStatusFiles(files)
	if err != nil {
		r.log.WithContext(ctx).WithError(err).Warn("status branch unreadable; rebuilding status from the cloud")
	}
	r.statuses = st
	return st, nil
}

// observePass observes in a span; sweep reads every stack's listener
// rules, at rest or not.
func (r *Reconciler) observePass(ctx context.Context, repo *desired.Repo, prev map[desired.StackID]Status, sweep bool) (map[desired.StackID]Observed, error) {
	ctx, span := r.tracer.Start(ctx, "observe")
	obs, err := r.observe(ctx, repo, prev, sweep)
	endSpan(span, err)
	return obs, err
}

func (r *Reconciler) plan(ctx context.Context, repo *desired.Repo, obs map[desired.StackID]Observed, prev map[desired.StackID]Status) Result {
	pctx, span := r.tracer.Start(ctx, "plan")
	defer span.End()
	res := Plan(Input{Repo: repo, Observed: obs, Previous: prev, Now: r.cloud.Clock.Now(), HealthDeadline: r.deadline})
	for _, sp := range res.Stacks {
		s := sp.Status
		_, ss := r.tracer.Start(pctx, "plan "+sp.Stack.String(), trace.WithAttributes(
			attribute.String("amigo.env", sp.Stack.Env), attribute.String("amigo.role", sp.Stack.Role),
			attribute.String("amigo.strategy", s.Strategy), attribute.String("amigo.phase", string(s.Phase)),
			attribute.String("amigo.step", s.StepName), attribute.Int("amigo.weight", s.Weight),
			attribute.String("amigo.from", versionOf(s.Stable)), attribute.String("amigo.to", versionOf(s.New)),
			attribute.String("amigo.gate", s.Gate), attribute.Int("amigo.actions", len(sp.Actions))))
		ss.End()
	}
	return res
}

func versionOf(r *Release) string {
	if r == nil {
		return ""
	}
	return r.Version
}

// logDrift reports, once per thing put back, what was found and what it
// was put back to.
func (r *Reconciler) logDrift(ctx context.Context, plan Result, failed map[desired.StackID]error) {
	for _, sp := range plan.Stacks {
		if failed[sp.Stack] != nil {
			continue
		}
		for _, d := range sp.Drift {
			r.log.WithContext(ctx).WithFields(logrus.Fields{"stack": sp.Stack.String(), "what": d.What, "before": d.Before, "after": d.After}).
				Warn("drift put back")
		}
	}
}
