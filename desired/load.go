package desired

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// LoadError is returned when amigo.yaml is missing or invalid: without it
// no stack can be trusted.
type LoadError struct {
	Errors []*FieldError
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As reach the individual FieldErrors.
func (e *LoadError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		out[i] = fe
	}
	return out
}

// Load parses and validates a config repository given as file contents
// keyed by slash path relative to its root. Files other than amigo.yaml and
// environments/<env>/<role>.yaml are ignored. It fails only when amigo.yaml
// is missing or invalid; a stack that fails validation is reported in
// Invalid and Errors and left out of Stacks, and the others still load.
func Load(files map[string][]byte, revision string) (*Repo, error) {
	settings, errs := loadSettings(files)
	if len(errs) > 0 {
		sortErrors(errs)
		return nil, &LoadError{Errors: errs}
	}
	stacks, layoutErrs := parseStacks(files)
	o := newOrder(settings)
	sort.SliceStable(stacks, func(i, j int) bool { return o.less(stacks[i].stack, stacks[j].stack) })
	for _, sf := range stacks {
		checkPlacement(sf, o)
	}
	checkTargetGroups(stacks)
	checkPriorities(stacks)
	if settings.Promotion.Gate != GateNone {
		checkPromotion(stacks, settings.Environments)
	}
	repo := &Repo{Revision: revision, Settings: settings}
	repo.collect(stacks, layoutErrs)
	return repo, nil
}

// LoadDir loads the config repository checked out in dir, skipping .git.
func LoadDir(dir string) (*Repo, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && e.Name() == ".git" {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || e.IsDir() || !wanted(filepath.ToSlash(rel)) {
			return err
		}
		return readRegular(p, filepath.ToSlash(rel), files)
	})
	if err != nil {
		return nil, fmt.Errorf("load config repository %s: %w", dir, err)
	}
	return Load(files, "")
}

// wanted reports whether Load looks at a file, so LoadDir reads no others.
func wanted(rel string) bool {
	return rel == SettingsFile || strings.HasPrefix(rel, "environments/")
}

// readRegular reads p (following a symlink) unless it is not a regular file.
func readRegular(p, rel string, files map[string][]byte) error {
	info, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a dangling symlink is not a file
	}
	if err != nil || !info.Mode().IsRegular() {
		return err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	files[rel] = b
	return nil
}

// parseStacks parses every stack file on its own. Files under environments/
// that look like stacks but are misplaced are reported, since a stack that
// is silently ignored would never deploy.
func parseStacks(files map[string][]byte) ([]*stackFile, []*FieldError) {
	var stacks []*stackFile
	var errs []*FieldError
	for p, content := range files {
		id, isStack, fe := stackPath(p)
		switch {
		case fe != nil:
			errs = append(errs, fe)
		case isStack:
			stacks = append(stacks, parseStack(p, id, content))
		}
	}
	return stacks, errs
}

// stackPath classifies a path: a stack file, a misplaced one, or neither.
func stackPath(p string) (StackID, bool, *FieldError) {
	parts := strings.Split(p, "/")
	ext := filepathExt(p)
	if parts[0] != "environments" || (ext != ".yaml" && ext != ".yml") {
		return StackID{}, false, nil
	}
	if len(parts) != 3 || ext != ".yaml" || parts[1] == "" || parts[2] == ".yaml" {
		return StackID{}, false, &FieldError{File: p, Field: "path", Msg: "want environments/<env>/<role>.yaml"}
	}
	return StackID{Env: parts[1], Role: strings.TrimSuffix(parts[2], ".yaml")}, true, nil
}

func filepathExt(p string) string {
	i := strings.LastIndexByte(p, '.')
	if i < 0 || strings.ContainsRune(p[i:], '/') {
		return ""
	}
	return p[i:]
}

// order sorts stacks by environment (promotion order) then role, unknown
// names last.
type order struct {
	env, role map[string]int
}

func newOrder(s Settings) order {
	o := order{env: map[string]int{}, role: map[string]int{}}
	for i, e := range s.Environments {
		o.env[e] = i + 1
	}
	for i, r := range s.Roles {
		o.role[r] = i + 1
	}
	return o
}

func (o order) less(a, b Stack) bool {
	if ea, eb := rank(o.env, a.ID.Env), rank(o.env, b.ID.Env); ea != eb {
		return ea < eb
	}
	if ra, rb := rank(o.role, a.ID.Role), rank(o.role, b.ID.Role); ra != rb {
		return ra < rb
	}
	return a.File < b.File
}

func rank(m map[string]int, name string) int {
	if i, ok := m[name]; ok {
		return i
	}
	return len(m) + 1
}

// checkPlacement wants the env and role a stack's path names to be listed
// in amigo.yaml.
func checkPlacement(sf *stackFile, o order) {
	id := sf.stack.ID
	if _, ok := o.env[id.Env]; !ok {
		sf.fail(0, "env", "environment %q is not listed in amigo.yaml environments", id.Env)
	}
	if _, ok := o.role[id.Role]; !ok {
		sf.fail(0, "role", "role %q is not listed in amigo.yaml roles", id.Role)
	}
}

func (sf *stackFile) fail(line int, field, format string, args ...any) {
	sf.errs = append(sf.errs, &FieldError{File: sf.stack.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// collect splits stacks into valid and invalid and gathers every error.
func (r *Repo) collect(stacks []*stackFile, layoutErrs []*FieldError) {
	r.Errors = append(r.Errors, layoutErrs...)
	for _, sf := range stacks {
		if len(sf.errs) == 0 {
			r.Stacks = append(r.Stacks, sf.stack)
			continue
		}
		sortErrors(sf.errs)
		r.Invalid = append(r.Invalid, StackError{ID: sf.stack.ID, File: sf.stack.File, Errors: sf.errs})
		r.Errors = append(r.Errors, sf.errs...)
	}
	sortErrors(r.Errors)
}

// sortErrors orders errors by file then line, keeping the order of errors
// on the same line.
func sortErrors(errs []*FieldError) {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].File != errs[j].File {
			return errs[i].File < errs[j].File
		}
		return errs[i].Line < errs[j].Line
	})
}
