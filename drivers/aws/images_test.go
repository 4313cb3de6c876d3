package aws

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amigo-gitops/amigo/drivers/aws/awstest"
	"github.com/amigo-gitops/amigo/reconciler"
)

func TestResolveImage(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)
	d := newDriver(t, c)
	osAMI := c.AddAMI("al2023", "available", c.Now(), nil)
	base, baseAMI := c.AddImage(awstest.IBImage{Name: "idhub-40-base", Version: "2026.11.0", Status: "AVAILABLE", AMIName: "idhub-40-base-2026.11", Parent: osAMI})
	mw, mwAMI := c.AddImage(awstest.IBImage{Name: "idhub-40-middleware", Version: "3.2.0", Status: "AVAILABLE", AMIName: "idhub-40-middleware-3.2",
		Parent: base, Tags: map[string]string{TagLayer: "middleware", TagImageVersion: "v3.2"}})
	// v1.6: a failed build, then a good one.
	c.AddImage(awstest.IBImage{Name: "idhub-40-web-app", Version: "1.6.0", Status: "FAILED", Parent: mw})
	_, appAMI := c.AddImage(awstest.IBImage{Name: "idhub-40-web-app", Version: "1.6.0", Status: "AVAILABLE", AMIName: "idhub-40-web-app-v1.6-20261115", Parent: mw})
	c.AddImage(awstest.IBImage{Name: "idhub-40-web-app", Version: "1.7.0", Status: "TESTING", Parent: mw})
	c.AddImage(awstest.IBImage{Name: "idhub-40-web-app", Version: "1.8.0", Status: "FAILED", Parent: mw})
	// v2.0-rc1 is not a semantic version: only EC2 names it.
	c.AddAMI("idhub-40-hlp-app-v2.0-rc1-20261101", "available", c.Now().AddDate(0, 0, -14), nil)
	rc := c.AddAMI("idhub-40-hlp-app-v2.0-rc1-20261115", "available", c.Now(), map[string]string{TagLineage: "base:2026.11:ami-b,middleware:v3.2:ami-m"})
	c.AddAMI("idhub-40-hlp-app-v2.0-rc1-20261116", "pending", c.Now(), nil)

	lineage := []reconciler.Layer{{Layer: "base", Version: "2026.11.0", AMI: baseAMI}, {Layer: "middleware", Version: "v3.2", AMI: mwAMI}}
	tests := []struct {
		name string
		q    reconciler.ImageQuery
		want reconciler.Image
	}{
		{"image builder", reconciler.ImageQuery{Role: "web", Version: "v1.6"},
			reconciler.Image{Name: "idhub-40-web-app-v1.6-20261115", Version: "v1.6", AMI: appAMI, State: reconciler.ImageAvailable, Lineage: lineage}},
		{"building", reconciler.ImageQuery{Role: "web", Version: "v1.7"}, reconciler.Image{Version: "v1.7", State: reconciler.ImageBuilding}},
		{"failed", reconciler.ImageQuery{Role: "web", Version: "v1.8"}, reconciler.Image{Version: "v1.8", State: reconciler.ImageFailed}},
		{"missing", reconciler.ImageQuery{Role: "web", Version: "v9.9"}, reconciler.Image{Version: "v9.9", State: reconciler.ImageMissing}},
		{"ec2 by name, newest available", reconciler.ImageQuery{Role: "hlp", Version: "v2.0-rc1"},
			reconciler.Image{Name: "idhub-40-hlp-app-v2.0-rc1-20261115", Version: "v2.0-rc1", AMI: rc, State: reconciler.ImageAvailable,
				Lineage: []reconciler.Layer{{Layer: "base", Version: "2026.11", AMI: "ami-b"}, {Layer: "middleware", Version: "v3.2", AMI: "ami-m"}}}},
		{"other project", reconciler.ImageQuery{Project: "other", Role: "web", Version: "v1.6"}, reconciler.Image{Version: "v1.6", State: reconciler.ImageMissing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.ResolveImage(ctx, tt.q)
			if err != nil {
				t.Fatalf("ResolveImage: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("image (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("available images are cached", func(t *testing.T) {
		before := d.Calls().Total
		if _, err := d.ResolveImage(ctx, reconciler.ImageQuery{Role: "web", Version: "v1.6"}); err != nil {
			t.Fatalf("ResolveImage: %v", err)
		}
		if got := d.Calls().Total - before; got != 0 {
			t.Errorf("calls: got %d, want 0", got)
		}
	})
}

func TestSemVersion(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"v1.6", "1.6.0", true}, {"1.6.3", "1.6.3", true}, {"v2", "2.0.0", true}, {"v2.0-rc1", "", false}, {"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := semVersion(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("semVersion(%q): got %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
