// Package desired owns the amigo/v1 config repository format: it parses
// amigo.yaml and environments/<env>/<role>.yaml into Settings and Stacks,
// applies the defaults, and validates everything, reporting each problem
// with its file, line and dotted field (capacity.min, steps[1].traffic).
//
// A missing or invalid amigo.yaml fails the whole load (Load returns a
// *LoadError). An invalid stack is reported in Repo.Invalid and Repo.Errors
// and left out of Repo.Stacks, so the reconciler leaves it running as it
// is while the other stacks go on.
//
// It must not do I/O besides reading a checked-out tree in LoadDir: no git,
// no cloud calls, no clock. It does not decide what to change in the cloud;
// that is the reconciler's job. SetVersion edits a stack file's bytes for a
// promotion pull request; committing it is someone else's job.
//
// # Defaults
//
// Every default is declared in defaults.go. amigo.yaml:
//
//	apiVersion          amigo/v1 (the only accepted value)
//	project             required, no default
//	environments        [dev, stg, prd] (promotion order)
//	roles               [web, hlp]
//	images.layers       [base, middleware, app]
//	images.retain       10
//	promotion.gate      healthy (or none)
//	promotion.pullRequests  true
//	status.branch       amigo/status
//	aws.region          ap-northeast-1
//
// A stack file:
//
//	strategy            bluegreen
//	traffic             100
//	capacity            desired 2, min = desired, max = 2 * desired
//	analysis            errorRate 0.1%, latency 2s, cpu 10%, memory 10%
//	onFailure           abort
//	routing.stickiness  1h for hybrid-canary, 0 otherwise
//	routing.priority    1 (a stack owns priorities [priority, priority+9])
//	steps               the strategy's handbook steps (DefaultSteps):
//	  bluegreen         10% 15m, 50% 15m, 100% 30m
//	  canary            10% 30m, 50% 30m, 100% 0
//	  rolling           25% 5m, 50% 5m, 75% 5m, 100% 5m
//	  hybrid-canary     internal 5% 24h, pilot 20% 48h, 50% 24h, 100% 168h
//
// version and target (listener, targetGroups, launchTemplate, subnets) have
// no default.
//
// # Validation
//
// Beyond types and unknown fields, Load rejects: an env or role not listed
// in amigo.yaml; traffic outside 0..100; capacity outside
// min <= desired <= max; non-positive analysis thresholds; steps that do not
// rise, leave 1..100 or do not end at 100; routes on a strategy other than
// hybrid-canary; hybrid-canary without routing.internal (or routing.pilot
// when a pilot step exists); target groups other than two distinct ones;
// two stacks owning the same target group, or overlapping rule priorities
// on the same listener and rule; and, with promotion.gate healthy, a version
// newer than the previous environment's for the same role unless
// promotion.override gives a reason.
package desired
