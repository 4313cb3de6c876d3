package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// Tags recording an instance refresh in progress on a group: the target
// version, AMI, launch template version and checkpoint. A refresh is in
// progress while TagRefreshAMI differs from reconciler.TagAMI.
const (
	TagRefreshVersion = "amigo:refresh-version"
	TagRefreshAMI     = "amigo:refresh-ami"
	TagRefreshLT      = "amigo:refresh-lt"
	TagRefreshPercent = "amigo:refresh-percent"
)

// Instance refresh preferences: capacity never under 75% in service.
const minHealthyPercent = 75

// ListFleets pages through DescribeAutoScalingGroups filtered by the
// amigo:stack tag key: 100 groups a call, one call for most estates.
// Refresh progress is derived from the instances' launch template
// versions, so following a refresh costs no extra call.
func (d *Driver) ListFleets(ctx context.Context) ([]reconciler.Fleet, error) {
	in := &autoscaling.DescribeAutoScalingGroupsInput{
		Filters:    []asgtypes.Filter{{Name: awssdk.String("tag-key"), Values: []string{reconciler.TagStack}}},
		MaxRecords: awssdk.Int32(100),
	}
	var out []reconciler.Fleet
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(d.asg, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list fleets: %w", err)
		}
		for _, g := range page.AutoScalingGroups {
			f, err := fleetOf(g)
			if err != nil {
				return nil, fmt.Errorf("list fleets: %w", err)
			}
			out = append(out, f)
		}
	}
	return out, nil
}

func asgTags(g asgtypes.AutoScalingGroup) map[string]string {
	m := map[string]string{}
	for _, t := range g.Tags {
		m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return m
}

func fleetOf(g asgtypes.AutoScalingGroup) (reconciler.Fleet, error) {
	name := awssdk.ToString(g.AutoScalingGroupName)
	tags := asgTags(g)
	stack, err := desired.ParseStackID(tags[reconciler.TagStack])
	if err != nil {
		return reconciler.Fleet{}, fmt.Errorf("group %s: tag %s: %w", name, reconciler.TagStack, err)
	}
	f := reconciler.Fleet{
		Name: name, Stack: stack, Version: tags[reconciler.TagVersion], AMI: tags[reconciler.TagAMI],
		Slot: reconciler.Slot(tags[reconciler.TagSlot]),
		Capacity: desired.Capacity{Desired: int(awssdk.ToInt32(g.DesiredCapacity)), Min: int(awssdk.ToInt32(g.MinSize)),
			Max: int(awssdk.ToInt32(g.MaxSize))},
		CreatedAt: awssdk.ToTime(g.CreatedTime),
	}
	if len(g.TargetGroupARNs) > 0 {
		f.TargetGroup = g.TargetGroupARNs[0]
	}
	refreshing := tags[TagRefreshAMI] != "" && tags[TagRefreshAMI] != f.AMI
	done := 0
	for _, in := range g.Instances {
		inst := reconciler.Instance{ID: awssdk.ToString(in.InstanceId), AMI: f.AMI, Zone: awssdk.ToString(in.AvailabilityZone),
			Healthy: awssdk.ToString(in.HealthStatus) == "Healthy" && in.LifecycleState == asgtypes.LifecycleStateInService}
		if refreshing && in.LaunchTemplate != nil && awssdk.ToString(in.LaunchTemplate.Version) == tags[TagRefreshLT] {
			inst.AMI = tags[TagRefreshAMI]
			if inst.Healthy {
				done++
			}
		}
		f.Instances = append(f.Instances, inst)
	}
	if !refreshing {
		return f, nil
	}
	pct, _ := strconv.Atoi(tags[TagRefreshPercent])
	if pct == 100 && done == f.Capacity.Desired && len(f.Instances) == done {
		// Complete: every instance runs the new AMI. The tags catch up on
		// the next RefreshFleet; observation does not wait for that write.
		f.Version, f.AMI = tags[TagRefreshVersion], tags[TagRefreshAMI]
		return f, nil
	}
	f.Refresh = &reconciler.RefreshStatus{Version: tags[TagRefreshVersion], AMI: tags[TagRefreshAMI], Percent: pct,
		Done: min(100, done*100/max(1, f.Capacity.Desired))}
	return f, nil
}

// group reads one group; a missing group is (nil, nil).
func (d *Driver) group(ctx context.Context, name string) (*asgtypes.AutoScalingGroup, error) {
	out, err := d.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("describe group: %w", err)
	}
	if len(out.AutoScalingGroups) == 0 {
		return nil, nil
	}
	return &out.AutoScalingGroups[0], nil
}

// CreateFleet makes a launch template version with the AMI and a group
// on it. A group of that name that already exists is returned as is, so a
// retried create does not fail.
func (d *Driver) CreateFleet(ctx context.Context, spec reconciler.FleetSpec) (reconciler.Fleet, error) {
	if g, err := d.group(ctx, spec.Name); err != nil || g != nil {
		if err != nil {
			return reconciler.Fleet{}, fmt.Errorf("create fleet %s: %w", spec.Name, err)
		}
		return fleetOf(*g)
	}
	lt := launchTemplateSpec(spec.LaunchTemplate)
	version, err := d.newTemplateVersion(ctx, lt, "$Default", spec.AMI, spec.Stack.String()+" "+spec.Version)
	if err != nil {
		return reconciler.Fleet{}, fmt.Errorf("create fleet %s: %w", spec.Name, err)
	}
	lt.Version = awssdk.String(version)
	_, err = d.asg.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName:   awssdk.String(spec.Name),
		LaunchTemplate:         lt,
		MinSize:                awssdk.Int32(int32(spec.Capacity.Min)),
		MaxSize:                awssdk.Int32(int32(spec.Capacity.Max)),
		DesiredCapacity:        awssdk.Int32(int32(spec.Capacity.Desired)),
		VPCZoneIdentifier:      awssdk.String(strings.Join(spec.Subnets, ",")),
		TargetGroupARNs:        []string{spec.TargetGroup},
		HealthCheckType:        awssdk.String("ELB"),
		HealthCheckGracePeriod: awssdk.Int32(120),
		Tags: groupTags(spec.Name, map[string]string{
			reconciler.TagStack: spec.Stack.String(), reconciler.TagVersion: spec.Version,
			reconciler.TagAMI: spec.AMI, reconciler.TagSlot: string(spec.Slot),
		}),
	})
	if err != nil {
		return reconciler.Fleet{}, fmt.Errorf("create fleet %s: %w", spec.Name, err)
	}
	f, err := d.readFleet(ctx, spec.Name)
	if err != nil {
		return reconciler.Fleet{}, fmt.Errorf("create fleet %s: %w", spec.Name, err)
	}
	if f.AMI != spec.AMI || f.Stack != spec.Stack || f.Capacity != spec.Capacity {
		return reconciler.Fleet{}, fmt.Errorf("create fleet %s: read back %s %s %+v, want %s %s %+v", spec.Name, f.Stack, f.AMI, f.Capacity, spec.Stack, spec.AMI, spec.Capacity)
	}
	return f, nil
}

func (d *Driver) readFleet(ctx context.Context, name string) (reconciler.Fleet, error) {
	g, err := d.group(ctx, name)
	if err != nil {
		return reconciler.Fleet{}, fmt.Errorf("read back: %w", err)
	}
	if g == nil {
		return reconciler.Fleet{}, fmt.Errorf("read back: group not found")
	}
	return fleetOf(*g)
}

func launchTemplateSpec(idOrName string) *asgtypes.LaunchTemplateSpecification {
	if strings.HasPrefix(idOrName, "lt-") {
		return &asgtypes.LaunchTemplateSpecification{LaunchTemplateId: awssdk.String(idOrName)}
	}
	return &asgtypes.LaunchTemplateSpecification{LaunchTemplateName: awssdk.String(idOrName)}
}

func groupTags(name string, m map[string]string) []asgtypes.Tag {
	var out []asgtypes.Tag
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, asgtypes.Tag{Key: awssdk.String(k), Value: awssdk.String(m[k]), ResourceId: awssdk.String(name),
			ResourceType: awssdk.String("auto-scaling-group"), PropagateAtLaunch: awssdk.Bool(true)})
	}
	return out
}

// newTemplateVersion adds a launch template version that differs from
// source only by its AMI, and returns its number.
func (d *Driver) newTemplateVersion(ctx context.Context, lt *asgtypes.LaunchTemplateSpecification, source, ami, why string) (string, error) {
	out, err := d.ec2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   lt.LaunchTemplateId,
		LaunchTemplateName: lt.LaunchTemplateName,
		SourceVersion:      awssdk.String(source),
		VersionDescription: awssdk.String("amigo " + why),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: awssdk.String(ami)},
	})
	if err != nil {
		return "", fmt.Errorf("create launch template version: %w", err)
	}
	if out.LaunchTemplateVersion == nil || out.LaunchTemplateVersion.VersionNumber == nil {
		return "", errors.New("create launch template version: answer has no version number")
	}
	return strconv.FormatInt(*out.LaunchTemplateVersion.VersionNumber, 10), nil
}

// ScaleFleet sets the group's capacity and reads it back.
func (d *Driver) ScaleFleet(ctx context.Context, name string, c desired.Capacity) error {
	_, err := d.asg.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: awssdk.String(name),
		MinSize:              awssdk.Int32(int32(c.Min)),
		MaxSize:              awssdk.Int32(int32(c.Max)),
		DesiredCapacity:      awssdk.Int32(int32(c.Desired)),
	})
	if err != nil {
		return fmt.Errorf("scale fleet %s: %w", name, err)
	}
	f, err := d.readFleet(ctx, name)
	if err != nil {
		return fmt.Errorf("scale fleet %s: %w", name, err)
	}
	if f.Capacity != c {
		return fmt.Errorf("scale fleet %s: read back capacity %+v, want %+v", name, f.Capacity, c)
	}
	return nil
}

// DeleteFleet force-deletes the group (its instances terminate and drain
// from the target group); a group already gone is not an error.
func (d *Driver) DeleteFleet(ctx context.Context, name string) error {
	_, err := d.asg.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
		AutoScalingGroupName: awssdk.String(name), ForceDelete: awssdk.Bool(true),
	})
	if err != nil && !(isCode(err, "ValidationError") && strings.Contains(err.Error(), "not found")) {
		return fmt.Errorf("delete fleet %s: %w", name, err)
	}
	g, err := d.group(ctx, name)
	if err != nil {
		return fmt.Errorf("delete fleet %s: read back: %w", name, err)
	}
	if g != nil && !strings.Contains(awssdk.ToString(g.Status), "Delete") {
		return fmt.Errorf("delete fleet %s: read back still finds it", name)
	}
	return nil
}
