package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const minimal = `apiVersion: distill/v1
name: hello-api
language: python
app:
  entrypoint: [python, app.py]
`

var (
	digestA = "sha256:" + strings.Repeat("a", 64)
	digestB = "sha256:" + strings.Repeat("b", 64)
)

// designExample is DESIGN.md's example with real digests in place of its
// "@sha256:..." placeholders, which are not valid references.
var designExample = `# syntax=localhost:5000/distill/frontend:dev
apiVersion: distill/v1          # required
name: hello-api                 # required; lowercase, [a-z0-9][a-z0-9._-]*
language: python                # required; python in v1 (node, go, static next)
runtime: distroless             # distroless (default) | chainguard
python:
  version: "3.13"               # minor version; picks a matched builder/runtime pair
  requirements: requirements.txt  # default: requirements.txt when present
  # indexUrl: https://pypi.example/simple  (mutually exclusive with indexUrlSecret)
  indexUrlSecret: pip-index     # optional BuildKit secret id; its value becomes PIP_INDEX_URL for the install step only
build:
  aptPackages: [gcc, libpq-dev] # builder-only OS packages
  env: {KEY: value}             # build-time environment
  commands:                     # extra build steps, exec form only, run as the build user
    - [python, -m, compileall, -q, src]
app:
  include: [app.py, src/]       # default: the whole context (minus ignores)
  exclude: [tests/]
  workdir: /app
  entrypoint: [python, app.py]  # exec form only; PATH puts the app's venv first
  env: {PORT: "8080"}
  ports: [8080]
  labels: {org.opencontainers.image.source: https://example.com/repo}
base:                           # optional override of the pair (e.g. a company's hardened images)
  builder: registry.example/python:3.13-hardened@` + digestA + `
  runtime: registry.example/distroless-python:3.13@` + digestB + `
policy:
  strict: false                 # true: every check warning fails the build
`

func mustParse(t *testing.T, src string) *Spec {
	t.Helper()
	s, err := Parse("distill.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v\n--- spec:\n%s", truncate(err.Error(), 3000), truncate(src, 3000))
	}
	return s
}

func TestParseDesignExample(t *testing.T) {
	s := mustParse(t, designExample)
	want := &Spec{
		APIVersion: APIVersion,
		Name:       "hello-api",
		Language:   LanguagePython,
		Runtime:    RuntimeDistroless,
		Python: Python{
			Version:        "3.13",
			Requirements:   "requirements.txt",
			IndexURLSecret: "pip-index",
			Project:        ProjectAuto,
		},
		Build: Build{
			AptPackages: []string{"gcc", "libpq-dev"},
			Env:         []EnvVar{{"KEY", "value"}},
			Commands:    [][]string{{"python", "-m", "compileall", "-q", "src"}},
		},
		App: App{
			Include:    []string{"app.py", "src/"},
			Exclude:    []string{"tests/"},
			Workdir:    "/app",
			Entrypoint: []string{"python", "app.py"},
			Env:        []EnvVar{{"PORT", "8080"}},
			Ports:      []int{8080},
			Labels:     []Label{{"org.opencontainers.image.source", "https://example.com/repo"}},
		},
		Base: Base{
			Builder: "registry.example/python:3.13-hardened@" + digestA,
			Runtime: "registry.example/distroless-python:3.13@" + digestB,
		},
		Policy: Policy{Verify: VerifyError},
		File:   "distill.yaml",
		Syntax: "localhost:5000/distill/frontend:dev",
	}
	s.Positions = nil
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got\n%#v\nwant\n%#v", s, want)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, s *Spec)
	}{
		{"minimal", minimal, func(t *testing.T, s *Spec) {
			if s.Name != "hello-api" || !reflect.DeepEqual(s.App.Entrypoint, []string{"python", "app.py"}) {
				t.Errorf("got %+v", s)
			}
		}},
		{"x- keys at every section level", `x-top: {anything: [1, 2, {deep: true}]}
apiVersion: distill/v1
name: a
language: python
python: {x-note: hi, version: "3.11"}
build: {x-: 1}
app:
  x-owner: team
  entrypoint: [python]
base: {x-why: none}
policy: {x-a: b, strict: true}
`, func(t *testing.T, s *Spec) {
			if s.Python.Version != "3.11" || !s.Policy.Strict {
				t.Errorf("got %+v", s)
			}
		}},
		{"json", `{"apiVersion": "distill/v1", "name": "a", "language": "python",
	"app": {"entrypoint": ["python", "app.py"], "env": {"PORT": "8080"}, "ports": [8080]}}`,
			func(t *testing.T, s *Spec) {
				if s.App.Ports[0] != 8080 || s.App.Env[0].Value != "8080" {
					t.Errorf("got %+v", s.App)
				}
			}},
		{"syntax line with spaces and CRLF", "#syntax = example.com/distill:1\r\n" + strings.ReplaceAll(minimal, "\n", "\r\n"),
			func(t *testing.T, s *Spec) {
				if s.Syntax != "example.com/distill:1" {
					t.Errorf("Syntax = %q", s.Syntax)
				}
			}},
		{"syntax after a BOM", "\ufeff# syntax=x/y\n" + minimal, func(t *testing.T, s *Spec) {
			if s.Syntax != "x/y" {
				t.Errorf("Syntax = %q", s.Syntax)
			}
		}},
		{"syntax only on the first line", "# hello\n# syntax=x/y\n" + minimal, func(t *testing.T, s *Spec) {
			if s.Syntax != "" {
				t.Errorf("Syntax = %q", s.Syntax)
			}
		}},
		{"unquoted numeric version", strings.Replace(minimal, "app:", "python: {version: 3.11}\napp:", 1), func(t *testing.T, s *Spec) {
			if s.Python.Version != "3.11" {
				t.Errorf("Version = %q", s.Python.Version)
			}
		}},
		{"chainguard without version", strings.Replace(minimal, "app:", "runtime: chainguard\napp:", 1), func(t *testing.T, s *Spec) {
			if s.Runtime != RuntimeChainguard || s.Python.Version != "" {
				t.Errorf("Runtime %q Version %q", s.Runtime, s.Python.Version)
			}
		}},
		{"numbers and booleans in argv, env and labels are used as written", `apiVersion: distill/v1
name: a
language: python
build:
  env: {N: 010, F: 1.50, B: true}
  commands: [[python, -O, 3]]
app:
  entrypoint: [gunicorn, --workers, 4, --preload, true]
  labels: {version: 1.10}
`, func(t *testing.T, s *Spec) {
			if got := s.Build.Env; !reflect.DeepEqual(got, []EnvVar{{"N", "010"}, {"F", "1.50"}, {"B", "true"}}) {
				t.Errorf("env = %v", got)
			}
			if got := s.App.Entrypoint; !reflect.DeepEqual(got, []string{"gunicorn", "--workers", "4", "--preload", "true"}) {
				t.Errorf("entrypoint = %v", got)
			}
			if s.App.Labels[0].Value != "1.10" || s.Build.Commands[0][2] != "3" {
				t.Errorf("labels %v commands %v", s.App.Labels, s.Build.Commands)
			}
		}},
		{"hostile values are kept verbatim, never interpreted", `apiVersion: distill/v1
name: a
language: python
build:
  env: {X: "; rm -rf / && $(id) ` + "`id`" + ` 'q' \"q\"\nline2"}
  commands: [[sh, -c, "touch /tmp/pwned"]]
app:
  entrypoint: [python, "-c", "import os; os.system('id')", "$HOME"]
  labels: {a: "$(id)"}
`, func(t *testing.T, s *Spec) {
			if v := s.Build.Env[0].Value; v != "; rm -rf / && $(id) `id` 'q' \"q\"\nline2" {
				t.Errorf("env value = %q", v)
			}
			if s.App.Entrypoint[3] != "$HOME" || s.App.Labels[0].Value != "$(id)" {
				t.Errorf("got %+v", s.App)
			}
		}},
		{"env and labels keep file order", `apiVersion: distill/v1
name: a
language: python
app:
  entrypoint: [python]
  env: {Z: "1", A: "2", M: "3"}
  labels: {z: "1", a: "2"}
`, func(t *testing.T, s *Spec) {
			if got := s.App.Env; !reflect.DeepEqual(got, []EnvVar{{"Z", "1"}, {"A", "2"}, {"M", "3"}}) {
				t.Errorf("env = %v", got)
			}
			if s.App.Labels[0].Key != "z" {
				t.Errorf("labels = %v", s.App.Labels)
			}
		}},
		{"aliases for whole values", `apiVersion: distill/v1
name: a
language: python
x-defs:
  env: &env {LANG: C.UTF-8}
  ep: &ep [python, app.py]
build:
  env: *env
app:
  entrypoint: *ep
  env: *env
`, func(t *testing.T, s *Spec) {
			if s.App.Env[0].Value != "C.UTF-8" || s.Build.Env[0].Name != "LANG" || s.App.Entrypoint[1] != "app.py" {
				t.Errorf("got %+v", s)
			}
		}},
		{"empty sections and lists", `apiVersion: distill/v1
name: a
language: python
python:
build:
  aptPackages:
  env:
base: {}
app:
  entrypoint: [python]
  ports: []
`, func(t *testing.T, s *Spec) {
			if len(s.Build.AptPackages) != 0 || s.Python.Version != DefaultPythonVersion {
				t.Errorf("got %+v", s)
			}
		}},
		{"accepted paths and patterns", `apiVersion: distill/v1
name: a.b_c-1
language: python
python: {requirements: deps/prod.txt}
app:
  entrypoint: [python]
  include: [., app.py, src/, "pkg/*.py", "weird name;$(x)"]
  exclude: ["**/*.pyc", "!keep.pyc", tests/, .git]
  workdir: /srv/my.app
`, func(t *testing.T, s *Spec) {
			if s.Python.Requirements != "deps/prod.txt" || s.App.Workdir != "/srv/my.app" {
				t.Errorf("got %+v", s)
			}
		}},
		{"accepted apt packages", strings.Replace(minimal, "app:", "build: {aptPackages: [gcc, libpq-dev, g++, python3.11-dev, \"libssl3=3.0.11-1~deb12u2\", \"foo=1:2.3+dfsg-4\"]}\napp:", 1),
			func(t *testing.T, s *Spec) {
				if len(s.Build.AptPackages) != 6 {
					t.Errorf("got %v", s.Build.AptPackages)
				}
			}},
		{"index URL forms", strings.Replace(minimal, "app:", "python: {indexUrl: \"HTTP://[::1]:8080/simple/?x=1\"}\napp:", 1), nil},
		{"image references", strings.Replace(minimal, "app:", "base: {builder: python:3.13, runtime: \"localhost:5000/a/b@"+digestA+"\"}\napp:", 1), nil},
		{"quoted scalar keys", "\"apiVersion\": distill/v1\n'name': a\nlanguage: python\napp: {entrypoint: [python]}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.src)
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	s := mustParse(t, minimal)
	if s.Runtime != RuntimeDistroless {
		t.Errorf("Runtime = %q, want %q", s.Runtime, RuntimeDistroless)
	}
	if s.Python.Version != DefaultPythonVersion {
		t.Errorf("Python.Version = %q, want %q", s.Python.Version, DefaultPythonVersion)
	}
	if s.App.Workdir != DefaultWorkdir {
		t.Errorf("App.Workdir = %q, want %q", s.App.Workdir, DefaultWorkdir)
	}
	if f, field := s.Python.DependencyFile(); f != "" || !field.IsZero() {
		t.Errorf("DependencyFile() = %q, %q, want empty (detected by the frontend)", f, field)
	}
	if s.Python.Project != ProjectAuto || s.Policy.Verify != VerifyError {
		t.Errorf("Project = %q, Verify = %q, want defaults %q, %q", s.Python.Project, s.Policy.Verify, ProjectAuto, VerifyError)
	}
	if s.Policy.Strict {
		t.Error("Policy.Strict defaulted to true")
	}
	if _, ok := s.Positions["runtime"]; ok {
		t.Error("a defaulted field has a position")
	}

	s = mustParse(t, strings.Replace(minimal, "app:", "python: {requirements: requirements.txt}\napp:", 1))
	if f, field := s.Python.DependencyFile(); f != DefaultRequirements || field != Field("python.requirements") {
		t.Errorf("written requirements: DependencyFile() = %q, %q", f, field)
	}
}

func TestPositions(t *testing.T) {
	s := mustParse(t, designExample)
	want := map[string]Position{
		"apiVersion":           {2, 13},
		"name":                 {3, 7},
		"python":               {7, 3},
		"python.version":       {7, 12},
		"build.aptPackages[1]": {12, 22},
		"build.env":            {13, 8},
		"build.env.KEY":        {13, 14},
		"build.commands[0]":    {15, 7},
		"build.commands[0][2]": {15, 20},
		"app.include[1]":       {17, 21},
		"app.entrypoint":       {20, 15},
		"app.entrypoint[0]":    {20, 16},
		"app.entrypoint[1]":    {20, 24},
		"app.env.PORT":         {21, 15},
		"app.ports[0]":         {22, 11},
		"app.labels.org.opencontainers.image.source": {23, 45},
		"base.runtime":  {26, 12},
		"policy.strict": {28, 11},
	}
	for f, p := range want {
		if got, ok := s.Positions[f]; !ok || got != p {
			t.Errorf("Positions[%q] = %v (present %v), want %v", f, got, ok, p)
		}
	}
	if got := s.PositionOf("app.entrypoint[7]"); got != (Position{20, 15}) {
		t.Errorf("PositionOf falls back to the parent: got %v", got)
	}
	if got := s.PositionOf("app.labels.unwritten.key"); got != (Position{23, 11}) {
		t.Errorf("PositionOf for a map key falls back to the map: got %v", got)
	}
	e := s.ErrorAt("python.requirements", "%s not found in the build context", s.Python.Requirements)
	if e.Error() != "distill.yaml:8:17: requirements.txt not found in the build context" {
		t.Errorf("ErrorAt: %v", e)
	}
	if got := mustParse(t, minimal).PositionOf("python.version"); got != (Position{1, 1}) {
		t.Errorf("PositionOf for an unwritten section: %v", got)
	}
}

// errCase is one invalid spec and the errors it must give, each as
// "LINE:COL: message fragment", in order.
type errCase struct {
	name string
	src  string
	want []string
}

// spec builds a spec from the minimal one plus extra top-level YAML.
func withApp(extra, app string) string {
	return "apiVersion: distill/v1\nname: a\nlanguage: python\n" + extra + "app:\n  entrypoint: [python]\n" + app
}

func TestParseInvalid(t *testing.T) {
	tests := []errCase{
		// Structure.
		{"unknown top-level key with suggestion", "apiVersion: distill/v1\nnmae: a\nlanguage: python\napp: {entrypoint: [python]}\n", []string{
			`1:1: name is required`,
			`2:1: unknown key "nmae" at the top level; did you mean "name"? (allowed: apiVersion, name, language, runtime, python, build, app, base, policy; keys starting with x- are ignored)`,
		}},
		{"unknown key in a section, case slip", withApp("", "  workDir: /srv\n"), []string{
			`6:3: unknown key "workDir" in app; did you mean "workdir"?`,
		}},
		{"separator slip", withApp("python: {index_url: https://x}\n", ""), []string{
			`4:10: unknown key "index_url" in python; did you mean "indexUrl"?`,
		}},
		{"misplaced key", withApp("entrypoint: [python]\n", ""), []string{
			`4:1: unknown key "entrypoint" at the top level; did you mean "app.entrypoint"?`,
		}},
		{"unknown key without suggestion", withApp("", "  zzzzzz: 1\n"), []string{
			`6:3: unknown key "zzzzzz" in app (allowed: include, exclude, workdir, entrypoint, env, ports, labels, runtimePackages, healthcheck;`,
		}},
		{"duplicate keys", withApp("name: b\n", "  entrypoint: [x]\n  env: {A: a, A: b}\n"), []string{
			`4:1: duplicate key "name" (first at line 2)`,
			`7:3: duplicate key "entrypoint" (first at line 6)`,
			`8:15: duplicate key "A" (first at line 8)`,
		}},
		{"merge keys", withApp("x-base: &b {entrypoint: [x]}\n", "  <<: *b\n"), []string{
			`7:3: merge keys (<<) are not supported`,
		}},
		{"non-scalar key", withApp("? [a]\n: b\n", ""), []string{
			`4:3: a key must be a plain string, got a list`,
		}},
		{"root is a list", "- a\n", []string{`1:1: a spec must be a mapping of keys`}},
		{"root is a scalar", "hello\n", []string{`1:1: a spec must be a mapping of keys (apiVersion: distill/v1, name: ..., ...), got the string "hello"`}},
		{"section is a list", "apiVersion: distill/v1\nname: a\nlanguage: python\napp: [python]\n", []string{
			`4:6: app must be a mapping of keys, got a list`,
		}},
		{"two documents", minimal + "---\nname: b\n", []string{`6:1: a second YAML document (after ---): a spec is one document`}},
		{"yaml syntax error", "apiVersion: distill/v1\nname: a\n  bad: indent\n", []string{`3: invalid YAML: mapping values are not allowed in this context`}},
		{"unclosed flow", "app: {entrypoint: [python\n", []string{`invalid YAML:`}},

		// Required fields and enums.
		{"all required missing", "runtime: distroless\n", []string{
			`1:1: apiVersion is required, e.g. apiVersion: distill/v1`,
			`1:1: name is required, e.g. name: hello-api`,
			`1:1: language is required, e.g. language: python`,
			`1:1: app is required, e.g. app: {entrypoint: [python, app.py]}`,
		}},
		{"entrypoint missing", "apiVersion: distill/v1\nname: a\nlanguage: python\napp:\n  workdir: /x\n", []string{
			`4:1: app.entrypoint is required, e.g. [python, app.py]`,
		}},
		{"wrong apiVersion", strings.Replace(minimal, "distill/v1", "distill/v2", 1), []string{
			`1:13: apiVersion "distill/v2" is not supported; allowed: distill/v1`,
		}},
		{"wrong language", strings.Replace(minimal, "python\n", "node\n", 1), []string{
			`3:11: language "node" is not supported; allowed: python`,
		}},
		{"wrong runtime", withApp("runtime: alpine\n", ""), []string{
			`4:10: runtime "alpine" is not supported; allowed: distroless, chainguard`,
		}},
		{"python 3.10 written as a float", withApp("python: {version: 3.10}\n", ""), []string{
			`4:19: python.version "3.10" is not supported; allowed: 3.13, 3.11`,
		}},
		{"python 3.12", withApp("python: {version: \"3.12\"}\n", ""), []string{
			`4:19: python.version "3.12" is not supported; allowed: 3.13, 3.11`,
		}},
		{"version with chainguard not a minor", withApp("runtime: chainguard\npython: {version: \"latest\"}\n", ""), []string{
			`5:19: python.version "latest" is not a Python 3 minor version, e.g. "3.13"`,
		}},
		{"dependencies not a dependency file", withApp("python: {dependencies: setup.py}\n", ""), []string{
			`4:24: python.dependencies "setup.py" is not a dependency file distill reads; allowed: a requirements file (*.txt), pyproject.toml, uv.lock, poetry.lock, pylock.toml or pylock.<name>.toml`,
		}},
		{"dependencies escapes", withApp("python: {dependencies: ../uv.lock}\n", ""), []string{
			`4:24: python.dependencies "../uv.lock" leaves the build context (..); paths must stay inside it`,
		}},
		{"dependencies and requirements", withApp("python: {dependencies: uv.lock, requirements: r.txt}\n", ""), []string{
			`4:47: python.requirements and python.dependencies both name the dependency source; keep python.dependencies`,
		}},
		{"extras", withApp("python: {extras: [a, -b, A]}\n", ""), []string{
			`4:22: python.extras[1] "-b" is not an extra or group name`,
			`4:26: python.extras[2] "A" is listed twice (first at python.extras[0])`,
		}},
		{"project enum", withApp("python: {project: editable}\n", ""), []string{
			`4:19: python.project "editable" is not supported; allowed: auto, install, copy`,
		}},
		{"runtime packages", withApp("", "  runtimePackages: [libpq5, \"libpq5=1.0\", \"-x\", libpq5]\n"), []string{
			`6:29: app.runtimePackages[1] "libpq5=1.0" is not a Debian package name`,
			`6:43: app.runtimePackages[2] "-x" is not a Debian package name`,
			`6:49: app.runtimePackages[3] "libpq5" is listed twice (first at app.runtimePackages[0])`,
		}},
		{"runtime packages with chainguard", withApp("runtime: chainguard\n", "  runtimePackages: [libpq5]\n"), []string{
			`7:20: app.runtimePackages needs a Debian-based runtime`,
		}},
		{"healthcheck empty", withApp("", "  healthcheck: {interval: 5s}\n"), []string{
			`6:3: app.healthcheck needs http (a path, e.g. http: /healthz) or command`,
		}},
		{"healthcheck both", withApp("", "  ports: [80]\n  healthcheck: {http: /h, command: [x]}\n"), []string{
			`7:36: app.healthcheck: give http or command, not both`,
		}},
		{"healthcheck bad values", withApp("", "  healthcheck: {http: \"a b\", interval: 5 s, timeout: 0s, retries: 0}\n"), []string{
			`6:23: app.healthcheck.http "a b" must be a URL path starting with /`,
			`6:40: app.healthcheck.interval "5 s" is not a duration`,
			`6:54: app.healthcheck.timeout must be at least 1ms`,
			`6:67: app.healthcheck.retries: 0 is out of range; allowed: 1-100`,
		}},
		{"healthcheck http without port", withApp("", "  healthcheck: {http: /healthz}\n"), []string{
			`6:23: app.healthcheck.http needs a port: set app.healthcheck.port or app.ports`,
		}},
		{"healthcheck port not int", withApp("", "  healthcheck: {http: /h, port: \"80\"}\n"), []string{
			`6:33: app.healthcheck.port must be a whole number (1-65535), got the string "80"`,
		}},
		{"verify enum", withApp("policy: {verify: false}\n", ""), []string{
			`4:18: policy.verify must be a string, got the boolean false; quote it: "false"`,
		}},
		{"apt with chainguard", withApp("runtime: chainguard\nbuild: {aptPackages: [gcc]}\n", ""), []string{
			`5:22: build.aptPackages needs runtime distroless: the chainguard (Wolfi) builder installs packages with apk, not apt`,
		}},

		// Name.
		{"name uppercase", strings.Replace(minimal, "hello-api", "Hello", 1), []string{
			`2:7: name "Hello" is invalid: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (pattern ^[a-z0-9][a-z0-9._-]*$)`,
		}},
		{"name leading dash", strings.Replace(minimal, "hello-api", "-x", 1), []string{`2:7: name "-x" is invalid`}},
		{"name empty", strings.Replace(minimal, "hello-api", `""`, 1), []string{`2:7: name "" is invalid`}},
		{"name null", strings.Replace(minimal, "hello-api", "", 1), []string{`2:6: name is empty: give a value or remove the key`}},
		{"name too long", strings.Replace(minimal, "hello-api", strings.Repeat("a", 129), 1), []string{`2:7: name is 129 characters; the limit is 128`}},
		{"name is a number", strings.Replace(minimal, "hello-api", "123", 1), []string{`2:7: name must be a string, got the number 123; quote it: "123"`}},
		{"name with a tag", strings.Replace(minimal, "hello-api", "!custom x", 1), []string{`2:7: name must be a string, got a !custom value (YAML tags are not supported)`}},

		// Wrong kinds.
		{"entrypoint as a string", "apiVersion: distill/v1\nname: a\nlanguage: python\napp:\n  entrypoint: python app.py\n", []string{
			`5:15: app.entrypoint must be a list of strings (exec form), e.g. [python, app.py], got the string "python app.py": a string would need a shell, which distill never runs; write [python, app.py]`,
		}},
		{"entrypoint as a shell string", "apiVersion: distill/v1\nname: a\nlanguage: python\napp:\n  entrypoint: python app.py && rm -rf /\n", []string{
			`5:15: app.entrypoint must be a list of strings (exec form), e.g. [python, app.py], got the string "python app.py && rm -rf /": a string would need a shell, which distill never runs`,
		}},
		{"entrypoint empty", "apiVersion: distill/v1\nname: a\nlanguage: python\napp:\n  entrypoint: []\n", []string{
			`5:15: app.entrypoint is an empty list; give a program and its arguments, e.g. [python, app.py]`,
		}},
		{"entrypoint program empty", "apiVersion: distill/v1\nname: a\nlanguage: python\napp:\n  entrypoint: [\"\", x]\n", []string{
			`5:16: app.entrypoint[0], the program, is empty`,
		}},
		{"entrypoint NUL escape", "apiVersion: distill/v1\nname: a\nlanguage: python\napp:\n  entrypoint: [python, \"a\\0b\"]\n", []string{
			`5:24: app.entrypoint[1] contains a NUL byte, which cannot be passed as an argument`,
		}},
		{"entrypoint nested list", "apiVersion: distill/v1\nname: a\nlanguage: python\napp:\n  entrypoint: [python, [x]]\n", []string{
			`5:24: app.entrypoint[1] must be a string (or a number or boolean, used as written), got a list`,
		}},
		{"commands wrong shapes", withApp("build:\n  commands:\n    - python -m compileall\n    - []\n    - [\"\", x]\n    - [a, {b: c}]\n", ""), []string{
			`6:7: build.commands[0] must be a list of strings (exec form), e.g. [python, -m, compileall, -q, src], got the string "python -m compileall": a string would need a shell, which distill never runs; write [python, -m, compileall]`,
			`7:7: build.commands[1] is an empty list; give a program and its arguments, e.g. [python, -m, compileall, -q, src]`,
			`8:8: build.commands[2][0], the program, is empty`,
			`9:11: build.commands[3][1] must be a string (or a number or boolean, used as written), got a mapping`,
		}},
		{"commands as a mapping", withApp("build: {commands: {a: b}}\n", ""), []string{
			`4:19: build.commands must be a list of commands, each a list of strings`,
		}},
		{"env as a list", withApp("build:\n  env: [A=b]\n", ""), []string{
			"5:8: build.env must be a mapping of NAME: value, not a list of NAME=value items; write\n  env:\n    A: b",
		}},
		{"env as a string", withApp("", "  env: A=b\n"), []string{
			`6:8: app.env must be a mapping of NAME: value, e.g. {PORT: "8080"}, got the string "A=b"`,
		}},
		{"env value a list", withApp("", "  env: {A: [x]}\n"), []string{
			`6:12: app.env.A must be a string (or a number or boolean, used as written), got a list`,
		}},
		{"env value null", withApp("", "  env: {A: }\n"), []string{`6:12: app.env.A is empty: give a value or remove the key`}},
		{"strict not a bool", withApp("policy: {strict: \"yes\"}\n", ""), []string{
			`4:18: policy.strict must be true or false, got the string "yes"`,
		}},
		{"ports", withApp("", "  ports: [0, 8080, 8080, \"80\", 70000, 1.5, -1]\n"), []string{
			`6:11: app.ports[0]: port 0 is out of range; allowed: 1-65535`,
			`6:20: app.ports[2]: port 8080 is listed twice (first at app.ports[1])`,
			`6:26: app.ports[3] must be a port number (1-65535), got the string "80"`,
			`6:32: app.ports[4]: port 70000 is out of range; allowed: 1-65535`,
			`6:39: app.ports[5] must be a port number (1-65535), got the number 1.5`,
			`6:44: app.ports[6]: port -1 is out of range; allowed: 1-65535`,
		}},
		{"ports a scalar", withApp("", "  ports: 8080\n"), []string{
			`6:10: app.ports must be a list of port numbers, e.g. [8080], got the number 8080`,
		}},

		// Paths.
		{"requirements escapes", withApp("python: {requirements: ../secrets.txt}\n", ""), []string{
			`4:24: python.requirements "../secrets.txt" leaves the build context (..); paths must stay inside it`,
		}},
		{"requirements absolute", withApp("python: {requirements: /etc/passwd}\n", ""), []string{
			`4:24: python.requirements "/etc/passwd" is absolute; paths are relative to the build context, e.g. "etc/passwd"`,
		}},
		{"requirements unclean", withApp("python: {requirements: a/../../b}\n", ""), []string{
			`4:24: python.requirements "a/../../b" leaves the build context (..)`,
		}},
		{"requirements a directory", withApp("python: {requirements: reqs/}\n", ""), []string{
			`4:24: python.requirements "reqs/" names a directory; it must be a file`,
		}},
		{"requirements looks like an option", withApp("python: {requirements: \"--index-url=https://evil/\"}\n", ""), []string{
			`4:24: python.requirements "--index-url=https://evil/" starts with '-'; rename the file`,
		}},
		{"requirements empty", withApp("python: {requirements: \"\"}\n", ""), []string{`4:24: python.requirements is empty`}},
		{"requirements newline", withApp("python: {requirements: \"a\\n-r /etc/passwd\"}\n", ""), []string{
			`4:24: python.requirements must not contain NUL or line breaks`,
		}},
		{"include paths", withApp("", "  include: [/etc, ./a, a//b, .., \"a\\nb\", \" a\", x/../../y]\n"), []string{
			`6:13: app.include[0] "/etc" is absolute; paths are relative to the build context, e.g. "etc"`,
			`6:19: app.include[1] "./a" is not a clean path; write "a"`,
			`6:24: app.include[2] "a//b" is not a clean path; write "a/b"`,
			`6:30: app.include[3] ".." leaves the build context (..)`,
			`6:34: app.include[4] must not contain NUL or line breaks`,
			`6:42: app.include[5] " a" has leading or trailing spaces`,
			`6:48: app.include[6] "x/../../y" leaves the build context (..)`,
		}},
		{"exclude patterns", withApp("", "  exclude: [\"[\", \"!../x\", /abs, \"!\"]\n"), []string{
			`6:13: app.exclude[0] "[" is not a valid .dockerignore pattern: syntax error in pattern`,
			`6:18: app.exclude[1] "!../x" leaves the build context (..)`,
			`6:27: app.exclude[2] "/abs" is absolute`,
			`6:33: app.exclude[3] is empty`,
		}},
		{"workdir relative", withApp("", "  workdir: app\n"), []string{`6:12: app.workdir "app" must be an absolute path, e.g. /app`}},
		{"workdir root", withApp("", "  workdir: /\n"), []string{`6:12: app.workdir must not be /: the app gets its own directory, e.g. /app`}},
		{"workdir dotdot", withApp("", "  workdir: /a/../b\n"), []string{`6:12: app.workdir "/a/../b" must not contain ..`}},
		{"workdir unclean", withApp("", "  workdir: /a/./b/\n"), []string{`6:12: app.workdir "/a/./b/" is not a clean path; write "/a/b"`}},

		// Index.
		{"index credentials", withApp("python:\n  indexUrl: https://user:s3cr3t@pypi.example/simple\n", ""), []string{
			`5:13: python.indexUrl must not contain credentials (user:password@): put the whole URL in a BuildKit secret and name it in python.indexUrlSecret`,
		}},
		{"index token only", withApp("python: {indexUrl: \"https://tok@pypi.example/\"}\n", ""), []string{`python.indexUrl must not contain credentials`}},
		{"index scheme", withApp("python: {indexUrl: file:///etc/passwd}\n", ""), []string{
			`4:20: python.indexUrl must be an http:// or https:// URL`,
		}},
		{"index whitespace", withApp("python: {indexUrl: \"https://x/ --trusted-host y\"}\n", ""), []string{
			`4:20: python.indexUrl must not contain whitespace or control characters`,
		}},
		{"index no host", withApp("python: {indexUrl: \"https:///simple\"}\n", ""), []string{`4:20: python.indexUrl has no host`}},
		{"index bad escape", withApp("python: {indexUrl: \"https://x/%zz\"}\n", ""), []string{`4:20: python.indexUrl is not a valid URL: invalid URL escape "%zz"`}},
		{"index and secret", withApp("python: {indexUrl: \"https://x/simple\", indexUrlSecret: pip}\n", ""), []string{
			`4:56: python.indexUrl and python.indexUrlSecret are mutually exclusive`,
		}},
		{"index secret id", withApp("python: {indexUrlSecret: \"--id=x\"}\n", ""), []string{
			`4:26: python.indexUrlSecret "--id=x" is not a BuildKit secret id: use letters, digits, '.', '_' and '-', starting with a letter or digit (pattern ^[a-zA-Z0-9][a-zA-Z0-9._-]*$)`,
		}},

		// apt.
		{"apt packages", withApp("build:\n  aptPackages: [\"-o=APT::Get::x=1\", \"Foo\", \"a\", \"gcc=abc\", \"gcc/bookworm\", \"gcc;id\", \"gcc gcc\", gcc=1.0]\n", ""), []string{
			`5:17: build.aptPackages[0] "-o=APT::Get::x=1" is not a Debian package: write name or name=version (name: lowercase letters, digits, '+', '-', '.'; version starts with a digit)`,
			`5:37: build.aptPackages[1] "Foo"`,
			`5:44: build.aptPackages[2] "a"`,
			`5:49: build.aptPackages[3] "gcc=abc"`,
			`5:60: build.aptPackages[4] "gcc/bookworm"`,
			`5:76: build.aptPackages[5] "gcc;id"`,
			`5:86: build.aptPackages[6] "gcc gcc"`,
		}},

		// env.
		{"env names", withApp("build:\n  env: {1A: x, A-B: y, \"\": z, PATH: /x, PIP_INDEX_URL: x, PYTHONPATH: /src, HOME: /tmp}\n", "  env: {VIRTUAL_ENV: /v, PYTHONHOME: /p, PIP_INDEX_URL: ok}\n"), []string{
			`5:9: build.env: "1A" is not a valid variable name: use letters, digits and '_', not starting with a digit`,
			`5:16: build.env: "A-B" is not a valid variable name`,
			`5:24: build.env: "" is not a valid variable name`,
			`5:31: build.env: PATH is reserved: distill sets PATH so the app's venv bin comes first`,
			`5:41: build.env: PIP_INDEX_URL is reserved: set the index with python.indexUrl, or python.indexUrlSecret when the URL carries credentials`,
			`8:9: app.env: VIRTUAL_ENV is reserved: distill sets VIRTUAL_ENV to the venv it builds`,
			`8:26: app.env: PYTHONHOME is reserved: PYTHONHOME would point the interpreter away`,
		}},
		{"env value NUL", withApp("", "  env: {A: \"x\\0y\"}\n"), []string{`6:12: app.env.A contains a NUL byte, which cannot be in an environment value`}},

		// Labels.
		{"label keys", withApp("", "  labels: {Foo: x, a.: y, /a: z, a b: w, ok/key_1.x-y: v, n: \"\\0\"}\n"), []string{
			`6:12: label key "Foo" is invalid: use lowercase letters, digits, '.', '_', '-' and '/', starting and ending with a letter or digit, e.g. org.opencontainers.image.source`,
			`6:20: label key "a." is invalid`,
			`6:27: label key "/a" is invalid`,
			`6:34: label key "a b" is invalid`,
			`6:62: label n contains a NUL byte`,
		}},

		// Base images.
		{"base references", withApp("base:\n  builder: \"python:3.13@sha256:...\"\n  runtime: \"a b\"\n", ""), []string{
			`5:12: base.builder "python:3.13@sha256:..." is not a valid image reference (invalid reference format), e.g. registry.example/python:3.13@sha256:<64 hex digits>`,
			`6:12: base.runtime "a b" is not a valid image reference`,
		}},

		// Many problems at once, reported together in file order.
		{"several errors sorted by position", "name: Bad\nlanguage: go\napp:\n  entrypoint: run\n", []string{
			`1:1: apiVersion is required`,
			`1:7: name "Bad" is invalid`,
			`2:11: language "go" is not supported; allowed: python`,
			`4:15: app.entrypoint must be a list of strings (exec form)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.src, tt.want) })
	}
}

func checkErrors(t *testing.T, src string, want []string) {
	t.Helper()
	s, err := Parse("distill.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded (%+v), want errors:\n%s", s, strings.Join(want, "\n"))
	}
	if s != nil {
		t.Errorf("Parse returned a spec with an error")
	}
	errs := AsErrors(err)
	if len(errs) == 0 {
		t.Fatalf("error carries no positions: %v", err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, strings.TrimPrefix(e.Error(), "distill.yaml:"))
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i]) || (!startsWithPos(want[i]) && strings.Contains(got[i], want[i]))
	}
	if !ok {
		t.Errorf("errors:\n  %s\nwant (prefixes):\n  %s\n--- spec:\n%s", strings.Join(got, "\n  "), strings.Join(want, "\n  "), src)
	}
}

// startsWithPos tells a "LINE:COL: msg" expectation from a bare fragment.
func startsWithPos(s string) bool {
	return len(s) > 0 && s[0] >= '0' && s[0] <= '9'
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("dir/distill.yaml", []byte(withApp("runtime: x\n", "  workdir: rel\n")))
	want := "dir/distill.yaml:4:10: runtime \"x\" is not supported; allowed: distroless, chainguard\n" +
		"dir/distill.yaml:7:12: app.workdir \"rel\" must be an absolute path, e.g. /app"
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("not an ErrorList: %T", err)
	}
	e := list[0]
	if e.File != "dir/distill.yaml" || e.Line != 4 || e.Column != 10 || e.Field != Field("runtime") {
		t.Errorf("fields: %+v", e)
	}
	wrapped := fmt.Errorf("reading spec: %w", err)
	if got := AsErrors(wrapped); len(got) != 2 {
		t.Errorf("AsErrors(wrapped) = %v", got)
	}
	if got := AsErrors(fmt.Errorf("x: %w", e)); len(got) != 1 || got[0] != e {
		t.Errorf("AsErrors(*Error) = %v", got)
	}
	if got := AsErrors(errors.New("plain")); got != nil {
		t.Errorf("AsErrors(plain) = %v", got)
	}
	if got := (&Error{File: "f", Line: 3, Msg: "m"}).Error(); got != "f:3: m" {
		t.Errorf("line-only error: %q", got)
	}
}

func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString(withApp("", "  env:\n"))
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "    %d: x\n", i)
	}
	_, err := Parse("distill.yaml", []byte(b.String()))
	errs := AsErrors(err)
	if len(errs) != maxErrors+1 {
		t.Fatalf("got %d errors, want %d", len(errs), maxErrors+1)
	}
	if last := errs[len(errs)-1]; !strings.Contains(last.Msg, "too many errors; 150 more not shown") {
		t.Errorf("last error: %v", last)
	}
}

// TestExamples keeps the checked-in examples valid as the rules change.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/distill.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(f, data); err != nil {
			t.Errorf("%v", err)
		}
	}
}
