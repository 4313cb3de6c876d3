package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"go.opentelemetry.io/otel/trace"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/desired/gitrepo"
	awsdriver "github.com/amigo-gitops/amigo/drivers/aws"
	"github.com/amigo-gitops/amigo/drivers/sim"
	"github.com/amigo-gitops/amigo/reconciler"
	"github.com/amigo-gitops/amigo/reconciler/telemetry"
	"github.com/amigo-gitops/amigo/reconciler/webhook"
)

type runFlags struct {
	repo, branch, statusBranch string
	driver, simState           string
	simSpeed                   float64
	once                       bool
	listen                     string
	interval, busy, burstGap   time.Duration
	config                     string
	logLevel, logFormat        string
	webhookSecretFile          string
	tokenFile                  string
	cacheDir                   string
	healthDeadline             time.Duration
	demoDir                    string
	json                       bool
	giteaURL, giteaRepo        string
	traceURL                   string
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.repo, "repo", "", "config repository: a local working copy DIR or a URL (http, https, file); empty: the embedded demo")
	fs.StringVar(&f.branch, "branch", "", "desired branch (default: the remote's HEAD branch, else main)")
	fs.StringVar(&f.statusBranch, "status-branch", gitrepo.DefaultStatusBranch, "branch amigo writes status to")
	fs.StringVar(&f.driver, "driver", "sim", "cloud driver: sim or aws")
	fs.StringVar(&f.simState, "sim-state", "", "simulated cloud state file (driver sim)")
	fs.Float64Var(&f.simSpeed, "sim-speed", 0, "simulated seconds per wall second (0: time moves only by `amigo sim advance`)")
	fs.BoolVar(&f.once, "once", false, "run one pass, then exit")
	fs.StringVar(&f.listen, "listen", "", "HTTP address for /hooks/gitea, /metrics, /healthz, /readyz (empty: none)")
	fs.DurationVar(&f.interval, "interval", 30*time.Second, "poll interval")
	fs.DurationVar(&f.busy, "busy-interval", 5*time.Second, "poll interval while a rollout is moving")
	fs.DurationVar(&f.burstGap, "burst-gap", 500*time.Millisecond, "least time between passes caused by webhooks or file changes; a burst folds into one pass per gap")
	fs.StringVar(&f.config, "config", "", "daemon config file (YAML, keys are these flag names); watched and reloaded")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level")
	fs.StringVar(&f.logFormat, "log-format", "auto", "log format: json, text or auto (text on a terminal)")
	fs.StringVar(&f.webhookSecretFile, "webhook-secret-file", "", "file holding the Gitea webhook secret (else $AMIGO_WEBHOOK_SECRET)")
	fs.StringVar(&f.tokenFile, "token-file", "", "file holding the Gitea token (else $AMIGO_GITEA_TOKEN)")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "where remote repositories are cloned")
	fs.DurationVar(&f.healthDeadline, "health-deadline", reconciler.DefaultHealthDeadline, "how long a new fleet may take to turn healthy")
	fs.BoolVar(&f.json, "json", false, "print JSON (plan)")
	fs.StringVar(&f.giteaURL, "gitea-url", "", "Gitea base URL: commit statuses, plan comments and promotion PRs (empty: none)")
	fs.StringVar(&f.giteaRepo, "gitea-repo", "", "Gitea repository OWNER/NAME of the config repo (default: from --repo)")
	fs.StringVar(&f.traceURL, "trace-url", "", "link template for a trace, {trace_id} replaced, e.g. http://127.0.0.1:16686/trace/{trace_id}")
	fs.StringVar(&f.demoDir, "demo-dir", ".amigo/demo", "where the embedded demo keeps its repository and simulated cloud")
}

// parseRunFlags parses flags, then fills the ones not given on the command
// line from the config file.
func parseRunFlags(name string, args []string, stderr io.Writer) (*runFlags, *flag.FlagSet, error) {
	f := &runFlags{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	if err := parseInterspersed(fs, args); err != nil {
		return nil, nil, &exitError{code: 2}
	}
	if f.config != "" {
		if err := applyConfigFile(fs, f.config); err != nil {
			return nil, nil, err
		}
	}
	return f, fs, nil
}

func applyConfigFile(fs *flag.FlagSet, path string) error {
	kv, err := readConfigFile(path)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for k, v := range kv {
		if fs.Lookup(k) == nil || k == "config" {
			return fmt.Errorf("%s: unknown key %q", path, k)
		}
		if set[k] {
			continue
		}
		if err := fs.Set(k, v); err != nil {
			return fmt.Errorf("%s: %s: %w", path, k, err)
		}
	}
	return nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, fs, err := parseRunFlags("run", args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, f.logLevel, f.logFormat)
	if f.repo == "" {
		if err := setupDemo(f, fs, log); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	d, err := newDaemon(ctx, f, log)
	if err != nil {
		return err
	}
	d.args = args
	defer d.close()
	if f.once {
		return d.once(ctx, stdout)
	}
	return d.serve(ctx)
}

// daemon is `amigo run` wired up.
type daemon struct {
	flags    *runFlags
	args     []string // the command line, re-read with the config file on reload
	log      *logrus.Logger
	set      *settings
	src      *gitrepo.Repo
	cloud    reconciler.Cloud
	rec      *reconciler.Reconciler
	triggers *webhook.Coalescer
	health   *telemetry.Health
	metrics  *telemetry.Metrics
	tracer   trace.Tracer
	tp       trace.TracerProvider
	// flush exports the spans still buffered; bounded in time.
	flush    func(context.Context) error
	page     *page
	jobs     chan func(context.Context)
	reporter reconciler.Reporter
	// onPullRequest is set when Gitea is configured: it plans a PR's head.
	onPullRequest func(webhook.PullRequestEvent)
}

func newDaemon(ctx context.Context, f *runFlags, log *logrus.Logger) (*daemon, error) {
	d := &daemon{flags: f, log: log, set: &settings{}, triggers: webhook.NewCoalescer(),
		health: telemetry.NewHealth(5*time.Minute, time.Now), jobs: make(chan func(context.Context), 16),
		page: &page{traceURL: f.traceURL}}
	if err := d.loadSettings(f); err != nil {
		return nil, err
	}
	if err := d.setupTelemetry(ctx); err != nil {
		return nil, err
	}
	src, err := gitrepo.Open(ctx, gitrepo.Options{URL: f.repo, Branch: f.branch, StatusBranch: f.statusBranch,
		CacheDir: f.cacheDir, Token: d.set.Token()})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redact(f.repo), err)
	}
	d.src = src
	if d.cloud, err = d.openCloud(ctx); err != nil {
		return nil, err
	}
	d.cloud = d.metrics.CountCloud(telemetry.TraceCloud(d.cloud, d.tracer))
	if f.giteaURL != "" {
		if err := setupGitea(ctx, d); err != nil {
			return nil, fmt.Errorf("gitea: %w", err)
		}
	}
	d.rec = reconciler.New(reconciler.Options{Source: d.metrics.TimeSource(src), Cloud: d.cloud,
		Log: logrus.NewEntry(log), Tracer: d.tracer, HealthDeadline: f.healthDeadline, Reporter: d.reporter})
	return d, nil
}

// loadSettings (re)reads what may change at run time from f into d.set,
// the only place the running daemon reads them from.
func (d *daemon) loadSettings(f *runFlags) error {
	secret, err := secretFrom(f.webhookSecretFile, "AMIGO_WEBHOOK_SECRET")
	if err != nil {
		return err
	}
	token, err := secretFrom(f.tokenFile, "AMIGO_GITEA_TOKEN")
	if err != nil {
		return err
	}
	lvl, err := logrus.ParseLevel(f.logLevel)
	if err != nil {
		return fmt.Errorf("log-level: %w", err)
	}
	d.set.mu.Lock()
	d.set.interval, d.set.busy = f.interval, min(f.busy, f.interval)
	d.set.logLevel, d.set.webhookSecret, d.set.token = f.logLevel, []byte(secret), token
	d.set.mu.Unlock()
	d.log.SetLevel(lvl)
	return nil
}

// openCloud builds the driver from the desired branch's head: the sim is
// seeded from its stacks, AWS takes its Region and project.
func (d *daemon) openCloud(ctx context.Context) (reconciler.Cloud, error) {
	if d.flags.driver != "sim" && d.flags.driver != "aws" {
		return reconciler.Cloud{}, fmt.Errorf("unknown driver %q (want sim or aws)", d.flags.driver)
	}
	repo, err := loadHead(ctx, d.src)
	if err != nil {
		return reconciler.Cloud{}, err
	}
	if d.flags.driver == "aws" {
		return openAWS(ctx, d, repo)
	}
	return d.openSim(repo)
}

// openSim opens the simulated cloud and seeds it from the desired branch,
// so that every stack's load balancer, target groups and images exist.
func (d *daemon) openSim(repo *desired.Repo) (reconciler.Cloud, error) {
	c, err := sim.Open(d.flags.simState, sim.Options{Speed: d.flags.simSpeed})
	if err != nil {
		return reconciler.Cloud{}, fmt.Errorf("open simulated cloud: %w", err)
	}
	if err := c.Seed(repo.Settings, repo.Stacks); err != nil {
		return reconciler.Cloud{}, fmt.Errorf("seed simulated cloud: %w", err)
	}
	return c.Cloud(), nil
}

func loadHead(ctx context.Context, src reconciler.Source) (*desired.Repo, error) {
	rev, err := src.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	files, err := src.Files(ctx, rev)
	if err != nil {
		return nil, err
	}
	return desired.Load(files, rev)
}

// once runs one pass and prints what it did.
func (d *daemon) once(ctx context.Context, stdout io.Writer) error {
	res, err := d.rec.Reconcile(ctx, "once")
	printPass(stdout, res)
	return err
}

func printPass(w io.Writer, res reconciler.PassResult) {
	for _, a := range res.Applied {
		fmt.Fprintf(w, "applied %s: %s\n", a.Stack, a)
	}
	for _, sp := range res.Plan.Stacks {
		s := sp.Status
		fmt.Fprintf(w, "%-8s %-11s %-16s %3d%%  %s\n", s.Stack, s.Phase, dash(s.StepName), s.Weight, s.Message)
	}
	if res.Committed {
		fmt.Fprintf(w, "status committed (trace %s)\n", dash(res.TraceID))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// serve runs the daemon until ctx is done: the HTTP listener, the watches
// and the reconcile loop, each goroutine owned and waited for here.
func (d *daemon) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	if d.flags.listen != "" {
		srv, ln, err := d.httpServer()
		if err != nil {
			return err
		}
		d.log.WithField("addr", ln.Addr().String()).Info("listening")
		wg.Add(2)
		go func() { defer wg.Done(); _ = srv.Serve(ln) }()
		go func() {
			defer wg.Done()
			<-ctx.Done()
			sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			_ = srv.Shutdown(sctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := d.src.Watch(ctx, func() { d.triggers.Trigger("fsnotify") }); err != nil {
			d.log.WithError(err).Warn("repository watch stopped")
		}
	}()
	if d.flags.config != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := watchFile(d.flags.config, ctx.Done(), logrus.NewEntry(d.log), d.reload); err != nil {
				d.log.WithError(err).Warn("config watch stopped")
			}
		}()
	}
	d.log.WithFields(logrus.Fields{"repo": d.src.Describe(), "branch": d.src.Branch(), "driver": d.flags.driver}).Info("amigo started")
	return d.rec.Run(ctx, reconciler.LoopOptions{
		Interval: d.set.Interval, Busy: d.set.Busy, Triggers: d.triggers.C(), Jobs: d.jobs, MinGap: d.flags.burstGap,
		OnPass: func(trigger string, res reconciler.PassResult, err error, took time.Duration) {
			d.metrics.ObservePass(trigger, res, err, took)
			d.health.ObservePass(err, time.Now())
			d.page.observe(trigger, res, err)
		},
	})
}

// reload re-reads the config file; a bad file keeps the running settings.
// Flags given on the command line still win over the file.
func (d *daemon) reload() {
	f := *d.flags
	nf, _, err := parseRunFlags("run", d.args, io.Discard)
	if err != nil {
		d.log.WithError(err).Error("config reload rejected; keeping the running settings")
		return
	}
	f.interval, f.busy, f.logLevel = nf.interval, nf.busy, nf.logLevel
	f.webhookSecretFile, f.tokenFile = nf.webhookSecretFile, nf.tokenFile
	if err := d.loadSettings(&f); err != nil {
		d.log.WithError(err).Error("config reload rejected; keeping the running settings")
		return
	}
	d.log.WithFields(logrus.Fields{"interval": f.interval, "log_level": f.logLevel}).Info("config reloaded")
	d.triggers.Trigger("config")
}

func (d *daemon) httpServer() (*http.Server, net.Listener, error) {
	mux := http.NewServeMux()
	mux.Handle("/hooks/gitea", webhook.NewHandler(webhook.Options{
		Secret:        d.set.Secret,
		DesiredBranch: d.src.Branch,
		StatusBranch:  d.src.StatusBranch,
		OnPush:        func(webhook.PushEvent) { d.triggers.Trigger("webhook") },
		OnPullRequest: func(ev webhook.PullRequestEvent) {
			if d.onPullRequest != nil {
				d.onPullRequest(ev)
			}
		},
		Log:      logrus.NewEntry(d.log),
		OnResult: d.metrics.WebhookResult,
	}))
	mux.Handle("/", d.page)
	mux.Handle("/metrics", d.metrics.Handler())
	mux.Handle("/healthz", d.health.Healthz())
	mux.Handle("/readyz", d.health.Readyz())
	ln, err := net.Listen("tcp", d.flags.listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen: %w", err)
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln, nil
}

func newLogger(w io.Writer, level, format string) *logrus.Logger {
	json := format == "json"
	if format == "auto" {
		f, ok := w.(*os.File)
		json = !ok || !telemetry.IsTerminal(f)
	}
	return telemetry.NewLogger(w, level, json)
}

// openAWS builds the AWS driver for the Region and project of amigo.yaml;
// credentials come from the SDK's default chain.
func openAWS(ctx context.Context, d *daemon, repo *desired.Repo) (reconciler.Cloud, error) {
	drv, err := awsdriver.New(ctx, awsdriver.Options{Region: repo.Settings.AWS.Region, Project: repo.Settings.Project,
		Tracer: d.tracer, OnCall: d.metrics.ObserveAPICall})
	if err != nil {
		return reconciler.Cloud{}, fmt.Errorf("aws driver: %w", err)
	}
	return drv.Cloud(), nil
}
