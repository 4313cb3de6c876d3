package desired

import "testing"

func TestSetVersion(t *testing.T) {
	const prdWeb = `# prd/web: promoted by pull request
version: v1.6          # application AMI version
strategy: bluegreen    # bluegreen | rolling | canary | hybrid-canary
target:
  version: keep-me     # not the top-level field
  listener: lst-1
`
	tests := []struct {
		name, in, version, want string
	}{
		{"plain with comments", prdWeb, "v1.7", `# prd/web: promoted by pull request
version: v1.7          # application AMI version
strategy: bluegreen    # bluegreen | rolling | canary | hybrid-canary
target:
  version: keep-me     # not the top-level field
  listener: lst-1
`},
		{"longer value", "version: v1.6\n", "v1.10.2", "version: v1.10.2\n"},
		{"double quoted", "traffic: 10\nversion: \"v1.6\" # q\n", "v2.0", "traffic: 10\nversion: \"v2.0\" # q\n"},
		{"single quoted", "version: 'v1.6'\n", "v2.0", "version: 'v2.0'\n"},
		{"flow mapping", "{traffic: 10, version: v1.6}\n", "v1.7", "{traffic: 10, version: v1.7}\n"},
		{"CRLF and non-ASCII comment", "# déploiement\r\nversion: v1.6\r\n", "v1.7", "# déploiement\r\nversion: v1.7\r\n"},
		{"value on the next line", "version:\n  v1.6\n", "v1.7", "version:\n  v1.7\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetVersion([]byte(tt.in), tt.version)
			if err != nil {
				t.Fatalf("SetVersion: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestSetVersionRejects(t *testing.T) {
	tests := []struct {
		name, in, version string
	}{
		{"bad new version", "version: v1.6\n", "1.7"},
		{"no version field", "traffic: 10\n", "v1.7"},
		{"only a nested version", "target:\n  version: v1.6\n", "v1.7"},
		{"not a mapping", "- version: v1.6\n", "v1.7"},
		{"empty file", "", "v1.7"},
		{"syntax error", "version: [v1.6\n", "v1.7"},
		{"anchored value", "version: &v v1.6\n", "v1.7"},
		{"block scalar", "version: |\n  v1.6\n", "v1.7"},
		{"list value", "version: [v1.6]\n", "v1.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := SetVersion([]byte(tt.in), tt.version); err == nil {
				t.Errorf("got %q and no error, want an error", got)
			}
		})
	}
}
