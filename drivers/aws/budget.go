package aws

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Rate is a token bucket: PerSecond tokens refill, at most Burst saved.
type Rate struct {
	PerSecond float64
	Burst     int
}

// DefaultLimits are the buckets per API family, "service:read" for
// Describe/List/Get calls and "service:write" for the rest. They stay
// under the accounts' documented request-rate quotas so that amigo leaves
// room for people and other tools sharing the account: the ELB Describe
// bucket refills at 10/s, EC2's non-mutating one at 20/s (mutating 5/s),
// CloudWatch GetMetricData at 50/s.
func DefaultLimits() map[string]Rate {
	return map[string]Rate{
		"elasticloadbalancing:read":  {PerSecond: 10, Burst: 10},
		"elasticloadbalancing:write": {PerSecond: 5, Burst: 5},
		"autoscaling:read":           {PerSecond: 10, Burst: 20},
		"autoscaling:write":          {PerSecond: 5, Burst: 10},
		"ec2:read":                   {PerSecond: 20, Burst: 50},
		"ec2:write":                  {PerSecond: 5, Burst: 10},
		"imagebuilder:read":          {PerSecond: 5, Burst: 10},
		"imagebuilder:write":         {PerSecond: 2, Burst: 2},
		"cloudwatch:read":            {PerSecond: 50, Burst: 50},
	}
}

// defaultRate applies to a family missing from the limits.
var defaultRate = Rate{PerSecond: 5, Burst: 5}

// Op names one API operation; Service is the IAM prefix.
type Op struct {
	Service, Operation string
}

// Action is the IAM action name, e.g. "ec2:DescribeImages".
func (o Op) Action() string { return o.Service + ":" + o.Operation }

// Count is what happened to one operation.
type Count struct {
	Calls     int // attempts, retries included
	Throttles int // attempts answered with a throttling error
	Errors    int // attempts that failed, throttles included
}

// Calls is a snapshot of a budget's counts.
type Calls struct {
	ByOp      map[Op]Count
	Total     int
	Throttles int
}

// Actions returns the sorted IAM actions called.
func (c Calls) Actions() []string {
	var out []string
	for op := range c.ByOp {
		out = append(out, op.Action())
	}
	sort.Strings(out)
	return out
}

// Budget is the API budget of a process: one token bucket per API family
// and a count of every call. Share one Budget between all drivers.
type Budget struct {
	mu      sync.Mutex
	limits  map[string]Rate
	buckets map[string]*bucket
	counts  map[Op]Count
	now     func() time.Time
}

// NewBudget returns a budget; limits override DefaultLimits per family.
func NewBudget(limits map[string]Rate) *Budget {
	l := DefaultLimits()
	for k, v := range limits {
		l[k] = v
	}
	return &Budget{limits: l, buckets: map[string]*bucket{}, counts: map[Op]Count{}, now: time.Now}
}

// Calls returns a snapshot of the counts.
func (b *Budget) Calls() Calls {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := Calls{ByOp: make(map[Op]Count, len(b.counts))}
	for op, n := range b.counts {
		c.ByOp[op] = n
		c.Total += n.Calls
		c.Throttles += n.Throttles
	}
	return c
}

func family(service, operation string) string {
	for _, p := range []string{"Describe", "List", "Get"} {
		if strings.HasPrefix(operation, p) {
			return service + ":read"
		}
	}
	return service + ":write"
}

// reserve takes a token from the operation's family and says how long to
// wait before it may be spent.
func (b *Budget) reserve(service, operation string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := family(service, operation)
	bk, ok := b.buckets[f]
	if !ok {
		r, ok := b.limits[f]
		if !ok {
			r = defaultRate
		}
		bk = &bucket{rate: r.PerSecond, burst: float64(r.Burst), tokens: float64(r.Burst), last: b.now()}
		b.buckets[f] = bk
	}
	return bk.reserve(b.now())
}

func (b *Budget) wait(ctx context.Context, service, operation string) error {
	d := b.reserve(service, operation)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (b *Budget) record(op Op, err error, throttled bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.counts[op]
	n.Calls++
	if err != nil {
		n.Errors++
	}
	if throttled {
		n.Throttles++
	}
	b.counts[op] = n
}

// bucket is a token bucket whose balance may go negative: a caller that
// takes the last token waits until it is paid back, so waiters queue in
// arrival order without a background goroutine.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (k *bucket) reserve(now time.Time) time.Duration {
	if el := now.Sub(k.last).Seconds(); el > 0 {
		k.tokens = min(k.burst, k.tokens+el*k.rate)
		k.last = now
	}
	k.tokens--
	if k.tokens >= 0 {
		return 0
	}
	return time.Duration(-k.tokens / k.rate * float64(time.Second))
}

// middleware runs once per attempt (the deserialize step sits inside the
// retry loop): it spends a token, then counts the attempt.
func (b *Budget) middleware(onCall func(service, operation string, err error, throttled bool)) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("amigoBudget",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				op := Op{Service: iamPrefix(awsmiddleware.GetServiceID(ctx)), Operation: middleware.GetOperationName(ctx)}
				if err := b.wait(ctx, op.Service, op.Operation); err != nil {
					return middleware.DeserializeOutput{}, middleware.Metadata{}, err
				}
				out, md, err := next.HandleDeserialize(ctx, in)
				throttled := isThrottle(err)
				b.record(op, err, throttled)
				if onCall != nil {
					onCall(op.Service, op.Operation, err, throttled)
				}
				return out, md, err
			}), middleware.Before)
	}
}

func iamPrefix(serviceID string) string {
	switch serviceID {
	case "Elastic Load Balancing v2":
		return "elasticloadbalancing"
	case "Auto Scaling":
		return "autoscaling"
	}
	return strings.ToLower(serviceID)
}

// throttleCodes are the default throttling codes plus Image Builder's own.
func throttleCodes() map[string]struct{} {
	codes := map[string]struct{}{"CallRateLimitExceededException": {}}
	for k := range retry.DefaultThrottleErrorCodes {
		codes[k] = struct{}{}
	}
	return codes
}

func isThrottle(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	_, ok := throttleCodes()[ae.ErrorCode()]
	return ok
}

// newRetryer is adaptive: on throttling it backs off and slows the client
// down; the client-side retry quota is off because the budget's buckets
// already pace the process.
func newRetryer(o RetryOptions) func() awssdk.Retryer {
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 8
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 20 * time.Second
	}
	codes := throttleCodes()
	standard := func(s *retry.StandardOptions) {
		s.MaxAttempts = o.MaxAttempts
		s.MaxBackoff = o.MaxBackoff
		s.Backoff = retry.NewExponentialJitterBackoff(o.MaxBackoff)
		s.RateLimiter = ratelimit.None
		s.Retryables = append(s.Retryables, retry.RetryableErrorCode{Codes: codes})
		s.Throttles = append(s.Throttles, retry.ThrottleErrorCode{Codes: codes})
	}
	if o.Mode == awssdk.RetryModeStandard {
		return func() awssdk.Retryer { return retry.NewStandard(standard) }
	}
	return func() awssdk.Retryer {
		return retry.NewAdaptiveMode(func(a *retry.AdaptiveModeOptions) {
			a.Throttles = append(a.Throttles, retry.ThrottleErrorCode{Codes: codes})
			a.StandardOptions = append(a.StandardOptions, standard)
		})
	}
}
