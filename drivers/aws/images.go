package aws

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/imagebuilder"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"

	"github.com/amigo-gitops/amigo/reconciler"
)

// Image tags read by the driver. On Image Builder images TagLayer and
// TagImageVersion name a parent's layer and version (else the last part
// of the image name and its semantic version are used); on EC2 images
// found by name, TagLineage lists the parents as
// "base:2026.11:ami-1,middleware:v3:ami-2", lowest first.
const (
	TagLayer        = "amigo:layer"
	TagImageVersion = "amigo:version"
	TagLineage      = "amigo:lineage"
)

// maxLineage bounds the parentImage chain walked.
const maxLineage = 8

// ResolveImage looks in Image Builder first: the image named
// {project}-{role}-{layer} at the semantic version of q.Version ("v1.6"
// is 1.6.0). When Image Builder has no such image, EC2 images named
// {project}-{role}-{layer}-{version}-* (owner self, available) are used,
// newest first. Available images are cached: a version's AMI never
// changes, and status pins it anyway.
func (d *Driver) ResolveImage(ctx context.Context, q reconciler.ImageQuery) (reconciler.Image, error) {
	q = d.imageDefaults(q)
	if img, ok := d.cache.image(q); ok {
		return img, nil
	}
	img, found, err := d.fromImageBuilder(ctx, q)
	if err == nil && !found {
		img, found, err = d.fromEC2(ctx, q)
	}
	if err != nil {
		return reconciler.Image{}, fmt.Errorf("resolve image %s-%s-%s %s: %w", q.Project, q.Role, q.Layer, q.Version, err)
	}
	if !found {
		return reconciler.Image{Version: q.Version, State: reconciler.ImageMissing}, nil
	}
	if img.State == reconciler.ImageAvailable {
		d.cache.setImage(q, img)
	}
	return img, nil
}

func (d *Driver) imageDefaults(q reconciler.ImageQuery) reconciler.ImageQuery {
	if q.Project == "" {
		q.Project = d.project
	}
	if q.Layer == "" {
		q.Layer = "app"
	}
	if q.Region == "" {
		q.Region = d.region
	}
	return q
}

var semverRE = regexp.MustCompile(`^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$`)

// semVersion maps an application version to Image Builder's x.y.z.
func semVersion(v string) (string, bool) {
	m := semverRE.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	for i := 2; i <= 3; i++ {
		if m[i] == "" {
			m[i] = "0"
		}
	}
	return m[1] + "." + m[2] + "." + m[3], true
}

func (d *Driver) fromImageBuilder(ctx context.Context, q reconciler.ImageQuery) (reconciler.Image, bool, error) {
	sv, ok := semVersion(q.Version)
	if !ok {
		return reconciler.Image{}, false, nil
	}
	list, err := d.ib.ListImages(ctx, &imagebuilder.ListImagesInput{
		Owner: ibtypes.OwnershipSelf,
		Filters: []ibtypes.Filter{
			{Name: awssdk.String("name"), Values: []string{q.Project + "-" + q.Role + "-" + q.Layer}},
			{Name: awssdk.String("version"), Values: []string{sv}},
		},
	})
	if err != nil {
		return reconciler.Image{}, false, fmt.Errorf("list images: %w", err)
	}
	if len(list.ImageVersionList) == 0 {
		return reconciler.Image{}, false, nil
	}
	build, err := d.pickBuild(ctx, awssdk.ToString(list.ImageVersionList[0].Arn))
	if err != nil || build == nil {
		return reconciler.Image{}, build != nil, err
	}
	img := reconciler.Image{Version: q.Version, State: imageState(build.State)}
	if img.State != reconciler.ImageAvailable {
		return img, true, nil
	}
	full, err := d.getImage(ctx, awssdk.ToString(build.Arn))
	if err != nil {
		return reconciler.Image{}, false, err
	}
	ami := amiIn(full.OutputResources, q.Region)
	if ami == nil {
		return reconciler.Image{}, false, fmt.Errorf("image %s has no AMI in %s", awssdk.ToString(full.Arn), q.Region)
	}
	img.AMI, img.Name = awssdk.ToString(ami.Image), awssdk.ToString(ami.Name)
	if full.ImageRecipe != nil {
		img.Lineage, err = d.lineage(ctx, awssdk.ToString(full.ImageRecipe.ParentImage), q.Region)
	}
	return img, true, err
}

// pickBuild chooses among an image version's builds: the newest
// available one, else the newest that is neither deprecated nor deleted.
func (d *Driver) pickBuild(ctx context.Context, versionARN string) (*ibtypes.ImageSummary, error) {
	var builds []ibtypes.ImageSummary
	p := imagebuilder.NewListImageBuildVersionsPaginator(d.ib, &imagebuilder.ListImageBuildVersionsInput{ImageVersionArn: &versionARN})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list image build versions: %w", err)
		}
		builds = append(builds, page.ImageSummaryList...)
	}
	sort.SliceStable(builds, func(i, j int) bool {
		return awssdk.ToString(builds[i].DateCreated) > awssdk.ToString(builds[j].DateCreated)
	})
	var fallback *ibtypes.ImageSummary
	for i, b := range builds {
		s := imageState(b.State)
		if s == reconciler.ImageAvailable {
			return &builds[i], nil
		}
		if s != reconciler.ImageMissing && fallback == nil {
			fallback = &builds[i]
		}
	}
	return fallback, nil
}

func imageState(s *ibtypes.ImageState) reconciler.ImageState {
	if s == nil {
		return reconciler.ImageMissing
	}
	switch s.Status {
	case ibtypes.ImageStatusAvailable:
		return reconciler.ImageAvailable
	case ibtypes.ImageStatusFailed, ibtypes.ImageStatusCancelled:
		return reconciler.ImageFailed
	case ibtypes.ImageStatusDeprecated, ibtypes.ImageStatusDeleted, ibtypes.ImageStatusDisabled:
		return reconciler.ImageMissing
	}
	return reconciler.ImageBuilding
}

func (d *Driver) getImage(ctx context.Context, buildARN string) (*ibtypes.Image, error) {
	out, err := d.ib.GetImage(ctx, &imagebuilder.GetImageInput{ImageBuildVersionArn: &buildARN})
	if err != nil {
		return nil, fmt.Errorf("get image %s: %w", buildARN, err)
	}
	if out.Image == nil {
		return nil, fmt.Errorf("get image %s: empty answer", buildARN)
	}
	return out.Image, nil
}

func amiIn(o *ibtypes.OutputResources, region string) *ibtypes.Ami {
	if o == nil {
		return nil
	}
	for i, a := range o.Amis {
		if awssdk.ToString(a.Region) == region {
			return &o.Amis[i]
		}
	}
	return nil
}

// lineage walks the recipes' parentImage chain while it names Image
// Builder images; a plain AMI id (the operating system image) ends it.
func (d *Driver) lineage(ctx context.Context, parent, region string) ([]reconciler.Layer, error) {
	var up []reconciler.Layer
	for i := 0; i < maxLineage && strings.HasPrefix(parent, "arn:") && strings.Contains(parent, ":image/"); i++ {
		arn, err := d.buildARN(ctx, parent)
		if err != nil {
			return nil, err
		}
		img, err := d.getImage(ctx, arn)
		if err != nil {
			return nil, err
		}
		up = append(up, layerOf(img, region))
		parent = ""
		if img.ImageRecipe != nil {
			parent = awssdk.ToString(img.ImageRecipe.ParentImage)
		}
	}
	out := make([]reconciler.Layer, len(up))
	for i, l := range up {
		out[len(up)-1-i] = l
	}
	return out, nil
}

// buildARN turns a version ARN (.../image/name/1.2.0) into its newest
// available build; a build ARN (.../1.2.0/3) is returned as is.
func (d *Driver) buildARN(ctx context.Context, arn string) (string, error) {
	rest := arn[strings.Index(arn, ":image/")+len(":image/"):]
	if strings.Count(rest, "/") >= 2 {
		return arn, nil
	}
	b, err := d.pickBuild(ctx, arn)
	if err != nil {
		return "", err
	}
	if b == nil {
		return "", fmt.Errorf("parent image %s has no builds", arn)
	}
	return awssdk.ToString(b.Arn), nil
}

func layerOf(img *ibtypes.Image, region string) reconciler.Layer {
	name := awssdk.ToString(img.Name)
	l := reconciler.Layer{Layer: name[strings.LastIndex(name, "-")+1:], Version: awssdk.ToString(img.Version)}
	if i := strings.Index(l.Version, "/"); i >= 0 {
		l.Version = l.Version[:i]
	}
	if v := img.Tags[TagLayer]; v != "" {
		l.Layer = v
	}
	if v := img.Tags[TagImageVersion]; v != "" {
		l.Version = v
	}
	if a := amiIn(img.OutputResources, region); a != nil {
		l.AMI = awssdk.ToString(a.Image)
	}
	return l
}

func (d *Driver) fromEC2(ctx context.Context, q reconciler.ImageQuery) (reconciler.Image, bool, error) {
	out, err := d.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners: []string{"self"},
		Filters: []ec2types.Filter{
			{Name: awssdk.String("name"), Values: []string{fmt.Sprintf("%s-%s-%s-%s-*", q.Project, q.Role, q.Layer, q.Version)}},
			{Name: awssdk.String("state"), Values: []string{"available"}},
		},
	})
	if err != nil {
		return reconciler.Image{}, false, fmt.Errorf("describe images: %w", err)
	}
	if len(out.Images) == 0 {
		return reconciler.Image{}, false, nil
	}
	imgs := out.Images
	sort.SliceStable(imgs, func(i, j int) bool {
		return awssdk.ToString(imgs[i].CreationDate) > awssdk.ToString(imgs[j].CreationDate)
	})
	newest := imgs[0]
	img := reconciler.Image{Name: awssdk.ToString(newest.Name), Version: q.Version, AMI: awssdk.ToString(newest.ImageId),
		State: reconciler.ImageAvailable}
	for _, t := range newest.Tags {
		if awssdk.ToString(t.Key) == TagLineage {
			img.Lineage = parseLineage(awssdk.ToString(t.Value))
		}
	}
	return img, true, nil
}

func parseLineage(s string) []reconciler.Layer {
	var out []reconciler.Layer
	for _, part := range strings.Split(s, ",") {
		f := strings.Split(strings.TrimSpace(part), ":")
		if len(f) == 3 {
			out = append(out, reconciler.Layer{Layer: f[0], Version: f[1], AMI: f[2]})
		}
	}
	return out
}
