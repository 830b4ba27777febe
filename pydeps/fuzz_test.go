package pydeps

import (
	"errors"
	"strings"
	"testing"
)

// checkParseError fails unless err is nil or made only of *Error values
// with a position.
func checkParseError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	es := asErrors(err)
	if len(es) == 0 {
		t.Fatalf("error without *Error: %#v", err)
	}
	for _, e := range es {
		if e.Line < 1 || e.Column < 1 || e.File == "" {
			t.Fatalf("error without a position: %q", e.Error())
		}
		if strings.Contains(e.Msg, "internal error") {
			t.Fatalf("recovered panic: %v", e)
		}
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As found no *Error in %#v", err)
	}
}

// seeds adds the testdata files and small broken inputs.
func seeds(f *testing.F, files ...string) {
	for _, name := range files {
		f.Add(readTestdata(f, name))
	}
	for _, s := range []string{
		"", "version = 1\n", "[[package]]\nname = \"a\"\n", "a = [\n", "a = {", "\xff",
		"[metadata]\nlock-version = \"2.1\"\n", "lock-version = \"1.0\"\n[[packages]]\nname = \"x\"\n",
		"a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	} {
		f.Add([]byte(s))
	}
}

func FuzzParseUVLock(f *testing.F) {
	seeds(f, "uv/uv.lock")
	env := EnvFor("3.13.5", "amd64")
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseUVLock("uv.lock", data)
		checkParseError(t, err)
		if err != nil {
			return
		}
		if l.Version != "1" {
			t.Fatalf("version %q accepted", l.Version)
		}
		_, err = Resolve(Inputs{Source: Source{Kind: KindUVLock, Path: "uv.lock"}, Data: data}, env, Options{})
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
	})
}

func FuzzParsePoetryLock(f *testing.F) {
	seeds(f, "poetry/poetry.lock")
	f.Add([]byte(poetryLock11))
	env := EnvFor("3.13.5", "amd64")
	py := readTestdata(f, "poetry/pyproject.toml")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParsePoetryLock("poetry.lock", data)
		checkParseError(t, err)
		if err != nil {
			return
		}
		_, err = Resolve(Inputs{Source: Source{Kind: KindPoetryLock, Path: "poetry.lock", Pyproject: "pyproject.toml"}, Data: data, Pyproject: py}, env, Options{Extras: []string{"s3"}})
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
	})
}

func FuzzParsePylock(f *testing.F) {
	seeds(f, "pylock/pylock.toml")
	env := EnvFor("3.13.5", "amd64")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParsePylock("pylock.toml", data)
		checkParseError(t, err)
		if err != nil {
			return
		}
		_, err = Resolve(Inputs{Source: Source{Kind: KindPylock, Path: "pylock.toml"}, Data: data}, env, Options{})
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
	})
}

func FuzzParsePyproject(f *testing.F) {
	seeds(f, "pyproject-hatch.toml", "pyproject-poetry.toml", "uv/pyproject.toml")
	env := EnvFor("3.13.5", "amd64")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePyproject("pyproject.toml", data)
		checkParseError(t, err)
		if err != nil {
			return
		}
		_ = p.Package()
		_, err = Resolve(Inputs{Source: Source{Kind: KindPyproject, Path: "pyproject.toml"}, Data: data}, env, Options{})
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
	})
}

func FuzzParseMarker(f *testing.F) {
	for _, s := range []string{
		`sys_platform == "win32"`, `python_version >= "3.8" and (os_name == 'nt' or extra == "x")`,
		`'dev' in dependency_groups`, `python_full_version ~= '3.10.1'`, `(((`, `a or`,
	} {
		f.Add(s)
	}
	env := EnvFor("3.13.5", "amd64")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMarker(s)
		if err != nil {
			return
		}
		_ = m.Eval(env, "x")
		// the canonical text reads back as the same marker
		again, err := ParseMarker(m.Canonical())
		if err != nil || again.Canonical() != m.Canonical() || again.Eval(env, "x") != m.Eval(env, "x") {
			t.Fatalf("%q -> %q -> %q %v", s, m.Canonical(), again.Canonical(), err)
		}
		if _, rest, err := m.SplitExtra(); err == nil && !rest.IsZero() {
			if _, err := ParseMarker(rest.Canonical()); err != nil {
				t.Fatalf("%q: rest %q: %v", s, rest.Canonical(), err)
			}
		}
	})
}

func FuzzParseRequirement(f *testing.F) {
	for _, s := range []string{
		"requests[socks]>=2.31,<3; python_version >= '3.8'", "pkg @ https://x.invalid/p.whl", "gunicorn (>=20)",
		"a===1.0-foo", "b~=1.4.5", "c==1.*", "d!=2!1.0.post1.dev2+local.7",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRequirement(s)
		if err != nil {
			return
		}
		// what String writes parses again to the same requirement
		again, err := ParseRequirement(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("%q -> %q -> %v %v", s, r.String(), again, err)
		}
		v, err := ParseVersion("1.2.3")
		if err == nil {
			_ = r.Specifier.Contains(v)
		}
	})
}
