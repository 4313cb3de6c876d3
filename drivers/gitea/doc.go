// Package gitea is amigo's client for the few things it does in Gitea:
// commit statuses on the desired commit (one context per stack, plus
// amigo/plan), the plan comment on a pull request, and pull requests amigo
// opens itself (a revert, a promotion).
//
// It owns: making each write idempotent by reading first (an idle
// reconcile pass makes no write to Gitea), finding its own comment and its
// own pull requests again by a hidden marker, and keeping the API token out
// of every log line and error.
//
// It must not: decide what to write (the reconciler does), touch git
// directly (the source driver does), retry on its own (the next pass is
// the retry), or log at all: errors go back to the caller, which logs once.
//
// It uses the Gitea SDK (code.gitea.io/sdk/gitea) rather than plain HTTP
// because the SDK is maintained with the server: it carries the request
// and response types of every endpoint used here (statuses, comments,
// pulls, the multi-file contents API), the Link-header pagination, and the
// API error decoding, which plain HTTP would re-implement by hand and keep
// in step with each Gitea release. The SDK keeps its context on the client,
// so this package builds a cheap SDK client per call, which gives every
// call its own context and timeout without sharing mutable state between
// concurrent callers.
package gitea
