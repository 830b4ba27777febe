//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/imagetest"
)

// Real Python projects: the examples built from pyproject.toml, uv.lock,
// poetry.lock and a hashed requirements file, with real frameworks from the
// test bed's index (wheels repacked from Debian trixie).

// realExamples are the examples whose dependencies are real packages.
var realExamples = []struct {
	name, greeting string
	// fixedPort: the entrypoint names port 8080 (uvicorn, gunicorn); tests
	// give each run its own port by editing the copy's spec
	fixedPort bool
	extra     func(t *testing.T, get func(string) string, port int)
}{
	{name: "flask-pyproject", greeting: "hello from flask-pyproject"},
	{name: "fastapi-uv", greeting: "hello from fastapi-uv", fixedPort: true, extra: func(t *testing.T, _ func(string) string, port int) {
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/greet", port), "application/json", strings.NewReader(`{"name": "distill", "times": 2}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "hello, distill! hello, distill!") {
			t.Errorf("POST /greet = %d %q", resp.StatusCode, body)
		}
		bad, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/greet", port), "application/json", strings.NewReader(`{"times": "x"}`))
		if err != nil {
			t.Fatal(err)
		}
		bad.Body.Close()
		if bad.StatusCode != 422 {
			t.Errorf("invalid body answered %d, want pydantic's 422", bad.StatusCode)
		}
	}},
	{name: "django-gunicorn", greeting: "hello from django-gunicorn", fixedPort: true, extra: func(t *testing.T, get func(string) string, _ int) {
		if css := get("/static/admin/css/base.css"); !strings.Contains(css, "body") {
			t.Errorf("collectstatic + whitenoise: admin CSS is %q", tail(css, 3))
		}
	}},
	{name: "poetry-app", greeting: "hello from poetry-app"},
}

// TestRealExamples builds every real example on the runtimes whose Python
// the test bed's wheels support, through every entry path, checks the
// invariants and talks to the running app. distroless 3.11 is left out:
// the wheels are built from Debian trixie for CPython 3.13 only (PyPI has
// 3.11 wheels; the 3.11 pair is end of life and covered by TestExamples).
func TestRealExamples(t *testing.T) {
	need(t)
	for _, ex := range realExamples {
		for _, rt := range runtimes {
			if rt.name == "distroless-3.11" {
				continue
			}
			for _, via := range entries {
				t.Run(fmt.Sprintf("%s/%s/%s", ex.name, rt.name, via), func(t *testing.T) {
					port := freePort()
					edit := func(s string) string {
						s = rt.edit(s)
						if ex.fixedPort {
							s = strings.NewReplacer(`0.0.0.0:8080`, "127.0.0.1:"+strconv.Itoa(port), `--port, "8080"`, `--port, "`+strconv.Itoa(port)+`"`).Replace(s)
						}
						if via == viaBuildctl {
							s = localSyntax(s)
						}
						return s
					}
					a := copyExample(t, ex.name, edit)
					tar, _ := build(t, a, via)
					img := load(t, tar)
					checkRealImage(t, img, a)
					get := serveOn(t, img, port)
					if body := get("/"); !strings.Contains(body, ex.greeting) {
						t.Errorf("GET / = %q, want %q", body, ex.greeting)
					}
					info := infoOf(t, get("/info"))
					if info["uid"] != float64(65532) || !strings.HasPrefix(fmt.Sprint(info["python"]), rt.wantPython) || info["prefix"] != "/opt/venv" {
						t.Errorf("/info = %v, want uid 65532, python %s*, prefix /opt/venv", info, rt.wantPython)
					}
					if ex.extra != nil {
						ex.extra(t, get, port)
					}
				})
			}
		}
	}
}

// checkRealImage is checkImage for apps whose entrypoint is not python.
func checkRealImage(t *testing.T, img *imagetest.Image, a app) {
	t.Helper()
	for _, err := range imagetest.CheckInvariants(img, nil, imagetest.CheckOptions{AppPaths: []string{"/app", "/opt/venv"}}) {
		t.Error(err)
	}
	c := img.Config.Config
	if c.User != "65532:65532" || len(c.Entrypoint) == 0 || strings.HasPrefix(c.Entrypoint[0], "/bin/") {
		t.Errorf("user %q entrypoint %q", c.User, c.Entrypoint)
	}
	// no uv, poetry or pip reached the image
	for p := range img.Files() {
		if b := filepath.Base(p); b == "uv" || b == "poetry" || strings.HasPrefix(p, "/opt/venv/lib/python3.13/site-packages/pip/") {
			t.Errorf("%s is in the image", p)
		}
	}
}

// TestCodeChangeKeepsDependenciesCached: for every kind of dependency
// source, an edit of the app's code leaves the dependency install and the
// start-up verification cached.
func TestCodeChangeKeepsDependenciesCached(t *testing.T) {
	need(t)
	for _, tc := range []struct {
		kind, example, edit string
		// lock replaces the example's uv.lock with this file
		lock string
	}{
		{"requirements", "python-deps", "src/depsapp/__init__.py", ""},
		{"pyproject", "flask-pyproject", "hello_flask/app.py", ""},
		{"uv.lock", "fastapi-uv", "app/main.py", ""},
		{"poetry.lock", "poetry-app", "poetry_app/server.py", ""},
		// PEP 751: fastapi-uv's dependencies locked by pip lock (pip 25.1.1)
		{"pylock.toml", "fastapi-uv", "app/main.py", "testdata/pylock-fastapi/pylock.toml"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			a := copyExample(t, tc.example, nil)
			if tc.lock != "" {
				if err := os.Remove(filepath.Join(a.dir, "uv.lock")); err != nil {
					t.Fatal(err)
				}
				a.write(t, filepath.Base(tc.lock), mustRead(t, tc.lock))
			}
			_, out := build(t, a, viaCLI, "--progress", "rawjson")
			if !strings.Contains(out, "pip install "+map[bool]string{true: "-r requirements.txt", false: tc.kind}[tc.kind == "requirements"]) {
				t.Errorf("the install step does not name its source %s", tc.kind)
			}
			src := mustRead(t, filepath.Join(a.dir, tc.edit))
			a.write(t, tc.edit, src+"\n# "+randomToken(t)+"\n")
			_, out = build(t, a, viaCLI, "--progress", "rawjson")
			cached := vertexCache(t, out)
			for _, step := range []string{"pip install", "verify the image starts"} {
				c, ok := findVertex(cached, step)
				if !ok {
					t.Errorf("no %q step in the rebuild", step)
				} else if !c && !(step == "verify the image starts" && projectInstalled(tc.example)) {
					t.Errorf("%q ran again after a code-only change", step)
				}
			}
		})
	}
}

// projectInstalled: examples whose project is installed into the venv; the
// verification includes the project's files, so it reruns on a code change.
func projectInstalled(example string) bool {
	return example == "flask-pyproject" || example == "poetry-app"
}

// TestLockMustMatchPyproject: a dependency added to pyproject.toml but not
// locked fails the build, naming both files and the dependency, as `uv sync
// --locked` does; nothing is resolved behind the user's back.
func TestLockMustMatchPyproject(t *testing.T) {
	need(t)
	for _, via := range []entry{viaCLI, viaBuildx} {
		t.Run(string(via), func(t *testing.T) {
			a := copyExample(t, "fastapi-uv", nil)
			py := mustRead(t, filepath.Join(a.dir, "pyproject.toml"))
			a.write(t, "pyproject.toml", strings.Replace(py, `    "uvicorn>=0.32.0",`, `    "uvicorn>=0.32.0",`+"\n"+`    "requests>=2.32",`, 1))
			_, out, err := tryBuild(t, a, via)
			if err == nil {
				t.Fatalf("a lock that lacks a pyproject dependency built:\n%s", tail(out, 20))
			}
			if !regexp.MustCompile(`pyproject\.toml:\d+:\d+: dependency "requests" is not in uv\.lock`).MatchString(out) {
				t.Errorf("output lacks the pyproject line and both files:\n%s", tail(out, 20))
			}
			if via == viaBuildx {
				// --call=check says it too, without building
				out, err := buildxCall(t, a, "check")
				if err == nil || !strings.Contains(out, `dependency "requests" is not in uv.lock`) {
					t.Errorf("--call=check (%v):\n%s", err, tail(out, 20))
				}
			}
		})
	}
}

// TestTamperedWheelFails: a wheel whose bytes differ from the lock's hash
// fails the install. The test serves a copy of the index in which one wheel
// was modified.
func TestTamperedWheelFails(t *testing.T) {
	need(t)
	wheels := filepath.Join(tb.work, "wheels")
	dir := t.TempDir()
	matches, _ := filepath.Glob(filepath.Join(wheels, "*.whl"))
	if len(matches) == 0 {
		t.Fatalf("no wheels in %s", wheels)
	}
	tampered := ""
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(filepath.Base(m), "annotated_types-") {
			// same size, one byte changed: the modification time in the
			// first local file header, which zip readers (and so the index
			// listing it) ignore; a replaced file on the index
			b[10] ^= 0xff
			tampered = filepath.Base(m)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(m)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if tampered == "" {
		t.Fatal("annotated-types is not in the test bed's index")
	}
	port := freePort()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// the test bed's own index server, on another port, stopped by the test
	idx := exec.CommandContext(ctx, filepath.Join(tb.work, "bin", "pyindex"), "-dir", dir, "-addr", fmt.Sprintf("127.0.0.1:%d", port))
	if err := idx.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = idx.Process.Kill(); _ = idx.Wait() }()
	url := fmt.Sprintf("http://127.0.0.1:%d/simple", port)
	if _, _, err := imagetest.WaitHTTP(ctx, url+"/", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	a := copyExample(t, "fastapi-uv", func(s string) string { return strings.Replace(s, "indexUrl: "+tb.indexURL, "indexUrl: "+url, 1) })
	_, out, err := tryBuild(t, a, viaCLI)
	if err == nil {
		t.Fatalf("a tampered %s was installed:\n%s", tampered, tail(out, 20))
	}
	if !strings.Contains(out, "DO NOT MATCH THE HASHES") || !strings.Contains(out, "annotated") {
		t.Errorf("output lacks pip's hash mismatch for annotated-types:\n%s", tail(out, 30))
	}
}
