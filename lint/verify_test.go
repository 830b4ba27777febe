package lint

import (
	"strings"
	"testing"

	"github.com/distill-build/distill/spec"
)

func TestVerified(t *testing.T) {
	const src = "apiVersion: distill/v1\nname: a\nlanguage: python\napp:\n  entrypoint: [flsk, run]\n  runtimePackages: [libxml2]\n"
	s, err := spec.Parse("distill.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	v := Verification{Builder: "docker.io/library/python:3.13-slim-trixie", Runtime: "gcr.io/distroless/python3-debian13:nonroot", User: "65532:65532", Interpreter: "/usr/bin/python3.13"}
	tests := []struct {
		name    string
		problem Problem
		warning bool
		rule    string
		field   string
		want    []string
	}{
		{"entrypoint typo", Problem{Kind: "entrypoint", Program: "flsk", Path: "/opt/venv/bin:/usr/bin", Scripts: []string{"flask", "gunicorn"}},
			false, "EntrypointNotFound", "app.entrypoint[0]", []string{`"flsk"`, "not on the image's PATH (/opt/venv/bin:/usr/bin)", "flask, gunicorn"}},
		{"not executable", Problem{Kind: "entrypoint-exec", Program: "./run", File: "/app/run"},
			false, "EntrypointNotFound", "app.entrypoint[0]", []string{"cannot execute", "65532:65532"}},
		{"shebang", Problem{Kind: "entrypoint-interpreter", Program: "./run.sh", Interpreter: "/bin/sh"},
			false, "EntrypointNotFound", "app.entrypoint[0]", []string{"#! line names /bin/sh", "[python, ./run.sh]"}},
		{"minor", Problem{Kind: "python-minor", Builder: "3.14.0", Runtime: "3.13.5"},
			false, "PythonVersionMismatch", "python.version", []string{"Python 3.14.0 in the builder", "runs Python 3.13.5", v.Runtime}},
		{"library with hint", Problem{Kind: "library", Object: "/opt/venv/lib/python3.13/site-packages/psycopg2/_psycopg.so", Missing: []string{"libpq.so.5"}},
			false, "MissingLibrary", "app.runtimePackages", []string{"_psycopg.so needs libpq.so.5", "app.runtimePackages: [libpq5]"}},
		{"library without hint", Problem{Kind: "library", Object: "x.so", Missing: []string{"libfoo.so.1"}},
			false, "MissingLibrary", "app.runtimePackages", []string{"x.so needs libfoo.so.1", "the Debian package that ships it"}},
		{"import", Problem{Kind: "import", Module: "lxml", Distribution: "lxml", Error: "ImportError: libxslt.so.1: cannot open"},
			false, "ImportFailure", "app.entrypoint", []string{"module lxml (distribution lxml)", "libxslt.so.1"}},
		{"fallback", Problem{Kind: "fallback", Module: "yaml._yaml", Package: "yaml", Error: "libyaml-0.so.2: cannot open"},
			true, "SilentFallback", "app.runtimePackages", []string{"yaml._yaml does not load", "yaml silently falls back"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := v
			if tt.warning {
				v.Warnings = []Problem{tt.problem}
			} else {
				v.Errors = []Problem{tt.problem}
			}
			for _, verify := range []string{spec.VerifyError, spec.VerifyWarn} {
				s.Policy.Verify = verify
				got := Verified(s, v, map[string]string{"libpq.so.5": "libpq5"})
				if len(got) != 1 {
					t.Fatalf("%d findings, want 1: %+v", len(got), got)
				}
				f := got[0]
				if f.Rule.Name != tt.rule || f.Field != spec.ParsePath(tt.field) {
					t.Errorf("rule %s field %q, want %s %q", f.Rule.Name, f.Field, tt.rule, tt.field)
				}
				if wantErr := !tt.warning && verify == spec.VerifyError; f.Error != wantErr {
					t.Errorf("policy.verify %s: Error = %v, want %v", verify, f.Error, wantErr)
				}
				for _, w := range tt.want {
					if !strings.Contains(f.Message, w) {
						t.Errorf("message %q lacks %q", f.Message, w)
					}
				}
				if r, ok := Lookup(tt.rule); !ok || r.URL != DocsURL+"#"+strings.ToLower(tt.rule) {
					t.Errorf("rule %s not in Rules with its docs URL", tt.rule)
				}
			}
		})
	}
}

// TestVerifiedWithoutInterpreter: a language without an interpreter gets
// hints that name none, and an absolute entrypoint in the app directory is
// named as the spec wrote it, not as the verification ran it.
func TestVerifiedWithoutInterpreter(t *testing.T) {
	const src = "apiVersion: distill/v1\nname: a\nlanguage: python\napp:\n  entrypoint: [/srv/serve, -v]\n  workdir: /srv\n"
	s, err := spec.Parse("distill.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	v := Verification{Builder: "gcr.io/distroless/static-debian13:nonroot", Runtime: "gcr.io/distroless/static-debian13:nonroot", User: "65532:65532"}
	for _, tc := range []struct {
		problem Problem
		want    string
	}{
		{Problem{Kind: "entrypoint", Program: "./serve", Path: "/usr/bin"},
			`app.entrypoint runs "/srv/serve", which is not in the image; check that the build context has it and that app.include copies it (app.exclude and .dockerignore leave files out)`},
		{Problem{Kind: "entrypoint-exec", Program: "./serve", File: "/srv/serve"},
			`app.entrypoint runs "/srv/serve" (/srv/serve), which the runtime user 65532:65532 cannot execute; make it executable in the context (chmod +x)`},
		{Problem{Kind: "loader", Program: "./serve", Interpreter: "/lib64/ld-linux-x86-64.so.2"},
			`app.entrypoint runs "/srv/serve", a dynamically linked program whose loader /lib64/ld-linux-x86-64.so.2 the runtime image does not have (a static runtime has no C library), so it cannot start; link it statically (Go: CGO_ENABLED=0), or run it on a runtime with its C library (base.runtime)`},
		// a relative program is the spec's own
		{Problem{Kind: "entrypoint", Program: "./other", Path: "/usr/bin"},
			`app.entrypoint runs "./other", which is not in the image; check that the build context has it and that app.include copies it (app.exclude and .dockerignore leave files out)`},
	} {
		v.Errors = []Problem{tc.problem}
		got := Verified(s, v, nil)
		if len(got) != 1 || got[0].Message != tc.want || !got[0].Error || got[0].Field.String() != "app.entrypoint[0]" {
			t.Errorf("%+v: got %+v\nwant %s", tc.problem, got, tc.want)
		}
	}
}
