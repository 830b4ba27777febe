package pydeps

import "testing"

func TestEnvFor(t *testing.T) {
	e := EnvFor("3.13.5", "arm64")
	if e.PlatformMachine != "aarch64" || e.PythonVersion != "3.13" || e.SysPlatform != "linux" || e.ImplementationName != "cpython" {
		t.Errorf("EnvFor = %+v", e)
	}
	if got := EnvFor("3.12.1", "amd64").String(); got != "CPython 3.12 linux/x86_64" {
		t.Errorf("String = %q", got)
	}
}

func TestMarkerEval(t *testing.T) {
	env := EnvFor("3.13.5", "amd64")
	for _, tc := range []struct {
		marker string
		extras []string
		want   bool
	}{
		{`sys_platform == "win32"`, nil, false},
		{`sys_platform == 'linux'`, nil, true},
		{`sys_platform != "darwin" and platform_machine == "x86_64"`, nil, true},
		{`platform_system == "Windows" or os_name == "nt"`, nil, false},
		{`python_version < "3.11"`, nil, false},
		{`python_version >= "3.9"`, nil, true},
		{`python_version > "3.13"`, nil, false},
		{`python_full_version >= "3.13.1"`, nil, true},
		{`python_full_version < "3.13.0rc1"`, nil, false},
		{`python_version == "3.13.*"`, nil, true},
		{`'3.8' < python_version`, nil, true},
		{`python_version ~= "3.10"`, nil, true},
		{`(sys_platform == "win32" or sys_platform == "linux") and implementation_name == "cpython"`, nil, true},
		{`platform_python_implementation != 'PyPy' and (sys_platform == "darwin" or sys_platform == "cygwin")`, nil, false},
		{`"linux" in sys_platform`, nil, true},
		{`"win" not in sys_platform`, nil, true},
		{`extra == "socks"`, nil, false},
		{`extra == "Socks_Proxy"`, []string{"socks-proxy"}, true},
		{`extra != "x"`, nil, true},
		{`'dev' in extras`, []string{"dev"}, true},
		{`'dev' not in extras`, []string{"dev"}, false},
		{`os.name == "posix"`, nil, true},
		{`platform_machine == "aarch64" or platform_machine == "arm64"`, nil, false},
		{`platform_release >= "5"`, nil, false},
	} {
		m, err := ParseMarker(tc.marker)
		if err != nil {
			t.Errorf("ParseMarker(%q): %v", tc.marker, err)
			continue
		}
		if got := m.Eval(env, tc.extras...); got != tc.want {
			t.Errorf("%q = %v, want %v", tc.marker, got, tc.want)
		}
	}
	groups := markerCtx{env: &env, groups: map[string]bool{"dev": true}}
	m, _ := ParseMarker(`"dev" in dependency_groups`)
	if !m.eval(groups) {
		t.Error("dependency_groups")
	}
}

func TestMarkerErrors(t *testing.T) {
	for _, bad := range []string{
		``, `sys_platform`, `sys_platform ==`, `sys_platform == "linux`, `foo == "bar"`,
		`sys_platform == "linux" and`, `(sys_platform == "linux"`, `sys_platform = "linux"`,
		`extras == "x"`, `python_version ~= "3"`, `sys_platform == "linux" junk`,
		`((((((((((((((((((((((((((((((((((sys_platform == "linux"))))))))))))))))))))))))))))))))))`,
	} {
		if _, err := ParseMarker(bad); err == nil {
			t.Errorf("ParseMarker(%q) accepted", bad)
		}
	}
}

func TestParseRequirement(t *testing.T) {
	for _, tc := range []struct {
		in, name, spec, url, marker string
		extras                      int
	}{
		{"requests>=2.31", "requests", ">=2.31", "", "", 0},
		{"uvicorn[standard] >=0.30, <1 ; python_version >= '3.9'", "uvicorn", ">=0.30,<1", "", "python_version >= '3.9'", 1},
		{"gunicorn (>=20.0)", "gunicorn", ">=20.0", "", "", 0},
		{"pkg @ https://example.com/pkg-1.0.tar.gz ; sys_platform == 'linux'", "pkg", "", "https://example.com/pkg-1.0.tar.gz", "sys_platform == 'linux'", 0},
		{"Zope.Interface", "Zope.Interface", "", "", "", 0},
	} {
		r, err := ParseRequirement(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if r.Name != tc.name || r.Specifier.String() != tc.spec || r.URL != tc.url || r.Marker.String() != tc.marker || len(r.Extras) != tc.extras {
			t.Errorf("%q = %+v", tc.in, r)
		}
	}
	for _, bad := range []string{"", ">=1", "pkg[", "pkg >=", "pkg ; ", "pkg @ ", "pkg (>=1", "pkg ; foo == 1", "-pkg"} {
		if _, err := ParseRequirement(bad); err == nil {
			t.Errorf("ParseRequirement(%q) accepted", bad)
		}
	}
	if NormalizeName("Foo.Bar__baz-") != "foo-bar-baz" || NormalizeName("A--B") != "a-b" {
		t.Error("NormalizeName")
	}
}

// TestRequirementString: what String writes is what debwheel puts in a
// repacked wheel's METADATA when it rewrites a requirement.
func TestRequirementString(t *testing.T) {
	for in, want := range map[string]string{
		"click>=8.1.3": "click>=8.1.3",
		`typing-extensions >=4 ; python_version < "3.11"`:                             `typing-extensions>=4; python_version < "3.11"`,
		`fastapi-cli[standard]>=0.0.5; extra == "standard"`:                           `fastapi-cli[standard]>=0.0.5; extra == "standard"`,
		`mdit-py-plugins @ git+https://example.invalid/m.git@master ; extra == "rtd"`: `mdit-py-plugins @ git+https://example.invalid/m.git@master ; extra == "rtd"`,
		"foo (>=1.0, <2)":    "foo>=1.0,<2",
		"backports.zoneinfo": "backports.zoneinfo",
		"a[x, y] == 1.*":     "a[x,y]==1.*",
	} {
		r, err := ParseRequirement(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if r.String() != want {
			t.Errorf("%s: String() = %q, want %q", in, r.String(), want)
		}
	}
	for _, bad := range []string{"foo[bar", "foo >=x", "foo; bogus == 1", "foo @ http://x junk"} {
		if _, err := ParseRequirement(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
