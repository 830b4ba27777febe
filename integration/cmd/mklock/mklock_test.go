package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/distill-build/distill/pydeps"
)

func TestMain(m *testing.M) {
	logOut = io.Discard
	os.Exit(m.Run())
}

// fakeWheel is one wheel of the test index.
type fakeWheel struct {
	name, version, tag string
	requiresPython     string
	requires           []string
}

func (w fakeWheel) filename() string {
	return strings.ReplaceAll(w.name, "-", "_") + "-" + w.version + "-" + w.tag + ".whl"
}

func (w fakeWheel) bytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	dist := strings.ReplaceAll(w.name, "-", "_") + "-" + w.version + ".dist-info/"
	meta := "Metadata-Version: 2.1\nName: " + w.name + "\nVersion: " + w.version + "\n"
	if w.requiresPython != "" {
		meta += "Requires-Python: " + w.requiresPython + "\n"
	}
	for _, r := range w.requires {
		meta += "Requires-Dist: " + r + "\n"
	}
	meta += "\nA description that mentions Requires-Dist: nothing\n"
	for name, body := range map[string]string{dist + "METADATA": meta, dist + "WHEEL": "Wheel-Version: 1.0\n", strings.ReplaceAll(w.name, "-", "_") + "/__init__.py": ""} {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// serveIndex serves wheels as a PEP 503 index; corrupt names files whose
// link carries a wrong hash.
func serveIndex(t *testing.T, wheels []fakeWheel, corrupt map[string]bool) string {
	t.Helper()
	files := map[string][]byte{}
	byProject := map[string][]fakeWheel{}
	for _, w := range wheels {
		files[w.filename()] = w.bytes(t)
		n := pydeps.NormalizeName(w.name)
		byProject[n] = append(byProject[n], w)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/simple/", func(rw http.ResponseWriter, r *http.Request) {
		name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/simple/"), "/")
		ws, ok := byProject[name]
		if !ok {
			http.NotFound(rw, r)
			return
		}
		fmt.Fprintf(rw, "<!DOCTYPE html><html><body>\n")
		for _, w := range ws {
			sum := sha256.Sum256(files[w.filename()])
			h := hex.EncodeToString(sum[:])
			if corrupt[w.filename()] {
				h = strings.Repeat("0", 64)
			}
			rp := ""
			if w.requiresPython != "" {
				rp = ` data-requires-python="` + html.EscapeString(w.requiresPython) + `"`
			}
			fmt.Fprintf(rw, "<a href=\"/files/%s#sha256=%s\"%s>%s</a><br/>\n", w.filename(), h, rp, w.filename())
		}
	})
	mux.HandleFunc("/files/", func(rw http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/files/")]
		if !ok {
			http.NotFound(rw, r)
			return
		}
		rw.Write(b)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/simple/"
}

// The test index: web needs core (and winonly on Windows, old before 3.10),
// its extra "fast" adds speedups; api and tools both need core, tools
// below 2.
var testWheels = []fakeWheel{
	{name: "web", version: "1.0", tag: "py3-none-any", requires: []string{"core"}},
	{name: "web", version: "2.0", tag: "py3-none-any", requiresPython: ">=3.9", requires: []string{
		"core>=1.0",
		`winonly; platform_system == "Windows"`,
		`old>=1; python_version < "3.10"`,
		`speedups>=1; (sys_platform != "win32" and platform_python_implementation == "CPython") and extra == "fast"`,
		`docs; extra == "doc"`,
	}},
	{name: "web", version: "3.0rc1", tag: "py3-none-any", requires: []string{"core"}},
	{name: "core", version: "1.0", tag: "py3-none-any"},
	{name: "core", version: "2.0", tag: "py3-none-any"},
	{name: "core", version: "3.0", tag: "py3-none-any", requiresPython: ">=3.14"},
	{name: "winonly", version: "0.4", tag: "py3-none-any"},
	{name: "speedups", version: "1.2", tag: "cp313-cp313-linux_x86_64"},
	{name: "speedups", version: "1.2", tag: "cp312-cp312-linux_x86_64"},
	{name: "tools", version: "1.0", tag: "py3-none-any", requires: []string{"core<2"}},
	{name: "api", version: "1.0", tag: "py3-none-any", requires: []string{"core"}},
	{name: "pytest-ish", version: "8.0", tag: "py3-none-any"},
}

const testPyproject = `[project]
name = "My_App"
version = "0.1.0"
requires-python = ">=3.13"
dependencies = ["web[fast]>=2", "api"]

[project.optional-dependencies]
cli = ["tools"]

[dependency-groups]
dev = ["pytest-ish>=8"]

[tool.uv]
package = false
`

func writeProject(t *testing.T, pyproject string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pyproject.toml"), []byte(pyproject), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func resolveWith(t *testing.T, kind pydeps.Kind, file string, data, pyproject []byte, opts pydeps.Options) *pydeps.Plan {
	t.Helper()
	plan, err := pydeps.Resolve(pydeps.Inputs{
		Source: pydeps.Source{Kind: kind, Path: file, Pyproject: "pyproject.toml"},
		Data:   data, Pyproject: pyproject,
	}, pydeps.EnvFor("3.13.5", "amd64"), opts)
	if err != nil {
		t.Fatalf("pydeps.Resolve(%s): %v\n%s", file, err, data)
	}
	return plan
}

func pins(p *pydeps.Plan) string {
	var out []string
	for _, pin := range p.Packages {
		out = append(out, pin.Name+"=="+pin.Version)
	}
	return strings.Join(out, " ")
}

func TestUVLockAndPylock(t *testing.T) {
	idx := serveIndex(t, testWheels, nil)
	dir := writeProject(t, testPyproject)
	out := t.TempDir()
	o := options{index: idx, uv: filepath.Join(out, "uv.lock"), pylock: filepath.Join(out, "pylock.toml"), source: dir}
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	uv, _ := os.ReadFile(o.uv)
	py := []byte(testPyproject)
	text := string(uv)
	for _, want := range []string{
		"version = 1\nrevision = 3\nrequires-python = \">=3.13\"\n",
		// the project, virtual, with its extra and group
		"[[package]]\nname = \"my-app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [\n    { name = \"api\" },\n    { name = \"web\", extra = [\"fast\"] },\n]\n",
		"\n[package.optional-dependencies]\ncli = [\n    { name = \"tools\" },\n]\n",
		"\n[package.dev-dependencies]\ndev = [\n    { name = \"pytest-ish\" },\n]\n",
		"requires-dist = [\n    { name = \"api\" },\n    { name = \"tools\", marker = \"extra == 'cli'\" },\n    { name = \"web\", extras = [\"fast\"], specifier = \">=2\" },\n]\nprovides-extras = [\"cli\"]\n",
		"[package.metadata.requires-dev]\ndev = [{ name = \"pytest-ish\", specifier = \">=8\" }]\n",
		// web 2.0 (not the pre-release); winonly keeps its marker, in uv's spelling; old (< 3.10) is gone
		"name = \"web\"\nversion = \"2.0\"\nsource = { registry = \"" + strings.TrimSuffix(idx, "/") + "\" }\ndependencies = [\n    { name = \"core\" },\n    { name = \"winonly\", marker = \"sys_platform == 'win32'\" },\n]\n",
		"[package.optional-dependencies]\nfast = [\n    { name = \"speedups\", marker = \"sys_platform != 'win32' and platform_python_implementation == 'CPython'\" },\n]\n",
		// core: 1.0, as tools (via the cli extra) requires core<2
		"name = \"core\"\nversion = \"1.0\"\n",
		// both wheels of speedups, with sizes
		"speedups-1.2-cp312-cp312-linux_x86_64.whl\", hash = \"sha256:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("uv.lock lacks\n%s\n--- uv.lock:\n%s", want, text)
		}
	}
	for _, absent := range []string{"name = \"old\"", "name = \"docs\"", "3.0rc1", "resolution-markers"} {
		if strings.Contains(text, absent) {
			t.Errorf("uv.lock has %s", absent)
		}
	}
	if _, err := pydeps.ParseUVLock("uv.lock", uv); err != nil {
		t.Fatal(err)
	}
	if got, want := pins(resolveWith(t, pydeps.KindUVLock, "uv.lock", uv, py, pydeps.Options{})), "api==1.0 core==1.0 speedups==1.2 web==2.0"; got != want {
		t.Errorf("uv.lock installs %s, want %s", got, want)
	}
	if got, want := pins(resolveWith(t, pydeps.KindUVLock, "uv.lock", uv, py, pydeps.Options{Extras: []string{"cli"}, Groups: []string{"dev"}})), "api==1.0 core==1.0 pytest-ish==8.0 speedups==1.2 tools==1.0 web==2.0"; got != want {
		t.Errorf("uv.lock with cli and dev installs %s, want %s", got, want)
	}

	pl, _ := os.ReadFile(o.pylock)
	for _, want := range []string{
		"lock-version = \"1.0\"\nrequires-python = \">=3.13\"\nextras = [\"cli\"]\ndependency-groups = [\"dev\"]\ncreated-by = \"mklock\"\n",
		"name = \"winonly\"\nversion = \"0.4\"\nmarker = \"sys_platform == 'win32'\"\n",
		"name = \"tools\"\nversion = \"1.0\"\nmarker = \"'cli' in extras\"\n",
		"name = \"pytest-ish\"\nversion = \"8.0\"\nmarker = \"'dev' in dependency_groups\"\n",
		"name = \"speedups\"\nversion = \"1.2\"\nmarker = \"sys_platform != 'win32' and platform_python_implementation == 'CPython'\"\n",
	} {
		if !strings.Contains(string(pl), want) {
			t.Errorf("pylock.toml lacks\n%s\n--- pylock.toml:\n%s", want, pl)
		}
	}
	if got, want := pins(resolveWith(t, pydeps.KindPylock, "pylock.toml", pl, py, pydeps.Options{})), "api==1.0 core==1.0 speedups==1.2 web==2.0"; got != want {
		t.Errorf("pylock.toml installs %s, want %s", got, want)
	}
	if got, want := pins(resolveWith(t, pydeps.KindPylock, "pylock.toml", pl, py, pydeps.Options{Groups: []string{"dev"}})), "api==1.0 core==1.0 pytest-ish==8.0 speedups==1.2 web==2.0"; got != want {
		t.Errorf("pylock.toml with dev installs %s, want %s", got, want)
	}
}

func TestEditableRoot(t *testing.T) {
	idx := serveIndex(t, testWheels, nil)
	dir := writeProject(t, "[build-system]\nrequires = [\"flit_core>=3.11\"]\nbuild-backend = \"flit_core.buildapi\"\n\n[project]\nname = \"lib\"\nversion = \"1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"core\"]\n")
	o := options{index: idx, uv: filepath.Join(t.TempDir(), "uv.lock"), source: dir}
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	uv, _ := os.ReadFile(o.uv)
	// requires-python >=3.11 rules out core 3.0 (>=3.14)
	for _, want := range []string{"name = \"lib\"\nversion = \"1.0\"\nsource = { editable = \".\" }\n", "name = \"core\"\nversion = \"2.0\"\n", "requires-dist = [{ name = \"core\" }]\n"} {
		if !strings.Contains(string(uv), want) {
			t.Errorf("uv.lock lacks %q:\n%s", want, uv)
		}
	}
}

func TestRequirements(t *testing.T) {
	idx := serveIndex(t, testWheels, nil)
	in := filepath.Join(t.TempDir(), "requirements.in")
	os.WriteFile(in, []byte("# direct\nweb[fast]>=2  # the app\napi\ntools\n"), 0o644)
	o := options{index: idx, requirements: filepath.Join(t.TempDir(), "requirements.txt"), python: "3.13", arch: "amd64", header: "regenerate it.", source: in}
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(o.requirements)
	text := string(got)
	for _, want := range []string{
		"# Every package requirements.in needs on CPython 3.13 linux/x86_64, pinned, with\n",
		"core==1.0 \\\n    --hash=sha256:",
		"    # via\n    #   api\n    #   tools\n    #   web\n",
		"speedups==1.2 \\\n    --hash=sha256:",
		"web==2.0 \\\n    --hash=sha256:",
		"    # via -r requirements.in\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("requirements.txt lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "winonly") {
		t.Errorf("requirements.txt for linux has winonly:\n%s", text)
	}
	// speedups has two wheels: two hashes, sorted
	var hashes []string
	for _, l := range strings.Split(text[strings.Index(text, "speedups=="):], "\n")[1:3] {
		hashes = append(hashes, strings.TrimSuffix(strings.TrimSpace(l), " \\"))
	}
	if !sort.StringsAreSorted(hashes) || !strings.HasPrefix(hashes[1], "--hash=sha256:") {
		t.Errorf("speedups hashes: %q", hashes)
	}
}

func TestRestartOnConflict(t *testing.T) {
	// a needs c (2.0 picked first), b needs c<2: the walk restarts and
	// settles on c 1.0
	idx := serveIndex(t, []fakeWheel{
		{name: "a", version: "1.0", tag: "py3-none-any", requires: []string{"c"}},
		{name: "b", version: "1.0", tag: "py3-none-any", requires: []string{"c<2"}},
		{name: "c", version: "1.0", tag: "py3-none-any"},
		{name: "c", version: "2.0", tag: "py3-none-any"},
	}, nil)
	dir := writeProject(t, "[project]\nname = \"x\"\nversion = \"0\"\nrequires-python = \">=3.13\"\ndependencies = [\"a\", \"b\"]\n")
	o := options{index: idx, uv: filepath.Join(t.TempDir(), "uv.lock"), source: dir}
	if err := run(o); err != nil {
		t.Fatal(err)
	}
	uv, _ := os.ReadFile(o.uv)
	if !strings.Contains(string(uv), "name = \"c\"\nversion = \"1.0\"\n") {
		t.Errorf("c is not 1.0:\n%s", uv)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		wheels    []fakeWheel
		corrupt   map[string]bool
		pyproject string
		want      string
	}{
		{"missing project", testWheels, nil, "[project]\nname = \"x\"\nrequires-python = \">=3.13\"\ndependencies = [\"nothere\"]\n", `nothere (required by the project as "nothere"): project "nothere": GET`},
		{"no version fits", testWheels, nil, "[project]\nname = \"x\"\nrequires-python = \">=3.13\"\ndependencies = [\"core>=5\"]\n", `no release satisfies >=5 (the index has 3.0, 2.0, 1.0)`},
		{"hash mismatch", testWheels, map[string]bool{"core-2.0-py3-none-any.whl": true}, "[project]\nname = \"x\"\nrequires-python = \">=3.13\"\ndependencies = [\"core\"]\n", `core-2.0-py3-none-any.whl: sha256 `},
		{"no requires-python", testWheels, nil, "[project]\nname = \"x\"\ndependencies = [\"core\"]\n", `no requires-python`},
		{"direct reference", testWheels, nil, "[project]\nname = \"x\"\nrequires-python = \">=3.13\"\ndependencies = [\"core @ https://example.invalid/core.whl\"]\n", `direct reference`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := serveIndex(t, tc.wheels, tc.corrupt)
			dir := writeProject(t, tc.pyproject)
			err := run(options{index: idx, uv: filepath.Join(t.TempDir(), "uv.lock"), source: dir})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestLockMarker: the extra condition comes out (pydeps' SplitExtra has the
// cases) and the rest is in uv's spelling.
func TestLockMarker(t *testing.T) {
	for in, want := range map[string]string{
		`(python_version >= "3.9" and platform_system == "Windows") and extra == "timezone"`: "timezone: python_version >= '3.9' and sys_platform == 'win32'",
		`platform_system != "Windows" or os_name == "nt"`:                                    ": sys_platform != 'win32' or os_name == 'nt'",
		`"Windows" == platform_system`:                                                       ": 'Windows' == platform_system",
		`platform_system == "Darwin" and extra == 'Some_Thing'`:                              "some-thing: platform_system == 'Darwin'",
		`extra == "a" or extra == "b"`:                                                       "a b: ",
	} {
		m, err := pydeps.ParseMarker(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		extras, rest, err := lockMarker(m)
		if got := strings.Join(extras, " ") + ": " + rest.Canonical(); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	m, _ := pydeps.ParseMarker(`extra == "a" and extra == "b"`)
	if _, _, err := lockMarker(m); err == nil || !strings.Contains(err.Error(), "two extras") {
		t.Errorf("two extras at once: %v", err)
	}
}

func TestHeaderValues(t *testing.T) {
	meta := []byte("Name: x\nRequires-Dist: a>=1\nrequires-dist: b;\n  python_version < '3.10'\nSummary: s\n\nRequires-Dist: body\n")
	if got := strings.Join(headerValues(meta, "Requires-Dist"), "|"); got != "a>=1|b; python_version < '3.10'" {
		t.Errorf("headerValues = %q", got)
	}
}
