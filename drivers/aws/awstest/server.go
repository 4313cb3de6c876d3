package awstest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"sync"
	"time"
)

// Service names, as IAM action prefixes.
const (
	ELB          = "elasticloadbalancing"
	AutoScaling  = "autoscaling"
	EC2          = "ec2"
	ImageBuilder = "imagebuilder"
	CloudWatch   = "cloudwatch"
)

// Timings of the simulated account.
const (
	LaunchDelay  = 60 * time.Second // pending -> InService
	HealthyDelay = 30 * time.Second // registered target initial -> healthy
	tick         = 5 * time.Second
)

// apiError is an error answer in the service's protocol.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errf(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
}

// Cloud is one simulated AWS account and Region served over five
// loopback HTTP servers.
type Cloud struct {
	Region  string
	Account string

	mu       sync.Mutex
	now      time.Time
	seq      int
	actions  map[string]int
	throttle map[string]int
	elb      elbState
	asg      asgState
	ec2      ec2State
	ib       ibState
	cw       cwState
	servers  map[string]*httptest.Server
}

// New starts the servers. Call Close when done.
func New() *Cloud {
	c := &Cloud{
		Region:   "ap-northeast-1",
		Account:  "123456789012",
		now:      time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC),
		actions:  map[string]int{},
		throttle: map[string]int{},
		elb:      newELBState(),
		asg:      newASGState(),
		ec2:      newEC2State(),
		ib:       newIBState(),
		cw:       newCWState(),
		servers:  map[string]*httptest.Server{},
	}
	c.servers[ELB] = httptest.NewServer(c.queryHandler(ELB, elbNS, c.elbOps()))
	c.servers[AutoScaling] = httptest.NewServer(c.queryHandler(AutoScaling, asgNS, c.asgOps()))
	c.servers[EC2] = httptest.NewServer(http.HandlerFunc(c.serveEC2))
	c.servers[ImageBuilder] = httptest.NewServer(http.HandlerFunc(c.serveIB))
	c.servers[CloudWatch] = httptest.NewServer(http.HandlerFunc(c.serveCW))
	return c
}

// Close stops every server.
func (c *Cloud) Close() {
	for _, s := range c.servers {
		s.Close()
	}
}

// Endpoint returns the base URL of a service (ELB, AutoScaling, ...).
func (c *Cloud) Endpoint(service string) string { return c.servers[service].URL }

// Now is the simulated time.
func (c *Cloud) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock and lets the account catch up: instances launch
// and turn healthy, targets drain, refreshes progress.
func (c *Cloud) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.now.Add(d)
	for c.now.Before(end) {
		step := tick
		if rest := end.Sub(c.now); rest < step {
			step = rest
		}
		from := c.now
		c.now = c.now.Add(step)
		busy := c.simulate()
		if !busy {
			c.now = end
			c.simulate()
		}
		c.emitMetrics(from, c.now)
	}
}

// Actions returns how many requests each IAM action ("ec2:DescribeImages")
// received, throttled ones included.
func (c *Cloud) Actions() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.actions))
	for k, v := range c.actions {
		out[k] = v
	}
	return out
}

// ActionNames returns the sorted IAM actions seen.
func (c *Cloud) ActionNames() []string {
	var out []string
	for k := range c.Actions() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Throttle makes the next n requests for action ("elasticloadbalancing:
// DescribeListeners") fail with the service's throttling error.
func (c *Cloud) Throttle(action string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.throttle[action] += n
}

// begin records a request and reports whether it is to be throttled.
func (c *Cloud) begin(action string) (throttled bool) {
	c.simulate() // effects of the previous request show without time passing
	c.actions[action]++
	if c.throttle[action] > 0 {
		c.throttle[action]--
		return true
	}
	return false
}

func (c *Cloud) id(prefix string) string {
	c.seq++
	return fmt.Sprintf("%s%017x", prefix, c.seq)
}

// simulate applies one tick; it reports whether anything is still moving.
func (c *Cloud) simulate() bool {
	busy := c.simulateFleets()
	if c.simulateTargets() {
		busy = true
	}
	return busy
}

type queryOp func(p *node) ([]x, error)

// queryHandler serves an awsQuery service: a form POST with Action and
// Version, answered by <ActionResponse><ActionResult>.
func (c *Cloud) queryHandler(service, ns string, ops map[string]queryOp) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		if err != nil || r.Method != http.MethodPost {
			writeQueryError(w, ns, errf("MalformedQueryString", "bad request"))
			return
		}
		action := form.Get("Action")
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.begin(service + ":" + action) {
			writeQueryError(w, ns, &apiError{status: http.StatusBadRequest, code: "Throttling", msg: "Rate exceeded"})
			return
		}
		op, ok := ops[action]
		if !ok {
			writeQueryError(w, ns, errf("InvalidAction", "action %s is not implemented", action))
			return
		}
		result, err := op(parseForm(form))
		if err != nil {
			writeQueryError(w, ns, asAPIError(err))
			return
		}
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
		b.WriteString(`<` + action + `Response xmlns="` + ns + `">`)
		el(action+"Result", result...).write(&b)
		el("ResponseMetadata", tx("RequestId", "req-"+action)).write(&b)
		b.WriteString(`</` + action + `Response>`)
		w.Header().Set("Content-Type", "text/xml")
		w.Write(b.Bytes())
	})
}

func asAPIError(err error) *apiError {
	if ae, ok := err.(*apiError); ok {
		return ae
	}
	return &apiError{status: http.StatusInternalServerError, code: "InternalFailure", msg: err.Error()}
}

func writeQueryError(w http.ResponseWriter, ns string, e *apiError) {
	var b bytes.Buffer
	b.WriteString(`<ErrorResponse xmlns="` + ns + `">`)
	el("Error", tx("Type", "Sender"), tx("Code", e.code), tx("Message", e.msg)).write(&b)
	tx("RequestId", "req-error").write(&b)
	b.WriteString(`</ErrorResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	w.Write(b.Bytes())
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
