// Package giteatest runs a real Gitea server for tests and `make e2e`.
//
// It owns: finding the Gitea binary built by .ci/tool-gitea (GITEA_BIN
// overrides), writing a throwaway app.ini (SQLite, loopback only, no SSH,
// no outside network), creating an admin user and an access token, starting
// `gitea web` on a free 127.0.0.1 port and stopping that one process when
// the test ends; plus helpers to create a repository with an initial commit
// and to add a webhook.
//
// It must not: build Gitea (that takes minutes; .ci/tool-gitea does it once
// and caches it), touch anything outside the test's temporary directory,
// or leave a process behind. Without a binary a test is skipped, unless
// AMIGO_E2E=1 says the run exists to exercise the real server, then it fails.
package giteatest
