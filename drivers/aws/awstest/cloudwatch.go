package awstest

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

type cwState struct {
	points map[string][]point // metricKey -> points
	quiet  bool               // no synthetic metrics
}

func newCWState() cwState { return cwState{points: map[string][]point{}} }

type point struct {
	t time.Time
	v float64
}

func metricKey(namespace, name string, dims map[string]string) string {
	parts := []string{namespace, name}
	for _, k := range slices.Sorted(maps.Keys(dims)) {
		parts = append(parts, k+"="+dims[k])
	}
	return strings.Join(parts, "|")
}

// PutMetric records a data point.
func (c *Cloud) PutMetric(namespace, name string, dims map[string]string, t time.Time, v float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := metricKey(namespace, name, dims)
	c.cw.points[k] = append(c.cw.points[k], point{t: t, v: v})
}

// serveCW answers Smithy RPC v2 CBOR requests at
// /service/GraniteServiceVersion20100801/operation/<Operation>.
func (c *Cloud) serveCW(w http.ResponseWriter, r *http.Request) {
	op := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.begin(CloudWatch + ":" + op) {
		writeCBORError(w, "ThrottlingException", "Throttling", "Rate exceeded")
		return
	}
	if r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || op != "GetMetricData" {
		writeCBORError(w, "InvalidAction", "InvalidAction", op+" is not implemented")
		return
	}
	body, _ := io.ReadAll(r.Body)
	v, err := cbor.Decode(body)
	in, ok := v.(cbor.Map)
	if err != nil || !ok {
		writeCBORError(w, "InvalidParameterValue", "InvalidParameterValue", "body is not a CBOR map")
		return
	}
	out, err := c.getMetricData(in)
	if err != nil {
		writeCBORError(w, "InvalidParameterValue", "InvalidParameterValue", err.Error())
		return
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Write(cbor.Encode(out))
}

func writeCBORError(w http.ResponseWriter, typ, queryCode, msg string) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("X-Amzn-Query-Error", queryCode+";Sender")
	w.WriteHeader(http.StatusBadRequest)
	w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(typ), "message": cbor.String(msg)}))
}

func str(m cbor.Map, k string) string {
	s, _ := m[k].(cbor.String)
	return string(s)
}

func (c *Cloud) getMetricData(in cbor.Map) (cbor.Value, error) {
	start, err := cbor.AsTime(in["StartTime"])
	if err != nil {
		return nil, fmt.Errorf("StartTime: %w", err)
	}
	end, err := cbor.AsTime(in["EndTime"])
	if err != nil {
		return nil, fmt.Errorf("EndTime: %w", err)
	}
	queries, _ := in["MetricDataQueries"].(cbor.List)
	results := cbor.List{}
	for _, q := range queries {
		qm, _ := q.(cbor.Map)
		res, err := c.metricResult(qm, start, end)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
	}
	return cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}, nil
}

func (c *Cloud) metricResult(q cbor.Map, start, end time.Time) (cbor.Value, error) {
	stat, _ := q["MetricStat"].(cbor.Map)
	metric, _ := stat["Metric"].(cbor.Map)
	if metric == nil {
		return nil, fmt.Errorf("query %s: only MetricStat queries are supported", str(q, "Id"))
	}
	dims := map[string]string{}
	list, _ := metric["Dimensions"].(cbor.List)
	for _, d := range list {
		dm, _ := d.(cbor.Map)
		dims[str(dm, "Name")] = str(dm, "Value")
	}
	period, err := cbor.AsInt64(stat["Period"])
	if err != nil || period <= 0 {
		return nil, fmt.Errorf("query %s: bad period", str(q, "Id"))
	}
	buckets := map[int64][]float64{}
	for _, p := range c.cw.points[metricKey(str(metric, "Namespace"), str(metric, "MetricName"), dims)] {
		if p.t.Before(start) || !p.t.Before(end) {
			continue
		}
		b := int64(p.t.Sub(start)/time.Second) / period
		buckets[b] = append(buckets[b], p.v)
	}
	var keys []int64
	for k := range buckets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] > keys[j] }) // newest first, as CloudWatch answers
	ts, vals := cbor.List{}, cbor.List{}
	for _, k := range keys {
		t := start.Add(time.Duration(k*period) * time.Second)
		ts = append(ts, &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.Unix()))})
		vals = append(vals, cbor.Float64(aggregate(str(stat, "Stat"), buckets[k])))
	}
	return cbor.Map{"Id": q["Id"], "Label": metric["MetricName"], "Timestamps": ts, "Values": vals,
		"StatusCode": cbor.String("Complete")}, nil
}

func aggregate(stat string, vs []float64) float64 {
	sum, hi := 0.0, vs[0]
	for _, v := range vs {
		sum += v
		hi = max(hi, v)
	}
	switch stat {
	case "Sum":
		return sum
	case "Maximum":
		return hi
	}
	return sum / float64(len(vs))
}

// Synthetic figures the account publishes while it serves traffic.
const (
	requestsPerTarget = 60.0 // per minute
	responseTime      = 0.120
	cpuPercent        = 22.0
	memoryPercent     = 41.0
)

// SyntheticMetrics turns on or off the metrics the simulated account
// publishes each minute: request count and response time for target
// groups that receive traffic and have healthy targets, CPU and memory
// for groups with instances in service. It is on by default.
func (c *Cloud) SyntheticMetrics(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cw.quiet = !on
}

// emitMetrics publishes one datapoint per minute boundary in (from, to].
func (c *Cloud) emitMetrics(from, to time.Time) {
	if c.cw.quiet {
		return
	}
	for m := from.Truncate(time.Minute).Add(time.Minute); !m.After(to); m = m.Add(time.Minute) {
		c.emitMinute(m)
	}
}

func (c *Cloud) emitMinute(t time.Time) {
	weights := c.servingWeights()
	for arn, tg := range c.elb.tgs {
		healthy := 0
		for _, x := range tg.targets {
			if x.state == "healthy" {
				healthy++
			}
		}
		if healthy == 0 || weights[arn] == 0 {
			continue
		}
		dims := map[string]string{"TargetGroup": arn[strings.LastIndex(arn, ":")+1:],
			"LoadBalancer": tg.lbs[0][strings.Index(tg.lbs[0], ":loadbalancer/")+len(":loadbalancer/"):]}
		c.putPoint("AWS/ApplicationELB", "RequestCount", dims, t, requestsPerTarget*float64(healthy))
		c.putPoint("AWS/ApplicationELB", "TargetResponseTime", dims, t, responseTime)
	}
	for _, g := range c.asg.groups {
		for _, in := range g.instances {
			if in.state == "InService" {
				dims := map[string]string{"AutoScalingGroupName": g.name}
				c.putPoint("AWS/EC2", "CPUUtilization", dims, t, cpuPercent)
				c.putPoint("CWAgent", "mem_used_percent", dims, t, memoryPercent)
				break
			}
		}
	}
}

// servingWeights sums the forward weights of every listener and rule per
// target group.
func (c *Cloud) servingWeights() map[string]int {
	out := map[string]int{}
	add := func(n *node) {
		for _, a := range actionsOf(n) {
			for _, w := range a.Forward {
				out[w.TargetGroup] += w.Weight
			}
		}
	}
	for _, l := range c.elb.listeners {
		add(l.actions)
	}
	for _, r := range c.elb.rules {
		add(r.actions)
	}
	return out
}

func (c *Cloud) putPoint(namespace, name string, dims map[string]string, t time.Time, v float64) {
	k := metricKey(namespace, name, dims)
	c.cw.points[k] = append(c.cw.points[k], point{t: t, v: v})
}
