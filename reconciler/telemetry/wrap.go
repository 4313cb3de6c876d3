package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// cloudCall describes one cloud API call to an interceptor.
type cloudCall struct {
	Service   string // the reconciler interface: Images, Fleets, Traffic, Metrics
	Operation string // its method: CreateFleet, SetForward, ...
	Attrs     []attribute.KeyValue
}

// interceptor runs f, the call itself, and may observe it. It returns f's
// error unchanged, so that callers still match it with errors.Is/As.
type interceptor func(ctx context.Context, c cloudCall, f func(context.Context) error) error

// wrapCloud puts around on every method of every interface of c. The
// clock passes through: reading it is not a call, and a nil interface
// stays nil.
func wrapCloud(c reconciler.Cloud, around interceptor) reconciler.Cloud {
	w := reconciler.Cloud{Clock: c.Clock}
	if c.Images != nil {
		w.Images = images{c.Images, around}
	}
	if c.Fleets != nil {
		w.Fleets = fleets{c.Fleets, around}
	}
	if c.Traffic != nil {
		w.Traffic = traffic{c.Traffic, around}
	}
	if c.Metrics != nil {
		w.Metrics = metrics{c.Metrics, around}
	}
	return w
}

// do runs a call returning a value through the interceptor.
func do[T any](ctx context.Context, around interceptor, c cloudCall, f func(context.Context) (T, error)) (T, error) {
	var v T
	err := around(ctx, c, func(ctx context.Context) error {
		var err error
		v, err = f(ctx)
		return err
	})
	return v, err
}

func call(service, op string, kv ...attribute.KeyValue) cloudCall {
	return cloudCall{Service: service, Operation: op, Attrs: kv}
}

// Attribute keys of cloud call spans, beside the amigo.* keys the
// reconciler's own spans use.
const (
	attrStack    = attribute.Key("amigo.stack")
	attrFleet    = attribute.Key("amigo.fleet")
	attrVersion  = attribute.Key("amigo.version")
	attrListener = attribute.Key("amigo.listener")
	attrRule     = attribute.Key("amigo.rule")
	attrTG       = attribute.Key("amigo.target_group")
	attrCount    = attribute.Key("amigo.count")
)

func stackAttr(id desired.StackID) attribute.KeyValue { return attrStack.String(id.String()) }

type images struct {
	next   reconciler.Images
	around interceptor
}

var _ reconciler.Images = images{}

func (w images) ResolveImage(ctx context.Context, q reconciler.ImageQuery) (reconciler.Image, error) {
	c := call("Images", "ResolveImage", attribute.String("amigo.role", q.Role),
		attribute.String("amigo.layer", q.Layer), attrVersion.String(q.Version))
	return do(ctx, w.around, c, func(ctx context.Context) (reconciler.Image, error) { return w.next.ResolveImage(ctx, q) })
}

type fleets struct {
	next   reconciler.Fleets
	around interceptor
}

var _ reconciler.Fleets = fleets{}

func (w fleets) ListFleets(ctx context.Context) ([]reconciler.Fleet, error) {
	return do(ctx, w.around, call("Fleets", "ListFleets"), w.next.ListFleets)
}

func (w fleets) CreateFleet(ctx context.Context, spec reconciler.FleetSpec) (reconciler.Fleet, error) {
	c := call("Fleets", "CreateFleet", stackAttr(spec.Stack), attrFleet.String(spec.Name), attrVersion.String(spec.Version))
	return do(ctx, w.around, c, func(ctx context.Context) (reconciler.Fleet, error) { return w.next.CreateFleet(ctx, spec) })
}

func (w fleets) ScaleFleet(ctx context.Context, name string, cp desired.Capacity) error {
	c := call("Fleets", "ScaleFleet", attrFleet.String(name), attribute.Int("amigo.desired", cp.Desired))
	return w.around(ctx, c, func(ctx context.Context) error { return w.next.ScaleFleet(ctx, name, cp) })
}

func (w fleets) RefreshFleet(ctx context.Context, name string, r reconciler.Refresh) error {
	c := call("Fleets", "RefreshFleet", attrFleet.String(name), attrVersion.String(r.Version), attribute.Int("amigo.percent", r.Percent))
	return w.around(ctx, c, func(ctx context.Context) error { return w.next.RefreshFleet(ctx, name, r) })
}

func (w fleets) DeleteFleet(ctx context.Context, name string) error {
	c := call("Fleets", "DeleteFleet", attrFleet.String(name))
	return w.around(ctx, c, func(ctx context.Context) error { return w.next.DeleteFleet(ctx, name) })
}

type traffic struct {
	next   reconciler.Traffic
	around interceptor
}

var _ reconciler.Traffic = traffic{}

func (w traffic) ReadListeners(ctx context.Context, refs []reconciler.ListenerRef) ([]reconciler.Listener, error) {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Listener
	}
	c := call("Traffic", "ReadListeners", attrCount.Int(len(refs)), attribute.Key("amigo.listeners").StringSlice(names))
	return do(ctx, w.around, c, func(ctx context.Context) ([]reconciler.Listener, error) { return w.next.ReadListeners(ctx, refs) })
}

func (w traffic) SetForward(ctx context.Context, listener, rule string, f reconciler.Forward) error {
	c := call("Traffic", "SetForward", attrListener.String(listener), attrRule.String(rule))
	return w.around(ctx, c, func(ctx context.Context) error { return w.next.SetForward(ctx, listener, rule, f) })
}

func (w traffic) CreateRule(ctx context.Context, listener string, r reconciler.Rule) (string, error) {
	c := call("Traffic", "CreateRule", attrListener.String(listener), stackAttr(r.Stack),
		attribute.Int("amigo.priority", r.Priority), attrTG.String(r.TargetGroup))
	return do(ctx, w.around, c, func(ctx context.Context) (string, error) { return w.next.CreateRule(ctx, listener, r) })
}

func (w traffic) DeleteRule(ctx context.Context, ruleARN string) error {
	c := call("Traffic", "DeleteRule", attrRule.String(ruleARN))
	return w.around(ctx, c, func(ctx context.Context) error { return w.next.DeleteRule(ctx, ruleARN) })
}

func (w traffic) TargetGroups(ctx context.Context, arns []string) ([]reconciler.TargetGroup, error) {
	c := call("Traffic", "TargetGroups", attrCount.Int(len(arns)), attribute.Key("amigo.target_groups").StringSlice(arns))
	return do(ctx, w.around, c, func(ctx context.Context) ([]reconciler.TargetGroup, error) { return w.next.TargetGroups(ctx, arns) })
}

type metrics struct {
	next   reconciler.Metrics
	around interceptor
}

var _ reconciler.Metrics = metrics{}

func (w metrics) TargetGroupMetrics(ctx context.Context, tg string, from, to time.Time) (reconciler.TGMetrics, error) {
	c := call("Metrics", "TargetGroupMetrics", attrTG.String(tg))
	return do(ctx, w.around, c, func(ctx context.Context) (reconciler.TGMetrics, error) {
		return w.next.TargetGroupMetrics(ctx, tg, from, to)
	})
}

func (w metrics) FleetMetrics(ctx context.Context, fleet string, from, to time.Time) (reconciler.FleetMetrics, error) {
	c := call("Metrics", "FleetMetrics", attrFleet.String(fleet))
	return do(ctx, w.around, c, func(ctx context.Context) (reconciler.FleetMetrics, error) {
		return w.next.FleetMetrics(ctx, fleet, from, to)
	})
}
