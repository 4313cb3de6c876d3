package aws

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/amigo-gitops/amigo/reconciler"
)

// RefreshFleet moves the group's instances to r.AMI in checkpoints.
//
// Each call with a higher Percent is one step. Amazon EC2 Auto Scaling
// finishes an instance refresh whose last checkpoint is under 100 once
// that share of instances is replaced, so a step is a refresh of its own:
//
//   - the first step creates a launch template version with the AMI,
//     records it in the group's amigo:refresh-* tags, and starts a refresh
//     with DesiredConfiguration on that version, CheckpointPercentages
//     [Percent], MinHealthyPercentage 75 and SkipMatching;
//   - while that refresh runs, calls with the same Percent do nothing;
//   - once it is Successful (at its checkpoint), a call with a higher
//     Percent starts a new refresh on the same version with the next
//     checkpoint; SkipMatching leaves already replaced instances alone; a
//     call with a higher Percent before that cancels the running refresh
//     and starts the one with the next checkpoint the same way;
//   - at 100, once Successful, the group's amigo:version and amigo:ami
//     tags become r's, which ends the refresh for ListFleets.
//
// A refresh towards another AMI that is still running (a rollback during
// a rollout) is cancelled first. A failed or rolled back refresh is an
// error naming its status reason.
func (d *Driver) RefreshFleet(ctx context.Context, name string, r reconciler.Refresh) error {
	if err := d.refresh(ctx, name, r); err != nil {
		return fmt.Errorf("refresh fleet %s to %s (%d%%): %w", name, r.AMI, r.Percent, err)
	}
	return nil
}

func (d *Driver) refresh(ctx context.Context, name string, r reconciler.Refresh) error {
	g, err := d.group(ctx, name)
	if err != nil {
		return err
	}
	if g == nil {
		return fmt.Errorf("group not found")
	}
	tags := asgTags(*g)
	if tags[reconciler.TagAMI] == r.AMI {
		return nil
	}
	latest, err := d.latestRefresh(ctx, name)
	if err != nil {
		return err
	}
	lt := tags[TagRefreshLT]
	if tags[TagRefreshAMI] != r.AMI || latest == nil || refreshVersion(latest) != lt {
		return d.startNew(ctx, g, latest, r)
	}
	pct, _ := strconv.Atoi(tags[TagRefreshPercent])
	switch latest.Status {
	case asgtypes.InstanceRefreshStatusSuccessful:
		if pct >= r.Percent {
			return d.finish(ctx, name, r, pct)
		}
		return d.startRefresh(ctx, g, lt, r)
	case asgtypes.InstanceRefreshStatusFailed, asgtypes.InstanceRefreshStatusCancelled,
		asgtypes.InstanceRefreshStatusRollbackSuccessful, asgtypes.InstanceRefreshStatusRollbackFailed:
		return fmt.Errorf("instance refresh %s ended %s: %s", awssdk.ToString(latest.InstanceRefreshId), latest.Status, awssdk.ToString(latest.StatusReason))
	}
	if pct < r.Percent {
		// Still short of its checkpoint: replace it by one towards the
		// higher one; SkipMatching keeps what is done.
		if err := d.cancel(ctx, name); err != nil {
			return err
		}
		return d.startRefresh(ctx, g, lt, r)
	}
	return nil // running towards its checkpoint
}

// cancel stops the running refresh. Cancelling can take a while; a start
// that follows too soon fails with InstanceRefreshInProgress, an error the
// next pass retries.
func (d *Driver) cancel(ctx context.Context, name string) error {
	if _, err := d.asg.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: &name}); err != nil {
		return fmt.Errorf("cancel instance refresh: %w", err)
	}
	return nil
}

// finish tags the group with the refresh's version and AMI at 100.
func (d *Driver) finish(ctx context.Context, name string, r reconciler.Refresh, pct int) error {
	if pct < 100 || r.Percent < 100 {
		return nil
	}
	if err := d.tagGroup(ctx, name, map[string]string{reconciler.TagVersion: r.Version, reconciler.TagAMI: r.AMI}); err != nil {
		return err
	}
	f, err := d.readFleet(ctx, name)
	if err != nil {
		return err
	}
	if f.AMI != r.AMI || f.Version != r.Version || f.Refresh != nil {
		return fmt.Errorf("read back tags %s %s, want %s %s", f.Version, f.AMI, r.Version, r.AMI)
	}
	return nil
}

func (d *Driver) latestRefresh(ctx context.Context, name string) (*asgtypes.InstanceRefresh, error) {
	out, err := d.asg.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{
		AutoScalingGroupName: awssdk.String(name), MaxRecords: awssdk.Int32(1),
	})
	if err != nil {
		return nil, fmt.Errorf("describe instance refreshes: %w", err)
	}
	if len(out.InstanceRefreshes) == 0 {
		return nil, nil
	}
	// The API answers newest first; sort anyway so order is not assumed.
	rs := out.InstanceRefreshes
	sort.SliceStable(rs, func(i, j int) bool { return awssdk.ToTime(rs[i].StartTime).After(awssdk.ToTime(rs[j].StartTime)) })
	return &rs[0], nil
}

func refreshVersion(r *asgtypes.InstanceRefresh) string {
	if r.DesiredConfiguration == nil || r.DesiredConfiguration.LaunchTemplate == nil {
		return ""
	}
	return awssdk.ToString(r.DesiredConfiguration.LaunchTemplate.Version)
}

func active(s asgtypes.InstanceRefreshStatus) bool {
	switch s {
	case asgtypes.InstanceRefreshStatusPending, asgtypes.InstanceRefreshStatusInProgress,
		asgtypes.InstanceRefreshStatusCancelling, asgtypes.InstanceRefreshStatusBaking,
		asgtypes.InstanceRefreshStatusRollbackInProgress:
		return true
	}
	return false
}

// startNew begins a refresh towards a new AMI: cancel any other running
// refresh, make the launch template version, record it, start.
func (d *Driver) startNew(ctx context.Context, g *asgtypes.AutoScalingGroup, latest *asgtypes.InstanceRefresh, r reconciler.Refresh) error {
	name := awssdk.ToString(g.AutoScalingGroupName)
	if latest != nil && active(latest.Status) {
		if err := d.cancel(ctx, name); err != nil {
			return err
		}
	}
	if g.LaunchTemplate == nil {
		return fmt.Errorf("group has no launch template")
	}
	lt := &asgtypes.LaunchTemplateSpecification{LaunchTemplateId: g.LaunchTemplate.LaunchTemplateId}
	version, err := d.newTemplateVersion(ctx, lt, awssdk.ToString(g.LaunchTemplate.Version), r.AMI, name+" "+r.Version)
	if err != nil {
		return err
	}
	if err := d.tagGroup(ctx, name, map[string]string{TagRefreshVersion: r.Version, TagRefreshAMI: r.AMI, TagRefreshLT: version}); err != nil {
		return err
	}
	return d.startRefresh(ctx, g, version, r)
}

func (d *Driver) startRefresh(ctx context.Context, g *asgtypes.AutoScalingGroup, version string, r reconciler.Refresh) error {
	name := awssdk.ToString(g.AutoScalingGroupName)
	_, err := d.asg.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: &name,
		Strategy:             asgtypes.RefreshStrategyRolling,
		DesiredConfiguration: &asgtypes.DesiredConfiguration{LaunchTemplate: &asgtypes.LaunchTemplateSpecification{
			LaunchTemplateId: g.LaunchTemplate.LaunchTemplateId, Version: awssdk.String(version)}},
		Preferences: &asgtypes.RefreshPreferences{
			MinHealthyPercentage:  awssdk.Int32(minHealthyPercent),
			CheckpointPercentages: []int32{int32(r.Percent)},
			SkipMatching:          awssdk.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("start instance refresh: %w", err)
	}
	if err := d.tagGroup(ctx, name, map[string]string{TagRefreshPercent: strconv.Itoa(r.Percent)}); err != nil {
		return err
	}
	latest, err := d.latestRefresh(ctx, name)
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if latest == nil || refreshVersion(latest) != version {
		return fmt.Errorf("read back: no refresh to launch template version %s", version)
	}
	return nil
}

func (d *Driver) tagGroup(ctx context.Context, name string, tags map[string]string) error {
	if _, err := d.asg.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: groupTags(name, tags)}); err != nil {
		return fmt.Errorf("tag group: %w", err)
	}
	return nil
}
