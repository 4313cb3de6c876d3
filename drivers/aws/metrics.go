package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/amigo-gitops/amigo/reconciler"
)

// metricQuery is one statistic of one metric.
type metricQuery struct {
	id, namespace, name, stat string
	dims                      map[string]string
}

// TargetGroupMetrics reads 5xx count, request count and average response
// time of the target group behind its load balancer over [from, to), all
// in one GetMetricData call. No RequestCount data means HasData false: a
// group nobody sent requests to has proven nothing.
func (d *Driver) TargetGroupMetrics(ctx context.Context, tg string, from, to time.Time) (reconciler.TGMetrics, error) {
	lb, err := d.loadBalancerOf(ctx, tg)
	if err != nil {
		return reconciler.TGMetrics{}, fmt.Errorf("target group metrics %s: %w", tg, err)
	}
	dims := map[string]string{"TargetGroup": arnSuffix(tg, ":"), "LoadBalancer": arnSuffix(lb, ":loadbalancer/")}
	const ns = "AWS/ApplicationELB"
	res, err := d.metricData(ctx, from, to, []metricQuery{
		{id: "errors", namespace: ns, name: "HTTPCode_Target_5XX_Count", stat: "Sum", dims: dims},
		{id: "requests", namespace: ns, name: "RequestCount", stat: "Sum", dims: dims},
		{id: "latency", namespace: ns, name: "TargetResponseTime", stat: "Average", dims: dims},
	})
	if err != nil {
		return reconciler.TGMetrics{}, fmt.Errorf("target group metrics %s: %w", tg, err)
	}
	if len(res["requests"]) == 0 {
		return reconciler.TGMetrics{}, nil
	}
	return reconciler.TGMetrics{
		HasData:  true,
		Requests: sum(res["requests"]),
		Errors5x: sum(res["errors"]), // ELB publishes no 5xx datapoint when there were none
		Latency:  time.Duration(mean(res["latency"]) * float64(time.Second)),
	}, nil
}

// FleetMetrics reads average CPU (EC2) and memory (CloudWatch agent,
// namespace CWAgent) of the group. Both series are needed for HasData.
func (d *Driver) FleetMetrics(ctx context.Context, fleet string, from, to time.Time) (reconciler.FleetMetrics, error) {
	dims := map[string]string{"AutoScalingGroupName": fleet}
	res, err := d.metricData(ctx, from, to, []metricQuery{
		{id: "cpu", namespace: "AWS/EC2", name: "CPUUtilization", stat: "Average", dims: dims},
		{id: "memory", namespace: "CWAgent", name: "mem_used_percent", stat: "Average", dims: dims},
	})
	if err != nil {
		return reconciler.FleetMetrics{}, fmt.Errorf("fleet metrics %s: %w", fleet, err)
	}
	if len(res["cpu"]) == 0 || len(res["memory"]) == 0 {
		return reconciler.FleetMetrics{}, nil
	}
	return reconciler.FleetMetrics{HasData: true, CPU: mean(res["cpu"]), Memory: mean(res["memory"])}, nil
}

// period covers the window in whole minutes, so each query answers one
// datapoint for a window up to CloudWatch's resolution.
func period(from, to time.Time) int32 {
	s := int32(to.Sub(from).Seconds())
	return max(60, (s+59)/60*60)
}

func (d *Driver) metricData(ctx context.Context, from, to time.Time, qs []metricQuery) (map[string][]float64, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("empty window %s..%s", from, to)
	}
	in := &cloudwatch.GetMetricDataInput{StartTime: awssdk.Time(from), EndTime: awssdk.Time(to), ScanBy: cwtypes.ScanByTimestampDescending}
	for _, q := range qs {
		var dims []cwtypes.Dimension
		for _, k := range slices.Sorted(maps.Keys(q.dims)) {
			dims = append(dims, cwtypes.Dimension{Name: awssdk.String(k), Value: awssdk.String(q.dims[k])})
		}
		in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
			Id: awssdk.String(q.id),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: awssdk.String(q.namespace), MetricName: awssdk.String(q.name), Dimensions: dims},
				Period: awssdk.Int32(period(from, to)),
				Stat:   awssdk.String(q.stat),
			},
			ReturnData: awssdk.Bool(true),
		})
	}
	out := map[string][]float64{}
	p := cloudwatch.NewGetMetricDataPaginator(d.cw, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("get metric data: %w", err)
		}
		for _, r := range page.MetricDataResults {
			out[awssdk.ToString(r.Id)] = append(out[awssdk.ToString(r.Id)], r.Values...)
		}
	}
	return out, nil
}

func (d *Driver) loadBalancerOf(ctx context.Context, tg string) (string, error) {
	if lb, ok := d.cache.lb(tg); ok {
		return lb, nil
	}
	out, err := d.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{tg}})
	if err != nil {
		return "", fmt.Errorf("describe target groups: %w", err)
	}
	if len(out.TargetGroups) != 1 || len(out.TargetGroups[0].LoadBalancerArns) == 0 {
		return "", fmt.Errorf("target group is not behind a load balancer")
	}
	lb := out.TargetGroups[0].LoadBalancerArns[0]
	d.cache.setLB(tg, lb)
	return lb, nil
}

// arnSuffix is what follows the last sep in arn; CloudWatch dimensions
// use "targetgroup/name/id" and "app/name/id".
func arnSuffix(arn, sep string) string {
	return arn[strings.LastIndex(arn, sep)+len(sep):]
}

func sum(vs []float64) float64 {
	t := 0.0
	for _, v := range vs {
		t += v
	}
	return t
}

func mean(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	return sum(vs) / float64(len(vs))
}
