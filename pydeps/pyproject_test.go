package pydeps

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func depNames(deps []Dependency) string {
	names := make([]string, len(deps))
	for i, d := range deps {
		names[i] = d.Name
	}
	return strings.Join(names, " ")
}

func TestParsePyprojectPEP621(t *testing.T) {
	p, err := ParsePyproject("pyproject.toml", readTestdata(t, "pyproject-hatch.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Shop_API" || !p.HasProject || p.Poetry || p.RequiresPython != ">=3.11" || p.RequiresPythonPos != (Pos{5, 19}) {
		t.Errorf("project = %+v", p)
	}
	if got := depNames(p.Dependencies); got != "fastapi uvicorn colorama pydantic" {
		t.Errorf("dependencies = %s", got)
	}
	uv := p.Dependencies[1]
	if uv.Requirement != "uvicorn[standard]>=0.29" || uv.Pos != (Pos{8, 5}) || len(uv.Extras) != 1 {
		t.Errorf("uvicorn = %+v", uv)
	}
	if got := keys(p.OptionalDependencies); strings.Join(got, " ") != "postgres redis-cache" {
		t.Errorf("extras = %v", got)
	}
	if got := depNames(p.DependencyGroups["dev"]); got != "pytest httpx ruff ipython" {
		t.Errorf("dev group (with include-group) = %s", got)
	}
	if p.Scripts["shop"] != "shop_api.cli:main" {
		t.Errorf("scripts = %v", p.Scripts)
	}
	if p.BuildSystem == nil || p.BuildSystem.Backend != "hatchling.build" || p.BuildSystem.Requires[0] != "hatchling>=1.24" {
		t.Errorf("build-system = %+v", p.BuildSystem)
	}
	if !p.Package() {
		t.Error("a hatchling project is a package")
	}
}

func TestParsePyprojectPoetry(t *testing.T) {
	p, err := ParsePyproject("pyproject.toml", readTestdata(t, "pyproject-poetry.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "ledger" || !p.Poetry || p.HasProject || p.RequiresPython != ">=3.10,<4" || !p.Package() {
		t.Errorf("project = %+v", p)
	}
	if p.Scripts["ledger"] != "ledger.cli:run" {
		t.Errorf("scripts = %v", p.Scripts)
	}
	want := map[string]string{
		"flask":         "flask>=3.0.2,<4",
		"gunicorn":      "gunicorn>=22.0,<22.1",
		"click":         "click",
		"sqlalchemy":    "sqlalchemy[asyncio]>=2.0,<3",
		"tomli":         `tomli>=2.0; python_version < "3.11"`,
		"pywin32":       "pywin32==306; sys_platform == 'win32'",
		"internal-tool": "internal-tool @ git+https://git.example.invalid/tools/internal-tool.git@v2.0.1",
		"vendored-lib":  "",
	}
	got := map[string][]Dependency{}
	for _, d := range p.Dependencies {
		got[d.Name] = append(got[d.Name], d)
	}
	for name, req := range want {
		if len(got[name]) != 1 || got[name][0].Requirement != req {
			t.Errorf("%s = %+v, want %q", name, got[name], req)
		}
	}
	if n := got["numpy"]; len(n) != 2 || n[0].Requirement != `numpy>=1.26,<2; python_version < "3.13"` || n[1].Pos != (Pos{17, 5}) {
		t.Errorf("numpy = %+v", n)
	}
	if got["vendored-lib"][0].Path != "libs/vendored" {
		t.Errorf("path dependency = %+v", got["vendored-lib"])
	}
	if _, ok := got["boto3"]; ok {
		t.Error("optional boto3 is a main dependency")
	}
	if s3 := p.OptionalDependencies["s3"]; len(s3) != 1 || s3[0].Name != "boto3" || !s3[0].Optional {
		t.Errorf("extra s3 = %+v", s3)
	}
	if depNames(p.DependencyGroups["dev"]) != "pytest" || depNames(p.DependencyGroups["docs"]) != "mkdocs" {
		t.Errorf("groups = %v", p.DependencyGroups)
	}
	if flask := got["flask"][0]; flask.Pos != (Pos{9, 1}) || !flask.Allows("3.1.0") || flask.Allows("4.0") {
		t.Errorf("flask = %+v", flask)
	}
}

func TestPyprojectPackage(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      bool
	}{
		{"flit", "[project]\nname = \"a\"\n[build-system]\nrequires = [\"flit_core>=3.2,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n", true},
		{"setuptools", "[project]\nname = \"a\"\n[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n", true},
		{"poetry-core", "[tool.poetry]\nname = \"a\"\n[build-system]\nrequires = [\"poetry-core\"]\nbuild-backend = \"poetry.core.masonry.api\"\n", true},
		{"no build-system", "[project]\nname = \"a\"\ndependencies = []\n", false},
		{"uv package false", "[project]\nname = \"a\"\n[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n[tool.uv]\npackage = false\n", false},
		{"uv package true without build-system", "[project]\nname = \"a\"\n[tool.uv]\npackage = true\n", true},
		{"poetry package-mode false", "[tool.poetry]\nname = \"a\"\npackage-mode = false\n[build-system]\nrequires = [\"poetry-core\"]\nbuild-backend = \"poetry.core.masonry.api\"\n", false},
		{"poetry without build-system", "[tool.poetry]\nname = \"a\"\n[tool.poetry.dependencies]\npython = \"^3.12\"\n", false},
		{"tool settings only", "[tool.black]\nline-length = 88\n[build-system]\nrequires = [\"setuptools\"]\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePyproject("pyproject.toml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Package(); got != tc.want {
				t.Errorf("Package() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParsePyprojectErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"bad requirement", "[project]\nname = \"a\"\ndependencies = [\n  \"ok>=1\",\n  \"bad >= \",\n]\n", "pyproject.toml:5:3: invalid requirement \"bad >= \""},
		{"bad marker", "[project]\nname = \"a\"\ndependencies = [\"x; os_nam == 'posix'\"]\n", "pyproject.toml:3:17: invalid requirement"},
		{"bad requires-python", "[project]\nname = \"a\"\nrequires-python = \"3.12\"\n", "pyproject.toml:3:19: requires-python: invalid specifier"},
		{"wrong type", "[project]\nname = \"a\"\ndependencies = \"flask\"\n", "pyproject.toml:3:16: \"dependencies\" must be an array, not a string"},
		{"group cycle", "[dependency-groups]\na = [{include-group = \"b\"}]\nb = [{include-group = \"a\"}]\n", "includes itself"},
		{"unknown include", "[dependency-groups]\na = [{include-group = \"nope\"}]\n", "pyproject.toml:2:23: include-group \"nope\": no such dependency group"},
		{"poetry bad constraint", "[tool.poetry]\nname = \"a\"\n[tool.poetry.dependencies]\nflask = \"^x\"\n", "pyproject.toml:4:9: \"flask\": invalid version constraint"},
		{"poetry extra of non-optional", "[tool.poetry]\nname = \"a\"\n[tool.poetry.dependencies]\nflask = \"^3\"\n[tool.poetry.extras]\nweb = [\"flask\"]\n", "pyproject.toml:6:8: extra \"web\" names \"flask\""},
		{"malformed", "[project\nname = \"a\"\n", "pyproject.toml:1:"},
		{"bad name", "[project]\nname = \"my app\"\n", "pyproject.toml:2:8: invalid project name \"my app\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePyproject("pyproject.toml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// several errors at once, in file order
	_, err := ParsePyproject("pyproject.toml", []byte("[project]\nname = \"a\"\ndependencies = [\"a >=\", \"b @\"]\nrequires-python = \"x\"\n"))
	es, ok := err.(Errors)
	if !ok || len(es) != 3 || es[0].Line != 3 || es[2].Line != 4 {
		t.Errorf("err = %#v", err)
	}
}
