// Package gitrepo is the git side of amigo: it implements reconciler.Source
// on top of go-git, for a remote config repository (http, https or file://
// URL, mirrored into a bare cache clone) and for a local working copy
// (`--repo DIR`), and it tells the daemon when a local repository changes.
//
// It owns: the cache clone, the cheap remote head check that avoids
// fetching an unchanged branch, reading the desired branch at a revision,
// the status branch (built from a file map, committed only when its tree
// changes, pushed without force and re-applied on top of another writer's
// head when a push races), reverting the commit that last changed a file,
// and the fsnotify watch of a local repository.
//
// It must not: force a push or a ref update, touch a local user's worktree,
// index or HEAD (the single exception is Revert onto a branch that is
// checked out in a clean worktree, see Revert), parse or validate config
// files, or log. Credentials are sent only as HTTP basic auth; they never go
// into a URL, a config file, a log line or an error message.
package gitrepo
