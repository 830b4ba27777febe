//go:build integration

package integration

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/imagetest"
)

// q writes s as a YAML double-quoted scalar (a JSON string is one).
func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func nonce(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// pwned lists files in the image whose name says a shell ran a payload.
func pwned(img *imagetest.Image) []string {
	var out []string
	for p := range img.Files() {
		if strings.Contains(p, "PWNED") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// pwnedIn lists names starting with mark, as a payload's touch makes them,
// in the given host directories (not recursively: a payload names its
// directory). The app's own files that quote a payload (the requirements
// file) start otherwise.
func pwnedIn(mark string, dirs ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range dirs {
		if d = filepath.Clean(d); seen[d] {
			continue
		}
		seen[d] = true
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), mark) {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out
}

// hostileApp is a standard-library app that reports its argv, one env
// value, and any file named like a payload's marker in the places a
// payload run at start-up could write while the root is read-only (/tmp,
// /dev/shm) or that the image holds (/, /app, the home and working
// directories), so the running image shows what it was started with and
// whether a shell ran anything.
const hostileApp = `import json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def pwned():
    out = []
    for d in sorted({"/", "/tmp", "/dev/shm", "/app", "/home/nonroot", os.getcwd(), os.environ.get("HOME", "/")}):
        try:
            out += [os.path.join(d, n) for n in os.listdir(d) if "PWNED" in n]
        except OSError:
            pass
    return out

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"argv": sys.argv[1:], "env": os.environ.get("HOSTILE"), "pwned": pwned()}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer((os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8080"))), H).serve_forever()
`

// TestHostileSpecValues builds a spec whose every build-reaching field holds
// shell syntax that would create a file named with a PWNED marker if a
// shell ever ran it. The build must succeed, no marker may exist anywhere a
// payload could write, and the build command, the build env, the
// requirements path, the entrypoint, the app env and the labels must arrive
// verbatim.
//
// Where a payload could write, and where it is looked for:
//   - build commands and build env run in the builder's /app, which the
//     image ships: absolute /app/ markers, seen in the image;
//   - any builder step (build user or root): /tmp (mode 1777 in every
//     builder) and the step's home ("cd;" first), seen in the builder
//     target, built and scanned whole;
//   - a runtime-stage step: the image itself, scanned whole;
//   - the running container (read-only root, tmpfs /tmp): /tmp, seen by the
//     app itself (hostileApp's "pwned"), reported over HTTP;
//   - the build host (the CLI runs the frontend in-process): /tmp, the
//     test's and the app's directories and $HOME, scanned for this run's
//     nonce.
//
// An entrypoint payload that a shell would run only after the app exits
// ("; touch") could never be seen while the app serves, so the entrypoint's
// separator payload backgrounds the app ("& touch ... ;") instead.
func TestHostileSpecValues(t *testing.T) {
	need(t)
	start := time.Now()
	m := "PWNED_" + nonce(t) + "_"
	argv := []string{
		"; touch /app/" + m + "1",
		"$(touch /app/" + m + "2)",
		"`touch /app/" + m + "3`",
		"&& touch /app/" + m + "4 || touch /app/" + m + "5",
		`'"; touch /app/` + m + `6; "'`,
		"line1\ntouch /app/" + m + "7",
		"| tee /app/" + m + "8",
	}
	env1, env2 := "$(touch /app/"+m+"ENV)", "`touch /app/"+m+"ENV2`; touch /app/"+m+"ENV3 && \"x\" 'y'\nz"
	entry := []string{"python", "app.py", "$(touch /tmp/" + m + "EP)", "`touch /tmp/" + m + "EP2`", "& touch /tmp/" + m + "EP3 ;"}
	appEnv := "`touch /tmp/" + m + "RT`; $(id) && \"q\""
	label := "`touch /tmp/" + m + "LABEL`; $(cd; touch " + m + "LABEL2) && 'x'\n\"y\""
	// a file name cannot hold "/": the payload goes home first, then also
	// tries wherever it runs
	reqName := "req $(cd; touch " + m + "REQ); `touch " + m + "REQ2` && 'y'.txt"

	a := copyExample(t, "python-http", nil)
	a.write(t, "app.py", hostileApp)
	a.write(t, reqName, "greeting==1.1\n")
	program := "import json, os, sys; json.dump({'argv': sys.argv[1:], 'env': [os.environ['INJ1'], os.environ['INJ2']]}, open('/app/argv.json', 'w'))"
	cmd := []string{q("python"), q("-c"), q(program)}
	for _, s := range argv {
		cmd = append(cmd, q(s))
	}
	var ep []string
	for _, s := range entry {
		ep = append(ep, q(s))
	}
	spec := `apiVersion: distill/v1
name: hostile
language: python
python:
  version: "3.13"
  requirements: ` + q(reqName) + `
  indexUrl: ` + tb.indexURL + `
build:
  env:
    INJ1: ` + q(env1) + `
    INJ2: ` + q(env2) + `
  commands:
    - [` + strings.Join(cmd, ", ") + `]
app:
  include: [app.py]
  entrypoint: [` + strings.Join(ep, ", ") + `]
  env: {HOSTILE: ` + q(appEnv) + `}
  ports: [8080]
  labels:
    org.example.hostile: ` + q(label) + `
`
	a.write(t, "distill.yaml", spec)

	tar, out := build(t, a, viaCLI)
	img := load(t, tar)
	checkImage(t, img)
	if p := pwned(img); len(p) > 0 {
		t.Errorf("a shell ran a spec value: the image holds %q", p)
	}
	// the builder stage as it ends, every file of it
	btar, _ := build(t, a, viaCLI, "--target", "builder")
	if p := pwned(load(t, btar)); len(p) > 0 {
		t.Errorf("a shell ran a spec value in the builder: it holds %q", p)
	}
	wd, _ := os.Getwd()
	home, _ := os.UserHomeDir()
	if p := pwnedIn(m, "/tmp", os.TempDir(), wd, a.dir, home); len(p) > 0 {
		t.Errorf("a shell ran a spec value on the build host: %q", p)
	}
	dt, err := img.ReadFile("/app/argv.json")
	if err != nil {
		t.Fatalf("the build command did not run: %v\n%s", err, tail(out, 30))
	}
	var got struct {
		Argv []string `json:"argv"`
		Env  []string `json:"env"`
	}
	if err := json.Unmarshal(dt, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Argv, argv) {
		t.Errorf("build command argv\n got %q\nwant %q", got.Argv, argv)
	}
	if !slices.Equal(got.Env, []string{env1, env2}) {
		t.Errorf("build env\n got %q\nwant %q", got.Env, []string{env1, env2})
	}
	if !hasDist(img, "greeting-1.1") {
		t.Errorf("requirements file %q was not installed: venv has %q", reqName, dists(img))
	}
	c := img.Config.Config
	if !slices.Equal(c.Entrypoint, entry) {
		t.Errorf("entrypoint %q, want %q", c.Entrypoint, entry)
	}
	if !slices.Contains(c.Env, "HOSTILE="+appEnv) {
		t.Errorf("app env %q lacks HOSTILE verbatim", c.Env)
	}
	if got := img.Labels()["org.example.hostile"]; got != label {
		t.Errorf("label %q, want %q", got, label)
	}

	// at runtime the entrypoint's arguments and the env arrive verbatim
	// too, and the app sees no marker where a start-up shell could write
	get := serve(t, img)
	var rt struct {
		Argv  []string `json:"argv"`
		Env   string   `json:"env"`
		Pwned []string `json:"pwned"`
	}
	if err := json.Unmarshal([]byte(get("/")), &rt); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rt.Argv, entry[2:]) || rt.Env != appEnv {
		t.Errorf("runtime argv %q env %q, want %q and %q", rt.Argv, rt.Env, entry[2:], appEnv)
	}
	if rt.Pwned == nil {
		t.Errorf("the app did not report its marker scan")
	} else if len(rt.Pwned) > 0 {
		t.Errorf("a shell ran a spec value when the image started: %q", rt.Pwned)
	}
	t.Logf("hostile build and run: %v", time.Since(start).Round(time.Second))
}

// TestHostileSpecRejected: values that cannot be passed verbatim stop the
// build before the engine runs anything, with the spec line.
func TestHostileSpecRejected(t *testing.T) {
	need(t)
	// the edit drops python.version (2 lines) and appends tc.yaml after the
	// example's 13 remaining lines: the offending value is on line 15
	for _, tc := range []struct{ name, yaml, want string }{
		{"apt package with a shell", "build:\n  aptPackages: [\"gcc; touch /PWNED\"]\n",
			`distill.yaml:15:17: build.aptPackages[0] "gcc; touch /PWNED" is not a Debian package: write name or name=version`},
		{"apt option", "build:\n  aptPackages: [\"-oAPT::Get::AllowUnauthenticated=true\"]\n",
			`distill.yaml:15:17: build.aptPackages[0] "-oAPT::Get::AllowUnauthenticated=true" is not a Debian package: write name or name=version`},
		{"requirements outside", "python:\n  requirements: ../../etc/passwd\n",
			`distill.yaml:15:17: python.requirements "../../etc/passwd" leaves the build context (..); paths must stay inside it`},
		{"absolute requirements", "python:\n  requirements: /etc/passwd\n",
			`distill.yaml:15:17: python.requirements "/etc/passwd" is absolute; paths are relative to the build context`},
		{"index URL with a newline", "python:\n  indexUrl: \"https://a.example/simple\\n--trusted-host=evil\"\n",
			"distill.yaml:15:13: python.indexUrl must not contain whitespace or control characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := copyExample(t, "python-http", func(s string) string {
				return strings.Replace(s, "python:\n  version: \"3.13\"\n", "", 1) + tc.yaml
			})
			_, out, err := tryBuild(t, a, viaCLI)
			if err == nil {
				t.Fatalf("build succeeded:\n%s", tail(out, 20))
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output lacks %q (spec line:column and message):\n%s", tc.want, tail(out, 20))
			}
		})
	}
}

func dists(img *imagetest.Image) []string {
	var out []string
	for p := range img.Files() {
		if strings.HasPrefix(p, "/opt/venv/lib/") && strings.HasSuffix(p, ".dist-info") && strings.Count(p, "/") == 6 {
			out = append(out, strings.TrimSuffix(filepath.Base(p), ".dist-info"))
		}
	}
	slices.Sort(out)
	return out
}

func hasDist(img *imagetest.Image, d string) bool { return slices.Contains(dists(img), d) }

// TestContextSymlinksNotFollowed puts symlinks in the build context that
// point outside it: to the build host's /etc/passwd and /etc, and to files
// holding a unique marker. The image may hold the links (dangling), never
// what they point to.
func TestContextSymlinksNotFollowed(t *testing.T) {
	need(t)
	marker := "distill-outside-marker-" + nonce(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte(marker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(outside, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "dir", "inner.txt"), []byte(marker+"-dir\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "requirements.txt"), []byte("# "+marker+"-req\ngreeting==1.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostPasswd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"passwd":       "/etc/passwd",
		"etc":          "/etc",
		"leak.txt":     filepath.Join(outside, "secret.txt"),
		"leakdir":      filepath.Join(outside, "dir"),
		"rel-leak.txt": "../../../../../../../../.." + filepath.Join(outside, "secret.txt"),
		"src/up":       "../..",
	}
	setup := func(t *testing.T, edit func(string) string) app {
		a := copyExample(t, "python-http", edit)
		if err := os.MkdirAll(filepath.Join(a.dir, "src"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, target := range links {
			if err := os.Symlink(target, filepath.Join(a.dir, name)); err != nil {
				t.Fatal(err)
			}
		}
		return a
	}
	noLeak := func(t *testing.T, img *imagetest.Image) {
		t.Helper()
		for _, m := range []string{marker, marker + "-dir", marker + "-req"} {
			if hits := img.ContainsBytes([]byte(m)); len(hits) > 0 {
				t.Errorf("content from outside the context reached the image: %q", hits)
			}
		}
		if hits := img.ContainsBytes(hostPasswd); len(hits) > 0 {
			t.Errorf("the build host's /etc/passwd reached the image: %q", hits)
		}
		files := img.Files()
		for name := range links {
			if e, ok := files["/app/"+name]; ok && !e.IsSymlink() {
				t.Errorf("/app/%s is a %c, not the symlink: it was followed", name, e.Type)
			}
		}
		for p := range files {
			if strings.HasPrefix(p, "/app/etc/") || strings.HasPrefix(p, "/app/leakdir/") || strings.HasPrefix(p, "/app/src/up/") {
				t.Errorf("%s: a directory symlink was followed", p)
			}
		}
	}

	t.Run("whole context", func(t *testing.T) {
		// no include: the whole context is copied, links and all
		a := setup(t, func(s string) string { return strings.Replace(s, "  include: [app.py]\n", "", 1) })
		tar, _ := build(t, a, viaCLI)
		img := load(t, tar)
		noLeak(t, img)
		files := img.Files()
		for name, target := range links {
			e, ok := files["/app/"+name]
			if !ok || !e.IsSymlink() || e.Linkname != target {
				t.Errorf("/app/%s: want the symlink to %q kept as a link, got %+v (present %v)", name, target, e, ok)
			}
		}
	})
	t.Run("named in include", func(t *testing.T) {
		// a link named in app.include is copied as the link itself
		a := setup(t, func(s string) string {
			return strings.Replace(s, "  include: [app.py]\n", "  include: [app.py, leak.txt, leakdir, etc, passwd, rel-leak.txt, src]\n", 1)
		})
		tar, _ := build(t, a, viaCLI)
		img := load(t, tar)
		noLeak(t, img)
		for _, name := range []string{"leak.txt", "passwd", "rel-leak.txt", "etc", "leakdir", "src/up"} {
			if e, ok := img.Files()["/app/"+name]; !ok || !e.IsSymlink() || e.Linkname != links[name] {
				t.Errorf("/app/%s: want the link to %q, got %+v (present %v)", name, links[name], e, ok)
			}
		}
	})
	t.Run("requirements is a link inside", func(t *testing.T) {
		// the common layout requirements.txt -> requirements/prod.txt
		// works: a link that stays in the context is resolved in it
		a := setup(t, func(s string) string {
			return strings.Replace(s, "  version: \"3.13\"\n", "  version: \"3.13\"\n  indexUrl: "+tb.indexURL+"\n", 1)
		})
		a.write(t, "requirements/prod.txt", "greeting==1.1\n")
		if err := os.Symlink("requirements/prod.txt", filepath.Join(a.dir, "requirements.txt")); err != nil {
			t.Fatal(err)
		}
		tar, _ := build(t, a, viaCLI)
		img := load(t, tar)
		noLeak(t, img)
		if !hasDist(img, "greeting-1.1") {
			t.Errorf("requirements.txt -> requirements/prod.txt was not installed: venv has %q", dists(img))
		}
	})
	t.Run("requirements is a link out", func(t *testing.T) {
		// resolved inside the context, a link out names nothing there
		for _, target := range []string{filepath.Join(outside, "requirements.txt"), "/etc/passwd", "../../../../../../../../.." + filepath.Join(outside, "requirements.txt")} {
			a := setup(t, func(s string) string {
				return strings.Replace(s, "  version: \"3.13\"\n", "  version: \"3.13\"\n  requirements: reqs.txt\n  indexUrl: "+tb.indexURL+"\n", 1)
			})
			if err := os.Symlink(target, filepath.Join(a.dir, "reqs.txt")); err != nil {
				t.Fatal(err)
			}
			_, out, err := tryBuild(t, a, viaCLI)
			if err == nil {
				t.Errorf("reqs.txt -> %s: the build read a file outside the context", target)
				continue
			}
			if !strings.Contains(out, `python.requirements "reqs.txt" does not exist in the build context (or is excluded by .dockerignore, or is a symlink that points outside the context)`) {
				t.Errorf("reqs.txt -> %s: want a clear refusal, got:\n%s", target, tail(out, 15))
			}
		}
	})
}
