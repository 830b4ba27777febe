package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// A project is one wheel of the test index: a pure-Python distribution with
// its modules, dependencies and console scripts.
type project struct {
	Name           string            // distribution name as published, e.g. "pinned-dep"
	Version        string            // e.g. "1.0"
	Summary        string            // METADATA Summary
	RequiresPython string            // METADATA Requires-Python, also served as data-requires-python
	Requires       []string          // METADATA Requires-Dist, e.g. "greeting>=1.0"
	Modules        map[string]string // file path inside the wheel -> content
	Scripts        map[string]string // console_scripts: command -> "module:function"
}

// depChains lists the dependencies of the benchmark packages dep01..dep20:
// a few chains (dep01 -> dep02 -> dep03 -> dep04, ...) and some leaves.
var depChains = map[int][]int{
	1:  {2, 5},
	2:  {3},
	3:  {4},
	5:  {6},
	6:  {7},
	8:  {9, 10},
	10: {11},
	12: {13, 14},
	14: {15},
	16: {17},
	17: {18},
	19: {20},
}

// wheelSet is the whole content of the test index, in one table.
//
//   - greeting 1.0 and 1.1: greeting.hello(name) returns "hello, " + name
//     (1.1 appends "!"), greeting.__version__; console script `greet [NAME]`.
//   - textutil 0.3: title(s), slug(s), shout(s).
//   - tinyweb 2.0 (requires greeting>=1.0, textutil): a tiny HTTP app helper
//     on http.server; `python -m tinyweb` / console script `tinyweb` serves
//     GET / -> greeting.hello(textutil.title($NAME or "world")) on $PORT (8080),
//     GET /healthz -> "ok", GET /version -> JSON of the versions in use.
//   - pinned-dep 0.1: pinned_dep.VERSION.
//   - dep01..dep20: depNN.value() = NN + the values of its dependencies
//     (see depChains); each carries a ~16 KB data module so that installing
//     all twenty is measurable. dep01.value() == 1+2+3+4+5+6+7 == 28.
func wheelSet() []project {
	set := []project{
		greeting("1.0", `"hello, " + name`),
		greeting("1.1", `"hello, " + name + "!"`),
		{
			Name: "textutil", Version: "0.3", Summary: "small text helpers (distill test fixture)",
			RequiresPython: ">=3.8",
			Modules: map[string]string{"textutil/__init__.py": `"""Small text helpers (distill test fixture)."""
import re

__version__ = "0.3"


def title(s):
    return " ".join(w[:1].upper() + w[1:] for w in s.split())


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def shout(s):
    return s.upper() + "!"
`},
		},
		{
			Name: "tinyweb", Version: "2.0", Summary: "a tiny HTTP app helper (distill test fixture)",
			RequiresPython: ">=3.8",
			Requires:       []string{"greeting>=1.0", "textutil"},
			Modules: map[string]string{
				"tinyweb/__init__.py": tinywebInit,
				"tinyweb/__main__.py": "from tinyweb import main\n\nmain()\n",
			},
			Scripts: map[string]string{"tinyweb": "tinyweb:main"},
		},
		{
			Name: "pinned-dep", Version: "0.1", Summary: "a dependency pinned by version (distill test fixture)",
			RequiresPython: ">=3.8",
			Modules:        map[string]string{"pinned_dep/__init__.py": "VERSION = \"0.1\"\n"},
		},
	}
	for i := 1; i <= 20; i++ {
		set = append(set, dep(i, depChains[i]))
	}
	return set
}

func greeting(version, expr string) project {
	return project{
		Name: "greeting", Version: version, Summary: "says hello (distill test fixture)",
		RequiresPython: ">=3.8",
		Modules: map[string]string{"greeting/__init__.py": fmt.Sprintf(`"""Says hello (distill test fixture)."""
import sys

__version__ = %q


def hello(name):
    return %s


def main():
    print(hello(sys.argv[1] if len(sys.argv) > 1 else "world"))
`, version, expr)},
		Scripts: map[string]string{"greet": "greeting:main"},
	}
}

func dep(n int, deps []int) project {
	name := fmt.Sprintf("dep%02d", n)
	var reqs, imports, terms []string
	for _, d := range deps {
		dn := fmt.Sprintf("dep%02d", d)
		reqs = append(reqs, dn)
		imports = append(imports, "import "+dn+"\n")
		terms = append(terms, " + "+dn+".value()")
	}
	var data strings.Builder
	fmt.Fprintf(&data, "# generated data for %s\nTABLE = [\n", name)
	for i := 0; i < 256; i++ {
		fmt.Fprintf(&data, "    (%d, %q, %d),\n", i, fmt.Sprintf("%s-row-%03d-%x", name, i, sha256.Sum256([]byte(fmt.Sprint(name, i)))), i*n)
	}
	data.WriteString("]\n")
	return project{
		Name: name, Version: "1.0", Summary: "benchmark dependency " + name + " (distill test fixture)",
		RequiresPython: ">=3.8",
		Requires:       reqs,
		Modules: map[string]string{
			name + "/__init__.py": fmt.Sprintf("%s\nNAME = %q\n\n\ndef value():\n    return %d%s\n",
				strings.Join(imports, ""), name, n, strings.Join(terms, "")),
			name + "/data.py": data.String(),
		},
	}
}

const tinywebInit = `"""A tiny HTTP app helper (distill test fixture)."""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import greeting
import textutil

__version__ = "2.0"


class App:
    def __init__(self):
        self.routes = {}

    def route(self, path):
        def register(fn):
            self.routes[path] = fn
            return fn
        return register

    def handler(self):
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fn = app.routes.get(self.path.split("?", 1)[0])
                if fn is None:
                    self.reply(404, "text/plain", b"not found\n")
                    return
                out = fn()
                if isinstance(out, (dict, list)):
                    self.reply(200, "application/json", json.dumps(out).encode() + b"\n")
                else:
                    self.reply(200, "text/plain; charset=utf-8", str(out).encode() + b"\n")

            def reply(self, code, ctype, body):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt, *args):
                sys.stderr.write("tinyweb: " + (fmt % args) + "\n")

        return Handler

    def serve(self, host=None, port=None):
        host = host or os.environ.get("HOST", "0.0.0.0")
        port = int(port or os.environ.get("PORT", "8080"))
        server = ThreadingHTTPServer((host, port), self.handler())
        sys.stderr.write("tinyweb: listening on %s:%d\n" % (host, port))
        server.serve_forever()


def default_app():
    app = App()

    @app.route("/")
    def index():
        return greeting.hello(textutil.title(os.environ.get("NAME", "world")))

    @app.route("/healthz")
    def healthz():
        return "ok"

    @app.route("/version")
    def version():
        return {"tinyweb": __version__, "greeting": greeting.__version__, "textutil": textutil.__version__}

    return app


def main():
    default_app().serve()
`

// normalize is the PEP 503 name normalization.
func normalize(name string) string {
	return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(name, "-"))
}

// wheelName is the wheel file name: the distribution name with runs of
// -_. replaced by "_" (PEP 427 / binary distribution format), pure Python.
func (p project) wheelName() string {
	return fmt.Sprintf("%s-%s-py3-none-any.whl", p.distName(), p.Version)
}

func (p project) distName() string {
	return regexp.MustCompile(`[-_.]+`).ReplaceAllString(p.Name, "_")
}

// zipTime is the fixed timestamp of every wheel member, so wheels are
// byte-identical on every run.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// recordHash is the RECORD hash format: sha256=<urlsafe base64, no padding>.
func recordHash(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// files returns the wheel's members (path -> content) except RECORD.
func (p project) files() map[string][]byte {
	distInfo := p.distName() + "-" + p.Version + ".dist-info/"
	files := map[string][]byte{}
	for path, content := range p.Modules {
		files[path] = []byte(content)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n", p.Name, p.Version)
	if p.Summary != "" {
		fmt.Fprintf(&md, "Summary: %s\n", p.Summary)
	}
	if p.RequiresPython != "" {
		fmt.Fprintf(&md, "Requires-Python: %s\n", p.RequiresPython)
	}
	for _, r := range p.Requires {
		fmt.Fprintf(&md, "Requires-Dist: %s\n", r)
	}
	files[distInfo+"METADATA"] = []byte(md.String())
	files[distInfo+"WHEEL"] = []byte("Wheel-Version: 1.0\nGenerator: distill-pyindex\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
	tops := map[string]bool{}
	for path := range p.Modules {
		tops[strings.SplitN(path, "/", 2)[0]] = true
	}
	files[distInfo+"top_level.txt"] = []byte(strings.Join(sortedKeys(tops), "\n") + "\n")
	if len(p.Scripts) > 0 {
		var ep strings.Builder
		ep.WriteString("[console_scripts]\n")
		for _, name := range sortedKeys(p.Scripts) {
			fmt.Fprintf(&ep, "%s = %s\n", name, p.Scripts[name])
		}
		files[distInfo+"entry_points.txt"] = []byte(ep.String())
	}
	return files
}

// Wheel builds the wheel: a zip with the modules first and the .dist-info
// last, RECORD as the last member, fixed timestamps and modes.
func (p project) Wheel() ([]byte, error) {
	files := p.files()
	distInfo := p.distName() + "-" + p.Version + ".dist-info/"
	paths := make([]string, 0, len(files))
	for path := range files {
		paths = append(paths, path)
	}
	sort.Slice(paths, func(i, j int) bool {
		di, dj := strings.HasPrefix(paths[i], distInfo), strings.HasPrefix(paths[j], distInfo)
		if di != dj {
			return dj
		}
		return paths[i] < paths[j]
	})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(path string, content []byte) error {
		h := &zip.FileHeader{Name: path, Method: zip.Deflate, Modified: zipTime}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = w.Write(content)
		return err
	}
	var record strings.Builder
	for _, path := range paths {
		if err := add(path, files[path]); err != nil {
			return nil, err
		}
		fmt.Fprintf(&record, "%s,%s,%d\n", path, recordHash(files[path]), len(files[path]))
	}
	fmt.Fprintf(&record, "%sRECORD,,\n", distInfo)
	if err := add(distInfo+"RECORD", []byte(record.String())); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// generate writes every wheel of the set into dir. Files that already have
// the right content are left alone; other files in dir are kept.
func generate(dir string, set []project) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var names []string
	for _, p := range set {
		b, err := p.Wheel()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", p.Name, p.Version, err)
		}
		name := p.wheelName()
		names = append(names, name)
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
			continue
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, err
		}
	}
	return names, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
