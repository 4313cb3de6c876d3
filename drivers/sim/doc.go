// Package sim is the simulated cloud: an in-process implementation of every
// cloud interface the reconciler needs (images, fleets, traffic, metrics and
// the clock), with the behaviour of the real services that rollouts depend
// on: instances take time to launch and to pass health checks, deregistered
// targets drain, instance refreshes replace capacity batch by batch, listener
// rules reject a priority in use, and faults (error rate, latency, unhealthy
// instances, API throttling) can be injected.
//
// The world moves only as a function of simulated time: every call first
// advances the state to Now, so there are no goroutines and a 30-minute
// pause costs nothing. State lives in one JSON file, replaced atomically
// and guarded by an flock, so the daemon and the `amigo sim` commands can
// share it from different processes; an empty path keeps it in memory.
//
// The package must not reach the network or read the wall clock except
// through Options.Wall, and must not use randomness: identical calls on
// identical states give identical results, so status does not churn.
package sim
