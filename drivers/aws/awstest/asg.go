package awstest

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const asgNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

type asgState struct {
	groups map[string]*group
}

func newASGState() asgState { return asgState{groups: map[string]*group{}} }

type group struct {
	name           string
	created        time.Time
	ltID, ltName   string
	ltVersion      string
	min, max, want int
	subnets        []string
	tgs            []string
	tags           map[string]string
	instances      []*instance
	refreshes      []*refresh // newest last
}

type instance struct {
	id, zone, ltVersion, ami string
	state, health            string
	launched                 time.Time
}

type refresh struct {
	id, status, reason string
	ltVersion          string
	checkpoints        []int
	minHealthy         int
	checkpointDelay    time.Duration
	start, end         time.Time
	reachedAt          time.Time // when the current intermediate checkpoint was reached
	next               int       // index of the checkpoint being worked towards
	percent            int
}

func (r *refresh) active() bool {
	return r.status == "Pending" || r.status == "InProgress" || r.status == "Cancelling"
}

// FleetInstances returns the instance ids of a group with their AMI,
// lifecycle state and health, for tests.
func (c *Cloud) FleetInstances(name string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.asg.groups[name]
	if !ok {
		return nil
	}
	var out []string
	for _, in := range g.instances {
		out = append(out, fmt.Sprintf("%s %s %s %s", in.id, in.ami, in.state, in.health))
	}
	return out
}

// FleetTags returns a group's tags.
func (c *Cloud) FleetTags(name string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.asg.groups[name]
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, v := range g.tags {
		out[k] = v
	}
	return out
}

func (c *Cloud) asgOps() map[string]queryOp {
	return map[string]queryOp{
		"CreateAutoScalingGroup":    c.createGroup,
		"DescribeAutoScalingGroups": c.describeGroups,
		"UpdateAutoScalingGroup":    c.updateGroup,
		"DeleteAutoScalingGroup":    c.deleteGroup,
		"StartInstanceRefresh":      c.startRefresh,
		"DescribeInstanceRefreshes": c.describeRefreshes,
		"CreateOrUpdateTags":        c.createOrUpdateTags,
		"CancelInstanceRefresh":     c.cancelRefresh,
	}
}

func (c *Cloud) findGroup(name string) (*group, error) {
	g, ok := c.asg.groups[name]
	if !ok {
		return nil, errf("ValidationError", "AutoScalingGroup name not found - %s", name)
	}
	return g, nil
}

func checkCapacity(min, want, max int) error {
	if min < 0 || min > want || want > max {
		return errf("ValidationError", "desired capacity %d must be between min %d and max %d", want, min, max)
	}
	return nil
}

func (c *Cloud) createGroup(p *node) ([]x, error) {
	name := p.str("AutoScalingGroupName")
	if _, ok := c.asg.groups[name]; ok {
		return nil, errf("AlreadyExists", "AutoScalingGroup by this name already exists - %s", name)
	}
	lt, err := c.launchTemplate(p.str("LaunchTemplate.LaunchTemplateId"), p.str("LaunchTemplate.LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	version, err := lt.resolve(p.str("LaunchTemplate.Version"))
	if err != nil {
		return nil, err
	}
	g := &group{name: name, created: c.now, ltID: lt.id, ltName: lt.name, ltVersion: strconv.Itoa(version),
		min: p.int("MinSize"), max: p.int("MaxSize"), want: p.int("MinSize"), tags: map[string]string{}}
	if p.has("DesiredCapacity") {
		g.want = p.int("DesiredCapacity")
	}
	if err := checkCapacity(g.min, g.want, g.max); err != nil {
		return nil, err
	}
	if s := p.str("VPCZoneIdentifier"); s != "" {
		g.subnets = strings.Split(s, ",")
	}
	if len(g.subnets) == 0 {
		return nil, errf("ValidationError", "at least one subnet is required")
	}
	g.tgs = p.strs("TargetGroupARNs")
	for _, tg := range g.tgs {
		if _, ok := c.elb.tgs[tg]; !ok {
			return nil, errf("ValidationError", "target group %s not found", tg)
		}
	}
	for _, t := range p.list("Tags") {
		g.tags[t.str("Key")] = t.str("Value")
	}
	c.asg.groups[name] = g
	c.scale(g)
	return nil, nil
}

func (c *Cloud) groupXML(g *group) x {
	lt := func(version string) x {
		return el("LaunchTemplate", tx("LaunchTemplateId", g.ltID), tx("LaunchTemplateName", g.ltName), tx("Version", version))
	}
	var ins, tags, tgs, zones []x
	for _, in := range g.instances {
		ins = append(ins, el("member", tx("InstanceId", in.id), tx("InstanceType", "t3.medium"),
			tx("AvailabilityZone", in.zone), tx("LifecycleState", in.state), tx("HealthStatus", in.health),
			lt(in.ltVersion), tx("ProtectedFromScaleIn", "false")))
	}
	for _, k := range slices.Sorted(maps.Keys(g.tags)) {
		tags = append(tags, el("member", tx("ResourceId", g.name), tx("ResourceType", "auto-scaling-group"),
			tx("Key", k), tx("Value", g.tags[k]), tx("PropagateAtLaunch", "true")))
	}
	for _, tg := range g.tgs {
		tgs = append(tgs, tx("member", tg))
	}
	for i := range g.subnets {
		zones = append(zones, tx("member", c.zone(i)))
	}
	return el("member", tx("AutoScalingGroupName", g.name),
		tx("AutoScalingGroupARN", fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", c.Region, c.Account, g.name, g.name)),
		lt(g.ltVersion), tx("MinSize", strconv.Itoa(g.min)), tx("MaxSize", strconv.Itoa(g.max)),
		tx("DesiredCapacity", strconv.Itoa(g.want)), tx("DefaultCooldown", "300"),
		members("AvailabilityZones", zones), tx("HealthCheckType", "ELB"), tx("HealthCheckGracePeriod", "120"),
		tx("CreatedTime", isoTime(g.created)), tx("VPCZoneIdentifier", strings.Join(g.subnets, ",")),
		members("TargetGroupARNs", tgs), members("Instances", ins), members("Tags", tags))
}

func (c *Cloud) zone(i int) string { return c.Region + string("acd"[i%3]) }

// matches applies DescribeAutoScalingGroups filters: tag-key, tag-value
// and tag:<key>.
func matches(g *group, filters []*node) bool {
	for _, f := range filters {
		name, values := f.str("Name"), f.strs("Values")
		ok := false
		for _, v := range values {
			switch {
			case name == "tag-key":
				_, ok2 := g.tags[v]
				ok = ok || ok2
			case name == "tag-value":
				for _, tv := range g.tags {
					ok = ok || tv == v
				}
			case strings.HasPrefix(name, "tag:"):
				ok = ok || g.tags[strings.TrimPrefix(name, "tag:")] == v
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (c *Cloud) describeGroups(p *node) ([]x, error) {
	names := p.strs("AutoScalingGroupNames")
	var sel []string
	for name, g := range c.asg.groups {
		if len(names) > 0 && !contains(names, name) {
			continue
		}
		if matches(g, p.list("Filters")) {
			sel = append(sel, name)
		}
	}
	sort.Strings(sel)
	limit := 50
	if m := p.int("MaxRecords"); m > 0 {
		if m > 100 {
			return nil, errf("ValidationError", "MaxRecords must be at most 100")
		}
		limit = m
	}
	start := 0
	if tok := p.str("NextToken"); tok != "" {
		start = sort.SearchStrings(sel, tok)
	}
	var items []x
	end := min(start+limit, len(sel))
	for _, name := range sel[start:end] {
		items = append(items, c.groupXML(c.asg.groups[name]))
	}
	out := []x{members("AutoScalingGroups", items)}
	if end < len(sel) {
		out = append(out, tx("NextToken", sel[end]))
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (c *Cloud) updateGroup(p *node) ([]x, error) {
	g, err := c.findGroup(p.str("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	min, max, want := g.min, g.max, g.want
	if p.has("MinSize") {
		min = p.int("MinSize")
	}
	if p.has("MaxSize") {
		max = p.int("MaxSize")
	}
	if p.has("DesiredCapacity") {
		want = p.int("DesiredCapacity")
	}
	if err := checkCapacity(min, want, max); err != nil {
		return nil, err
	}
	g.min, g.max, g.want = min, max, want
	c.scale(g)
	return nil, nil
}

func (c *Cloud) deleteGroup(p *node) ([]x, error) {
	g, err := c.findGroup(p.str("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	if len(g.instances) > 0 && p.str("ForceDelete") != "true" {
		return nil, errf("ResourceInUse", "you cannot delete an AutoScalingGroup while there are instances")
	}
	delete(c.asg.groups, g.name)
	return nil, nil
}

func (c *Cloud) createOrUpdateTags(p *node) ([]x, error) {
	for _, t := range p.list("Tags") {
		g, err := c.findGroup(t.str("ResourceId"))
		if err != nil {
			return nil, err
		}
		g.tags[t.str("Key")] = t.str("Value")
	}
	return nil, nil
}

func (c *Cloud) startRefresh(p *node) ([]x, error) {
	g, err := c.findGroup(p.str("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	if n := len(g.refreshes); n > 0 && g.refreshes[n-1].active() {
		return nil, errf("InstanceRefreshInProgress", "an instance refresh is already in progress for %s", g.name)
	}
	lt, err := c.launchTemplate(p.str("DesiredConfiguration.LaunchTemplate.LaunchTemplateId"), p.str("DesiredConfiguration.LaunchTemplate.LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	version, err := lt.resolve(p.str("DesiredConfiguration.LaunchTemplate.Version"))
	if err != nil {
		return nil, err
	}
	r := &refresh{id: c.id("rf-"), status: "Pending", ltVersion: strconv.Itoa(version), start: c.now,
		minHealthy: 90, checkpointDelay: time.Hour}
	if p.has("Preferences.MinHealthyPercentage") {
		r.minHealthy = p.int("Preferences.MinHealthyPercentage")
	}
	if p.has("Preferences.CheckpointDelay") {
		r.checkpointDelay = time.Duration(p.int("Preferences.CheckpointDelay")) * time.Second
	}
	for _, cp := range p.strs("Preferences.CheckpointPercentages") {
		n, _ := strconv.Atoi(cp)
		r.checkpoints = append(r.checkpoints, n)
	}
	if len(r.checkpoints) == 0 {
		r.checkpoints = []int{100}
	}
	g.refreshes = append(g.refreshes, r)
	return []x{tx("InstanceRefreshId", r.id)}, nil
}

func (c *Cloud) cancelRefresh(p *node) ([]x, error) {
	g, err := c.findGroup(p.str("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	n := len(g.refreshes)
	if n == 0 || !g.refreshes[n-1].active() {
		return nil, errf("ActiveInstanceRefreshNotFound", "no active instance refresh for %s", g.name)
	}
	r := g.refreshes[n-1]
	r.status, r.end = "Cancelled", c.now
	return []x{tx("InstanceRefreshId", r.id)}, nil
}

func (c *Cloud) describeRefreshes(p *node) ([]x, error) {
	g, err := c.findGroup(p.str("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	var items []x
	for i := len(g.refreshes) - 1; i >= 0; i-- {
		r := g.refreshes[i]
		var cps []x
		for _, cp := range r.checkpoints {
			cps = append(cps, tx("member", strconv.Itoa(cp)))
		}
		item := el("member", tx("InstanceRefreshId", r.id), tx("AutoScalingGroupName", g.name),
			tx("Status", r.status), tx("StatusReason", r.reason), tx("StartTime", isoTime(r.start)),
			tx("PercentageComplete", strconv.Itoa(r.percent)),
			el("Preferences", tx("MinHealthyPercentage", strconv.Itoa(r.minHealthy)), members("CheckpointPercentages", cps), tx("SkipMatching", "true")),
			el("DesiredConfiguration", el("LaunchTemplate", tx("LaunchTemplateId", g.ltID), tx("Version", r.ltVersion))))
		if !r.end.IsZero() {
			item.kids = append(item.kids, tx("EndTime", isoTime(r.end)))
		}
		items = append(items, item)
	}
	return []x{members("InstanceRefreshes", items)}, nil
}

// launch starts an instance of the group at a launch template version.
func (c *Cloud) launch(g *group, version string) *instance {
	lt := c.ec2.templates[g.ltID]
	v, _ := strconv.Atoi(version)
	in := &instance{id: c.id("i-"), zone: c.balancedZone(g), ltVersion: version,
		ami: lt.versions[v-1], state: "Pending", health: "Healthy", launched: c.now}
	g.instances = append(g.instances, in)
	return in
}

// balancedZone picks the zone of the group's subnets with fewest instances.
func (c *Cloud) balancedZone(g *group) string {
	best, bestN := c.zone(0), -1
	for i := range max(1, len(g.subnets)) {
		n := 0
		for _, in := range g.instances {
			if in.zone == c.zone(i) {
				n++
			}
		}
		if bestN < 0 || n < bestN {
			best, bestN = c.zone(i), n
		}
	}
	return best
}

func (c *Cloud) terminate(g *group, in *instance) {
	for i, v := range g.instances {
		if v == in {
			g.instances = append(g.instances[:i], g.instances[i+1:]...)
			return
		}
	}
}

// scale launches or terminates instances to match the desired capacity;
// scale-in removes instances of older launch template versions first.
func (c *Cloud) scale(g *group) {
	for len(g.instances) < g.want {
		c.launch(g, g.ltVersion)
	}
	for len(g.instances) > g.want {
		victim := g.instances[len(g.instances)-1]
		for _, in := range g.instances {
			if in.ltVersion != g.ltVersion {
				victim = in
				break
			}
		}
		c.terminate(g, victim)
	}
}

func (c *Cloud) badInstance(id string) bool {
	for _, g := range c.asg.groups {
		for _, in := range g.instances {
			if in.id == id {
				return c.ec2.bad[in.ami]
			}
		}
	}
	return false
}

func (c *Cloud) simulateFleets() bool {
	busy := false
	for _, g := range c.asg.groups {
		for _, in := range g.instances {
			if in.state == "Pending" && c.now.Sub(in.launched) >= LaunchDelay {
				in.state = "InService"
				if c.ec2.bad[in.ami] {
					in.health = "Unhealthy"
				}
			}
			busy = busy || in.state == "Pending"
		}
		if n := len(g.refreshes); n > 0 && g.refreshes[n-1].active() {
			c.stepRefresh(g, g.refreshes[n-1])
			busy = true
		}
		c.scale(g)
	}
	return busy
}

// stepRefresh replaces instances not on the refresh's launch template
// version (matching ones are skipped), keeping MinHealthyPercentage of the
// desired capacity in service, and stops at each checkpoint.
func (c *Cloud) stepRefresh(g *group, r *refresh) {
	r.status = "InProgress"
	total := max(g.want, 1)
	updated, inflight := 0, 0
	for _, in := range g.instances {
		switch {
		case in.ltVersion == r.ltVersion && in.state == "InService" && in.health == "Healthy" && c.servesHealthy(g, in):
			updated++
		case in.ltVersion == r.ltVersion && in.state == "InService" && in.health == "Healthy":
			inflight++ // in service, not yet passing the ELB health check
		case in.ltVersion == r.ltVersion && in.state == "InService":
			r.status, r.reason, r.end = "Failed", "replacement instances failed health checks", c.now
			return
		case in.ltVersion == r.ltVersion:
			inflight++
		}
	}
	r.percent = updated * 100 / total
	cp := r.checkpoints[r.next]
	if updated >= ceilPct(cp, total) {
		if r.next == len(r.checkpoints)-1 {
			r.status, r.reason, r.end = "Successful", "", c.now
			if cp == 100 {
				g.ltVersion = r.ltVersion
			}
			return
		}
		if r.reachedAt.IsZero() {
			r.reachedAt, r.reason = c.now, fmt.Sprintf("waiting at checkpoint %d%%", cp)
		}
		if c.now.Sub(r.reachedAt) < r.checkpointDelay {
			return
		}
		r.next++
		r.reachedAt, r.reason = time.Time{}, ""
		cp = r.checkpoints[r.next]
	}
	maxDown := max(total-ceilPct(r.minHealthy, total), 1)
	for inflight < maxDown && updated+inflight < ceilPct(cp, total) {
		old := oldInstance(g, r.ltVersion)
		if old == nil {
			return
		}
		c.terminate(g, old)
		c.launch(g, r.ltVersion)
		inflight++
	}
}

// servesHealthy reports whether the instance is a healthy target in every
// target group of its group: with ELB health checks, a replacement counts
// only once the load balancer sends it traffic.
func (c *Cloud) servesHealthy(g *group, in *instance) bool {
	for _, arn := range g.tgs {
		t, ok := c.elb.tgs[arn].targets[in.id]
		if !ok || t.state != "healthy" {
			return false
		}
	}
	return true
}

func oldInstance(g *group, version string) *instance {
	for _, in := range g.instances {
		if in.ltVersion != version {
			return in
		}
	}
	return nil
}

func ceilPct(p, total int) int { return (p*total + 99) / 100 }
