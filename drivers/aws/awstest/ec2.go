package awstest

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

type ec2State struct {
	templates map[string]*launchTemplate
	images    map[string]*ami
	bad       map[string]bool
}

func newEC2State() ec2State {
	return ec2State{templates: map[string]*launchTemplate{}, images: map[string]*ami{}, bad: map[string]bool{}}
}

type launchTemplate struct {
	id, name string
	versions []string // AMI per version, version n at index n-1
	def      int
}

func (lt *launchTemplate) resolve(v string) (int, error) {
	switch v {
	case "", "$Default":
		return lt.def, nil
	case "$Latest":
		return len(lt.versions), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > len(lt.versions) {
		return 0, errf("InvalidLaunchTemplateVersion.NotFound", "launch template %s has no version %q", lt.id, v)
	}
	return n, nil
}

type ami struct {
	id, name, state string
	created         time.Time
	tags            map[string]string
}

// CreateLaunchTemplate adds a launch template whose version 1 uses ami.
func (c *Cloud) CreateLaunchTemplate(name, amiID string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.id("lt-")
	c.ec2.templates[id] = &launchTemplate{id: id, name: name, versions: []string{amiID}, def: 1}
	return id
}

// LaunchTemplateVersions returns the AMI of each version of a template.
func (c *Cloud) LaunchTemplateVersions(id string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ec2.templates[id].versions...)
}

// AddAMI registers an EC2 image owned by the account and returns its id.
func (c *Cloud) AddAMI(name, state string, created time.Time, tags map[string]string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addAMI(name, state, created, tags)
}

func (c *Cloud) addAMI(name, state string, created time.Time, tags map[string]string) string {
	id := c.id("ami-")
	c.ec2.images[id] = &ami{id: id, name: name, state: state, created: created, tags: tags}
	return id
}

// FailInstances makes instances launched from amiID fail their health
// checks, like an application that does not start.
func (c *Cloud) FailInstances(amiID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ec2.bad[amiID] = true
}

func (c *Cloud) launchTemplate(id, name string) (*launchTemplate, error) {
	if lt, ok := c.ec2.templates[id]; ok {
		return lt, nil
	}
	for _, lt := range c.ec2.templates {
		if name != "" && lt.name == name {
			return lt, nil
		}
	}
	return nil, errf("InvalidLaunchTemplateId.NotFound", "launch template %s%s does not exist", id, name)
}

func (c *Cloud) serveEC2(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeEC2Error(w, errf("InvalidParameterValue", "bad request"))
		return
	}
	action := form.Get("Action")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.begin(EC2 + ":" + action) {
		writeEC2Error(w, &apiError{status: http.StatusServiceUnavailable, code: "RequestLimitExceeded", msg: "Request limit exceeded."})
		return
	}
	var result []x
	p := parseForm(form)
	switch action {
	case "CreateLaunchTemplateVersion":
		result, err = c.createLaunchTemplateVersion(p)
	case "DescribeImages":
		result, err = c.describeImages(p)
	default:
		err = errf("InvalidAction", "action %s is not implemented", action)
	}
	if err != nil {
		writeEC2Error(w, asAPIError(err))
		return
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	b.WriteString(`<` + action + `Response xmlns="` + ec2NS + `">`)
	tx("requestId", "req-"+action).write(&b)
	for _, k := range result {
		k.write(&b)
	}
	b.WriteString(`</` + action + `Response>`)
	w.Header().Set("Content-Type", "text/xml")
	w.Write(b.Bytes())
}

func writeEC2Error(w http.ResponseWriter, e *apiError) {
	var b bytes.Buffer
	el("Response", el("Errors", el("Error", tx("Code", e.code), tx("Message", e.msg))), tx("RequestID", "req-error")).write(&b)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	w.Write(b.Bytes())
}

func items(name string, list []x) x {
	for i := range list {
		list[i].name = "item"
	}
	return x{name: name, kids: list}
}

func (c *Cloud) createLaunchTemplateVersion(p *node) ([]x, error) {
	lt, err := c.launchTemplate(p.str("LaunchTemplateId"), p.str("LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	src, err := lt.resolve(p.str("SourceVersion"))
	if err != nil {
		return nil, err
	}
	image := lt.versions[src-1]
	if id := p.str("LaunchTemplateData.ImageId"); id != "" {
		image = id
	}
	lt.versions = append(lt.versions, image)
	n := len(lt.versions)
	return []x{el("launchTemplateVersion", tx("launchTemplateId", lt.id), tx("launchTemplateName", lt.name),
		tx("versionNumber", strconv.Itoa(n)), tx("versionDescription", p.str("VersionDescription")),
		tx("defaultVersion", "false"), tx("createTime", isoTime(c.now)),
		el("launchTemplateData", tx("imageId", image)))}, nil
}

func (c *Cloud) describeImages(p *node) ([]x, error) {
	owners := p.strs("Owner")
	if len(owners) > 0 && !contains(owners, "self") && !contains(owners, c.Account) {
		return []x{el("imagesSet")}, nil
	}
	ids := p.strs("ImageId")
	var sel []*ami
	for _, im := range c.ec2.images {
		if len(ids) > 0 && !contains(ids, im.id) {
			continue
		}
		if imageMatches(im, p.list("Filter")) {
			sel = append(sel, im)
		}
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].id < sel[j].id })
	var list []x
	for _, im := range sel {
		var tags []x
		for _, k := range slices.Sorted(maps.Keys(im.tags)) {
			tags = append(tags, el("item", tx("key", k), tx("value", im.tags[k])))
		}
		list = append(list, el("item", tx("imageId", im.id), tx("name", im.name), tx("imageState", im.state),
			tx("creationDate", isoTime(im.created)), tx("imageOwnerId", c.Account), items("tagSet", tags)))
	}
	return []x{items("imagesSet", list)}, nil
}

func imageMatches(im *ami, filters []*node) bool {
	for _, f := range filters {
		name, values := f.str("Name"), f.strs("Value")
		ok := false
		for _, v := range values {
			switch {
			case name == "name":
				m, _ := path.Match(v, im.name)
				ok = ok || m
			case name == "state":
				ok = ok || im.state == v
			case strings.HasPrefix(name, "tag:"):
				ok = ok || im.tags[strings.TrimPrefix(name, "tag:")] == v
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
