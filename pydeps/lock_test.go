package pydeps

import (
	"errors"
	"strings"
	"testing"
)

func findPackages(l *Lock, name string) []*Package {
	var out []*Package
	for _, p := range l.Packages {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

func TestParseUVLock(t *testing.T) {
	l, err := ParseUVLock("uv.lock", readTestdata(t, "uv/uv.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind != KindUVLock || l.Version != "1" || l.Revision != 3 || l.RequiresPython != ">=3.11" || strings.Join(l.Members, " ") != "shop shop-lib" {
		t.Errorf("lock = %+v", l)
	}
	if len(l.Packages) != 27 {
		t.Errorf("%d packages", len(l.Packages))
	}
	numpy := findPackages(l, "numpy")
	if len(numpy) != 2 || numpy[0].Version != "1.26.4" || numpy[1].Version != "2.1.3" || numpy[1].Pos != (Pos{141, 1}) {
		t.Errorf("numpy = %+v", numpy)
	}
	shop := findPackages(l, "shop")[0]
	if shop.Source != SourceEditable || shop.SourceValue != "." || shop.Pos != (Pos{227, 1}) {
		t.Errorf("shop = %+v", shop)
	}
	var uvicorn Edge
	for _, e := range shop.Dependencies {
		if e.Name == "uvicorn" {
			uvicorn = e
		}
		if e.Name == "numpy" && (e.Version == "" || e.Source != "registry=https://pypi.org/simple" || e.Marker.IsZero()) {
			t.Errorf("fork edge = %+v", e)
		}
	}
	if strings.Join(uvicorn.Extras, ",") != "standard" || uvicorn.Pos != (Pos{239, 5}) {
		t.Errorf("uvicorn edge = %+v", uvicorn)
	}
	if len(shop.OptionalDependencies["postgres"]) != 1 || len(shop.DependencyGroups["dev"]) != 1 {
		t.Errorf("extras/groups = %v %v", shop.OptionalDependencies, shop.DependencyGroups)
	}
	httptools := findPackages(l, "httptools")[0]
	if len(httptools.Hashes) != 4 || len(httptools.Wheels) != 3 || httptools.Sdist == nil {
		t.Errorf("httptools = %+v", httptools)
	}
	for i, h := range httptools.Hashes {
		if !strings.HasPrefix(h, "sha256:") || len(h) != 71 || i > 0 && httptools.Hashes[i-1] >= h {
			t.Errorf("hashes not sorted sha256: %v", httptools.Hashes)
		}
	}
	uvloop := findPackages(l, "uvicorn")[0].OptionalDependencies["standard"]
	if len(uvloop) != 3 || uvloop[2].Marker.Eval(EnvFor("3.13.5", "amd64")) != true {
		t.Errorf("uvicorn[standard] = %+v", uvloop)
	}
}

func TestParsePoetryLock21(t *testing.T) {
	l, err := ParsePoetryLock("poetry.lock", readTestdata(t, "poetry/poetry.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != "2.1" || l.RequiresPython != ">=3.10,<4" || l.ContentHash == "" {
		t.Errorf("lock = %+v", l)
	}
	urllib3 := findPackages(l, "urllib3")
	if len(urllib3) != 2 || urllib3[0].Pos != (Pos{323, 1}) || urllib3[0].Marker.Eval(EnvFor("3.13.5", "amd64")) {
		t.Errorf("urllib3 = %+v", urllib3)
	}
	colorama := findPackages(l, "colorama")[0]
	if strings.Join(colorama.Groups, ",") != "main,dev" || len(colorama.GroupMarkers) != 2 {
		t.Errorf("colorama = %+v", colorama)
	}
	req := findPackages(l, "requests")[0]
	var socks Edge
	for _, e := range req.Dependencies {
		if e.Name == "pysocks" {
			socks = e
		}
	}
	if !socks.Optional || len(socks.Alternatives) != 2 || socks.allows("1.5.7") || !socks.allows("1.7.1") || socks.Pos != (Pos{303, 1}) {
		t.Errorf("pysocks edge = %+v", socks)
	}
	if e := req.OptionalDependencies["socks"]; len(e) != 1 || e[0].Name != "pysocks" {
		t.Errorf("requests extras = %+v", req.OptionalDependencies)
	}
	if boto := findPackages(l, "boto3")[0]; !boto.Optional || len(boto.Hashes) != 2 {
		t.Errorf("boto3 = %+v", boto)
	}
}

const poetryLock11 = `[[package]]
name = "Flask"
version = "2.0.3"
description = "A web framework"
category = "main"
optional = false
python-versions = ">=3.6"

[package.dependencies]
click = ">=7.1.2"

[[package]]
name = "click"
version = "8.0.4"
description = "Composable command line interface toolkit"
category = "main"
optional = false
python-versions = ">=3.6"

[package.dependencies]
colorama = {version = "*", markers = "platform_system == \"Windows\""}

[[package]]
name = "pytest"
version = "7.0.1"
description = "testing"
category = "dev"
optional = false
python-versions = ">=3.6"

[metadata]
lock-version = "1.1"
python-versions = "^3.8"
content-hash = "00"

[metadata.files]
flask = [
    {file = "Flask-2.0.3-py3-none-any.whl", hash = "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
    {file = "Flask-2.0.3.tar.gz", hash = "sha256:2222222222222222222222222222222222222222222222222222222222222222"},
]
click = [
    {file = "click-8.0.4-py3-none-any.whl", hash = "sha256:3333333333333333333333333333333333333333333333333333333333333333"},
]
pytest = []
`

func TestParsePoetryLock1x(t *testing.T) {
	l, err := ParsePoetryLock("poetry.lock", []byte(poetryLock11))
	if err != nil {
		t.Fatal(err)
	}
	flask := findPackages(l, "flask")[0]
	if l.Version != "1.1" || len(flask.Hashes) != 2 || flask.Pos != (Pos{1, 1}) || flask.Groups[0] != "main" {
		t.Errorf("lock = %+v, flask = %+v", l, flask)
	}
	if p := findPackages(l, "pytest")[0]; p.Groups[0] != "dev" || len(p.Hashes) != 0 {
		t.Errorf("pytest = %+v", p)
	}
	// no lock-version: Poetry 1.0
	old := strings.Replace(poetryLock11, "lock-version = \"1.1\"\n", "", 1)
	if l, err := ParsePoetryLock("poetry.lock", []byte(old)); err != nil || l.Version != "1.0" {
		t.Errorf("legacy lock: %v %+v", err, l)
	}
}

func TestParsePylock(t *testing.T) {
	l, err := ParsePylock("pylock.toml", readTestdata(t, "pylock/pylock.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != "1.0" || len(l.Environments) != 2 || l.RequiresPython != ">=3.12" ||
		strings.Join(l.Extras, ",") != "postgres" || strings.Join(l.DependencyGroups, ",") != "dev" || strings.Join(l.DefaultGroups, ",") != "default" {
		t.Errorf("lock = %+v", l)
	}
	direct := findPackages(l, "direct")[0]
	if direct.Source != SourceURL || len(direct.Hashes) != 2 || !strings.HasPrefix(direct.Hashes[1], "sha512:") || direct.Pos != (Pos{109, 1}) {
		t.Errorf("direct = %+v", direct)
	}
	if p := findPackages(l, "localpkg")[0]; p.Source != SourceEditable || p.SourceValue != "packages/localpkg" {
		t.Errorf("localpkg = %+v", p)
	}
	if p := findPackages(l, "vendored")[0]; p.Source != SourcePath || len(p.Hashes) != 1 {
		t.Errorf("vendored = %+v", p)
	}
	// blake2b is skipped: pip does not take it
	if p := findPackages(l, "flask")[0]; p.Source != SourceRegistry || len(p.Hashes) != 2 || p.SourceValue != "https://pypi.org/simple" {
		t.Errorf("flask = %+v", p)
	}
}

func TestParseLockErrors(t *testing.T) {
	const goodHash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	for _, tc := range []struct {
		name string
		kind Kind
		src  string
		want string
	}{
		{"uv version 2", KindUVLock, "version = 2\nrevision = 1\n", "uv.lock:1:11: unsupported uv.lock version 2; supported: version = 1 (any revision)"},
		{"uv no version", KindUVLock, "requires-python = \">=3.8\"\n", "uv.lock:1:1: no version"},
		{"uv version string", KindUVLock, "version = \"1\"\n", "uv.lock:1:11: \"version\" must be an integer, not a string"},
		{"uv malformed hash", KindUVLock, "version = 1\n\n[[package]]\nname = \"a\"\nversion = \"1.0\"\nsource = { registry = \"https://pypi.org/simple\" }\nwheels = [{ url = \"https://x.invalid/a.whl\", hash = \"sha256:abc\" }]\n", "uv.lock:7:53: malformed sha256 hash \"abc\": expected 64 hex digits"},
		{"uv md5", KindUVLock, "version = 1\n[[package]]\nname = \"a\"\nversion = \"1.0\"\nsource = { registry = \"r\" }\nsdist = { url = \"u\", hash = \"md5:00\" }\n", "uv.lock:6:29: hash algorithm \"md5\" is not accepted"},
		{"uv hex", KindUVLock, "version = 1\n[[package]]\nname = \"a\"\nversion = \"1.0\"\nsource = { registry = \"r\" }\nsdist = { url = \"u\", hash = \"sha256:" + strings.Repeat("g", 64) + "\" }\n", "uv.lock:6:29: malformed sha256 hash"},
		{"uv bad version", KindUVLock, "version = 1\n[[package]]\nname = \"a\"\nversion = \"one\"\nsource = { registry = \"r\" }\n", "uv.lock:4:11: package \"a\": invalid version \"one\""},
		{"uv bad marker", KindUVLock, "version = 1\n[[package]]\nname = \"a\"\nversion = \"1\"\nsource = { registry = \"r\" }\ndependencies = [{ name = \"b\", marker = \"sys_platform = 'x'\" }]\n", "uv.lock:6:40: invalid marker"},
		{"uv no source", KindUVLock, "version = 1\n[[package]]\nname = \"a\"\nversion = \"1\"\n", "uv.lock:2:1: package \"a\" has no source"},
		{"uv truncated", KindUVLock, "version = 1\n[[package]]\nname = \"a\"\nversion = \"1\"\nsource = { registry = ", "uv.lock:5:"},
		{"poetry 3.0", KindPoetryLock, "[metadata]\nlock-version = \"3.0\"\n", "poetry.lock:2:16: unsupported poetry.lock lock-version \"3.0\"; supported: 1.x and 2.x"},
		{"poetry bad hash", KindPoetryLock, "[[package]]\nname = \"a\"\nversion = \"1\"\nfiles = [{file = \"a.whl\", hash = \"sha256:xyz\"}]\n[metadata]\nlock-version = \"2.1\"\n", "poetry.lock:4:34: malformed sha256 hash"},
		{"poetry source type", KindPoetryLock, "[[package]]\nname = \"a\"\nversion = \"1\"\n[package.source]\ntype = \"svnx\"\nurl = \"u\"\n[metadata]\nlock-version = \"2.0\"\n", "poetry.lock:5:8: package \"a\": unknown source type \"svnx\""},
		{"pylock 2.0", KindPylock, "lock-version = \"2.0\"\ncreated-by = \"x\"\n", "pylock.toml:1:16: unsupported pylock lock-version \"2.0\"; supported: 1.x"},
		{"pylock two sources", KindPylock, "lock-version = \"1.0\"\n[[packages]]\nname = \"a\"\nversion = \"1\"\ndirectory = { path = \"a\" }\narchive = { url = \"https://x.invalid/a.tgz\", hashes = { sha256 = \"" + goodHash[7:] + "\" } }\n", "pylock.toml:2:1: package \"a\" has more than one of"},
		{"pylock no hashes", KindPylock, "lock-version = \"1.0\"\n[[packages]]\nname = \"a\"\nversion = \"1\"\nwheels = [{ url = \"https://x.invalid/a.whl\" }]\n", "pylock.toml:5:11: no hashes table"},
		{"pylock bad marker", KindPylock, "lock-version = \"1.0\"\n[[packages]]\nname = \"a\"\nversion = \"1\"\nmarker = \"python_version >> '3'\"\ndirectory = { path = \"a\" }\n", "pylock.toml:5:10: invalid marker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := map[Kind]string{KindUVLock: "uv.lock", KindPoetryLock: "poetry.lock", KindPylock: "pylock.toml"}[tc.kind]
			_, err := ParseLock(tc.kind, file, []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %q", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Errorf("no position: %#v", err)
			}
		})
	}
}

func TestParsersRefuseBadInput(t *testing.T) {
	parsers := map[string]func(string, []byte) (any, error){
		"uv.lock":        func(f string, d []byte) (any, error) { return ParseUVLock(f, d) },
		"poetry.lock":    func(f string, d []byte) (any, error) { return ParsePoetryLock(f, d) },
		"pylock.toml":    func(f string, d []byte) (any, error) { return ParsePylock(f, d) },
		"pyproject.toml": func(f string, d []byte) (any, error) { return ParsePyproject(f, d) },
	}
	// a generated 100 MB lock: refused by its size, before any parsing
	var b strings.Builder
	b.WriteString("version = 1\n")
	for b.Len() < 100<<20 {
		b.WriteString("[[package]]\nname = \"pkg\"\nversion = \"1.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n\n")
	}
	huge := []byte(b.String())
	deep := []byte("x = " + strings.Repeat("{a = ", 5000) + "1" + strings.Repeat("}", 5000) + "\n")
	for file, parse := range parsers {
		for _, tc := range []struct {
			name string
			data []byte
			want string
		}{
			{"100 MB", huge, file + ":1:1: file is 100.0 MiB; the limit is 16.0 MiB"},
			{"nesting bomb", deep, file + ":1:"},
			{"invalid UTF-8", []byte("# caf\xe9\n"), file + ":1:6: invalid UTF-8 (byte 0xe9)"},
			{"truncated", []byte("[[package]]\nname = \"a"), file + ":2:9: invalid TOML: unterminated basic string"},
		} {
			t.Run(file+"/"+tc.name, func(t *testing.T) {
				_, err := parse(file, tc.data)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %.200v\nwant %s", err, tc.want)
				}
				if tc.name == "nesting bomb" && !strings.Contains(err.Error(), "nest more than 32 deep") {
					t.Errorf("err = %v", err)
				}
			})
		}
	}
}
