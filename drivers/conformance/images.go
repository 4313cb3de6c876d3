package conformance

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/reconciler"
)

func testImages(t *testing.T, h Harness) {
	h.Image(t, project, stack.Role, "v1.6", reconciler.ImageAvailable)
	h.Image(t, project, stack.Role, "v1.7", reconciler.ImageBuilding)
	h.Image(t, project, stack.Role, "v1.8", reconciler.ImageFailed)
	tests := []struct {
		version string
		want    reconciler.ImageState
	}{
		{"v1.6", reconciler.ImageAvailable},
		{"v1.7", reconciler.ImageBuilding},
		{"v1.8", reconciler.ImageFailed},
		{"v9.9", reconciler.ImageMissing},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			im, err := h.Cloud().Images.ResolveImage(call(t), reconciler.ImageQuery{
				Project: project, Role: stack.Role, Layer: "app", Version: tt.version,
			})
			if err != nil {
				t.Fatalf("resolve: got error %v, want none", err)
			}
			if im.State != tt.want {
				t.Errorf("state: got %s, want %s", im.State, tt.want)
			}
			if tt.want == reconciler.ImageAvailable {
				checkAvailable(t, im, tt.version)
			}
		})
	}
}

// checkAvailable checks the AMI, the name rule and the lineage.
func checkAvailable(t *testing.T, im reconciler.Image, version string) {
	t.Helper()
	if !strings.HasPrefix(im.AMI, "ami-") {
		t.Errorf("ami: got %q, want an ami- id", im.AMI)
	}
	if prefix := project + "-" + stack.Role + "-app-" + version + "-"; !strings.HasPrefix(im.Name, prefix) {
		t.Errorf("name: got %q, want prefix %q", im.Name, prefix)
	}
	if im.Version != version {
		t.Errorf("version: got %q, want %q", im.Version, version)
	}
	var layers []string
	for _, l := range im.Lineage {
		layers = append(layers, l.Layer)
		if !strings.HasPrefix(l.AMI, "ami-") || l.Version == "" {
			t.Errorf("lineage %s: got ami %q version %q, want an ami- id and a version", l.Layer, l.AMI, l.Version)
		}
	}
	if diff := cmp.Diff([]string{"base", "middleware"}, layers); diff != "" {
		t.Errorf("lineage layers (-want +got):\n%s", diff)
	}
}
