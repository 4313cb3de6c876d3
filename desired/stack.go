package desired

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// stackFile is one parsed stack file: the stack with defaults applied, the
// line of every field it sets, and its errors so far.
type stackFile struct {
	stack Stack
	lines lineMap
	errs  []*FieldError
}

// rawStack is a stack while it is decoded: the fields whose default depends
// on other fields are pointers, nil until the file sets them.
type rawStack struct {
	s                 Stack
	desired, min, max *int
	stickiness        *time.Duration
	stepsGiven        bool
}

// parseStack decodes and validates one stack file on its own; checks across
// stacks come later.
func parseStack(file string, id StackID, content []byte) *stackFile {
	d := newDecoder(file)
	r := rawStack{s: defaultStack(id, file)}
	root, perr := parseYAML(file, content)
	if perr != nil {
		d.errs = append(d.errs, perr)
	} else {
		d.mapping(root, "", r.fields(d))
	}
	r.applyDefaults()
	if perr == nil {
		validateStack(d, &r)
	}
	return &stackFile{stack: r.s, lines: d.lines, errs: d.errs}
}

func (r *rawStack) fields(d *decoder) fields {
	s := &r.s
	return fields{
		"version": func(f string, v *yaml.Node) { d.setStr(v, f, &s.Version) },
		"strategy": func(f string, v *yaml.Node) {
			var x string
			d.setStr(v, f, &x)
			s.Strategy = Strategy(x)
		},
		"traffic":  func(f string, v *yaml.Node) { d.setInt(v, f, &s.Traffic) },
		"capacity": func(f string, v *yaml.Node) { d.mapping(v, f, r.capacityFields(d)) },
		"analysis": func(f string, v *yaml.Node) { d.mapping(v, f, analysisFields(d, &s.Analysis)) },
		"onFailure": func(f string, v *yaml.Node) {
			var x string
			d.setStr(v, f, &x)
			s.OnFailure = OnFailure(x)
		},
		"routing": func(f string, v *yaml.Node) { d.mapping(v, f, r.routingFields(d)) },
		"target":  func(f string, v *yaml.Node) { d.mapping(v, f, targetFields(d, &s.Target)) },
		"steps":   func(f string, v *yaml.Node) { r.stepsGiven = d.steps(v, f, &s.Steps) },
		"promotion": func(f string, v *yaml.Node) {
			d.mapping(v, f, fields{"override": func(f string, v *yaml.Node) {
				d.setStr(v, f, &s.Override)
				s.Override = strings.TrimSpace(s.Override) // a blank reason is no reason
			}})
		},
	}
}

func (r *rawStack) capacityFields(d *decoder) fields {
	intp := func(dst **int) func(string, *yaml.Node) {
		return func(f string, v *yaml.Node) {
			if i, ok := d.integer(v, f); ok {
				*dst = &i
			}
		}
	}
	return fields{"desired": intp(&r.desired), "min": intp(&r.min), "max": intp(&r.max)}
}

func analysisFields(d *decoder, a *Analysis) fields {
	percent := func(dst *float64, scale float64) func(string, *yaml.Node) {
		return func(f string, v *yaml.Node) {
			s, ok := d.str(v, f)
			if !ok {
				return
			}
			p, err := parsePercentPoints(s)
			if err != nil {
				d.fail(v.Line, f, "%v", err)
				return
			}
			*dst = p * scale
		}
	}
	return fields{
		"errorRate": percent(&a.ErrorRate, 0.01),
		"latency":   func(f string, v *yaml.Node) { d.setDuration(v, f, &a.Latency) },
		"cpu":       percent(&a.CPU, 1),
		"memory":    percent(&a.Memory, 1),
	}
}

func (r *rawStack) routingFields(d *decoder) fields {
	rt := &r.s.Routing
	return fields{
		"internal": func(f string, v *yaml.Node) { d.mapping(v, f, matchFields(d, &rt.Internal)) },
		"pilot":    func(f string, v *yaml.Node) { d.mapping(v, f, matchFields(d, &rt.Pilot)) },
		"stickiness": func(f string, v *yaml.Node) {
			var x time.Duration
			if d.setDuration(v, f, &x) {
				r.stickiness = &x
			}
		},
		"priority": func(f string, v *yaml.Node) { d.setInt(v, f, &rt.Priority) },
	}
}

func matchFields(d *decoder, m *Match) fields {
	return fields{
		"headers":     func(f string, v *yaml.Node) { d.setStrMap(v, f, &m.Headers) },
		"cookies":     func(f string, v *yaml.Node) { d.setStrMap(v, f, &m.Cookies) },
		"sourceCIDRs": func(f string, v *yaml.Node) { d.setStrList(v, f, &m.SourceCIDRs) },
	}
}

func targetFields(d *decoder, t *Target) fields {
	return fields{
		"listener":       func(f string, v *yaml.Node) { d.setStr(v, f, &t.Listener) },
		"rule":           func(f string, v *yaml.Node) { d.setStr(v, f, &t.Rule) },
		"targetGroups":   func(f string, v *yaml.Node) { d.setStrList(v, f, &t.TargetGroups) },
		"launchTemplate": func(f string, v *yaml.Node) { d.setStr(v, f, &t.LaunchTemplate) },
		"subnets":        func(f string, v *yaml.Node) { d.setStrList(v, f, &t.Subnets) },
	}
}

// steps decodes a steps override and reports whether one was given.
func (d *decoder) steps(n *yaml.Node, field string, dst *[]Step) bool {
	out := []Step{}
	ok := d.list(n, field, func(f string, e *yaml.Node) {
		var st Step
		d.mapping(e, f, fields{
			"traffic": func(f string, v *yaml.Node) { d.setInt(v, f, &st.Traffic) },
			"route":   func(f string, v *yaml.Node) { d.route(v, f, &st.Route) },
			"pause":   func(f string, v *yaml.Node) { d.setDuration(v, f, &st.Pause) },
		})
		out = append(out, st)
	})
	if ok {
		*dst = out
	}
	return ok
}

// route accepts "weighted" as a readable name for the weighted route.
func (d *decoder) route(n *yaml.Node, field string, dst *Route) {
	s, ok := d.str(n, field)
	switch {
	case !ok:
	case s == "weighted" || s == string(RouteWeighted):
		*dst = RouteWeighted
	case s == string(RouteInternal) || s == string(RoutePilot):
		*dst = Route(s)
	default:
		d.fail(n.Line, field, "want internal, pilot or weighted, got %q", s)
	}
}
