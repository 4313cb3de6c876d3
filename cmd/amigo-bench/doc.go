// Command amigo-bench measures amigo's performance goals on the simulated
// cloud and prints one table: revert-to-rollback latency through a signed
// webhook, the cost of a pass with nothing to do at 10, 100 and 1,000
// stacks, the cost of a poll against `git ls-remote`, the daemon's peak
// memory holding 1,000 stacks, how a burst of webhooks coalesces, and the
// planner's cost per stack. It writes the figures as JSON to $BENCH_OUT
// (default bench.json). `make bench` runs it.
//
// It drives the product only through its exported packages and the amigo
// binary; servers it starts bind 127.0.0.1 and stop before it exits. It
// must not assert anything about time: it reports, and the table's ok
// column compares with the targets.
package main
