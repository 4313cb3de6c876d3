// Package reconciler owns the reconcile pass and the rollout engine.
//
// One pass is: fetch the desired branch (skip parsing when the revision is
// unchanged, never skip observing), load and validate, observe the cloud,
// plan, apply, write status. Plan is a pure function of what was observed,
// the previous statuses and the time passed in; it returns actions a
// person can read (`amigo plan` prints them) and the status each stack has
// once they apply. The only switch on strategy lives in routing.go and
// plan.go.
//
// The package defines the interfaces it needs from the outside: Source (the
// config repository, cloud.go's Images, Fleets, Traffic, Metrics and Clock),
// and Reporter. Drivers implement them; this package imports none of them.
//
// It must not keep state that cannot be rebuilt: everything it remembers
// between passes comes back from the cloud's tags and listener rules and the
// status branch after a restart. It must not read the clock inside Plan, log
// an error it returns, or retry anything but throttled cloud calls.
package reconciler
