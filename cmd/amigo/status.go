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
	list := sortedStatuses(byID, files)
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

// sortedStatuses orders statuses as STATUS.md does: by promotion order
// when the repository's settings are known, else by name.
func sortedStatuses(byID map[desired.StackID]reconciler.Status, _ map[string][]byte) []reconciler.Status {
	list := make([]reconciler.Status, 0, len(byID))
	for _, s := range byID {
		list = append(list, s)
	}
	envRank := map[string]int{}
	for i, e := range []string{"dev", "stg", "prd"} {
		envRank[e] = i + 1
	}
	less := func(a, b reconciler.Status) bool {
		ia, _ := desired.ParseStackID(a.Stack)
		ib, _ := desired.ParseStackID(b.Stack)
		if envRank[ia.Env] != envRank[ib.Env] {
			return envRank[ia.Env] < envRank[ib.Env]
		}
		return a.Stack < b.Stack
	}
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && less(list[j], list[j-1]); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
	return list
}

func versionOf(r *reconciler.Release) string {
	if r == nil {
		return ""
	}
	return r.Version
}
