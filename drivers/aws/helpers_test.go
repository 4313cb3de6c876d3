package aws

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/amigo-gitops/amigo/drivers/aws/awstest"
)

// seen records every IAM action the driver called during the test run,
// for TestMain's comparison with examples/iam-policy.json.
var seen = struct {
	sync.Mutex
	actions map[string]bool
}{actions: map[string]bool{}}

func record(service, operation string, _ error, _ bool) {
	seen.Lock()
	defer seen.Unlock()
	seen.actions[service+":"+operation] = true
}

// fastLimits keeps the budget out of the way of tests that are not about it.
func fastLimits() map[string]Rate {
	l := map[string]Rate{}
	for k := range DefaultLimits() {
		l[k] = Rate{PerSecond: 1e6, Burst: 1e6}
	}
	return l
}

func newCloud(t testing.TB) *awstest.Cloud {
	t.Helper()
	c := awstest.New()
	t.Cleanup(c.Close)
	return c
}

func newDriver(t testing.TB, c *awstest.Cloud, opts ...func(*Options)) *Driver {
	t.Helper()
	o := Options{
		Region:      c.Region,
		Project:     "idhub-40",
		Budget:      NewBudget(fastLimits()),
		OnCall:      record,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Endpoints: Endpoints{
			ELB: c.Endpoint(awstest.ELB), AutoScaling: c.Endpoint(awstest.AutoScaling), EC2: c.Endpoint(awstest.EC2),
			ImageBuilder: c.Endpoint(awstest.ImageBuilder), CloudWatch: c.Endpoint(awstest.CloudWatch),
		},
		Retry: RetryOptions{MaxBackoff: 5 * time.Millisecond},
		Clock: c,
	}
	for _, f := range opts {
		f(&o)
	}
	d, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// ops returns the calls per IAM action.
func ops(d *Driver) map[string]int {
	out := map[string]int{}
	for op, n := range d.Calls().ByOp {
		out[op.Action()] = n.Calls
	}
	return out
}

// stackInfra is what a stack's target block refers to.
type stackInfra struct {
	lb, listener, blue, green, lt string
	baseAMI                       string
}

func seedStack(c *awstest.Cloud, name string, actions ...awstest.Action) stackInfra {
	var s stackInfra
	s.lb = c.CreateLoadBalancer(name)
	s.blue = c.CreateTargetGroup(name+"-blue", s.lb)
	s.green = c.CreateTargetGroup(name+"-green", s.lb)
	fwd := awstest.Action{Type: "forward", Order: len(actions) + 1, Forward: []awstest.Weight{{TargetGroup: s.blue, Weight: 100}, {TargetGroup: s.green, Weight: 0}}}
	s.listener = c.CreateListener(s.lb, append(actions, fwd)...)
	s.baseAMI = c.AddAMI("al2023-base", "available", c.Now(), nil)
	s.lt = c.CreateLaunchTemplate(name, s.baseAMI)
	return s
}
