package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/amigo-gitops/amigo/reconciler"
)

// appLayer is the layer an ImageQuery means when it names none.
const appLayer = "app"

// parentVersions are the versions given to lower layers created on demand.
var parentVersions = map[string]string{"base": "v1.0", "middleware": "v2.3"}

func imageKey(project, role, layer, version string) string {
	return project + "/" + role + "/" + layer + "/" + version
}

// amiOf derives the AMI id from the image name, like a registry would hand
// out one id per build.
func amiOf(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "ami-" + hex.EncodeToString(sum[:])[:17]
}

// ResolveImage finds the application image of a role at a version.
func (c *Cloud) ResolveImage(ctx context.Context, q reconciler.ImageQuery) (reconciler.Image, error) {
	var out reconciler.Image
	err := c.api(ctx, "ResolveImage", false, func(s *state, _ time.Time) error {
		layer := q.Layer
		if layer == "" {
			layer = appLayer
		}
		im := s.Images[imageKey(q.Project, q.Role, layer, q.Version)]
		if im == nil {
			out = reconciler.Image{Version: q.Version, State: reconciler.ImageMissing}
			return nil
		}
		out = s.imageView(im)
		return nil
	})
	return out, err
}

func (s *state) imageView(im *image) reconciler.Image {
	out := reconciler.Image{Name: im.Name, Version: im.Version, State: im.State}
	if im.State == reconciler.ImageAvailable {
		out.AMI = amiOf(im.Name)
	}
	for _, k := range im.Parents {
		if p := s.Images[k]; p != nil {
			l := reconciler.Layer{Layer: p.Layer, Version: p.Version}
			if p.State == reconciler.ImageAvailable {
				l.AMI = amiOf(p.Name)
			}
			out.Lineage = append(out.Lineage, l)
		}
	}
	return out
}

// SetImage makes an image exist in the given state, as Image Builder would
// after a build started, finished or failed. Lower layers it is built from
// are created (AVAILABLE) when the role has none yet.
func (c *Cloud) SetImage(project, role, layer, version string, st reconciler.ImageState) error {
	switch st {
	case reconciler.ImageAvailable, reconciler.ImageBuilding, reconciler.ImageFailed:
	default:
		return fmt.Errorf("set image %s %s: state %q: want AVAILABLE, BUILDING or FAILED", role, version, st)
	}
	if layer == "" {
		layer = appLayer
	}
	return c.update(func(s *state) error {
		s.setImage(project, role, layer, version, st)
		return nil
	})
}

func (s *state) setImage(project, role, layer, version string, st reconciler.ImageState) *image {
	key := imageKey(project, role, layer, version)
	if im := s.Images[key]; im != nil {
		im.State = st
		return im
	}
	date := s.SimAt.Format("20060102")
	im := &image{
		Project: project, Role: role, Layer: layer, Version: version, State: st,
		Name: fmt.Sprintf("%s-%s-%s-%s-%s", project, role, layer, version, date),
	}
	for _, pl := range s.lowerLayers(layer) {
		im.Parents = append(im.Parents, s.parent(project, role, pl))
	}
	s.Images[key] = im
	return im
}

// lowerLayers are the layers below layer in the lineage; an unknown layer
// sits on top of all of them.
func (s *state) lowerLayers(layer string) []string {
	for i, l := range s.Layers {
		if l == layer {
			return s.Layers[:i]
		}
	}
	if len(s.Layers) == 0 {
		return nil
	}
	return s.Layers[:len(s.Layers)-1]
}

// parent is the key of the newest AVAILABLE image of a lower layer,
// creating one when there is none.
func (s *state) parent(project, role, layer string) string {
	var keys []string
	for k, im := range s.Images {
		if im.Project == project && im.Role == role && im.Layer == layer && im.State == reconciler.ImageAvailable {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		return keys[len(keys)-1]
	}
	v := parentVersions[layer]
	if v == "" {
		v = "v1.0"
	}
	s.setImage(project, role, layer, v, reconciler.ImageAvailable)
	return imageKey(project, role, layer, v)
}
