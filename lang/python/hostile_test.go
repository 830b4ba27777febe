package python

import (
	"slices"
	"strings"
	"testing"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/solver/pb"
)

// payloads are what a shell would act on. Each one is put into every field
// that reaches a build step; it must arrive verbatim as one argv element or
// env value, or the spec must be rejected.
var payloads = []string{
	"; touch /tmp/PWNED",
	"&& touch /tmp/PWNED",
	"$(touch /tmp/PWNED)",
	"`touch /tmp/PWNED`",
	`"; touch /tmp/PWNED; "`,
	"'; touch /tmp/PWNED; '",
	"x\ntouch /tmp/PWNED",
	"| tee /tmp/PWNED",
	"${IFS}touch${IFS}/tmp/PWNED",
	"%s%n%x",
}

// yamlQuote writes s as a double-quoted YAML scalar.
func yamlQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\x00", `\0`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

func parseSpec(t *testing.T, src string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("distill.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return s
}

// hostileSpec puts p into every field of a spec that reaches a build step
// and that accepts free text.
func hostileSpec(p string) string {
	q := yamlQuote(p)
	return `apiVersion: distill/v1
name: hostile
language: python
python:
  requirements: ` + yamlQuote("reqs/"+strings.NewReplacer("\n", "", "/", "").Replace(p)+".txt") + `
build:
  env:
    HOSTILE: ` + q + `
  commands:
    - [python, -c, "import sys; print(sys.argv)", ` + q + `, ` + q + `]
    - [` + q + `]
app:
  entrypoint: [python, ` + q + `]
  env: {HOSTILE: ` + q + `}
  labels: {org.example.hostile: ` + q + `}
`
}

func TestInjectionPayloadsStayVerbatim(t *testing.T) {
	for _, p := range payloads {
		t.Run(strings.NewReplacer("\n", `\n`).Replace(p), func(t *testing.T) {
			s := parseSpec(t, hostileSpec(p))
			if s.Python.Requirements == "" || !strings.Contains(s.Python.Requirements, strings.NewReplacer("\n", "", "/", "").Replace(p)) {
				t.Fatalf("requirements %q", s.Python.Requirements)
			}
			res, d := build(t, s, s.Python.Requirements)
			commands := 0
			for _, e := range d.execs() {
				checkExec(t, s, e)
				user := slices.ContainsFunc(s.Build.Commands, func(c []string) bool { return slices.Equal(c, e.Meta.Args) })
				if user {
					commands++
					if !slices.Contains(e.Meta.Env, "HOSTILE="+p) {
						t.Errorf("build env not verbatim: %q", e.Meta.Env)
					}
					continue
				}
				// distill's own steps never see the payload: the
				// requirements file is mounted at a fixed name
				for _, a := range e.Meta.Args {
					if strings.Contains(a, "PWNED") {
						t.Errorf("payload reached distill's own step %q", truncateArgs(e.Meta.Args))
					}
				}
				for _, env := range e.Meta.Env {
					if strings.Contains(env, "PWNED") {
						t.Errorf("payload reached the env of distill's step %q: %q", truncateArgs(e.Meta.Args), env)
					}
				}
			}
			if commands != 2 {
				t.Errorf("found %d of 2 build commands as exact argv", commands)
			}
			// the requirements path is only ever a copy source
			copies := 0
			for _, dg := range d.sorted() {
				for _, a := range d.ops[dg].GetFile().GetActions() {
					if c := a.GetCopy(); c != nil && c.Src == "/"+s.Python.Requirements {
						copies++
						if c.Dest != "/requirements.txt" {
							t.Errorf("requirements copied to %q", c.Dest)
						}
						// a link in the context is resolved in it (by
						// BuildKit, bounded to the context root), so
						// requirements.txt -> requirements/prod.txt works
						if !c.FollowSymlink {
							t.Error("requirements copy does not resolve a symlink: a linked requirements file would dangle in the mount")
						}
					}
				}
			}
			if copies != 1 {
				t.Errorf("requirements %q copied %d times, want once as a copy source", s.Python.Requirements, copies)
			}
			c := res.Config.Config
			if !slices.Equal(c.Entrypoint, []string{"python", p}) {
				t.Errorf("entrypoint %q", c.Entrypoint)
			}
			if !slices.Contains(c.Env, "HOSTILE="+p) {
				t.Errorf("app env %q", c.Env)
			}
			if c.Labels["org.example.hostile"] != p {
				t.Errorf("label %q", c.Labels["org.example.hostile"])
			}
		})
	}
}

// TestIndexURLIsOneArgument: an index URL with shell syntax in its query is a
// valid URL; it reaches pip as the one argument after --index-url.
func TestIndexURLIsOneArgument(t *testing.T) {
	for _, u := range []string{
		"https://pypi.example/simple?a=$(touch%20PWNED)",
		"https://pypi.example/simple;touch",
		"https://pypi.example/simple?x=`id`&&y='q'\"q\"",
		"http://127.0.0.1:3141/simple?$(id)",
	} {
		s := parseSpec(t, "apiVersion: distill/v1\nname: a\nlanguage: python\npython: {indexUrl: "+yamlQuote(u)+"}\napp: {entrypoint: [python, app.py]}\n")
		_, d := build(t, s, "requirements.txt")
		found := false
		for _, e := range d.execs() {
			checkExec(t, s, e)
			if isPip(e) {
				i := slices.Index(e.Meta.Args, "--index-url")
				found = i >= 0 && e.Meta.Args[i+1] == u
				if h := slices.Index(e.Meta.Args, "--trusted-host"); h >= 0 && e.Meta.Args[h+1] != "127.0.0.1" {
					t.Errorf("trusted host %q", e.Meta.Args[h+1])
				}
			}
		}
		if !found {
			t.Errorf("index URL %q not passed as one argument", u)
		}
	}
}

// TestHostileValuesRejected: where a field cannot carry a value verbatim
// (apt package names, paths, URLs) or a value cannot exist in argv/env at
// all (NUL), spec.Parse rejects it before anything is generated.
func TestHostileValuesRejected(t *testing.T) {
	head := "apiVersion: distill/v1\nname: a\nlanguage: python\n"
	app := "app: {entrypoint: [python, app.py]}\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"NUL in a build command", head + app + `build: {commands: [[python, "a\0b"]]}` + "\n", "contains a NUL byte"},
		{"NUL in the entrypoint", head + `app: {entrypoint: [python, "a\0b"]}` + "\n", "contains a NUL byte"},
		{"NUL in build env", head + app + `build: {env: {A: "a\0b"}}` + "\n", "contains a NUL byte"},
		{"NUL in app env", head + `app: {entrypoint: [python], env: {A: "a\0b"}}` + "\n", "contains a NUL byte"},
		{"NUL in a label", head + `app: {entrypoint: [python], labels: {a.b: "a\0b"}}` + "\n", "contains a NUL byte"},
		{"NUL in requirements", head + app + `python: {requirements: "r\0.txt"}` + "\n", "must not contain NUL"},
		{"newline in requirements", head + app + `python: {requirements: "r.txt\n-r /etc/passwd"}` + "\n", "must not contain NUL or line breaks"},
		{"option as requirements", head + app + `python: {requirements: "--index-url=http://evil/"}` + "\n", "starts with '-'"},
		{"absolute requirements", head + app + `python: {requirements: /etc/passwd}` + "\n", "is absolute"},
		{"escaping requirements", head + app + `python: {requirements: ../../etc/passwd}` + "\n", "leaves the build context"},
		{"escaping include", head + `app: {entrypoint: [python], include: [src/../../etc]}` + "\n", "leaves the build context"},
		{"absolute include", head + `app: {entrypoint: [python], include: [/etc]}` + "\n", "is absolute"},
		{"newline in index URL", head + app + `python: {indexUrl: "https://a.example/simple\n--trusted-host=evil"}` + "\n", "must not contain whitespace"},
		{"space in index URL", head + app + `python: {indexUrl: "https://a.example/simple --trusted-host evil"}` + "\n", "must not contain whitespace"},
		{"option as index URL", head + app + `python: {indexUrl: "--extra-index-url=https://evil/"}` + "\n", "must be an http:// or https:// URL"},
		{"credentials in index URL", head + app + `python: {indexUrl: "https://u:$(id)@a.example/simple"}` + "\n", "must not contain credentials"},
		{"index via build env", head + app + `build: {env: {PIP_INDEX_URL: "https://evil/"}}` + "\n", "is reserved"},
		{"env name with a shell", head + app + `build: {env: {"A;touch x": "1"}}` + "\n", "is not a valid variable name"},
		{"label key with a shell", head + `app: {entrypoint: [python], labels: {"a$(id)": "1"}}` + "\n", "label key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := spec.Parse("distill.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	for _, pkg := range []string{
		"gcc;touch", "gcc && touch", "$(touch)", "`touch`", "gcc'", `gcc"`, "gcc\ntouch", "gcc touch",
		"-oAPT::Get::AllowUnauthenticated=true", "--allow-unauthenticated", "gcc=-1", "gcc=$(id)",
		"Gcc", "g", "gcc/unstable", "gcc\x00",
	} {
		src := head + app + "build: {aptPackages: [" + yamlQuote(pkg) + "]}\n"
		_, err := spec.Parse("distill.yaml", []byte(src))
		if err == nil || !(strings.Contains(err.Error(), "is not a Debian package") || strings.Contains(err.Error(), "NUL")) {
			t.Errorf("apt package %q: got %v, want it rejected", pkg, err)
		}
	}
	// real Debian names and versions are accepted and reach apt one per argument
	s := parseSpec(t, head+app+"build: {aptPackages: [libpq-dev, g++, libstdc++6=14.2.0-19, python3.13-venv, libc6=2.41-12+deb13u1, zlib1g=1:1.3.dfsg+really1.3.1-1+b1, lib.foo=1.0~rc1]}\n")
	_, d := build(t, s, "")
	apt := 0
	for _, e := range d.execs() {
		checkExec(t, s, e)
		if isHelper(e, "apt") {
			apt++
		}
	}
	if apt != 1 {
		t.Errorf("found %d apt steps", apt)
	}
}

// TestNoShellStep: the generated build never runs a shell, for every runtime
// and every optional step; the one exception is a shell the user wrote in
// build.commands, which runs exactly as written.
func TestNoShellStep(t *testing.T) {
	for _, src := range fuzzSeeds {
		s := parseSpec(t, src)
		_, d := build(t, s, "requirements.txt")
		for _, e := range d.execs() {
			checkExec(t, s, e)
			if e.Network != pb.NetMode_NONE && !isPip(e) && !isHelper(e, "apt") {
				t.Errorf("exec %q has network", truncateArgs(e.Meta.Args))
			}
		}
	}
}
