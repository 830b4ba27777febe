package pydeps

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// fixture returns the inputs of one testdata project.
func fixture(t testing.TB, kind Kind, dir, file string) Inputs {
	return Inputs{
		Source:    Source{Kind: kind, Path: file, Pyproject: "pyproject.toml"},
		Data:      readTestdata(t, dir+"/"+file),
		Pyproject: readTestdata(t, dir+"/pyproject.toml"),
	}
}

func pins(p *Plan) string {
	var parts []string
	for _, pin := range p.Packages {
		parts = append(parts, pin.Name+"=="+pin.Version)
	}
	return strings.Join(parts, " ")
}

func TestResolveLocks(t *testing.T) {
	amd64 := EnvFor("3.13.5", "amd64")
	for _, tc := range []struct {
		name    string
		kind    Kind
		dir     string
		file    string
		env     Env
		opts    Options
		pins    string
		skipped int
		summary string
	}{
		{
			name: "uv default", kind: KindUVLock, dir: "uv", file: "uv.lock", env: amd64,
			pins: "annotated-types==0.7.0 anyio==4.6.0 attrs==24.2.0 click==8.1.7 fastapi==0.115.0 h11==0.14.0 httptools==0.6.1 idna==3.10 " +
				"numpy==2.1.3 pydantic==2.9.2 pydantic-core==2.23.4 sniffio==1.3.1 starlette==0.38.6 typing-extensions==4.12.2 uvicorn==0.30.6 uvloop==0.20.0",
			skipped: 2, // appnope (darwin), colorama (win32)
			summary: `uv.lock: 16 packages for CPython 3.13 linux/x86_64, hashes enforced (2 skipped by markers); project "shop" installed after the app copy; workspace member "shop-lib" installed with it`,
		},
		{
			name: "uv extra and dev group", kind: KindUVLock, dir: "uv", file: "uv.lock", env: amd64,
			opts: Options{Extras: []string{"Postgres"}, Groups: []string{"dev"}},
			pins: "annotated-types==0.7.0 anyio==4.6.0 attrs==24.2.0 click==8.1.7 fastapi==0.115.0 h11==0.14.0 httptools==0.6.1 idna==3.10 iniconfig==2.0.0 " +
				"numpy==2.1.3 packaging==24.1 pluggy==1.5.0 psycopg==3.2.3 pydantic==2.9.2 pydantic-core==2.23.4 pytest==8.3.3 sniffio==1.3.1 starlette==0.38.6 typing-extensions==4.12.2 uvicorn==0.30.6 uvloop==0.20.0",
			skipped: 3, // + tzdata (win32)
		},
		{
			name: "uv fork for python 3.11 on arm64", kind: KindUVLock, dir: "uv", file: "uv.lock", env: EnvFor("3.11.9", "arm64"),
			pins: "annotated-types==0.7.0 anyio==4.6.0 attrs==24.2.0 click==8.1.7 fastapi==0.115.0 h11==0.14.0 httptools==0.6.1 idna==3.10 " +
				"numpy==1.26.4 pydantic==2.9.2 pydantic-core==2.23.4 sniffio==1.3.1 starlette==0.38.6 typing-extensions==4.12.2 uvicorn==0.30.6 uvloop==0.20.0",
			skipped: 2,
			summary: `uv.lock: 16 packages for CPython 3.11 linux/aarch64, hashes enforced (2 skipped by markers); project "shop" installed after the app copy; workspace member "shop-lib" installed with it`,
		},
		{
			name: "poetry default", kind: KindPoetryLock, dir: "poetry", file: "poetry.lock", env: amd64,
			pins: "blinker==1.8.2 certifi==2024.8.30 charset-normalizer==3.3.2 click==8.1.7 flask==3.0.3 gunicorn==22.0.0 idna==3.10 itsdangerous==2.2.0 " +
				"jinja2==3.1.4 markupsafe==2.1.5 packaging==24.1 pysocks==1.7.1 requests==2.32.3 urllib3==2.2.3 werkzeug==3.0.4",
			skipped: 3, // colorama (Windows), pywin32 (win32), tomli (< 3.11)
			summary: `poetry.lock: 15 packages for CPython 3.13 linux/x86_64, hashes enforced (3 skipped by markers); project "ledger" installed after the app copy`,
		},
		{
			name: "poetry extra and group", kind: KindPoetryLock, dir: "poetry", file: "poetry.lock", env: amd64,
			opts: Options{Extras: []string{"s3"}, Groups: []string{"dev"}},
			pins: "blinker==1.8.2 boto3==1.35.0 botocore==1.35.0 certifi==2024.8.30 charset-normalizer==3.3.2 click==8.1.7 flask==3.0.3 gunicorn==22.0.0 idna==3.10 " +
				"iniconfig==2.0.0 itsdangerous==2.2.0 jinja2==3.1.4 jmespath==1.0.1 markupsafe==2.1.5 packaging==24.1 pluggy==1.5.0 pysocks==1.7.1 pytest==8.3.3 " +
				"requests==2.32.3 urllib3==2.2.3 werkzeug==3.0.4",
			skipped: 3,
		},
		{
			name: "poetry on python 3.10", kind: KindPoetryLock, dir: "poetry", file: "poetry.lock", env: EnvFor("3.10.14", "amd64"),
			pins: "blinker==1.8.2 certifi==2024.8.30 charset-normalizer==3.3.2 click==8.1.7 flask==3.0.3 gunicorn==22.0.0 idna==3.10 itsdangerous==2.2.0 " +
				"jinja2==3.1.4 markupsafe==2.1.5 packaging==24.1 pysocks==1.7.1 requests==2.32.3 tomli==2.0.2 urllib3==2.2.3 werkzeug==3.0.4",
			skipped: 2,
		},
		{
			name: "pylock default", kind: KindPylock, dir: "pylock", file: "pylock.toml", env: amd64,
			pins:    "blinker==1.8.2 direct==2.0 flask==3.0.3 localpkg== vendored==1.0 werkzeug==3.0.4",
			skipped: 4, // appnope, colorama, psycopg (extra), pytest (group)
			summary: `pylock.toml: 6 packages for CPython 3.13 linux/x86_64, hashes enforced (1 from context directory without hashes; 4 skipped by markers)`,
		},
		{
			name: "pylock extra and group", kind: KindPylock, dir: "pylock", file: "pylock.toml", env: amd64,
			opts:    Options{Extras: []string{"postgres"}, Groups: []string{"dev"}},
			pins:    "blinker==1.8.2 direct==2.0 flask==3.0.3 localpkg== psycopg==3.2.3 pytest==8.3.3 vendored==1.0 werkzeug==3.0.4",
			skipped: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Resolve(fixture(t, tc.kind, tc.dir, tc.file), tc.env, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := pins(p); got != tc.pins {
				t.Errorf("packages:\n got %s\nwant %s", got, tc.pins)
			}
			if p.Skipped != tc.skipped {
				t.Errorf("skipped = %d, want %d", p.Skipped, tc.skipped)
			}
			if tc.summary != "" && p.Summary() != tc.summary {
				t.Errorf("summary:\n got %s\nwant %s", p.Summary(), tc.summary)
			}
			if !p.Locked || strings.Join(p.PipArgs, " ") != "--require-hashes --no-deps" {
				t.Errorf("locked = %v, pip args = %v", p.Locked, p.PipArgs)
			}
			// every registry line pins a version with every hash, sorted by name
			lines := strings.Split(strings.TrimSuffix(string(p.Requirements), "\n"), "\n")
			name := func(l string) string {
				return strings.FieldsFunc(l, func(r rune) bool { return r == '=' || r == ' ' })[0]
			}
			for i, l := range lines {
				if !strings.Contains(l, " --hash=sha256:") || i > 0 && name(lines[i-1]) >= name(l) {
					t.Errorf("line %q", l)
				}
			}
		})
	}
}

func TestResolveRequirementLines(t *testing.T) {
	env := EnvFor("3.13.5", "amd64")
	p, err := Resolve(fixture(t, KindUVLock, "uv", "uv.lock"), env, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var httptools string
	for _, l := range strings.Split(string(p.Requirements), "\n") {
		if strings.HasPrefix(l, "httptools==") {
			httptools = l
		}
	}
	// all 4 hashes of the lock (3 wheels, 1 sdist), whatever the platform
	if !strings.HasPrefix(httptools, "httptools==0.6.1 --hash=sha256:") || strings.Count(httptools, "--hash=") != 4 {
		t.Errorf("httptools line = %q", httptools)
	}
	if len(p.Members) != 1 || p.Members[0] != (Member{Name: "shop-lib", Version: "0.1.0", Path: "libs/shop-lib"}) {
		t.Errorf("members = %+v", p.Members)
	}
	if p.Project == nil || p.Project.Name != "shop" {
		t.Errorf("project = %+v", p.Project)
	}

	p, err = Resolve(fixture(t, KindPylock, "pylock", "pylock.toml"), env, Options{ContextMount: "/ctx/"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(p.Requirements, []byte("\nvendored @ file:///ctx/vendor/vendored-1.0-py3-none-any.whl --hash=sha256:")) ||
		!bytes.Contains(p.Requirements, []byte("direct @ https://downloads.example.invalid/direct-2.0.tar.gz --hash=sha256:")) {
		t.Errorf("requirements:\n%s", p.Requirements)
	}
	if string(p.LocalRequirements) != "localpkg @ file:///ctx/packages/localpkg\n" {
		t.Errorf("local requirements = %q", p.LocalRequirements)
	}
	if strings.Join(p.LocalPaths, " ") != "packages/localpkg vendor/vendored-1.0-py3-none-any.whl" {
		t.Errorf("local paths = %v", p.LocalPaths)
	}
	if p.Project != nil {
		t.Error("a project without build-system is not installed")
	}
}

func TestResolveDeterministic(t *testing.T) {
	env := EnvFor("3.13.5", "amd64")
	in := fixture(t, KindUVLock, "uv", "uv.lock")
	a, err := Resolve(in, env, Options{Extras: []string{"postgres"}, Groups: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	// the same lock with its packages in reverse order, options reordered
	blocks := strings.Split(string(in.Data), "\n[[package]]\n")
	for i, j := 1, len(blocks)-1; i < j; i, j = i+1, j-1 {
		blocks[i], blocks[j] = blocks[j], blocks[i]
	}
	for i := 1; i < len(blocks); i++ {
		blocks[i] = strings.TrimRight(blocks[i], "\n") + "\n"
	}
	in.Data = []byte(strings.Join(blocks, "\n[[package]]\n"))
	for i := 0; i < 5; i++ {
		b, err := Resolve(in, env, Options{Groups: []string{"dev", "dev"}, Extras: []string{"postgres"}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Requirements, b.Requirements) || a.Summary() != b.Summary() {
			t.Fatalf("run %d differs:\n%s\n---\n%s", i, a.Requirements, b.Requirements)
		}
	}
}

func TestResolveUnlocked(t *testing.T) {
	env := EnvFor("3.13.5", "amd64")
	in := Inputs{Source: Source{Kind: KindPyproject, Path: "pyproject.toml", Pyproject: "pyproject.toml"}, Data: readTestdata(t, "pyproject-hatch.toml")}
	p, err := Resolve(in, env, Options{Extras: []string{"redis-cache", "postgres"}, Groups: []string{"lint"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "fastapi>=0.110,<1\nuvicorn[standard]>=0.29\ncolorama>=0.4; sys_platform == 'win32'\npydantic~=2.7\npsycopg>=3.1\nredis>=5\nruff>=0.4\n"
	if string(p.Requirements) != want {
		t.Errorf("requirements:\n%s\nwant:\n%s", p.Requirements, want)
	}
	if p.Locked || p.PipArgs != nil || p.Project == nil {
		t.Errorf("plan = %+v", p)
	}
	if got := p.Summary(); got != `pyproject.toml: 7 requirements for CPython 3.13 linux/x86_64, resolved by pip at build time (no lock file, no hashes); project "Shop_API" installed after the app copy` {
		t.Errorf("summary = %s", got)
	}

	// Poetry: the path dependency becomes a file URL in the context mount;
	// the lines keep their markers
	in = Inputs{Source: Source{Kind: KindPyproject, Path: "app/pyproject.toml"}, Data: readTestdata(t, "pyproject-poetry.toml")}
	p, err = Resolve(in, env, Options{Extras: []string{"s3"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"vendored-lib @ file:///run/distill/context/app/libs/vendored\n",
		"numpy>=2.1,<3; python_version >= \"3.13\"\n",
		"boto3>=1.34,<2\n",
		"internal-tool @ git+https://git.example.invalid/tools/internal-tool.git@v2.0.1\n",
	} {
		if !bytes.Contains(p.Requirements, []byte(line)) {
			t.Errorf("missing %q in\n%s", line, p.Requirements)
		}
	}
	if strings.Join(p.LocalPaths, ",") != "app/libs/vendored" {
		t.Errorf("local paths = %v", p.LocalPaths)
	}

	// requirements kind: nothing to resolve
	p, err = Resolve(Inputs{Source: Source{Kind: KindRequirements, Path: "requirements/prod.txt"}}, env, Options{})
	if err != nil || p.Requirements != nil || p.Source.Path != "requirements/prod.txt" || p.Locked {
		t.Errorf("requirements kind: %+v %v", p, err)
	}
}

// edit returns the fixture's file with old replaced by new (which must
// occur).
func edit(t *testing.T, data []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("fixture lacks %q", old)
	}
	return bytes.Replace(data, []byte(old), []byte(new), 1)
}

func TestResolveConsistency(t *testing.T) {
	env := EnvFor("3.13.5", "amd64")
	for _, tc := range []struct {
		name      string
		in        func(t *testing.T) Inputs
		opts      Options
		want      string
		wantCount int
	}{
		{"uv: new dependency", func(t *testing.T) Inputs {
			in := fixture(t, KindUVLock, "uv", "uv.lock")
			in.Pyproject = edit(t, in.Pyproject, `    "shop-lib",`, `    "shop-lib",`+"\n"+`    "httpx>=0.27",`)
			return in
		}, Options{}, `pyproject.toml:13:5: dependency "httpx" is not in uv.lock; run "uv lock" and commit uv.lock`, 1},
		{"uv: raised lower bound", func(t *testing.T) Inputs {
			in := fixture(t, KindUVLock, "uv", "uv.lock")
			in.Pyproject = edit(t, in.Pyproject, `"fastapi>=0.110"`, `"fastapi>=0.116"`)
			return in
		}, Options{}, `pyproject.toml:6:5: dependency "fastapi" requires >=0.116, but uv.lock pins 0.115.0; run "uv lock" and commit uv.lock`, 1},
		{"uv: dropped dependency", func(t *testing.T) Inputs {
			in := fixture(t, KindUVLock, "uv", "uv.lock")
			in.Pyproject = edit(t, in.Pyproject, `    "click>=8",`+"\n", "")
			return in
		}, Options{}, `uv.lock:233:5: dependency "click" of "shop" is no longer declared in pyproject.toml; run "uv lock" and commit uv.lock`, 1},
		{"uv: dev group dependency", func(t *testing.T) Inputs {
			in := fixture(t, KindUVLock, "uv", "uv.lock")
			in.Pyproject = edit(t, in.Pyproject, `dev = ["pytest>=8"]`, `dev = ["pytest>=8", "mypy"]`)
			return in
		}, Options{Groups: []string{"dev"}}, `pyproject.toml:19:21: dependency "mypy" is not in uv.lock`, 1},
		{"uv: extra only in pyproject", func(t *testing.T) Inputs {
			in := fixture(t, KindUVLock, "uv", "uv.lock")
			in.Pyproject = edit(t, in.Pyproject, `postgres = ["psycopg>=3.2"]`, `postgres = ["psycopg>=3.2"]`+"\nredis = [\"redis\"]")
			return in
		}, Options{Extras: []string{"redis"}}, `uv.lock: extra "redis" is declared in pyproject.toml but not in uv.lock; run "uv lock" and commit uv.lock`, 1},
		{"uv: unknown extra", func(t *testing.T) Inputs { return fixture(t, KindUVLock, "uv", "uv.lock") },
			Options{Extras: []string{"mysql"}}, `uv.lock: extra "mysql" (from python.extras) is not declared; declared: postgres`, 1},
		{"poetry: new dependency", func(t *testing.T) Inputs {
			in := fixture(t, KindPoetryLock, "poetry", "poetry.lock")
			in.Pyproject = edit(t, in.Pyproject, `gunicorn = "^22.0"`, `gunicorn = "^22.0"`+"\nhttpx = \"^0.27\"")
			return in
		}, Options{}, `pyproject.toml:11:1: dependency "httpx" is not in poetry.lock; run "poetry lock" and commit poetry.lock`, 1},
		{"poetry: version outside the lock", func(t *testing.T) Inputs {
			in := fixture(t, KindPoetryLock, "poetry", "poetry.lock")
			in.Pyproject = edit(t, in.Pyproject, `flask = "^3.0"`, `flask = "^3.1"`)
			return in
		}, Options{}, `pyproject.toml:9:1: dependency "flask" requires >=3.1,<4, but poetry.lock pins 3.0.3; run "poetry lock" and commit poetry.lock`, 1},
		{"poetry: two problems at once", func(t *testing.T) Inputs {
			in := fixture(t, KindPoetryLock, "poetry", "poetry.lock")
			in.Pyproject = edit(t, in.Pyproject, `flask = "^3.0"`, `flask = "^3.1"`+"\nhttpx = \"*\"")
			return in
		}, Options{}, "pyproject.toml:9:1: dependency \"flask\" requires >=3.1,<4, but poetry.lock pins 3.0.3; run \"poetry lock\" and commit poetry.lock\npyproject.toml:10:1: dependency \"httpx\" is not in poetry.lock", 2},
		{"pylock: new dependency", func(t *testing.T) Inputs {
			in := fixture(t, KindPylock, "pylock", "pylock.toml")
			in.Pyproject = edit(t, in.Pyproject, `"blinker"]`, `"blinker", "httpx"]`)
			return in
		}, Options{}, `pyproject.toml:5:55: dependency "httpx" is not in pylock.toml; regenerate pylock.toml`, 1},
		{"requires-python of pyproject", func(t *testing.T) Inputs {
			in := fixture(t, KindUVLock, "uv", "uv.lock")
			in.Pyproject = edit(t, in.Pyproject, `requires-python = ">=3.11"`, `requires-python = ">=3.14"`)
			return in
		}, Options{}, `pyproject.toml:4:19: requires-python ">=3.14" does not allow Python 3.13.5 of the target image`, 1},
		{"requires-python of the lock", func(t *testing.T) Inputs {
			in := fixture(t, KindPoetryLock, "poetry", "poetry.lock")
			in.Pyproject = edit(t, in.Pyproject, `python = "^3.10"`, `python = "*"`)
			in.Data = edit(t, in.Data, `python-versions = "^3.10"`, `python-versions = "~3.12"`)
			return in
		}, Options{}, `poetry.lock:372:19: requires-python ">=3.12,<3.13" does not allow Python 3.13.5 of the target image`, 1},
		{"pylock environments", func(t *testing.T) Inputs {
			in := fixture(t, KindPylock, "pylock", "pylock.toml")
			in.Data = edit(t, in.Data, `environments = ["sys_platform == 'linux'", `, `environments = [`)
			return in
		}, Options{}, `pylock.toml: the lock is for environments sys_platform == 'darwin', not for CPython 3.13 linux/x86_64`, 1},
		{"poetry without pyproject", func(t *testing.T) Inputs {
			in := fixture(t, KindPoetryLock, "poetry", "poetry.lock")
			in.Pyproject, in.Source.Pyproject = nil, ""
			return in
		}, Options{}, `poetry.lock: poetry.lock needs the pyproject.toml beside it`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Resolve(tc.in(t), env, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %s", err, tc.want)
			}
			n := 1
			var es Errors
			if errors.As(err, &es) {
				n = len(es)
			}
			if n != tc.wantCount {
				t.Errorf("%d errors, want %d: %v", n, tc.wantCount, err)
			}
		})
	}
}

const uvHead = "version = 1\nrevision = 2\nrequires-python = \">=3.12\"\n\n"

const uvRoot = `[[package]]
name = "app"
version = "1.0"
source = { virtual = "." }
dependencies = [{ name = "dep" }]

`

func uvDep(source, extra string) string {
	return "[[package]]\nname = \"dep\"\nversion = \"1.0\"\nsource = " + source + "\n" + extra
}

const someHash = `hash = "sha256:5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d"`

func TestResolveSources(t *testing.T) {
	env := EnvFor("3.13.5", "amd64")
	for _, tc := range []struct {
		name  string
		lock  string
		path  string // of the lock in the context
		want  string // the requirement line, or
		local string // the local requirement line, or
		err   string // the error
	}{
		{name: "https url", lock: uvDep(`{ url = "https://downloads.example.invalid/dep-1.0.tar.gz" }`, "sdist = { url = \"https://downloads.example.invalid/dep-1.0.tar.gz\", "+someHash+" }\n"),
			want: "dep @ https://downloads.example.invalid/dep-1.0.tar.gz --hash=sha256:5d5d"},
		{name: "path wheel in a subdirectory lock", path: "backend/uv.lock", lock: uvDep(`{ path = "wheels/dep-1.0-py3-none-any.whl" }`, "wheels = [{ filename = \"dep-1.0-py3-none-any.whl\", "+someHash+" }]\n"),
			want: "dep @ file:///run/distill/context/backend/wheels/dep-1.0-py3-none-any.whl --hash=sha256:5d5d"},
		{name: "directory", lock: uvDep(`{ directory = "vendor/dep" }`, ""), local: "dep @ file:///run/distill/context/vendor/dep\n"},
		{name: "editable path dependency", lock: uvDep(`{ editable = "./vendor/dep" }`, ""), local: "dep @ file:///run/distill/context/vendor/dep\n"},
		{name: "git", lock: uvDep(`{ git = "https://git.example.invalid/dep.git?rev=v1#0123abcd" }`, ""),
			err: `uv.lock:11:1: package "dep" 1.0 comes from git (https://git.example.invalid/dep.git?rev=v1#0123abcd): pip cannot enforce a hash on a VCS checkout`},
		{name: "path escaping the context", lock: uvDep(`{ directory = "../shared/dep" }`, ""),
			err: `uv.lock:11:1: package "dep" 1.0 comes from ../shared/dep, outside the build context`},
		{name: "escaping from a subdirectory", path: "app/uv.lock", lock: uvDep(`{ path = "../../dep.whl" }`, "wheels = [{ "+someHash+" }]\n"),
			err: `app/uv.lock:11:1: package "dep" 1.0 comes from ../../dep.whl, outside the build context`},
		{name: "absolute path", lock: uvDep(`{ directory = "/opt/dep" }`, ""), err: `comes from /opt/dep, outside the build context`},
		{name: "file url", lock: uvDep(`{ path = "file:///opt/dep.whl" }`, "wheels = [{ "+someHash+" }]\n"), err: `comes from file:///opt/dep.whl, outside the build context`},
		{name: "plain http", lock: uvDep(`{ url = "http://downloads.example.invalid/dep.tgz" }`, "sdist = { "+someHash+" }\n"), err: `only https URLs are allowed`},
		{name: "registry without hashes", lock: uvDep(`{ registry = "https://pypi.org/simple" }`, "sdist = { url = \"https://files.example.invalid/dep-1.0.tar.gz\" }\n"),
			err: `uv.lock:11:1: package "dep" 1.0 from an index has no hashes in uv.lock, so pip cannot verify it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.path
			if file == "" {
				file = "uv.lock"
			}
			in := Inputs{Source: Source{Kind: KindUVLock, Path: file}, Data: []byte(uvHead + uvRoot + tc.lock)}
			p, err := Resolve(in, env, Options{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v\nwant %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && !strings.HasPrefix(string(p.Requirements), tc.want) {
				t.Errorf("requirements = %q\nwant %s", p.Requirements, tc.want)
			}
			if string(p.LocalRequirements) != tc.local {
				t.Errorf("local = %q, want %q", p.LocalRequirements, tc.local)
			}
			if p.Project != nil || len(p.Members) != 0 {
				t.Errorf("virtual root: project %+v members %+v", p.Project, p.Members)
			}
		})
	}
}

func TestResolveUVRoots(t *testing.T) {
	env := EnvFor("3.13.5", "amd64")
	reg := `{ registry = "https://pypi.org/simple" }`
	dep := uvDep(reg, "wheels = [{ url = \"https://files.example.invalid/dep-1.0-py3-none-any.whl\", "+someHash+" }]\n")
	t.Run("virtual project with tool.uv.package = false", func(t *testing.T) {
		py := "[project]\nname = \"app\"\nversion = \"1.0\"\ndependencies = [\"dep\"]\n[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n[tool.uv]\npackage = false\n"
		p, err := Resolve(Inputs{Source: Source{Kind: KindUVLock, Path: "uv.lock", Pyproject: "pyproject.toml"}, Data: []byte(uvHead + uvRoot + dep), Pyproject: []byte(py)}, env, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if pins(p) != "dep==1.0" || p.Project != nil {
			t.Errorf("plan = %+v", p)
		}
		if !strings.HasSuffix(p.Summary(), "hashes enforced") {
			t.Errorf("summary = %s", p.Summary())
		}
	})
	t.Run("virtual workspace root: every member", func(t *testing.T) {
		lock := uvHead + "[manifest]\nmembers = [\"a\", \"b\"]\n\n" +
			"[[package]]\nname = \"a\"\nversion = \"0.1\"\nsource = { editable = \"packages/a\" }\ndependencies = [{ name = \"dep\" }]\n\n" +
			"[[package]]\nname = \"b\"\nversion = \"0.1\"\nsource = { editable = \"packages/b\" }\ndependencies = [{ name = \"a\" }]\n\n" + dep
		p, err := Resolve(Inputs{Source: Source{Kind: KindUVLock, Path: "uv.lock"}, Data: []byte(lock)}, env, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if pins(p) != "dep==1.0" || len(p.Members) != 0 {
			t.Errorf("plan = %+v", p)
		}
	})
	t.Run("ambiguous fork", func(t *testing.T) {
		lock := uvHead + uvRoot + dep + "\n" + strings.Replace(dep, `version = "1.0"`, `version = "2.0"`, 1)
		_, err := Resolve(Inputs{Source: Source{Kind: KindUVLock, Path: "uv.lock"}, Data: []byte(lock)}, env, Options{})
		if err == nil || !strings.Contains(err.Error(), `uv.lock:9:17: uv.lock locks several versions of "dep" (1.0, 2.0) and this dependency does not say which`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing target", func(t *testing.T) {
		_, err := Resolve(Inputs{Source: Source{Kind: KindUVLock, Path: "uv.lock"}, Data: []byte(uvHead + uvRoot)}, env, Options{})
		if err == nil || !strings.Contains(err.Error(), `uv.lock:9:17: "app" depends on "dep", which the lock does not hold`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("project missing from the lock", func(t *testing.T) {
		py := "[project]\nname = \"other\"\nversion = \"1\"\n"
		_, err := Resolve(Inputs{Source: Source{Kind: KindUVLock, Path: "uv.lock", Pyproject: "pyproject.toml"}, Data: []byte(uvHead + uvRoot + dep), Pyproject: []byte(py)}, env, Options{})
		if err == nil || !strings.Contains(err.Error(), `project "other" is not in uv.lock; run "uv lock"`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad target python", func(t *testing.T) {
		_, err := Resolve(Inputs{Source: Source{Kind: KindUVLock, Path: "uv.lock"}, Data: []byte(uvHead + uvRoot + dep)}, EnvFor("three", "amd64"), Options{})
		if err == nil || !strings.Contains(err.Error(), "target Python version") {
			t.Fatalf("err = %v", err)
		}
	})
}
