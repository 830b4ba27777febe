package main

import (
	"strings"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	// each version sorts strictly before the next (PEP 440's example order)
	order := []string{"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
		"1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0.post456.dev34",
		"1.0.post456", "1.0.15", "1.1.dev1", "2!0.1"}
	for i := 0; i+1 < len(order); i++ {
		a, err := parseVersion(order[i])
		if err != nil {
			t.Fatal(err)
		}
		b, err := parseVersion(order[i+1])
		if err != nil {
			t.Fatal(err)
		}
		if compareVersions(a, b) >= 0 || compareVersions(b, a) <= 0 {
			t.Errorf("%s should sort before %s", order[i], order[i+1])
		}
	}
	for _, eq := range [][2]string{{"1.0", "1.0.0"}, {"1.0rc1", "1.0c1"}, {"1.0-1", "1.0.post1"}, {"1.0alpha1", "1.0a1"}, {"v2025.1.31", "2025.1.31"}} {
		a, _ := parseVersion(eq[0])
		b, _ := parseVersion(eq[1])
		if compareVersions(a, b) != 0 {
			t.Errorf("%s should equal %s", eq[0], eq[1])
		}
	}
	for _, bad := range []string{"", "1.0-foo", "abc", "1..0"} {
		if _, err := parseVersion(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	for v, pre := range map[string]bool{"1.3.9.dev0": true, "1.0rc1": true, "2.0": false, "2.0.post1": false} {
		pv, _ := parseVersion(v)
		if pv.isPre() != pre {
			t.Errorf("%s: isPre %t", v, !pre)
		}
	}
}

func TestSatisfies(t *testing.T) {
	tests := []struct {
		v, spec string
		want    bool
	}{
		{"0.46.1", "<0.47.0,>=0.40.0", true},
		{"0.47.0", "<0.47.0,>=0.40.0", false},
		{"2.10.6", "!=1.8,!=1.8.1,!=2.0.0,!=2.0.1,!=2.1.0,<3.0.0,>=1.7.4", true},
		{"2.27.2", "==2.27.2", true},
		{"2.27.2", "==2.27.1", false},
		{"1.0.7", "==1.*", true},
		{"2.0", "==1.*", false},
		{"8.1.8", "==8.*", true},
		{"0.1.2", "~=0.1", true},
		{"1.0", "~=0.1", false},
		{"1.4.5", "~=1.4.2", true},
		{"1.5.0", "~=1.4.2", false},
		{"4.13.2", ">=4.6.0,!=4.7.0", true},
		{"4.7.0", ">=4.6.0,!=4.7.0", false},
		{"3.10", "<4,>=2.5", true},
		{"1.0rc1", "<1.0", false}, // <V excludes V's pre-releases
		{"1.0.post1", ">1.0", false},
		{"1.0.1", ">1.0", true},
		{"1.0+local", "==1.0", true},
		{"1.2.3", "!=1.2.*", false},
		{"1.3", "!=1.2.*", true},
		{"0.14.0", "<0.15,>=0.13", true},
	}
	for _, tc := range tests {
		v, err := parseVersion(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := satisfies(v, tc.spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		if got != tc.want {
			t.Errorf("%s in %q: %t, want %t", tc.v, tc.spec, got, tc.want)
		}
	}
	if _, err := satisfies(version{}, "~=1"); err == nil {
		t.Error("~=1 accepted")
	}
}

func TestMarkers(t *testing.T) {
	tests := []struct {
		marker, extra string
		want          bool
	}{
		{`python_version < "3.8"`, "", false},
		{`python_version < '3.14'`, "", true},
		{`python_version >= "3.9" and platform_system == "Windows"`, "", false},
		{`sys_platform == "win32"`, "", false},
		{`sys_platform != "win32"`, "", true},
		{`platform_python_implementation != "PyPy"`, "", true},
		{`implementation_name != "pypy" and extra == "c"`, "", false},
		{`implementation_name != "pypy" and extra == "c"`, "c", true},
		{`extra == 'html-clean'`, "html_clean", true}, // PEP 685 normalization
		{`(platform_machine == "aarch64" or (platform_machine == "x86_64" or platform_machine == "amd64")) and python_version < "3.14"`, "", true},
		{`(sys_platform != 'win32' and (sys_platform != 'cygwin' and platform_python_implementation != 'PyPy')) and extra == 'standard'`, "", false},
		{`"linux" in sys_platform`, "", true},
		{`"win" not in sys_platform`, "", true},
		{`python_full_version >= "3.13.1"`, "", true},
	}
	for _, tc := range tests {
		m, err := parseMarker(tc.marker)
		if err != nil {
			t.Fatalf("%s: %v", tc.marker, err)
		}
		if got := m.eval(tc.extra); got != tc.want {
			t.Errorf("%s (extra %q): %t, want %t", tc.marker, tc.extra, got, tc.want)
		}
	}
	for _, bad := range []string{`python_version <`, `foo == "1"`, `(python_version < "3"`, `python_version "3"`} {
		if _, err := parseMarker(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseRequirement(t *testing.T) {
	tests := []struct {
		in, name, spec, url, marker, out string
		extras                           []string
	}{
		{in: "click>=8.1.3", name: "click", spec: ">=8.1.3", out: "click>=8.1.3"},
		{in: "typing-extensions >=4 ; python_version < \"3.11\"", name: "typing-extensions", spec: ">=4", marker: `python_version < "3.11"`,
			out: `typing-extensions>=4; python_version < "3.11"`},
		{in: "fastapi-cli[standard]>=0.0.5; extra == \"standard\"", name: "fastapi-cli", extras: []string{"standard"}, spec: ">=0.0.5", marker: `extra == "standard"`,
			out: `fastapi-cli[standard]>=0.0.5; extra == "standard"`},
		{in: "mdit-py-plugins @ git+https://example.invalid/m.git@master ; extra == \"rtd\"", name: "mdit-py-plugins", url: "git+https://example.invalid/m.git@master", marker: `extra == "rtd"`,
			out: `mdit-py-plugins @ git+https://example.invalid/m.git@master ; extra == "rtd"`},
		{in: "foo (>=1.0, <2)", name: "foo", spec: ">=1.0,<2", out: "foo>=1.0,<2"},
		{in: "backports.zoneinfo", name: "backports.zoneinfo", out: "backports.zoneinfo"},
	}
	for _, tc := range tests {
		r, err := parseRequirement(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if r.Name != tc.name || r.Spec != tc.spec || r.URL != tc.url || r.Marker != tc.marker || strings.Join(r.Extras, ",") != strings.Join(tc.extras, ",") {
			t.Errorf("%s: %+v", tc.in, r)
		}
		if r.String() != tc.out {
			t.Errorf("%s: String() = %q, want %q", tc.in, r.String(), tc.out)
		}
	}
	for _, bad := range []string{"", ">=1", "foo[bar", "foo >=x", "foo; bogus == 1", "foo @ http://x junk"} {
		if _, err := parseRequirement(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string][2]string{
		"Flask": {"flask", "flask"}, "typing_extensions": {"typing-extensions", "typing_extensions"},
		"flit-core": {"flit-core", "flit_core"}, "zope.interface": {"zope-interface", "zope_interface"}, "A__b-.c": {"a-b-c", "a_b_c"},
	} {
		if normalize(in) != want[0] || escapeName(in) != want[1] {
			t.Errorf("%s: %s %s, want %v", in, normalize(in), escapeName(in), want)
		}
	}
}
