package awstest

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"
)

const elbNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

type elbState struct {
	lbs       map[string]string // arn -> name
	tgs       map[string]*targetGroup
	listeners map[string]*listener
	rules     map[string]*rule
	tags      map[string]map[string]string
}

func newELBState() elbState {
	return elbState{
		lbs:       map[string]string{},
		tgs:       map[string]*targetGroup{},
		listeners: map[string]*listener{},
		rules:     map[string]*rule{},
		tags:      map[string]map[string]string{},
	}
}

type targetGroup struct {
	arn, name string
	lbs       []string
	dereg     int // seconds
	targets   map[string]*target
}

type target struct {
	state string
	since time.Time
}

type listener struct {
	arn, lb     string
	defaultRule string
	actions     *node // DefaultActions as sent
}

type rule struct {
	arn, listener string
	priority      int
	conditions    *node
	actions       *node
}

// Action is a listener action used to seed and inspect listeners.
type Action struct {
	Type       string // "forward" or "authenticate-oidc"
	Order      int
	Forward    []Weight
	Stickiness time.Duration
	Issuer     string // authenticate-oidc issuer
}

// Weight is one target group of a forward action.
type Weight struct {
	TargetGroup string
	Weight      int
}

// CreateLoadBalancer adds an application load balancer and returns its ARN.
func (c *Cloud) CreateLoadBalancer(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	arn := fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%s", c.Region, c.Account, name, c.id("")[1:])
	c.elb.lbs[arn] = name
	return arn
}

// CreateTargetGroup adds a target group behind lb and returns its ARN.
func (c *Cloud) CreateTargetGroup(name, lb string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	arn := fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%s", c.Region, c.Account, name, c.id("")[1:])
	c.elb.tgs[arn] = &targetGroup{arn: arn, name: name, lbs: []string{lb}, dereg: 300, targets: map[string]*target{}}
	return arn
}

// SetDeregistrationDelay changes a target group's deregistration delay.
func (c *Cloud) SetDeregistrationDelay(tg string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.elb.tgs[tg].dereg = int(d.Seconds())
}

// CreateListener adds an HTTPS listener on lb with the default actions.
func (c *Cloud) CreateListener(lb string, actions ...Action) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.id("")[1:]
	arn := fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:listener/app/%s/%s", c.Region, c.Account, c.elb.lbs[lb], id)
	l := &listener{arn: arn, lb: lb, actions: actionsNode(actions)}
	l.defaultRule = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:listener-rule/app/%s/%s/default", c.Region, c.Account, c.elb.lbs[lb], id)
	c.elb.listeners[arn] = l
	return arn
}

// AddRule adds a rule made outside amigo (path pattern, forward actions).
func (c *Cloud) AddRule(listenerARN string, priority int, pathPattern string, actions ...Action) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	conds := &node{kids: map[string]*node{"1": {kids: map[string]*node{
		"Field":             {val: "path-pattern"},
		"PathPatternConfig": {kids: map[string]*node{"Values": {kids: map[string]*node{"1": {val: pathPattern}}}}},
	}}}}
	return c.addRule(listenerARN, priority, conds, actionsNode(actions))
}

func (c *Cloud) addRule(listenerARN string, priority int, conds, actions *node) string {
	arn := fmt.Sprintf("%s/%s", replacePrefix(listenerARN), c.id("")[1:])
	c.elb.rules[arn] = &rule{arn: arn, listener: listenerARN, priority: priority, conditions: conds, actions: actions}
	return arn
}

func replacePrefix(listenerARN string) string {
	// listener/app/x/y -> listener-rule/app/x/y
	for i := 0; i+9 <= len(listenerARN); i++ {
		if listenerARN[i:i+9] == ":listener" {
			return listenerARN[:i] + ":listener-rule" + listenerARN[i+9:]
		}
	}
	return listenerARN
}

// SetDefaultActions replaces a listener's default actions, as a person
// editing the console would.
func (c *Cloud) SetDefaultActions(listenerARN string, actions ...Action) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.elb.listeners[listenerARN].actions = actionsNode(actions)
}

// DefaultActions returns a listener's default actions.
func (c *Cloud) DefaultActions(listenerARN string) []Action {
	c.mu.Lock()
	defer c.mu.Unlock()
	return actionsOf(c.elb.listeners[listenerARN].actions)
}

// RuleActions returns a rule's actions.
func (c *Cloud) RuleActions(ruleARN string) []Action {
	c.mu.Lock()
	defer c.mu.Unlock()
	return actionsOf(c.elb.rules[ruleARN].actions)
}

// Rules returns the ARNs of a listener's non-default rules.
func (c *Cloud) Rules(listenerARN string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for arn, r := range c.elb.rules {
		if r.listener == listenerARN {
			out = append(out, arn)
		}
	}
	sort.Strings(out)
	return out
}

func actionsNode(actions []Action) *node {
	n := &node{kids: map[string]*node{}}
	for i, a := range actions {
		an := &node{kids: map[string]*node{"Type": {val: a.Type}, "Order": {val: strconv.Itoa(a.Order)}}}
		switch a.Type {
		case "forward":
			tgs := &node{kids: map[string]*node{}}
			for j, w := range a.Forward {
				tgs.kids[strconv.Itoa(j+1)] = &node{kids: map[string]*node{
					"TargetGroupArn": {val: w.TargetGroup}, "Weight": {val: strconv.Itoa(w.Weight)}}}
			}
			st := &node{kids: map[string]*node{"Enabled": {val: boolStr(a.Stickiness > 0)}}}
			if a.Stickiness > 0 {
				st.kids["DurationSeconds"] = &node{val: strconv.Itoa(int(a.Stickiness.Seconds()))}
			}
			an.kids["ForwardConfig"] = &node{kids: map[string]*node{"TargetGroups": tgs, "TargetGroupStickinessConfig": st}}
		case "authenticate-oidc":
			an.kids["AuthenticateOidcConfig"] = &node{kids: map[string]*node{
				"Issuer":                {val: a.Issuer},
				"AuthorizationEndpoint": {val: a.Issuer + "/authorize"},
				"TokenEndpoint":         {val: a.Issuer + "/token"},
				"UserInfoEndpoint":      {val: a.Issuer + "/userinfo"},
				"ClientId":              {val: "amigo-client"},
			}}
		}
		n.kids[strconv.Itoa(i+1)] = an
	}
	return n
}

func actionsOf(n *node) []Action {
	var out []Action
	for _, a := range n.list("") {
		act := Action{Type: a.str("Type"), Order: a.int("Order"), Issuer: a.str("AuthenticateOidcConfig.Issuer")}
		for _, tg := range a.list("ForwardConfig.TargetGroups") {
			act.Forward = append(act.Forward, Weight{TargetGroup: tg.str("TargetGroupArn"), Weight: tg.int("Weight")})
		}
		if arn := a.str("TargetGroupArn"); arn != "" && len(act.Forward) == 0 {
			act.Forward = []Weight{{TargetGroup: arn, Weight: 1}}
		}
		if a.str("ForwardConfig.TargetGroupStickinessConfig.Enabled") == "true" {
			act.Stickiness = time.Duration(a.int("ForwardConfig.TargetGroupStickinessConfig.DurationSeconds")) * time.Second
		}
		out = append(out, act)
	}
	return out
}

func (c *Cloud) elbOps() map[string]queryOp {
	return map[string]queryOp{
		"DescribeListeners":             c.describeListeners,
		"ModifyListener":                c.modifyListener,
		"DescribeRules":                 c.describeRules,
		"ModifyRule":                    c.modifyRule,
		"CreateRule":                    c.createRule,
		"DeleteRule":                    c.deleteRule,
		"DescribeTags":                  c.describeTags,
		"DescribeTargetHealth":          c.describeTargetHealth,
		"DescribeTargetGroupAttributes": c.describeTargetGroupAttributes,
		"DescribeTargetGroups":          c.describeTargetGroups,
	}
}

func (c *Cloud) listenerXML(l *listener) x {
	cert := fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s", c.Region, c.Account, c.elb.lbs[l.lb])
	return el("member", tx("ListenerArn", l.arn), tx("LoadBalancerArn", l.lb), tx("Port", "443"),
		tx("Protocol", "HTTPS"), members("Certificates", []x{el("member", tx("CertificateArn", cert))}),
		tx("SslPolicy", "ELBSecurityPolicy-TLS13-1-2-2021-06"), tree("DefaultActions", l.actions))
}

// maxPageSize is the largest PageSize the Describe calls accept.
const maxPageSize = 400

// describeListeners answers for the listeners named by ListenerArns (in
// the order asked) or for those of LoadBalancerArn, a page of PageSize
// (1 to 400; 400 when absent) at a time, continued by Marker.
func (c *Cloud) describeListeners(p *node) ([]x, error) {
	size := maxPageSize
	if p.has("PageSize") {
		size = p.int("PageSize")
		if size < 1 || size > maxPageSize {
			return nil, errf("ValidationError", "PageSize must be between 1 and %d, got %q", maxPageSize, p.str("PageSize"))
		}
	}
	ls, err := c.listenersAsked(p)
	if err != nil {
		return nil, err
	}
	from := 0
	if m := p.str("Marker"); m != "" {
		if from, err = strconv.Atoi(m); err != nil || from < 0 || from > len(ls) {
			return nil, errf("ValidationError", "invalid marker %q", m)
		}
	}
	to := min(from+size, len(ls))
	var items []x
	for _, l := range ls[from:to] {
		items = append(items, c.listenerXML(l))
	}
	out := []x{members("Listeners", items)}
	if to < len(ls) {
		out = append(out, tx("NextMarker", strconv.Itoa(to)))
	}
	return out, nil
}

func (c *Cloud) listenersAsked(p *node) ([]*listener, error) {
	arns, lb := p.strs("ListenerArns"), p.str("LoadBalancerArn")
	switch {
	case len(arns) > 0 && lb != "":
		return nil, errf("ValidationError", "listener ARNs and a load balancer ARN cannot be specified at the same time")
	case lb != "":
		if _, ok := c.elb.lbs[lb]; !ok {
			return nil, errf("LoadBalancerNotFound", "load balancer %s not found", lb)
		}
		var ls []*listener
		for _, l := range c.elb.listeners {
			if l.lb == lb {
				ls = append(ls, l)
			}
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i].arn < ls[j].arn })
		return ls, nil
	case len(arns) == 0:
		return nil, errf("ValidationError", "a load balancer ARN or listener ARNs must be specified")
	}
	ls := make([]*listener, 0, len(arns))
	for _, arn := range arns {
		l, ok := c.elb.listeners[arn]
		if !ok {
			return nil, errf("ListenerNotFound", "listener %s not found", arn)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// checkActions rejects forward actions naming unknown target groups.
func (c *Cloud) checkActions(actions *node) error {
	if len(actions.list("")) == 0 {
		return errf("ValidationError", "at least one action is required")
	}
	for _, a := range actionsOf(actions) {
		if a.Type != "forward" {
			continue
		}
		for _, w := range a.Forward {
			if _, ok := c.elb.tgs[w.TargetGroup]; !ok {
				return errf("TargetGroupNotFound", "target group %s not found", w.TargetGroup)
			}
		}
	}
	return nil
}

func (c *Cloud) modifyListener(p *node) ([]x, error) {
	l, ok := c.elb.listeners[p.str("ListenerArn")]
	if !ok {
		return nil, errf("ListenerNotFound", "listener %s not found", p.str("ListenerArn"))
	}
	if p.has("DefaultActions") {
		if err := c.checkActions(p.get("DefaultActions")); err != nil {
			return nil, err
		}
		l.actions = p.get("DefaultActions").clone()
	}
	return []x{members("Listeners", []x{c.listenerXML(l)})}, nil
}

func (c *Cloud) ruleXML(r *rule) x {
	prio := strconv.Itoa(r.priority)
	return el("member", tx("RuleArn", r.arn), tx("Priority", prio), tree("Conditions", r.conditions),
		tree("Actions", r.actions), tx("IsDefault", "false"))
}

func (c *Cloud) describeRules(p *node) ([]x, error) {
	var items []x
	if arn := p.str("ListenerArn"); arn != "" {
		l, ok := c.elb.listeners[arn]
		if !ok {
			return nil, errf("ListenerNotFound", "listener %s not found", arn)
		}
		var rs []*rule
		for _, r := range c.elb.rules {
			if r.listener == arn {
				rs = append(rs, r)
			}
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].priority < rs[j].priority })
		for _, r := range rs {
			items = append(items, c.ruleXML(r))
		}
		items = append(items, el("member", tx("RuleArn", l.defaultRule), tx("Priority", "default"),
			el("Conditions"), tree("Actions", l.actions), tx("IsDefault", "true")))
		return []x{members("Rules", items)}, nil
	}
	for _, arn := range p.strs("RuleArns") {
		r, ok := c.elb.rules[arn]
		if !ok {
			return nil, errf("RuleNotFound", "rule %s not found", arn)
		}
		items = append(items, c.ruleXML(r))
	}
	return []x{members("Rules", items)}, nil
}

func (c *Cloud) modifyRule(p *node) ([]x, error) {
	r, ok := c.elb.rules[p.str("RuleArn")]
	if !ok {
		return nil, errf("RuleNotFound", "rule %s not found", p.str("RuleArn"))
	}
	if p.has("Actions") {
		if err := c.checkActions(p.get("Actions")); err != nil {
			return nil, err
		}
		r.actions = p.get("Actions").clone()
	}
	if p.has("Conditions") {
		r.conditions = p.get("Conditions").clone()
	}
	return []x{members("Rules", []x{c.ruleXML(r)})}, nil
}

func (c *Cloud) createRule(p *node) ([]x, error) {
	arn := p.str("ListenerArn")
	if _, ok := c.elb.listeners[arn]; !ok {
		return nil, errf("ListenerNotFound", "listener %s not found", arn)
	}
	prio := p.int("Priority")
	if prio < 1 || prio > 50000 {
		return nil, errf("ValidationError", "priority %d out of range", prio)
	}
	for _, r := range c.elb.rules {
		if r.listener == arn && r.priority == prio {
			return nil, errf("PriorityInUse", "priority %d is in use", prio)
		}
	}
	if err := c.checkActions(p.get("Actions")); err != nil {
		return nil, err
	}
	if len(p.list("Conditions")) == 0 {
		return nil, errf("ValidationError", "a rule needs conditions")
	}
	ruleARN := c.addRule(arn, prio, p.get("Conditions").clone(), p.get("Actions").clone())
	tags := map[string]string{}
	for _, t := range p.list("Tags") {
		tags[t.str("Key")] = t.str("Value")
	}
	c.elb.tags[ruleARN] = tags
	return []x{members("Rules", []x{c.ruleXML(c.elb.rules[ruleARN])})}, nil
}

func (c *Cloud) deleteRule(p *node) ([]x, error) {
	arn := p.str("RuleArn")
	if _, ok := c.elb.rules[arn]; !ok {
		return nil, errf("RuleNotFound", "rule %s not found", arn)
	}
	delete(c.elb.rules, arn)
	delete(c.elb.tags, arn)
	return nil, nil
}

func (c *Cloud) describeTags(p *node) ([]x, error) {
	arns := p.strs("ResourceArns")
	if len(arns) > 20 {
		return nil, errf("ValidationError", "at most 20 resource ARNs, got %d", len(arns))
	}
	var items []x
	for _, arn := range arns {
		_, isRule := c.elb.rules[arn]
		_, isTG := c.elb.tgs[arn]
		if !isRule && !isTG {
			return nil, errf("RuleNotFound", "resource %s not found", arn)
		}
		var tags []x
		keys := slices.Sorted(maps.Keys(c.elb.tags[arn]))
		for _, k := range keys {
			tags = append(tags, el("member", tx("Key", k), tx("Value", c.elb.tags[arn][k])))
		}
		items = append(items, el("member", tx("ResourceArn", arn), members("Tags", tags)))
	}
	return []x{members("TagDescriptions", items)}, nil
}

func (c *Cloud) targetGroup(arn string) (*targetGroup, error) {
	tg, ok := c.elb.tgs[arn]
	if !ok {
		return nil, errf("TargetGroupNotFound", "target group %s not found", arn)
	}
	return tg, nil
}

func (c *Cloud) describeTargetHealth(p *node) ([]x, error) {
	tg, err := c.targetGroup(p.str("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(tg.targets))
	for id := range tg.targets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var items []x
	for _, id := range ids {
		items = append(items, el("member",
			el("Target", tx("Id", id), tx("Port", "80")),
			el("TargetHealth", tx("State", tg.targets[id].state))))
	}
	return []x{members("TargetHealthDescriptions", items)}, nil
}

func (c *Cloud) describeTargetGroupAttributes(p *node) ([]x, error) {
	tg, err := c.targetGroup(p.str("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	return []x{members("Attributes", []x{
		el("member", tx("Key", "deregistration_delay.timeout_seconds"), tx("Value", strconv.Itoa(tg.dereg))),
		el("member", tx("Key", "stickiness.enabled"), tx("Value", "false")),
	})}, nil
}

func (c *Cloud) describeTargetGroups(p *node) ([]x, error) {
	var items []x
	for _, arn := range p.strs("TargetGroupArns") {
		tg, err := c.targetGroup(arn)
		if err != nil {
			return nil, err
		}
		var lbs []x
		for _, lb := range tg.lbs {
			lbs = append(lbs, tx("member", lb))
		}
		items = append(items, el("member", tx("TargetGroupArn", tg.arn), tx("TargetGroupName", tg.name),
			tx("Protocol", "HTTP"), tx("Port", "80"), members("LoadBalancerArns", lbs)))
	}
	return []x{members("TargetGroups", items)}, nil
}

// simulateTargets registers in-service instances of every group in its
// target groups, turns them healthy, and drains the ones that left.
func (c *Cloud) simulateTargets() bool {
	busy := false
	want := map[string]map[string]bool{} // tg -> instance ids
	for _, g := range c.asg.groups {
		for _, in := range g.instances {
			if in.state != "InService" {
				continue
			}
			for _, tg := range g.tgs {
				if want[tg] == nil {
					want[tg] = map[string]bool{}
				}
				want[tg][in.id] = true
			}
		}
	}
	for arn, tg := range c.elb.tgs {
		for id := range want[arn] {
			if _, ok := tg.targets[id]; !ok {
				tg.targets[id] = &target{state: "initial", since: c.now}
			}
		}
		for id, t := range tg.targets {
			busy = c.stepTarget(tg, id, t, want[arn][id]) || busy
		}
	}
	return busy
}

func (c *Cloud) stepTarget(tg *targetGroup, id string, t *target, wanted bool) bool {
	age := c.now.Sub(t.since)
	switch {
	case !wanted && t.state != "draining":
		t.state, t.since = "draining", c.now
		return true
	case !wanted && age >= time.Duration(tg.dereg)*time.Second:
		delete(tg.targets, id)
		return false
	case !wanted:
		return true
	case t.state == "initial" && age >= HealthyDelay:
		t.state = "healthy"
		if c.badInstance(id) {
			t.state = "unhealthy"
		}
		return false
	case t.state == "initial":
		return true
	}
	return false
}
