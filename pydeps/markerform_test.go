package pydeps

import (
	"strings"
	"testing"
)

func mustMarker(t *testing.T, s string) Marker {
	t.Helper()
	m, err := ParseMarker(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMarkerCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want, op string }{
		{`python_version<"3.10"`, `python_version < '3.10'`, "<"},
		{`(os_name == "nt" or sys_platform == "cygwin") and python_version >= "3.8"`, `(os_name == 'nt' or sys_platform == 'cygwin') and python_version >= '3.8'`, "and"},
		{`((sys_platform == "linux")) and (python_version < "3.11" and extra == "a")`, `sys_platform == 'linux' and python_version < '3.11' and extra == 'a'`, "and"},
		{`os_name == "nt" or (python_version < "3" and sys_platform == "win32")`, `os_name == 'nt' or python_version < '3' and sys_platform == 'win32'`, "or"},
		{`"x" not in platform_version`, `'x' not in platform_version`, "not in"},
		{`platform_version == "it's"`, `platform_version == "it's"`, "=="},
		{`os.name == "posix"`, `os.name == 'posix'`, "=="},
		{`'dev' in dependency_groups`, `'dev' in dependency_groups`, "in"},
	} {
		m := mustMarker(t, tc.in)
		if got := m.Canonical(); got != tc.want {
			t.Errorf("%s: Canonical = %q, want %q", tc.in, got, tc.want)
		}
		if got := m.Op(); got != tc.op {
			t.Errorf("%s: Op = %q, want %q", tc.in, got, tc.op)
		}
		if again := mustMarker(t, m.Canonical()); again.Canonical() != tc.want {
			t.Errorf("%s: canonical text reads back as %q", tc.in, again.Canonical())
		}
	}
	if (Marker{}).Canonical() != "" || (Marker{}).Op() != "" {
		t.Error("zero Marker")
	}
}

func TestMarkerAnd(t *testing.T) {
	a := mustMarker(t, `sys_platform=="win32" or os_name=="nt"`)
	b := mustMarker(t, `python_version < "3.11"`)
	if got := (Marker{}).And(b).String(); got != `python_version < "3.11"` {
		t.Errorf("zero.And(b) = %q, want b as written", got)
	}
	if !a.And(Marker{}).And(Marker{}).Eval(Env{SysPlatform: "win32"}) {
		t.Error("a.And(zero) is not a")
	}
	ab := a.And(b)
	if got, want := ab.String(), `(sys_platform == 'win32' or os_name == 'nt') and python_version < '3.11'`; got != want || ab.Canonical() != want {
		t.Errorf("a.And(b) = %q, want %q", got, want)
	}
	env := EnvFor("3.10.4", "amd64")
	env.OSName = "nt"
	if !ab.Eval(env) || ab.Eval(EnvFor("3.10.4", "amd64")) || ab.Eval(func() Env { e := env; e.PythonVersion = "3.12"; return e }()) {
		t.Error("a.And(b) evaluates wrong")
	}
}

func TestMarkerRewrite(t *testing.T) {
	windows := func(c Comparison) Comparison {
		if (c.Op == "==" || c.Op == "!=") && c.LeftVariable && c.Left == "platform_system" && !c.RightVariable && c.Right == "Windows" {
			c.Left, c.Right = "sys_platform", "win32"
		}
		return c
	}
	m := mustMarker(t, `python_version >= "3.9" and (platform_system == "Windows" or platform_system != "Windows") and "Windows" == platform_system`)
	got, err := m.Rewrite(windows)
	if err != nil {
		t.Fatal(err)
	}
	if want := `python_version >= '3.9' and (sys_platform == 'win32' or sys_platform != 'win32') and 'Windows' == platform_system`; got.String() != want {
		t.Errorf("Rewrite = %q, want %q", got, want)
	}
	if m.Canonical() == got.Canonical() {
		t.Error("Rewrite changed m itself")
	}
	for name, f := range map[string]func(Comparison) Comparison{
		"unknown variable":    func(c Comparison) Comparison { c.Left = "nope"; return c },
		"no operator":         func(c Comparison) Comparison { c.Op = ""; return c },
		"both quotes":         func(c Comparison) Comparison { c.Right, c.RightVariable = `a'b"c`, false; return c },
		"two comparisons":     func(c Comparison) Comparison { c.Right = "'3' or os_name == 'nt'"; c.RightVariable = true; return c },
		"set variable misuse": func(c Comparison) Comparison { c.Left, c.Op = "extras", "=="; return c },
	} {
		if _, err := mustMarker(t, `python_version < "3.9"`).Rewrite(f); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if z, err := (Marker{}).Rewrite(windows); err != nil || !z.IsZero() {
		t.Errorf("zero: %v %v", z, err)
	}
}

func TestComparisonMarker(t *testing.T) {
	for _, tc := range []struct {
		c    Comparison
		want string
	}{
		{Comparison{Left: "extra", LeftVariable: true, Op: "==", Right: "cli"}, "extra == 'cli'"},
		{Comparison{Left: "it's", Op: "in", Right: "dependency_groups", RightVariable: true}, `"it's" in dependency_groups`},
		{Comparison{Left: "3.9", Op: "<=", Right: "python_version", RightVariable: true}, "'3.9' <= python_version"},
	} {
		m, err := tc.c.Marker()
		if err != nil || m.String() != tc.want {
			t.Errorf("%+v: %q %v, want %q", tc.c, m, err, tc.want)
		}
	}
	in := Comparison{Left: "dev", Op: "in", Right: "dependency_groups", RightVariable: true}
	m, _ := in.Marker()
	if !m.eval(markerCtx{env: &Env{}, groups: map[string]bool{"dev": true}}) {
		t.Error("'dev' in dependency_groups is false with dev active")
	}
	for _, bad := range []Comparison{
		{Left: "nope", LeftVariable: true, Op: "==", Right: "x"},
		{Left: "extra", LeftVariable: true, Op: "=", Right: "x"},
		{Left: "extra", LeftVariable: true, Op: "==", Right: `a'b"c`},
		{Left: "extra", LeftVariable: true, Op: "==", Right: "'x' or os_name", RightVariable: true},
	} {
		if m, err := bad.Marker(); err == nil {
			t.Errorf("%+v: accepted as %q", bad, m)
		}
	}
}

func TestMarkerSplitExtra(t *testing.T) {
	for _, tc := range []struct {
		in, extras, rest, err string
	}{
		{in: `extra == "fast"`, extras: "fast"},
		{in: `"fast" == extra`, extras: "fast"},
		{in: `python_version < "3.10" and extra == 'Some_Thing'`, extras: "some-thing", rest: "python_version < '3.10'"},
		{in: `(sys_platform == "win32") and extra == "standard"`, extras: "standard", rest: "sys_platform == 'win32'"},
		{in: `(python_version >= "3.9" and platform_system == "Windows") and extra == "timezone"`, extras: "timezone", rest: "python_version >= '3.9' and platform_system == 'Windows'"},
		{in: `(os_name == "nt" or sys_platform == "cygwin") and extra == "x"`, extras: "x", rest: "os_name == 'nt' or sys_platform == 'cygwin'"},
		{in: `extra == "a" or extra == "b"`, extras: "a b"},
		{in: `(os_name == "nt" or sys_platform == "cygwin") and python_version >= "3.8"`, rest: "(os_name == 'nt' or sys_platform == 'cygwin') and python_version >= '3.8'"},
		{in: `"x" not in platform_version`, rest: "'x' not in platform_version"},
		{in: `extra == "a" and extra == "b"`, err: "two extras"},
		{in: `extra == "a" or python_version < "3"`, err: "does not split"},
		{in: `extra != "a"`, err: "does not split"},
		{in: `(extra == "a" or extra == "b") and extra == "c"`, err: "two extras"},
	} {
		extras, rest, err := mustMarker(t, tc.in).SplitExtra()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := strings.Join(extras, " "); got != tc.extras || rest.String() != tc.rest || rest.Canonical() != tc.rest {
			t.Errorf("%s: extras %q rest %q, want %q %q", tc.in, got, rest, tc.extras, tc.rest)
		}
		if tc.rest == "" && !rest.IsZero() {
			t.Errorf("%s: rest is not the zero Marker", tc.in)
		}
	}
	if x, rest, err := (Marker{}).SplitExtra(); x != nil || !rest.IsZero() || err != nil {
		t.Error("zero Marker")
	}
}
