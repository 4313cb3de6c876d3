package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/amigo-gitops/amigo/desired"
)

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := parseInterspersed(fs, args); err != nil {
		return &exitError{code: 2}
	}
	dir := "."
	if fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	repo, err := desired.LoadDir(dir)
	if err != nil {
		var le *desired.LoadError
		if errors.As(err, &le) {
			for _, fe := range le.Errors {
				fmt.Fprintln(stderr, fe)
			}
			return &exitError{code: 1, err: fmt.Errorf("%s: %d errors", dir, len(le.Errors))}
		}
		return err
	}
	for _, fe := range repo.Errors {
		fmt.Fprintln(stderr, fe)
	}
	if n := len(repo.Errors); n > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%s: %d errors", dir, n)}
	}
	fmt.Fprintf(stdout, "%s: %d stacks valid\n", dir, len(repo.Stacks))
	return nil
}
