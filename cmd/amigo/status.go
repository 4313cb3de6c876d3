package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/amigo-gitops/amigo/desired"
	"github.com/amigo-gitops/amigo/desired/gitrepo"
	"github.com/amigo-gitops/amigo/reconciler"
)

// cmdStatus prints the status branch.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repo := fs.String("repo", ".", "config repository: a local working copy DIR or a URL")
	branch := fs.String("status-branch", gitrepo.DefaultStatusBranch, "status branch")
	tokenFile := fs.String("token-file", "", "file holding the Gitea token (else $AMIGO_GITEA_TOKEN)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2}
	}
	token, err := secretFrom(*tokenFile, "AMIGO_GITEA_TOKEN")
	if err != nil {
		return err
	}
	src, err := gitrepo.Open(ctx, gitrepo.Options{URL: *repo, StatusBranch: *branch, Token: token})
	if err != nil {
		return fmt.Errorf("open %s: %w", redact(*repo), err)
	}
	if _, err := src.Fetch(ctx); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	files, err := src.ReadStatus(ctx)
	if err != nil {
		return err
	}
	byID, err := reconciler.ParseStatusFiles(files)
	if err != nil {
		return err
	}
	list := sortedStatuses(ctx, src, byID)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no status yet")
		return nil
	}
	fmt.Fprintf(stdout, "%-8s %-11s %-16s %6s  %-7s %-7s %s\n", "STACK", "PHASE", "STEP", "WEIGHT", "STABLE", "NEW", "MESSAGE")
	for _, s := range list {
		fmt.Fprintf(stdout, "%-8s %-11s %-16s %5d%%  %-7s %-7s %s\n", s.Stack, s.Phase, dash(s.StepName), s.Weight,
			dash(versionOf(s.Stable)), dash(versionOf(s.New)), s.Message)
	}
	return nil
}

// sortedStatuses orders statuses as STATUS.md does: by the promotion and
// role order of the desired branch's amigo.yaml (its defaults when it
// cannot be read).
func sortedStatuses(ctx context.Context, src reconciler.Source, byID map[desired.StackID]reconciler.Status) []reconciler.Status {
	list := make([]reconciler.Status, 0, len(byID))
	for _, s := range byID {
		list = append(list, s)
	}
	set := desired.Settings{Environments: desired.DefaultEnvironments(), Roles: desired.DefaultRoles()}
	if repo, err := loadHead(ctx, src); err == nil {
		set = repo.Settings
	}
	reconciler.SortStatuses(list, set)
	return list
}

func versionOf(r *reconciler.Release) string {
	if r == nil {
		return ""
	}
	return r.Version
}
