package desired

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// SettingsFile is where the repository-wide settings live.
const SettingsFile = "amigo.yaml"

// Values of promotion.gate.
const (
	GateHealthy = "healthy" // a version enters env N only once Healthy in env N-1
	GateNone    = "none"    // no gate: versions may enter any environment
)

// loadSettings reads and validates amigo.yaml. Any error makes the whole
// repository untrustworthy, so the caller stops.
func loadSettings(files map[string][]byte) (Settings, []*FieldError) {
	content, ok := files[SettingsFile]
	if !ok {
		return Settings{}, []*FieldError{{File: SettingsFile, Field: "file", Msg: "not found at the repository root"}}
	}
	s := defaultSettings()
	root, perr := parseYAML(SettingsFile, content)
	if perr != nil {
		return s, []*FieldError{perr}
	}
	d := newDecoder(SettingsFile)
	d.mapping(root, "", settingsFields(d, &s))
	validateSettings(d, &s)
	return s, d.errs
}

func settingsFields(d *decoder, s *Settings) fields {
	return fields{
		"apiVersion":   func(f string, v *yaml.Node) { d.setStr(v, f, &s.APIVersion) },
		"project":      func(f string, v *yaml.Node) { d.setStr(v, f, &s.Project) },
		"environments": func(f string, v *yaml.Node) { d.setStrList(v, f, &s.Environments) },
		"roles":        func(f string, v *yaml.Node) { d.setStrList(v, f, &s.Roles) },
		"images": func(f string, v *yaml.Node) {
			d.mapping(v, f, fields{
				"layers": func(f string, v *yaml.Node) { d.setStrList(v, f, &s.Images.Layers) },
				"retain": func(f string, v *yaml.Node) { d.setInt(v, f, &s.Images.Retain) },
			})
		},
		"promotion": func(f string, v *yaml.Node) {
			d.mapping(v, f, fields{
				"gate":         func(f string, v *yaml.Node) { d.setStr(v, f, &s.Promotion.Gate) },
				"pullRequests": func(f string, v *yaml.Node) { d.setBool(v, f, &s.Promotion.PullRequests) },
			})
		},
		"status": func(f string, v *yaml.Node) {
			d.mapping(v, f, fields{"branch": func(f string, v *yaml.Node) { d.setStr(v, f, &s.Status.Branch) }})
		},
		"aws": func(f string, v *yaml.Node) {
			d.mapping(v, f, fields{"region": func(f string, v *yaml.Node) { d.setStr(v, f, &s.AWS.Region) }})
		},
	}
}

func validateSettings(d *decoder, s *Settings) {
	if s.APIVersion != APIVersion {
		d.failAt("apiVersion", "want %s, got %q", APIVersion, s.APIVersion)
	}
	if s.Project == "" {
		d.failAt("project", "required: the project name AMIs are named after")
	} else if !isWord(s.Project) {
		d.failAt("project", "%q: want letters, digits, '.', '_' or '-'", s.Project)
	}
	checkNames(d, "environments", s.Environments)
	checkNames(d, "roles", s.Roles)
	checkNames(d, "images.layers", s.Images.Layers)
	if s.Images.Retain < 1 {
		d.failAt("images.retain", "want at least 1, got %d", s.Images.Retain)
	}
	if s.Promotion.Gate != GateHealthy && s.Promotion.Gate != GateNone {
		d.failAt("promotion.gate", "want %s or %s, got %q", GateHealthy, GateNone, s.Promotion.Gate)
	}
	if !isToken(s.Status.Branch) {
		d.failAt("status.branch", "want a branch name, got %q", s.Status.Branch)
	}
	if !isToken(s.AWS.Region) {
		d.failAt("aws.region", "want a region such as ap-northeast-1, got %q", s.AWS.Region)
	}
}

// checkNames wants a non-empty list of distinct names that are safe in file
// paths, tags and AMI names.
func checkNames(d *decoder, field string, names []string) {
	if len(names) == 0 {
		d.failAt(field, "must not be empty")
	}
	seen := map[string]bool{}
	for i, n := range names {
		f := field + "[" + itoa(i) + "]"
		switch {
		case !isWord(n):
			d.failAt(f, "%q: want letters, digits, '.', '_' or '-'", n)
		case seen[n]:
			d.failAt(f, "%q is listed twice", n)
		}
		seen[n] = true
	}
}

// isWord reports whether s is a name usable in a path segment and a tag:
// starting with a letter or digit, then letters, digits, '.', '_', '-'.
func isWord(s string) bool {
	if s == "" || !isAlnum(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && !strings.ContainsRune("._-", rune(s[i])) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isToken reports whether s is non-empty and holds no whitespace or control
// characters: the least an identifier handed to git or AWS must satisfy.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
