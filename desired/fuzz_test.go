package desired

import (
	"errors"
	"os"
	"testing"
)

func FuzzLoad(f *testing.F) {
	settings, err := os.ReadFile("testdata/complete/amigo.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"dev/web", "dev/hlp", "stg/web", "prd/web"} {
		stack, err := os.ReadFile("testdata/complete/environments/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(settings, stack)
	}
	f.Add([]byte("project: p\n"), []byte(stackHead+"steps: [{traffic: 50}, {traffic: 10}]\n"))
	f.Add([]byte("project: p\nroles: [web\n"), []byte(stackHead))
	f.Add([]byte("project: p\n"), []byte("version: &v v1.6\ntarget: &t {listener: *v, targetGroups: [*v, *t]}\n"))
	f.Add([]byte("project: p\n"), []byte("routing: {internal: &m {headers: *m}}\nsteps: &s [*s]\n"))
	f.Add([]byte(""), []byte(""))
	f.Add([]byte("project: p\n---\n"), []byte("- 1\n"))
	f.Fuzz(func(t *testing.T, settings, stack []byte) {
		repo, err := Load(map[string][]byte{
			"amigo.yaml":                settings,
			"environments/dev/web.yaml": stack,
			"environments/stg/web.yaml": stack,
			"environments/dev/hlp.yml":  stack,
		}, "")
		if err != nil {
			checkLoadError(t, err)
			return
		}
		checkFieldErrors(t, repo.Errors)
		for _, inv := range repo.Invalid {
			if len(inv.Errors) == 0 {
				t.Errorf("%s: invalid without errors", inv.File)
			}
			checkFieldErrors(t, inv.Errors)
		}
		for _, s := range repo.Stacks {
			checkValidStack(t, s)
		}
	})
}

func checkLoadError(t *testing.T, err error) {
	t.Helper()
	var le *LoadError
	if !errors.As(err, &le) || len(le.Errors) == 0 {
		t.Fatalf("got error %v, want a *LoadError with errors", err)
	}
	checkFieldErrors(t, le.Errors)
}

func checkFieldErrors(t *testing.T, errs []*FieldError) {
	t.Helper()
	for _, e := range errs {
		if e.File == "" || e.Field == "" || e.Msg == "" || e.Line < 0 {
			t.Errorf("got incomplete error %#v", e)
		}
	}
}

// checkValidStack holds a stack that passed validation to what the
// reconciler relies on.
func checkValidStack(t *testing.T, s Stack) {
	t.Helper()
	c := s.Capacity
	if c.Min > c.Desired || c.Desired > c.Max || c.Min < 0 {
		t.Errorf("%s: got capacity %+v", s.ID, c)
	}
	if len(s.Steps) == 0 || s.Steps[len(s.Steps)-1].Traffic != 100 {
		t.Errorf("%s: got steps %v, want them to end at 100", s.ID, s.Steps)
	}
	if _, err := parseVersion(s.Version); err != nil {
		t.Errorf("%s: got version %q: %v", s.ID, s.Version, err)
	}
	if len(s.Target.TargetGroups) != 2 || s.Target.Listener == "" {
		t.Errorf("%s: got target %+v", s.ID, s.Target)
	}
}

func FuzzSetVersion(f *testing.F) {
	for _, name := range []string{"dev/web", "prd/web"} {
		stack, err := os.ReadFile("testdata/complete/environments/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(stack)
	}
	f.Add([]byte("version: \"v1.6\"\r\n"))
	f.Add([]byte("{version: 'v1''6'}"))
	f.Add([]byte("version: v1.6 # \u2028 x\nversion2: 1\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		const v = "v9.8.7"
		out, err := SetVersion(content, v)
		if err != nil {
			return
		}
		n, err := versionNode(out)
		if err != nil || n.Value != v {
			t.Fatalf("got %q (%v) in %q, want version %s", n.Value, err, out, v)
		}
		p := 0
		for p < len(content) && p < len(out) && content[p] == out[p] {
			p++
		}
		s := 0
		for s < len(content)-p && s < len(out)-p && content[len(content)-1-s] == out[len(out)-1-s] {
			s++
		}
		if changed := len(out) - p - s; changed > len(v)+2 {
			t.Errorf("got %d bytes changed in %q -> %q, want only the value", changed, content, out)
		}
	})
}
