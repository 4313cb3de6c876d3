// Package estate generates config repositories of any size for the
// performance figures, brings a simulated cloud to a chosen state (every
// stack at rest, or every stack mid-rollout) and builds the planner's input
// from that cloud. It owns no product behaviour: it drives the reconciler
// only through its exported API and must not be imported by the daemon.
package estate
