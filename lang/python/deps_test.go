package python

import (
	"strings"
	"testing"

	"github.com/distill-build/distill/pydeps"
	"github.com/distill-build/distill/spec"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

func mapFS(files map[string]string) pydeps.FileReader {
	return pydeps.FileReaderFunc(func(p string) ([]byte, bool, error) {
		d, ok := files[p]
		return []byte(d), ok, nil
	})
}

func pythonSpec(t *testing.T, python string) *spec.Spec {
	t.Helper()
	src := "apiVersion: distill/v1\nname: a\nlanguage: python\n" + python + "app:\n  entrypoint: [python, app.py]\n"
	s, err := spec.Parse("distill.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	hashA     = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	pyproject = "[project]\nname = \"app\"\nversion = \"1\"\ndependencies = [\"flask>=3\"]\n\n[build-system]\nrequires = [\"flit_core\"]\nbuild-backend = \"flit_core.buildapi\"\n"
	uvLock    = "version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"flask\"\nversion = \"3.1.1\"\nsource = { registry = \"https://pypi.org/simple\" }\nwheels = [{ url = \"https://x.invalid/flask-3.1.1-py3-none-any.whl\", hash = \"" + hashA + "\" }]\n\n[[package]]\nname = \"app\"\nversion = \"1\"\nsource = { editable = \".\" }\ndependencies = [{ name = \"flask\" }]\n"
	toolOnly  = "[tool.ruff]\nline-length = 100\n"
)

func TestDetectDependencies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		python  string
		files   map[string]string
		want    string // Describe()
		present string
		err     string
	}{
		{"nothing", "", map[string]string{"pyproject.toml": toolOnly}, "none (no requirements.txt, pyproject.toml or lock file)", "", ""},
		{"requirements detected", "", map[string]string{"requirements.txt": "flask\n", "pyproject.toml": toolOnly}, "requirements.txt (requirements, detected)", "requirements.txt", ""},
		{"lock before requirements", "", map[string]string{"requirements.txt": "flask\n", "uv.lock": uvLock, "pyproject.toml": pyproject}, "uv.lock (uv.lock, detected)", "pyproject.toml requirements.txt uv.lock", ""},
		{"named requirements", "python:\n  requirements: reqs/prod.txt\n", map[string]string{"reqs/prod.txt": "flask\n"}, "reqs/prod.txt (requirements, from python.requirements)", "", ""},
		{"named lock in a folder", "python:\n  dependencies: backend/uv.lock\n", map[string]string{"backend/uv.lock": uvLock, "backend/pyproject.toml": pyproject}, "backend/uv.lock (uv.lock, from python.dependencies)", "", ""},
		{"two locks, python section", "python:\n  version: \"3.13\"\n", map[string]string{"uv.lock": uvLock, "poetry.lock": "x"}, "", "", "distill.yaml:5:3: the context has uv.lock and poetry.lock"},
		{"named file missing", "python:\n  dependencies: uv.lock\n", map[string]string{}, "", "", `distill.yaml:5:17: python.dependencies "uv.lock" does not exist in the build context`},
		{"two locks", "", map[string]string{"uv.lock": uvLock, "poetry.lock": "x"}, "", "", "distill.yaml: the context has uv.lock and poetry.lock; choose one with python.dependencies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := pythonSpec(t, tc.python)
			d, err := DetectDependencies(mapFS(tc.files), s)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Describe(); got != tc.want {
				t.Errorf("Describe() = %q, want %q", got, tc.want)
			}
			if got := strings.Join(sortedCopy(d.Present), " "); got != tc.present {
				t.Errorf("Present = %q, want %q", got, tc.present)
			}
		})
	}
}

func TestPlanDependencies(t *testing.T) {
	amd64 := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	builder := dockerspec.DockerOCIImage{}
	builder.Config.Env = []string{"PYTHON_VERSION=3.13.5"}
	files := map[string]string{"uv.lock": uvLock, "pyproject.toml": pyproject}

	s := pythonSpec(t, "")
	d, err := DetectDependencies(mapFS(files), s)
	if err != nil {
		t.Fatal(err)
	}
	got, plan, err := d.Plan(s, amd64, "3.13", builder)
	if err != nil {
		t.Fatal(err)
	}
	if want := "flask==3.1.1 --hash=" + hashA + "\n"; string(got.Generated) != want {
		t.Errorf("generated requirements %q, want %q", got.Generated, want)
	}
	if strings.Join(got.PipArgs, " ") != "--require-hashes --no-deps" || got.RequirementsPath != "" {
		t.Errorf("pip args %q, path %q", got.PipArgs, got.RequirementsPath)
	}
	if len(got.Projects) != 1 || got.Projects[0].Name != "app" || got.Projects[0].Dir != "." || plan == nil {
		t.Errorf("projects %+v: the editable root is the project, installed from the context root", got.Projects)
	}
	// python.project: copy leaves it out
	s = pythonSpec(t, "python:\n  project: copy\n")
	if got, _, err := d.Plan(s, amd64, "3.13", builder); err != nil || len(got.Projects) != 0 {
		t.Errorf("project: copy: %+v, %v", got.Projects, err)
	}
	// requirements pass through, named for progress like pip's own -r
	s = pythonSpec(t, "")
	d, _ = DetectDependencies(mapFS(map[string]string{"requirements.txt": "flask\n"}), s)
	if got, plan, err := d.Plan(s, amd64, "3.13", builder); err != nil || got.RequirementsPath != "requirements.txt" || got.Describe != "-r requirements.txt" || got.Generated != nil || plan != nil {
		t.Errorf("requirements: %+v %v", got, err)
	}
	// the lock must agree with pyproject.toml
	files["pyproject.toml"] = strings.Replace(pyproject, `["flask>=3"]`, `["flask>=3", "httpx"]`, 1)
	d, _ = DetectDependencies(mapFS(files), s)
	if _, _, err := d.Plan(s, amd64, "3.13", builder); err == nil || !strings.Contains(err.Error(), `dependency "httpx" is not in uv.lock`) {
		t.Errorf("stale lock: %v", err)
	} else if name, data, line, _, ok := dependencyError(err, d); !ok || name != "pyproject.toml" || line != 4 || !strings.Contains(string(data), "httpx") {
		t.Errorf("the error is not shown in pyproject.toml: %q line %d", name, line)
	}
}

func sortedCopy(xs []string) []string {
	out := append([]string{}, xs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
