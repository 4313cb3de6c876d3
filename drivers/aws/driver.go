package aws

import (
	"context"
	"fmt"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	"go.opentelemetry.io/otel/trace"

	"github.com/amigo-gitops/amigo/reconciler"
)

// Options configures a Driver. Only Project is required.
type Options struct {
	// Region is amigo.yaml's aws.region; empty uses the SDK's default
	// (AWS_REGION, shared config).
	Region string
	// Project is the image naming prefix used when a query has none.
	Project string
	// Budget is the process-wide API budget. Nil creates one for this
	// driver; pass the same Budget to every driver of a process.
	Budget *Budget
	// OnCall is called after every API attempt, retries included, for
	// metrics. service is the IAM prefix ("elasticloadbalancing").
	OnCall func(service, operation string, err error, throttled bool)
	// Endpoints overrides service endpoints. Empty fields leave the SDK's
	// resolution alone, including AWS_ENDPOINT_URL_<SERVICE>.
	Endpoints Endpoints
	// Credentials overrides the default credential chain (tests).
	Credentials awssdk.CredentialsProvider
	// Retry tunes the retryer; zero values keep the defaults.
	Retry RetryOptions
	// Tracer, when set, makes every SDK operation a client span.
	Tracer trace.Tracer
	// Clock is the reconciler's clock; nil is the wall clock.
	Clock reconciler.Clock
}

// Endpoints are base URLs per service.
type Endpoints struct {
	ELB, AutoScaling, EC2, ImageBuilder, CloudWatch string
}

// RetryOptions tune retries on throttling and transient errors.
type RetryOptions struct {
	MaxAttempts int           // default 8
	MaxBackoff  time.Duration // default 20s
	// Mode is awssdk.RetryModeAdaptive (the default: throttling also slows
	// the client down) or awssdk.RetryModeStandard (backoff only).
	Mode awssdk.RetryMode
}

// Driver talks to one AWS account and Region.
type Driver struct {
	elb     *elb.Client
	asg     *autoscaling.Client
	ec2     *ec2.Client
	ib      *imagebuilder.Client
	cw      *cloudwatch.Client
	region  string
	project string
	budget  *Budget
	clock   reconciler.Clock
	cache   *cache
}

var (
	_ reconciler.Images  = (*Driver)(nil)
	_ reconciler.Fleets  = (*Driver)(nil)
	_ reconciler.Traffic = (*Driver)(nil)
	_ reconciler.Metrics = (*Driver)(nil)
	_ reconciler.Clock   = wallClock{}
)

// New loads the default AWS configuration and builds the service clients.
func New(ctx context.Context, o Options) (*Driver, error) {
	if o.Budget == nil {
		o.Budget = NewBudget(nil)
	}
	load := []func(*config.LoadOptions) error{config.WithRetryer(newRetryer(o.Retry))}
	if o.Region != "" {
		load = append(load, config.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		load = append(load, config.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("load aws config: no region: set aws.region in amigo.yaml or AWS_REGION")
	}
	cfg.APIOptions = append(cfg.APIOptions, o.Budget.middleware(o.OnCall))
	if o.Tracer != nil {
		cfg.APIOptions = append(cfg.APIOptions, traceMiddleware(o.Tracer, cfg.Region))
	}
	d := &Driver{
		elb:     elb.NewFromConfig(cfg, func(c *elb.Options) { setEndpoint(&c.BaseEndpoint, o.Endpoints.ELB) }),
		asg:     autoscaling.NewFromConfig(cfg, func(c *autoscaling.Options) { setEndpoint(&c.BaseEndpoint, o.Endpoints.AutoScaling) }),
		ec2:     ec2.NewFromConfig(cfg, func(c *ec2.Options) { setEndpoint(&c.BaseEndpoint, o.Endpoints.EC2) }),
		ib:      imagebuilder.NewFromConfig(cfg, func(c *imagebuilder.Options) { setEndpoint(&c.BaseEndpoint, o.Endpoints.ImageBuilder) }),
		cw:      cloudwatch.NewFromConfig(cfg, func(c *cloudwatch.Options) { setEndpoint(&c.BaseEndpoint, o.Endpoints.CloudWatch) }),
		region:  cfg.Region,
		project: o.Project,
		budget:  o.Budget,
		clock:   o.Clock,
		cache:   newCache(),
	}
	if d.clock == nil {
		d.clock = wallClock{}
	}
	return d, nil
}

// setEndpoint sets a base endpoint only when one is given, so that the
// SDK's own resolution (AWS_ENDPOINT_URL_*) is never overridden by "".
func setEndpoint(dst **string, url string) {
	if url != "" {
		*dst = awssdk.String(url)
	}
}

// Cloud returns the driver's implementations of the reconciler's
// interfaces.
func (d *Driver) Cloud() reconciler.Cloud {
	return reconciler.Cloud{Images: d, Fleets: d, Traffic: d, Metrics: d, Clock: d.clock}
}

// Calls returns the API calls made through the driver's budget.
func (d *Driver) Calls() Calls { return d.budget.Calls() }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }
