//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/imagetest"
)

// An image that builds must start: these tests use real wheels (repacked
// from Debian trixie, so their extensions link system libraries as
// packages built from source do) and check that distill finds what would
// break at start, names the fix, and that the fix works.

// nativeApp imports psycopg2, lxml, Pillow, numpy and PyYAML and uses each,
// so a missing library or a silent fallback shows in its answer.
const nativeApp = `import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer
import numpy, psycopg2, psycopg2.extensions, yaml
from lxml import etree
from PIL import Image

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            broken = os.environ.get("BROKEN") == "1"
            self.send_response(500 if broken else 200); self.end_headers(); self.wfile.write(b"ok" if not broken else b"broken")
            return
        img = Image.new("RGB", (4, 3), "red")
        body = json.dumps({
            "det": round(float(numpy.linalg.det(numpy.array([[2.0, 1.0], [1.0, 3.0]]))), 6),
            "libpq": psycopg2.extensions.libpq_version(),
            "yaml_libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
            "xml": etree.fromstring("<a><b>x</b></a>").findtext("b"),
            "png_size": list(img.size),
            "uid": os.getuid(),
        }).encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a):
        pass

HTTPServer((os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8080"))), H).serve_forever()
`

// runtimeLibraries are the Debian packages nativeApp's wheels link.
const runtimeLibraries = "[libpq5, libxslt1.1, libxml2, libtiff6, libjpeg62-turbo, libopenjp2-7, libimagequant0, libxcb1, liblcms2-2, libfreetype6, libraqm0, libwebp7, libwebpmux3, libwebpdemux2, libblas3, liblapack3, libyaml-0-2]"

func nativeSpec(extraApp string) string {
	return "# syntax=ghcr.io/distill-build/distill:1\napiVersion: distill/v1\nname: native\nlanguage: python\npython:\n  indexUrl: " + tb.indexURL + "\napp:\n  entrypoint: [python, app.py]\n  ports: [8080]\n" + extraApp
}

func newApp(t *testing.T, spec string, files map[string]string) app {
	t.Helper()
	a := app{dir: t.TempDir()}
	a.spec = filepath.Join(a.dir, "distill.yaml")
	a.write(t, "distill.yaml", spec)
	for n, c := range files {
		a.write(t, n, c)
	}
	return a
}

func nativeFiles() map[string]string {
	return map[string]string{
		"app.py":           nativeApp,
		"requirements.txt": "psycopg2==2.9.10\nlxml==5.4.0\npillow==11.1.0\nnumpy==2.2.4\npyyaml==6.0.2\n",
	}
}

// TestMissingLibrariesFailTheBuild: without app.runtimePackages the build
// fails, naming the library and the Debian package that ships it.
func TestMissingLibrariesFailTheBuild(t *testing.T) {
	need(t)
	a := newApp(t, nativeSpec(""), nativeFiles())
	_, out, err := tryBuild(t, a, viaCLI)
	if err == nil {
		t.Fatalf("a build whose extensions miss their libraries succeeded:\n%s", tail(out, 40))
	}
	for _, want := range []string{
		"the image would not start",
		"MissingLibrary: /opt/venv/lib/python3.13/site-packages/psycopg2/_psycopg.cpython-313-x86_64-linux-gnu.so needs libpq.so.5",
		"app.runtimePackages: [libpq5]",
		"needs libblas.so.3",
		"libyaml-0-2",
		"all missing libraries together: app.runtimePackages: [",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, tail(out, 40))
		}
	}
}

// TestRuntimePackages: with the libraries listed, the same app builds,
// every invariant holds (no shell, apt, dpkg or setuid file came with the
// packages), the app runs as 65532 and uses every native extension, and
// the SBOM lists the added packages.
func TestRuntimePackages(t *testing.T) {
	need(t)
	a := newApp(t, nativeSpec("  runtimePackages: "+runtimeLibraries+"\n"), nativeFiles())
	for _, via := range []entry{viaCLI, viaBuildx} {
		t.Run(string(via), func(t *testing.T) {
			tar, out := build(t, a, via, "--attest", "type=sbom")
			if strings.Contains(out, "SilentFallback") || strings.Contains(out, "MissingLibrary") {
				t.Errorf("warnings with every library present:\n%s", tail(out, 30))
			}
			img := load(t, tar)
			checkImage(t, img)
			files := img.Files()
			for _, p := range []string{"/usr/lib/x86_64-linux-gnu/libpq.so.5", "/usr/lib/x86_64-linux-gnu/libblas.so.3", "/var/lib/dpkg/status.d/libpq5"} {
				if _, ok := files[p]; !ok {
					t.Errorf("image lacks %s", p)
				}
			}
			if e := files["/usr/lib/x86_64-linux-gnu/libblas.so.3"]; !e.IsSymlink() || e.Linkname != "blas/libblas.so.3" {
				t.Errorf("libblas.so.3 is %+v, want the alternative's link to blas/libblas.so.3", e)
			}
			for _, p := range []string{"/usr/bin/dpkg", "/usr/bin/apt", "/usr/bin/apt-get", "/bin/sh", "/usr/bin/sh", "/usr/bin/dash", "/usr/bin/bash"} {
				if _, ok := files[p]; ok {
					t.Errorf("runtime packages brought %s", p)
				}
			}
			get := serve(t, img)
			var got struct {
				Det         float64 `json:"det"`
				Libpq       int     `json:"libpq"`
				YAMLLibyaml bool    `json:"yaml_libyaml"`
				XML         string  `json:"xml"`
				PNG         []int   `json:"png_size"`
				UID         int     `json:"uid"`
			}
			if err := json.Unmarshal([]byte(get("/")), &got); err != nil {
				t.Fatal(err)
			}
			if got.Det != 5 || got.Libpq < 170000 || !got.YAMLLibyaml || got.XML != "x" || len(got.PNG) != 2 || got.UID != 65532 {
				t.Errorf("app answers %+v: want numpy det 5, libpq 17, PyYAML with libyaml, lxml, Pillow, uid 65532", got)
			}
			atts, err := img.Attestations()
			if err != nil {
				t.Fatal(err)
			}
			spdx, ok := atts["https://spdx.dev/Document"]
			if !ok {
				t.Fatal("no SBOM")
			}
			for _, pkg := range []string{`"name":"libpq5"`, `"name":"libblas3"`, `"name":"libyaml-0-2"`, `"name":"psycopg2"`} {
				if !strings.Contains(strings.ReplaceAll(string(spdx.Predicate), " ", ""), pkg) {
					t.Errorf("SBOM lacks %s", pkg)
				}
			}
		})
	}
}

// TestRuntimePackagesBadInput: names that are not packages of the
// runtime's release, and packages that would bring a shell, fail with a
// clear message before any layer is made.
func TestRuntimePackagesBadInput(t *testing.T) {
	need(t)
	for _, tc := range []struct {
		pkgs string
		want string
	}{
		{"[libpq55]", "libpq55 is not a package of Debian trixie (the runtime's release)"},
		{"[dash]", "dash is a shell or package manager"},
		{"[python3-pip]", "python3-pip is a shell or package manager"},
		{"[libpq5, python3]", "libpq5 python3 would bring dpkg"},
	} {
		// no commas in the test name: it becomes the temp dir, and the
		// output flag is comma-separated
		t.Run(strings.NewReplacer("[", "", "]", "", ", ", "+").Replace(tc.pkgs), func(t *testing.T) {
			a := newApp(t, nativeSpec("  runtimePackages: "+tc.pkgs+"\n"), map[string]string{"app.py": "print(1)\n"})
			_, out, err := tryBuild(t, a, viaCLI)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("err %v, output lacks %q:\n%s", err, tc.want, tail(out, 20))
			}
			if !strings.Contains(out, "app.runtimePackages") {
				t.Errorf("the error does not point at app.runtimePackages:\n%s", tail(out, 20))
			}
		})
	}
}

// TestVerificationFindsBrokenStarts: each way an image can fail to start
// fails the build, naming the spec line and the problem.
func TestVerificationFindsBrokenStarts(t *testing.T) {
	need(t)
	pkg := map[string]string{
		"pyproject.toml":           "[build-system]\nrequires = [\"flit_core>=3.2,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n\n[project]\nname = \"needs-config\"\nversion = \"1.0\"\ndescription = \"x\"\ndependencies = []\n\n[project.scripts]\nneeds-config = \"needs_config:main\"\n",
		"needs_config/__init__.py": "import os\nif 'APP_CONFIG' not in os.environ:\n    raise RuntimeError('APP_CONFIG is not set')\ndef main():\n    pass\n",
	}
	for _, tc := range []struct {
		name, spec string
		files      map[string]string
		want       []string
	}{
		{"entrypoint typo", strings.Replace(nativeSpec(""), "[python, app.py]", "[pyhton, app.py]", 1), map[string]string{"app.py": "print(1)\n"},
			[]string{`distill.yaml:8:16: EntrypointNotFound: app.entrypoint runs "pyhton", which is not on the image's PATH`}},
		{"script without interpreter", strings.Replace(nativeSpec(""), "[python, app.py]", "[./run.sh]", 1), map[string]string{"app.py": "print(1)\n", "run.sh": "#!/bin/sh\nexec python app.py\n"},
			[]string{"EntrypointNotFound", "cannot execute"}},
		{"module that cannot import", strings.Replace(nativeSpec(""), "[python, app.py]", "[needs-config]", 1), pkg,
			[]string{"ImportFailure: module needs_config (distribution needs_config) does not import in the image as user 65532:65532: RuntimeError: APP_CONFIG is not set"}},
		{"builder and runtime of different minors", nativeSpec("base:\n  builder: docker.io/library/python:3.11-slim-bookworm\n"), map[string]string{"app.py": "print(1)\n"},
			[]string{"the builder docker.io/library/python:3.11-slim-bookworm has Python 3.11", "runtime gcr.io/distroless/python3-debian13:nonroot has Python 3.13"}},
		{"chainguard latest is not the version asked", strings.Replace(nativeSpec(""), "language: python\n", "language: python\nruntime: chainguard\n", 1) + "", map[string]string{"app.py": "print(1)\n"},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			want := tc.want
			if tc.name == "chainguard latest is not the version asked" {
				spec = strings.Replace(spec, "python:\n", "python:\n  version: \"3.14\"\n", 1)
				want = []string{`python.version is "3.14" but the runtime cgr.dev/chainguard/python:latest carries Python 3.13`}
			}
			a := newApp(t, spec, tc.files)
			_, out, err := tryBuild(t, a, viaCLI)
			if err == nil {
				t.Fatalf("build succeeded:\n%s", tail(out, 20))
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, tail(out, 30))
				}
			}
		})
	}
	t.Run("policy.verify warn", func(t *testing.T) {
		a := newApp(t, strings.Replace(nativeSpec("policy:\n  verify: warn\n"), "[python, app.py]", "[pyhton, app.py]", 1), map[string]string{"app.py": "print(1)\n"})
		_, out := build(t, a, viaCLI)
		if !strings.Contains(out, "EntrypointNotFound") {
			t.Errorf("no warning:\n%s", tail(out, 20))
		}
	})
}

// TestHealthcheck: the image's HEALTHCHECK is exec form, needs no shell,
// and reports a running app healthy and a broken one unhealthy when run in
// the started container's network.
func TestHealthcheck(t *testing.T) {
	need(t)
	a := newApp(t, nativeSpec("  runtimePackages: "+runtimeLibraries+"\n  healthcheck:\n    http: /healthz\n    interval: 5s\n    timeout: 3s\n    retries: 2\n"), nativeFiles())
	tar, _ := build(t, a, viaCLI)
	img := load(t, tar)
	cfg, err := img.DockerConfig()
	if err != nil {
		t.Fatal(err)
	}
	hc := cfg.Config.Healthcheck
	if hc == nil || len(hc.Test) < 2 || hc.Test[0] != "CMD" || hc.Interval != 5*time.Second || hc.Retries != 2 {
		t.Fatalf("healthcheck %+v", hc)
	}
	root := t.TempDir()
	if err := imagetest.Unpack(img, root); err != nil {
		t.Fatal(err)
	}
	for _, broken := range []bool{false, true} {
		t.Run(fmt.Sprintf("broken=%v", broken), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			port := freePort()
			env := []string{"HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port)}
			if broken {
				env = append(env, "BROKEN=1")
			}
			app, err := imagetest.Run(ctx, root, img, imagetest.RunOpts{Env: env, Stdout: os.Stderr, Stderr: os.Stderr})
			if err != nil {
				t.Fatal(err)
			}
			defer app.Stop()
			if _, _, err := app.WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/", port), 30*time.Second); err != nil {
				t.Fatal(err)
			}
			// the check, as the engine runs it: the config's argv in the
			// image, as its user; the test's port replaces the image's
			args := append([]string{}, hc.Test[1:]...)
			for i := range args {
				args[i] = regexp.MustCompile(`127\.0\.0\.1:8080`).ReplaceAllString(args[i], fmt.Sprintf("127.0.0.1:%d", port))
			}
			check, err := imagetest.Run(ctx, root, img, imagetest.RunOpts{Args: args, Stdout: os.Stderr, Stderr: os.Stderr})
			if err != nil {
				t.Fatal(err)
			}
			code, err := check.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if healthy := code == 0; healthy == broken {
				t.Errorf("healthcheck exit %d with broken=%v", code, broken)
			}
		})
	}
}

// TestBasePlatformMismatch: a base image that has no variant for the
// target platform fails the build, naming the image and what it offers,
// instead of shipping its binaries under the target's label. (The
// stand-ins are single-platform linux/amd64 images.)
func TestBasePlatformMismatch(t *testing.T) {
	need(t)
	a := newApp(t, nativeSpec(""), map[string]string{"app.py": "print(1)\n"})
	_, out, err := tryBuild(t, a, viaCLI, "--platform", "linux/arm64")
	if err == nil {
		t.Fatalf("an arm64 build on amd64-only bases succeeded:\n%s", tail(out, 20))
	}
	want := regexp.MustCompile(`(builder|runtime) image \S+@sha256:[0-9a-f]{64} is for linux/amd64, but the build targets linux/arm64`)
	if !want.MatchString(out) {
		t.Errorf("output lacks %q:\n%s", want, tail(out, 20))
	}
}
