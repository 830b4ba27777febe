package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/distill-build/distill/spec"
)

const sha = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

// uvLock is a minimal uv.lock with the given registry packages.
func uvLock(project string, pkgs ...string) string {
	var b strings.Builder
	b.WriteString("version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n")
	for _, p := range pkgs {
		name, ver := lockPin(p)
		b.WriteString("\n[[package]]\nname = \"" + name + "\"\nversion = \"" + ver + "\"\nsource = { registry = \"https://pypi.org/simple\" }\n")
		b.WriteString("wheels = [{ url = \"https://files.example.invalid/" + name + "-" + ver + "-py3-none-any.whl\", hash = \"" + sha + "\" }]\n")
	}
	// the project depends on every locked package, as uv records it
	b.WriteString("\n[[package]]\nname = \"" + project + "\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [\n")
	for _, p := range pkgs {
		name, _ := lockPin(p)
		b.WriteString("    { name = \"" + name + "\" },\n")
	}
	b.WriteString("]\n")
	return b.String()
}

// lockPin splits "name==version" (version 1.0 when not given).
func lockPin(p string) (string, string) {
	if name, ver, ok := strings.Cut(p, "=="); ok {
		return name, ver
	}
	return p, "1.0"
}

// poetryLock is a minimal poetry.lock (lock-version 2.1).
func poetryLock(pkgs ...string) string {
	var b strings.Builder
	for _, p := range pkgs {
		name, ver := lockPin(p)
		b.WriteString("[[package]]\nname = \"" + name + "\"\nversion = \"" + ver + "\"\noptional = false\npython-versions = \">=3.8\"\ngroups = [\"main\"]\n")
		b.WriteString("files = [{file = \"" + name + "-" + ver + "-py3-none-any.whl\", hash = \"" + sha + "\"}]\n\n")
	}
	b.WriteString("[metadata]\nlock-version = \"2.1\"\npython-versions = \"^3.11\"\ncontent-hash = \"0\"\n")
	return b.String()
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInitDetects runs `distill init --stdout` on one project per kind of
// detection, checks the chosen values through spec.Parse, the comment that
// explains each choice, and the whole output against testdata/init (`go
// test -update` rewrites those after an intended change). Each generated
// spec is then written and must pass `distill validate`.
func TestInitDetects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dir   string // the project directory's name (the fallback image name)
		files map[string]string

		wantName       string
		wantEntrypoint []string
		wantVersion    string // "" is the default, 3.13
		wantDeps       string // python.dependencies ("" for detected)
		wantCommands   [][]string
		wantComments   []string
		wantAbsent     []string
	}{
		{
			name: "requirements-app-py",
			dir:  "My Service!",
			files: map[string]string{
				"requirements.txt": "requests==2.32.3\n",
				"app.py":           "print('hi')\n",
			},
			wantName:       "my-service",
			wantEntrypoint: []string{"python", "app.py"},
			wantComments:   []string{"a build detects requirements.txt", "app.py is the app's main file", `From the directory name, "My Service!"`, "No healthcheck is guessed"},
			wantAbsent:     []string{"python:", "build:"},
		},
		{
			name: "pyproject-script-flit",
			dir:  "cli",
			files: map[string]string{
				"pyproject.toml": `[project]
name = "Hello_CLI"
version = "1.0"
requires-python = ">=3.9,<3.13"
dependencies = ["requests>=2"]

[project.scripts]
hello = "hello:main"

[build-system]
requires = ["flit_core>=3.9"]
build-backend = "flit_core.buildapi"
`,
				"hello.py": "def main(): pass\n",
				"app.py":   "print('not this one')\n",
			},
			wantName:       "hello_cli",
			wantEntrypoint: []string{"hello"},
			wantVersion:    "3.11",
			wantComments: []string{
				`the project name in pyproject.toml, "Hello_CLI"`,
				`The console script "hello" of [project.scripts]`,
				`[build-system] ("flit_core.buildapi")`,
				"a build detects the dependencies of pyproject.toml",
				`requires-python ">=3.9,<3.13" rules out 3.13`,
				"end of life",
			},
		},
		{
			name: "poetry-scripts",
			dir:  "ledger",
			files: map[string]string{
				"pyproject.toml": `[tool.poetry]
name = "ledger"
version = "1.4.0"

[tool.poetry.dependencies]
python = "^3.11"
flask = "^3.0"

[tool.poetry.scripts]
worker = "ledger.worker:main"
serve = "ledger.app:main"

[build-system]
requires = ["poetry-core>=1.9"]
build-backend = "poetry.core.masonry.api"
`,
				"poetry.lock":        poetryLock("flask==3.1.0", "gunicorn==23.0.0"),
				"ledger/__init__.py": "",
				"ledger/app.py":      "from flask import Flask\napp = Flask(__name__)\n",
			},
			wantName:       "ledger",
			wantEntrypoint: []string{"serve"},
			wantComments: []string{
				`The console script "serve", the first by name of [tool.poetry.scripts]`,
				"the others: worker",
				"a build detects poetry.lock (a lock file comes first)",
				`the default 3.13 satisfies requires-python ">=3.11,<4"`,
			},
			wantAbsent: []string{"not installed from"},
		},
		{
			name: "uv-fastapi",
			dir:  "shop",
			files: map[string]string{
				"pyproject.toml": `[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["fastapi>=0.110", "uvicorn>=0.30"]
`,
				"uv.lock":          uvLock("shop", "fastapi==0.115.0", "uvicorn==0.32.0"),
				"requirements.txt": "fastapi\n",
				"app/__init__.py":  "",
				"app/main.py":      "from fastapi import FastAPI\n\napp = FastAPI(title='shop')\n",
			},
			wantName:       "shop",
			wantEntrypoint: []string{"uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8080"},
			wantComments: []string{
				"a build detects uv.lock (a lock file comes first)",
				"requirements.txt is not installed from",
				"An ASGI app, app = FastAPI(...) in app/main.py, served by uvicorn: uvicorn is in uv.lock",
			},
		},
		{
			name: "django-gunicorn-static",
			dir:  "mysite",
			files: map[string]string{
				"requirements.txt":   "# production\nDjango==5.1.2 \\\n    --hash=" + sha + "\ngunicorn==23.0.0 --hash=" + sha + "\n",
				"manage.py":          "import os, sys\n",
				"mysite/__init__.py": "",
				"mysite/wsgi.py":     "application = None\n",
				"mysite/settings.py": "BASE_DIR = '.'\nSTATIC_URL = 'static/'\nSTATIC_ROOT = BASE_DIR + '/staticfiles'\n",
			},
			wantName:       "mysite",
			wantEntrypoint: []string{"gunicorn", "--bind", "0.0.0.0:8080", "mysite.wsgi"},
			wantCommands:   [][]string{{"python", "manage.py", "collectstatic", "--noinput"}},
			wantComments: []string{
				"A Django project: manage.py and mysite/wsgi.py, served by gunicorn: gunicorn is in requirements.txt",
				"mysite/settings.py sets STATIC_ROOT",
			},
		},
		{
			name: "django-runserver",
			dir:  "blog",
			files: map[string]string{
				"requirements.txt":          "django\n",
				"manage.py":                 "",
				"blog/wsgi.py":              "",
				"blog/settings/__init__.py": "",
				"blog/settings/base.py":     "STATIC_URL = 'static/'\n",
			},
			wantName:       "blog",
			wantEntrypoint: []string{"python", "manage.py", "runserver", "0.0.0.0:8080"},
			wantComments:   []string{"not for production", "add gunicorn to requirements.txt"},
			wantAbsent:     []string{"collectstatic"},
		},
		{
			name: "flask-gunicorn",
			dir:  "flaskapp",
			files: map[string]string{
				"requirements.txt": "Flask>=3\ngunicorn[gevent] ; sys_platform == 'linux'\n-r extra.txt\n",
				"extra.txt":        "",
				"app.py":           "from flask import Flask\n\napp = Flask(__name__)\n",
			},
			wantName:       "flaskapp",
			wantEntrypoint: []string{"gunicorn", "--bind", "0.0.0.0:8080", "app:app"},
			wantComments:   []string{"A WSGI app, app = Flask(...) in app.py, served by gunicorn: gunicorn is in requirements.txt"},
		},
		{
			name: "flask-without-gunicorn",
			dir:  "flaskdev",
			files: map[string]string{
				"requirements.txt": "flask\n",
				"app.py":           "import flask\nserver = flask.Flask(__name__)\n",
			},
			wantName:       "flaskdev",
			wantEntrypoint: []string{"python", "app.py"},
			wantComments:   []string{"Found server = Flask(...) in app.py, but gunicorn is not a dependency (not in requirements.txt)"},
		},
		{
			name: "fastapi-standard-extra",
			dir:  "api",
			files: map[string]string{
				"requirements.txt": "fastapi[standard]==0.115.0\n",
				"main.py":          "from fastapi import FastAPI\napi: FastAPI = FastAPI()\n",
			},
			wantName:       "api",
			wantEntrypoint: []string{"uvicorn", "main:api", "--host", "0.0.0.0", "--port", "8080"},
			wantComments:   []string{"uvicorn comes with fastapi[standard] in requirements.txt"},
		},
		{
			name: "undetected-requirements",
			dir:  "svc",
			files: map[string]string{
				"requirements/dev.txt":  "pytest\n",
				"requirements/prod.txt": "gunicorn\n",
				"main.py":               "print('hi')\n",
			},
			wantName:       "svc",
			wantEntrypoint: []string{"python", "main.py"},
			wantDeps:       "requirements/prod.txt",
			wantComments:   []string{"requirements/prod.txt is the dependency source", "Also there, not installed: requirements/dev.txt"},
		},
		{
			name: "script-with-requirements",
			dir:  "tool",
			files: map[string]string{
				"pyproject.toml":   "[project]\nname = \"tool\"\nversion = \"1\"\n[project.scripts]\ntool = \"tool:main\"\n",
				"requirements.txt": "click\n",
				"main.py":          "",
			},
			wantName:       "tool",
			wantEntrypoint: []string{"python", "main.py"},
			wantComments:   []string{`pyproject.toml has the console script "tool", but the build installs from requirements.txt, which does not install the project`},
		},
		{
			name: "script-without-build-system",
			dir:  "nobs",
			files: map[string]string{
				"pyproject.toml": "[project]\nname = \"nobs\"\nversion = \"1\"\ndependencies = []\n[project.scripts]\nnobs = \"nobs:main\"\n",
			},
			wantName:       "nobs",
			wantEntrypoint: []string{"nobs"},
			wantComments:   []string{"But pyproject.toml has no [build-system], and scripts are installed only with the project"},
		},
		{
			name: "nothing",
			dir:  "empty",
			files: map[string]string{
				"README.md": "nothing to run\n",
				// excluded from the context: never a candidate
				".venv/main.py": "",
			},
			wantName:       "empty",
			wantEntrypoint: []string{"python", "-c", "raise SystemExit('TODO: set app.entrypoint in distill.yaml')"},
			wantComments:   []string{"TODO: no entrypoint found", "so only the app is installed"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tc.dir)
			writeTree(t, dir, tc.files)
			out, err := run(t, "init", "--stdout", dir)
			if err != nil {
				t.Fatalf("init: %v\n%s", err, out)
			}
			if !strings.HasPrefix(out, "# syntax=ghcr.io/distill-build/distill:1\n") {
				t.Errorf("the first line is not the syntax directive:\n%s", out)
			}
			s, err := spec.Parse("distill.yaml", []byte(out))
			if err != nil {
				t.Fatalf("the generated spec does not parse: %v\n%s", err, out)
			}
			if s.Name != tc.wantName {
				t.Errorf("name = %q, want %q", s.Name, tc.wantName)
			}
			if !reflect.DeepEqual(s.App.Entrypoint, tc.wantEntrypoint) {
				t.Errorf("entrypoint = %q, want %q", s.App.Entrypoint, tc.wantEntrypoint)
			}
			wantVersion := tc.wantVersion
			if wantVersion == "" {
				wantVersion = spec.DefaultPythonVersion
				if _, written := s.Positions["python.version"]; written {
					t.Errorf("python.version is written; want the default")
				}
			}
			if s.Python.Version != wantVersion {
				t.Errorf("python.version = %q, want %q", s.Python.Version, wantVersion)
			}
			if s.Python.Dependencies != tc.wantDeps || s.Python.Requirements != "" {
				t.Errorf("python.dependencies = %q, requirements = %q; want %q", s.Python.Dependencies, s.Python.Requirements, tc.wantDeps)
			}
			if !reflect.DeepEqual(s.Build.Commands, tc.wantCommands) {
				t.Errorf("build.commands = %q, want %q", s.Build.Commands, tc.wantCommands)
			}
			if !reflect.DeepEqual(s.App.Ports, []int{8080}) || len(s.App.Env) != 1 || s.App.Env[0] != (spec.EnvVar{Name: "PORT", Value: "8080"}) {
				t.Errorf("ports = %v, env = %v; want [8080] and PORT=8080", s.App.Ports, s.App.Env)
			}
			if s.App.Healthcheck.Set() {
				t.Errorf("a healthcheck was guessed: %+v", s.App.Healthcheck)
			}
			for _, c := range tc.wantComments {
				if !strings.Contains(unwrapComments(out), c) {
					t.Errorf("no comment %q in:\n%s", c, out)
				}
			}
			for _, c := range tc.wantAbsent {
				if strings.Contains(out, c) {
					t.Errorf("%q should not be in:\n%s", c, out)
				}
			}
			golden := filepath.Join("testdata", "init", tc.name+".yaml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if want, err := os.ReadFile(golden); err != nil {
				t.Errorf("%v (run go test -run TestInitDetects -update to create it)", err)
			} else if string(want) != out {
				t.Errorf("output differs from %s; if intended, rerun with -update and review the diff\ngot:\n%s", golden, out)
			}
			again, _ := run(t, "init", "--stdout", dir)
			if again != out {
				t.Errorf("a second run printed something else")
			}

			// the written spec is one the rest of the CLI accepts
			if out, err := run(t, "init", dir); err != nil || !strings.Contains(out, "wrote "+filepath.Join(dir, "distill.yaml")) {
				t.Fatalf("init (write): %v\n%s", err, out)
			}
			if out, err := run(t, "validate", dir); err != nil || !strings.Contains(out, ": ok (") {
				t.Errorf("validate of the written spec: %v\n%s", err, out)
			}
		})
	}
}

// unwrapComments joins the comment lines of a spec into one line each
// block, so a phrase wrapped across lines is still found.
func unwrapComments(out string) string {
	var b strings.Builder
	for _, line := range strings.Split(out, "\n") {
		t := strings.TrimSpace(line)
		if c, ok := strings.CutPrefix(t, "# "); ok {
			b.WriteString(c + " ")
			continue
		}
		b.WriteString("\n" + line + "\n")
	}
	return b.String()
}

func TestInitWrites(t *testing.T) {
	project := map[string]string{"requirements.txt": "flask\ngunicorn\n", "app.py": "from flask import Flask\napp = Flask(__name__)\n"}
	const existing = "# mine\n"

	t.Run("existing spec refused", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, project)
		writeTree(t, dir, map[string]string{"distill.yaml": existing})
		_, err := run(t, "init", dir)
		if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "--force") {
			t.Errorf("want a refusal that names --force, got %v", err)
		}
		if dt, _ := os.ReadFile(filepath.Join(dir, "distill.yaml")); string(dt) != existing {
			t.Errorf("the existing spec changed: %q", dt)
		}
	})

	t.Run("existing symlink refused", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, project)
		if err := os.Symlink("nowhere.yaml", filepath.Join(dir, "distill.yaml")); err != nil {
			t.Fatal(err)
		}
		if _, err := run(t, "init", dir); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("a dangling distill.yaml link: got %v", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "nowhere.yaml")); err == nil {
			t.Error("init wrote through the link")
		}
	})

	t.Run("--force", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, project)
		writeTree(t, dir, map[string]string{"distill.yaml": existing})
		out, err := run(t, "init", "--force", dir)
		if err != nil {
			t.Fatalf("init --force: %v\n%s", err, out)
		}
		dt, err := os.ReadFile(filepath.Join(dir, "distill.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse("distill.yaml", dt)
		if err != nil {
			t.Fatalf("the written spec does not parse: %v", err)
		}
		if want := []string{"gunicorn", "--bind", "0.0.0.0:8080", "app:app"}; !reflect.DeepEqual(s.App.Entrypoint, want) {
			t.Errorf("entrypoint = %q, want %q", s.App.Entrypoint, want)
		}
		if st, _ := os.Stat(filepath.Join(dir, "distill.yaml")); st.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644", st.Mode().Perm())
		}
		if m, _ := filepath.Glob(filepath.Join(dir, ".distill.yaml.*")); len(m) > 0 {
			t.Errorf("temporary files left: %v", m)
		}
	})

	t.Run("--stdout", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, project)
		out, err := run(t, "init", "--stdout", dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := spec.Parse("distill.yaml", []byte(out)); err != nil {
			t.Errorf("printed spec does not parse: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "distill.yaml")); !os.IsNotExist(err) {
			t.Errorf("--stdout wrote a file (stat: %v)", err)
		}
		// an existing spec is no reason not to print
		writeTree(t, dir, map[string]string{"distill.yaml": existing})
		if again, err := run(t, "init", "--stdout", dir); err != nil || again != out {
			t.Errorf("--stdout with an existing spec: %v", err)
		}
		if _, err := run(t, "init", "--stdout", "--force", dir); err == nil {
			t.Error("--stdout with --force was accepted")
		}
	})

	t.Run("no such directory", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "missing")
		_, err := run(t, "init", missing)
		if err == nil || !strings.Contains(err.Error(), missing+": no such directory") {
			t.Errorf("got %v", err)
		}
		file := filepath.Join(t.TempDir(), "file")
		writeTree(t, filepath.Dir(file), map[string]string{"file": ""})
		if _, err := run(t, "init", file); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("a file as DIR: got %v", err)
		}
	})

	t.Run("two lock files", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{
			"pyproject.toml": "[project]\nname = \"x\"\nversion = \"1\"\n",
			"uv.lock":        uvLock("x"),
			"poetry.lock":    poetryLock(),
			"app.py":         "",
		})
		_, err := run(t, "init", dir)
		if err == nil {
			t.Fatal("init chose between two lock files")
		}
		for _, want := range []string{"uv.lock", "poetry.lock", "python.dependencies"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
		if strings.Contains(err.Error(), ":1:1:") {
			t.Errorf("error %q points into a spec that does not exist", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "distill.yaml")); !os.IsNotExist(err) {
			t.Errorf("a spec was written (stat: %v)", err)
		}
	})

	t.Run(".dockerignore hides a file", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"requirements.txt": "flask\n", ".dockerignore": "requirements.txt\n", "main.py": ""})
		out, err := run(t, "init", "--stdout", dir)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, "detects requirements.txt") || !strings.Contains(out, "so only the app is installed") {
			t.Errorf("an ignored requirements.txt was used:\n%s", out)
		}
	})
}

func TestNormalizeImageName(t *testing.T) {
	for in, want := range map[string]string{
		"My Service!":    "my-service",
		"hello_cli":      "hello_cli",
		"__x__":          "x",
		"a..b--c":        "a.b-c",
		"Ünïcode":        "n-code",
		"...":            "",
		"Django.Project": "django.project",
	} {
		if got := normalizeImageName(in); got != want {
			t.Errorf("normalizeImageName(%q) = %q, want %q", in, got, want)
		}
	}
}
