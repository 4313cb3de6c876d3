// Package examples carries the example config repository inside the amigo
// binary, so that `amigo run` with no flags has an estate to reconcile.
package examples

import "embed"

// ConfigRepo is examples/config-repo.
//
//go:embed all:config-repo
var ConfigRepo embed.FS
