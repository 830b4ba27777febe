//go:build integration

package main

// TestRealWheelsInBuilder proves the real wheels for real: it needs the test
// bed set up and up (`testbed.sh setup` wrote the wheels and built the
// stand-in builder rootfs; the index serves them) and root (chroot). Inside
// the python-3.13-slim-trixie stand-in rootfs, as a passwd-less uid 10001
// under `env -i`, it makes a throwaway venv, pip-installs the whole set from
// the loopback index alone, imports every top-level module, runs a little
// of each big framework, and builds a flit_core, a hatchling, a setuptools
// and a poetry-core project with build isolation from the index. It never
// writes to the rootfs (see inNamespace), so runs can overlap.
//
//	integration/testbed/testbed.sh with go test -tags integration -run TestRealWheels -v ./integration/cmd/debwheel/

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/bedenv"
	"github.com/distill-build/distill/pydeps"
)

// needsSystemLibs: modules whose extensions link libraries the builder
// image does not have (real-wheels.md pitfall 8). pip must install them;
// importing them may fail.
var needsSystemLibs = map[string]string{
	"psycopg2":  "libpq.so.5",
	"psycopg":   "libpq.so.5 (loaded with ctypes)",
	"psycopg_c": "libpq.so.5",
	"lxml":      "libxml2, libxslt, libexslt",
	"PIL":       "libjpeg, libtiff, libopenjp2, libwebp, lcms2, freetype ...",
	"numpy":     "libblas.so.3, liblapack.so.3",
	"_yaml":     "libyaml (yaml falls back to pure Python)",
}

// theBriefsInstall is the install the wheel set was made for.
var theBriefsInstall = []string{"flask", "fastapi", "uvicorn", "django", "gunicorn", "whitenoise", "psycopg2", "lxml", "pillow", "numpy", "pyyaml", "requests"}

func TestRealWheelsInBuilder(t *testing.T) {
	repo, _ := filepath.Abs("../../..")
	work := os.Getenv("DISTILL_WORK")
	if work == "" {
		work = filepath.Join(repo, ".work")
	}
	if os.Geteuid() != 0 {
		t.Fatal("needs root (chroot into the stand-in builder rootfs)")
	}
	env, err := bedenv.Read(bedenv.Path(work))
	if err != nil {
		t.Fatalf("the test bed is not up (%v): run `integration/testbed/testbed.sh with go test ...`", err)
	}
	index := strings.TrimSuffix(env.Vars["DISTILL_INDEX_URL"], "/") + "/"
	if resp, err := http.Get(index + "flask/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the index at %s does not serve flask (%v %v): run `testbed.sh setup` and `testbed.sh up`", index, err, resp)
	}
	root := filepath.Join(work, "fixtures", "python-3.13-slim-trixie", "rootfs")
	if _, err := os.Stat(filepath.Join(root, "usr/local/bin/python3.13")); err != nil {
		t.Fatalf("no stand-in builder rootfs (%v): run `testbed.sh setup`", err)
	}

	// the set, as setup wrote it, and each wheel's shape
	specs, err := readList(filepath.Join(repo, "integration/testbed/realwheels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := loadState(filepath.Join(work, "debwheel"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	modules := map[string][]string{} // distribution -> top-level modules
	var total int64
	for _, s := range specs {
		e, ok := st.Wheels[pydeps.NormalizeName(s.Name)]
		if !ok {
			t.Fatalf("%s is on the list but no wheel was made: run `testbed.sh setup`", s.Name)
		}
		b, err := os.ReadFile(filepath.Join(work, "wheels", e.File))
		if err != nil {
			t.Fatal(err)
		}
		total += int64(len(b))
		members := checkWheel(t, b)
		modules[s.Name] = topModules(members)
		names = append(names, s.Name)
	}
	t.Logf("%d real wheels, %.1f MB, RECORD and layout verified", len(names), float64(total)/(1<<20))

	// The rootfs is shared (other tests read it, images/build.sh tars it), so
	// it is never written: each step runs in a private mount namespace where
	// a throwaway host directory is the rootfs's /tmp and a tmpfs /dev holds
	// the few devices pip and Python need (a plain chroot has no /dev/null).
	// The mounts end with the step's process.
	tmp := t.TempDir()
	if err := os.Chmod(tmp, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	in := "/tmp" // tmp, seen from inside
	venv := in + "/venv"
	// the builder's pip, pointed at the venv (it is made --without-pip)
	venvPip := "python3 -m pip --disable-pip-version-check --no-cache-dir --python " + venv
	pip := venvPip + " install --index-url " + index
	sh := func(what, script string) string {
		t.Helper()
		t0 := time.Now()
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "/bin/sh", "-ec", inNamespace, "sh", root, tmp,
			"cd "+in+"\n"+script)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
		t.Logf("%s: %.1fs", what, time.Since(t0).Seconds())
		return string(out)
	}

	sh("venv", "python3 -m venv --without-pip "+venv)
	out := sh("pip install "+strings.Join(theBriefsInstall, " "), pip+" "+strings.Join(theBriefsInstall, " "))
	if !strings.Contains(out, "Successfully installed") {
		t.Fatalf("pip install:\n%s", out)
	}
	out = sh("pip install the whole set", pip+" "+strings.Join(names, " "))
	sh("pip check", venvPip+" check")
	frozen := sh("pip list", venvPip+" list --format=freeze")
	for _, n := range names {
		if !strings.Contains(strings.ToLower(strings.ReplaceAll(frozen, "_", "-")), pydeps.NormalizeName(n)+"==") {
			t.Errorf("%s not installed:\n%s", n, frozen)
		}
	}

	// every top-level module imports, except where a system library is missing
	var all []string
	for _, n := range names {
		all = append(all, modules[n]...)
	}
	sort.Strings(all)
	arg, _ := json.Marshal(all)
	out = sh("import "+fmt.Sprint(len(all))+" modules", venv+"/bin/python -W ignore -c '"+importAll+"' '"+string(arg)+"'")
	var failed map[string]string
	if err := json.Unmarshal([]byte(lastLine(out)), &failed); err != nil {
		t.Fatalf("import results: %v\n%s", err, out)
	}
	for _, m := range all {
		msg, bad := failed[m]
		switch lib, allowed := needsSystemLibs[m]; {
		case bad && !allowed:
			t.Errorf("import %s: %s", m, msg)
		case bad:
			t.Logf("import %s fails as expected without %s: %s", m, lib, msg)
		case allowed:
			t.Logf("import %s works (its extensions load lazily, or %s is there)", m, lib)
		}
	}

	// a little real work from each big piece
	out = sh("smoke", venv+"/bin/python -W ignore -c '"+smoke+"'")
	if !strings.Contains(out, "smoke ok") {
		t.Errorf("smoke:\n%s", out)
	}
	for _, c := range []string{"flask --version", "django-admin --version", "gunicorn --version", "uvicorn --version", "normalizer --version", "wheel version", "dotenv --version"} {
		sh(c, venv+"/bin/"+c)
	}

	// the build backends, with build isolation from the index alone
	var projects []string
	for _, p := range backendProjects {
		projects = append(projects, in+"/"+p.dir)
		for name, content := range p.files {
			f := filepath.Join(tmp, p.dir, name)
			os.MkdirAll(filepath.Dir(f), 0o755)
			if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// the build user writes build/ and *.egg-info into the projects
	if out, err := exec.Command("chown", "-R", "10001:10001", tmp).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	for _, p := range projects {
		sh("pip wheel "+path.Base(p), "python3 -m pip --disable-pip-version-check --no-cache-dir wheel --no-deps --index-url "+index+" -w "+in+"/dist "+p)
	}
	sh("install and use the built wheels", pip+" --no-index "+in+"/dist/*.whl\n"+venv+"/bin/python -c '"+
		"import hello_flit, hello_hatch, hello_setuptools, hello_poetry\n"+
		"print(hello_flit.hi(), hello_hatch.hi(), hello_setuptools.hi(), hello_poetry.hi())'")
}

// inNamespace runs in the private mount namespace: $1 rootfs, $2 host
// directory for /tmp, $3 the script to run there as uid 10001, with
// nothing of this process's environment (the host's PIP_* would leak in).
const inNamespace = `R=$1 T=$2
mount --bind "$T" "$R/tmp"
mount -t tmpfs -o mode=755,size=1m debwheel-dev "$R/dev"
for d in null zero random urandom; do : >"$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
exec env -i PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8 \
	PIP_CONFIG_FILE=/dev/null /usr/sbin/chroot --userspec=10001:10001 "$R" /bin/sh -ec "$3"`

// topModules lists a wheel's importable top-level names: packages (with
// or without __init__.py), modules, extension modules.
func topModules(members map[string]string) []string {
	set := map[string]bool{}
	for p := range members {
		top, rest, nested := strings.Cut(p, "/")
		switch {
		case strings.HasSuffix(top, ".dist-info"):
		case nested && (strings.HasSuffix(rest, ".py") || strings.HasSuffix(rest, ".so")):
			set[top] = true
		case !nested && strings.HasSuffix(top, ".py"):
			set[strings.TrimSuffix(top, ".py")] = true
		case !nested && strings.HasSuffix(top, ".so"):
			stem, _, _ := strings.Cut(top, ".")
			set[stem] = true
		}
	}
	return sortedSet(set)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// importAll imports each module of argv[1] (JSON list) and prints the
// failures as one JSON object on its last line.
const importAll = `import importlib, json, sys
failed = {}
for m in json.loads(sys.argv[1]):
    try:
        importlib.import_module(m)
    except Exception as e:
        failed[m] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(failed))`

// smoke runs a little of each framework, the extension modules included
// (no single quotes: it goes into sh -c '...').
const smoke = `
import flask
app = flask.Flask("t")
@app.get("/")
def index():
    return flask.render_template_string("hello {{ n }}", n="<w>")
assert app.test_client().get("/").data == b"hello &lt;w&gt;"

import fastapi, fastapi.testclient, pydantic
api = fastapi.FastAPI()
class Item(pydantic.BaseModel):
    name: str
    n: int
@api.post("/items")
def create(item: Item):
    return {"name": item.name, "double": item.n * 2}
r = fastapi.testclient.TestClient(api).post("/items", json={"name": "x", "n": "21"})
assert r.json() == {"name": "x", "double": 42}, r.text

import django, importlib.resources
from django.conf import settings
settings.configure(INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes"])
django.setup()
from django.utils.html import escape
assert escape("<") == "&lt;"
jq = importlib.resources.files("django.contrib.admin") / "static/admin/js/vendor/jquery/jquery.min.js"
assert len(jq.read_bytes()) > 50000, "admin jquery missing"

import cryptography.fernet as F
f = F.Fernet(F.Fernet.generate_key())
assert f.decrypt(f.encrypt(b"x")) == b"x"

import sqlalchemy as sa
from sqlalchemy.util import _has_cy
assert _has_cy.HAS_CYEXTENSION, "sqlalchemy C extensions missing"
with sa.create_engine("sqlite://").connect() as c:
    assert c.execute(sa.text("select 41 + 1")).scalar() == 42

import greenlet
assert greenlet.greenlet(lambda: 5).switch() == 5
import orjson
assert orjson.loads(orjson.dumps({"a": 1})) == {"a": 1}
import markupsafe, markupsafe._speedups
assert str(markupsafe.escape("<")) == "&lt;"
import yaml
assert yaml.safe_load("a: [1, 2]") == {"a": [1, 2]}
import requests
assert requests.Request("GET", "http://127.0.0.1/x", params={"q": "a b"}).prepare().url.endswith("q=a+b")
import charset_normalizer
assert charset_normalizer.from_bytes("h\u00e9llo w\u00f6rld, \u00e7a va tr\u00e8s bien".encode("cp1252")).best() is not None
import mako.template
assert mako.template.Template("${x}").render(x=1) == "1"
import markdown_it
assert "<h1>x</h1>" in markdown_it.MarkdownIt().render("# x")
import pydantic_core, alembic.config, uvicorn, gunicorn, whitenoise, httpx, certifi, setuptools
from importlib.metadata import entry_points
assert entry_points(group="distutils.commands", name="build_py"), "setuptools entry points lost"
print("smoke ok")
`

// backendProjects are the smallest projects each build backend accepts.
var backendProjects = []struct {
	dir   string
	files map[string]string
}{
	{"proj-flit", map[string]string{
		"pyproject.toml": "[build-system]\nrequires = [\"flit_core>=3.2,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n\n" +
			"[project]\nname = \"hello_flit\"\nversion = \"0.1.0\"\ndescription = \"built with flit_core from the test bed\"\n",
		"hello_flit/__init__.py": "def hi():\n    return \"flit\"\n",
	}},
	{"proj-hatch", map[string]string{
		"pyproject.toml": "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n" +
			"[project]\nname = \"hello-hatch\"\nversion = \"0.1.0\"\n",
		"hello_hatch/__init__.py": "def hi():\n    return \"hatchling\"\n",
	}},
	{"proj-setuptools", map[string]string{
		"pyproject.toml": "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n" +
			"[project]\nname = \"hello-setuptools\"\nversion = \"0.1.0\"\n\n[tool.setuptools]\npackages = [\"hello_setuptools\"]\n",
		"hello_setuptools/__init__.py": "def hi():\n    return \"setuptools\"\n",
	}},
	{"proj-poetry", map[string]string{
		"pyproject.toml": "[build-system]\nrequires = [\"poetry-core>=2.0\"]\nbuild-backend = \"poetry.core.masonry.api\"\n\n" +
			"[project]\nname = \"hello-poetry\"\nversion = \"0.1.0\"\n",
		"hello_poetry/__init__.py": "def hi():\n    return \"poetry-core\"\n",
	}},
}
