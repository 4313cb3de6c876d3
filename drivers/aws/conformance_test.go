package aws

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/drivers/aws/awstest"
	"github.com/amigo-gitops/amigo/drivers/conformance"
	"github.com/amigo-gitops/amigo/reconciler"
)

// harness offers the driver, talking to the wire-protocol test servers,
// to the conformance suite.
type harness struct {
	c *awstest.Cloud
	d *Driver
}

func (h harness) Cloud() reconciler.Cloud { return h.d.Cloud() }

func (h harness) Seed(t *testing.T, stack desired.StackID) desired.Target {
	t.Helper()
	name := "idhub-40-" + stack.Env + "-" + stack.Role
	s := seedStack(h.c, name)
	return desired.Target{
		Listener:       s.listener,
		TargetGroups:   []string{s.blue, s.green},
		LaunchTemplate: s.lt,
		Subnets:        []string{"subnet-" + stack.Env + "-1a", "subnet-" + stack.Env + "-1c"},
	}
}

// Image builds the lineage in Image Builder: base (from an operating
// system AMI), middleware on base, and the application on middleware.
func (h harness) Image(t *testing.T, project, role, version string, st reconciler.ImageState) {
	t.Helper()
	sv, ok := semVersion(version)
	if !ok {
		t.Fatalf("version %q has no semantic form", version)
	}
	day := h.c.Now().Format("20060102")
	osAMI := h.c.AddAMI("al2023-ami-2026.11", "available", h.c.Now(), nil)
	base, _ := h.c.AddImage(awstest.IBImage{Name: project + "-base", Version: "2026.11.0", Status: "AVAILABLE",
		AMIName: fmt.Sprintf("%s-base-2026.11-%s", project, day), Parent: osAMI})
	mw, _ := h.c.AddImage(awstest.IBImage{Name: project + "-middleware", Version: "3.2.0", Status: "AVAILABLE",
		AMIName: fmt.Sprintf("%s-middleware-3.2-%s", project, day), Parent: base})
	h.c.AddImage(awstest.IBImage{Name: fmt.Sprintf("%s-%s-app", project, role), Version: sv, Status: ibStatus(st),
		AMIName: fmt.Sprintf("%s-%s-app-%s-%s", project, role, version, day), Parent: mw})
}

func ibStatus(st reconciler.ImageState) string {
	switch st {
	case reconciler.ImageBuilding:
		return "BUILDING"
	case reconciler.ImageFailed:
		return "FAILED"
	}
	return strings.ToUpper(string(st))
}

func (h harness) Settle(t *testing.T, d time.Duration) {
	t.Helper()
	h.c.Advance(d)
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Harness {
		c := newCloud(t)
		return harness{c: c, d: newDriver(t, c)}
	})
}
