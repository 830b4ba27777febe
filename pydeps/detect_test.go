package pydeps

import (
	"errors"
	"strings"
	"testing"
)

type mapFS map[string]string

func (m mapFS) Read(p string) ([]byte, bool, error) {
	s, ok := m[p]
	if !ok {
		return nil, false, nil
	}
	return []byte(s), true, nil
}

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		ok   bool
	}{
		{"requirements.txt", KindRequirements, true},
		{"deps/prod-requirements.txt", KindRequirements, true},
		{"pyproject.toml", KindPyproject, true},
		{"backend/uv.lock", KindUVLock, true},
		{"poetry.lock", KindPoetryLock, true},
		{"pylock.toml", KindPylock, true},
		{"pylock.prod.toml", KindPylock, true},
		{"pylock.a.b.toml", KindNone, false},
		{"pylock..toml", KindNone, false},
		{"Pipfile.lock", KindNone, false},
		{".txt", KindNone, false},
		{"setup.py", KindNone, false},
	} {
		k, ok := KindOf(tc.name)
		if k != tc.kind || ok != tc.ok {
			t.Errorf("KindOf(%q) = %v, %v; want %v, %v", tc.name, k, ok, tc.kind, tc.ok)
		}
	}
}

func TestDetect(t *testing.T) {
	const pep621 = "[project]\nname = \"a\"\ndependencies = [\"flask\"]\n"
	for _, tc := range []struct {
		name  string
		files mapFS
		want  Source
		err   string
	}{
		{"nothing", mapFS{"app.py": ""}, Source{}, ""},
		{"requirements", mapFS{"requirements.txt": "flask\n", "pyproject.toml": pep621}, Source{Kind: KindRequirements, Path: "requirements.txt"}, ""},
		{"uv lock wins over requirements", mapFS{"uv.lock": "", "requirements.txt": "", "pyproject.toml": pep621}, Source{Kind: KindUVLock, Path: "uv.lock", Pyproject: "pyproject.toml"}, ""},
		{"poetry lock", mapFS{"poetry.lock": ""}, Source{Kind: KindPoetryLock, Path: "poetry.lock"}, ""},
		{"pylock", mapFS{"pylock.toml": "", "pyproject.toml": pep621}, Source{Kind: KindPylock, Path: "pylock.toml", Pyproject: "pyproject.toml"}, ""},
		{"pyproject", mapFS{"pyproject.toml": pep621}, Source{Kind: KindPyproject, Path: "pyproject.toml", Pyproject: "pyproject.toml"}, ""},
		{"poetry pyproject", mapFS{"pyproject.toml": "[tool.poetry]\nname = \"a\"\n[tool.poetry.dependencies]\npython = \"^3.12\"\nflask = \"^3\"\n"}, Source{Kind: KindPyproject, Path: "pyproject.toml", Pyproject: "pyproject.toml"}, ""},
		{"tool settings only", mapFS{"pyproject.toml": "[tool.ruff]\nline-length = 100\n"}, Source{}, ""},
		{"two locks", mapFS{"uv.lock": "", "poetry.lock": ""}, Source{}, "the context has uv.lock and poetry.lock; choose one with python.dependencies"},
		{"three locks", mapFS{"uv.lock": "", "poetry.lock": "", "pylock.toml": ""}, Source{}, "uv.lock, poetry.lock and pylock.toml"},
		{"broken pyproject", mapFS{"pyproject.toml": "[project\n"}, Source{}, "pyproject.toml:1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect(tc.files)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Detect = %+v, want %+v", got, tc.want)
			}
		})
	}
	boom := errors.New("boom")
	_, err := Detect(FileReaderFunc(func(string) ([]byte, bool, error) { return nil, false, boom }))
	if !errors.Is(err, boom) {
		t.Errorf("read error not passed on: %v", err)
	}
}
