// Package webhook receives Gitea webhook deliveries on POST /hooks/gitea and
// turns them into triggers for the reconcile loop.
//
// It owns: checking the X-Gitea-Signature (HMAC-SHA256 of the raw body) in
// constant time, capping the body size, parsing push and pull_request
// bodies, deciding which deliveries matter (a push to the desired branch, a
// pull request opened, synchronized or reopened against it), and the
// Coalescer that folds a burst of triggers into one pending pass.
//
// It must not: run a reconcile pass, touch git or the cloud, block in a
// callback, keep a delivery around after answering, or log a request body
// or the secret. A delivery is only a hint that something changed: the
// reconciler re-reads everything itself, so a lost or duplicated delivery
// costs at most one poll interval or one idle pass.
package webhook
