// Package conformance is the driver conformance suite: one scenario run
// against every implementation of the reconciler's cloud interfaces
// (drivers/sim and drivers/aws), so that the simulator cannot drift from the
// real thing. Each driver package runs it from a test named TestConformance.
package conformance

import (
	"testing"
	"time"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/reconciler"
)

// Harness is what a driver offers the suite: its cloud, and the few things
// that happen outside amigo (infrastructure made by hand, Image Builder
// finishing a build, time passing).
type Harness interface {
	Cloud() reconciler.Cloud
	// Seed creates, outside amigo, what a stack's target block refers to:
	// a listener forwarding 100% to the first of two new target groups, the
	// launch template and the subnets. It returns the target block.
	Seed(t *testing.T, stack desired.StackID) desired.Target
	// Image makes an application image exist in the given state, with its
	// lineage (base and middleware parents).
	Image(t *testing.T, project, role, version string, state reconciler.ImageState)
	// Settle lets time pass: launched instances come into service and
	// registered targets turn healthy, refreshes progress.
	Settle(t *testing.T, d time.Duration)
}
