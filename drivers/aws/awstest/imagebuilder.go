package awstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

type ibState struct {
	images []*ibImage
}

func newIBState() ibState { return ibState{} }

type ibImage struct {
	arn, name, version string
	build              int
	status             string
	ami, amiName       string
	parent             string
	tags               map[string]string
	created            time.Time
}

// IBImage describes an Image Builder image build to add.
type IBImage struct {
	Name    string // e.g. idhub-40-web-app
	Version string // semantic version, e.g. 1.6.0
	Status  string // AVAILABLE, BUILDING, TESTING, FAILED, ...
	AMIName string // name of the output AMI
	Parent  string // recipe parent image: a build version ARN or an AMI id
	Tags    map[string]string
}

// AddImage adds an image build and returns its build version ARN and,
// when the build is AVAILABLE, its output AMI (also registered in EC2).
func (c *Cloud) AddImage(im IBImage) (arn, amiID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	build := 1
	for _, o := range c.ib.images {
		if o.name == im.Name && o.version == im.Version {
			build = max(build, o.build+1)
		}
	}
	img := &ibImage{name: im.Name, version: im.Version, build: build, status: im.Status, amiName: im.AMIName,
		parent: im.Parent, tags: im.Tags, created: c.now}
	img.arn = fmt.Sprintf("%s/%d", c.ibVersionARN(im.Name, im.Version), build)
	if im.Status == "AVAILABLE" {
		img.ami = c.addAMI(im.AMIName, "available", c.now, im.Tags)
	}
	c.ib.images = append(c.ib.images, img)
	return img.arn, img.ami
}

func (c *Cloud) ibVersionARN(name, version string) string {
	return fmt.Sprintf("arn:aws:imagebuilder:%s:%s:image/%s/%s", c.Region, c.Account, strings.ToLower(name), version)
}

func (c *Cloud) serveIB(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.URL.Path, "/")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.begin(ImageBuilder + ":" + op) {
		writeJSONError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
		return
	}
	var in struct {
		ImageVersionArn string `json:"imageVersionArn"`
		Filters         []struct {
			Name   string   `json:"name"`
			Values []string `json:"values"`
		} `json:"filters"`
	}
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeJSONError(w, http.StatusBadRequest, "InvalidRequestException", err.Error())
			return
		}
	}
	var out any
	switch {
	case op == "ListImages" && r.Method == http.MethodPost:
		filters := map[string][]string{}
		for _, f := range in.Filters {
			filters[f.Name] = f.Values
		}
		out = c.listImages(filters)
	case op == "ListImageBuildVersions" && r.Method == http.MethodPost:
		out = c.listBuilds(in.ImageVersionArn)
	case op == "GetImage" && r.Method == http.MethodGet:
		img := c.ibImage(r.URL.Query().Get("imageBuildVersionArn"))
		if img == nil {
			writeJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "image not found")
			return
		}
		out = map[string]any{"requestId": "req", "image": c.imageJSON(img, true)}
	default:
		writeJSONError(w, http.StatusNotFound, "UnknownOperationException", op+" is not implemented")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (c *Cloud) ibImage(arn string) *ibImage {
	for _, img := range c.ib.images {
		if img.arn == arn {
			return img
		}
	}
	return nil
}

func (c *Cloud) listImages(filters map[string][]string) any {
	seen := map[string]bool{}
	var list []map[string]any
	for _, img := range c.ib.images {
		if v := filters["name"]; len(v) > 0 && !contains(v, img.name) {
			continue
		}
		if v := filters["version"]; len(v) > 0 && !contains(v, img.version) {
			continue
		}
		arn := c.ibVersionARN(img.name, img.version)
		if seen[arn] {
			continue
		}
		seen[arn] = true
		list = append(list, map[string]any{"arn": arn, "name": img.name, "version": img.version, "type": "AMI",
			"platform": "Linux", "owner": c.Account, "dateCreated": isoTime(img.created)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i]["arn"].(string) < list[j]["arn"].(string) })
	return map[string]any{"requestId": "req", "imageVersionList": list}
}

func (c *Cloud) listBuilds(versionARN string) any {
	var list []map[string]any
	for _, img := range c.ib.images {
		if strings.HasPrefix(img.arn, versionARN+"/") {
			list = append(list, c.imageJSON(img, false))
		}
	}
	return map[string]any{"requestId": "req", "imageSummaryList": list}
}

func (c *Cloud) imageJSON(img *ibImage, full bool) map[string]any {
	out := map[string]any{
		"arn": img.arn, "name": img.name, "version": fmt.Sprintf("%s/%d", img.version, img.build),
		"type": "AMI", "platform": "Linux", "owner": c.Account, "dateCreated": isoTime(img.created),
		"state": map[string]any{"status": img.status},
		"tags":  img.tags,
	}
	if img.ami != "" {
		out["outputResources"] = map[string]any{"amis": []map[string]any{
			{"region": c.Region, "image": img.ami, "name": img.amiName, "accountId": c.Account},
		}}
	}
	if full {
		out["imageRecipe"] = map[string]any{
			"arn":         fmt.Sprintf("arn:aws:imagebuilder:%s:%s:image-recipe/%s/%s", c.Region, c.Account, strings.ToLower(img.name), img.version),
			"name":        img.name,
			"version":     img.version,
			"parentImage": img.parent,
		}
	}
	return out
}
