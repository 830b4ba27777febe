package main

import (
	"strings"
	"testing"

	"github.com/distill-build/distill/pydeps"
)

func TestCheckClosure(t *testing.T) {
	d := func(name, version string, lines ...string) dist {
		m := parseMetadata("Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n" + strings.Join(lines, "\n") + "\n")
		return distFromMetadata(m)
	}
	base := []dist{
		d("Flask", "3.1.1", "Requires-Dist: click>=8.1.3", "Requires-Dist: importlib-metadata>=3.6.0; python_version < '3.10'",
			"Requires-Dist: asgiref>=3.2 ; extra == \"async\"", "Provides-Extra: async"),
		d("click", "8.1.8", "Requires-Dist: colorama; platform_system == 'Windows'"),
		d("uvicorn", "0.32.0", "Requires-Dist: h11>=0.8", "Provides-Extra: standard", "Requires-Dist: httptools>=0.5.0; extra == 'standard'"),
		d("h11", "0.14.0"),
	}
	tests := []struct {
		name  string
		extra []dist
		want  []string // problem substrings; none = closed
	}{
		{name: "closed: markers for other platforms and extras are not followed"},
		{name: "a missing dependency", extra: []dist{d("gunicorn", "23.0.0", "Requires-Dist: packaging")},
			want: []string{"gunicorn -> packaging: packaging is not in the set"}},
		{name: "a version out of range", extra: []dist{d("fastapi", "0.115.11", "Requires-Dist: starlette<0.47.0,>=0.40.0"), d("starlette", "0.47.1")},
			want: []string{"fastapi -> starlette<0.47.0,>=0.40.0: the set has starlette 0.47.1"}},
		{name: "extras requested by a dependency are followed", extra: []dist{d("app", "1", "Requires-Dist: uvicorn[standard]")},
			want: []string{"app -> uvicorn -> httptools>=0.5.0; extra == 'standard': httptools is not in the set"}},
		{name: "an extra the dependency does not provide", extra: []dist{d("app", "1", "Requires-Dist: h11[fast]")},
			want: []string{`app -> h11: h11 has no extra "fast"`}},
		{name: "a pre-release in the set", extra: []dist{d("mako", "1.3.9.dev0")},
			want: []string{"mako 1.3.9.dev0 is a pre-release"}},
		{name: "dependency names compare normalized", extra: []dist{d("app", "1", "Requires-Dist: H11 (>=0.8)", "Requires-Dist: Flask[Async]"), d("asgiref", "3.8.1")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]dist{}
			for _, x := range append(append([]dist(nil), base...), tc.extra...) {
				set[x.Name] = x
			}
			got := checkClosure(set)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q, want it to contain %q", got[i], w)
				}
			}
		})
	}
}

func TestMarkerHolds(t *testing.T) {
	tests := []struct {
		marker string
		extras []string
		want   bool
	}{
		{`python_version < "3.8"`, nil, false},
		{`python_version < '3.14'`, nil, true},
		{`python_version >= "3.9" and platform_system == "Windows"`, nil, false},
		{`sys_platform == "win32"`, nil, false},
		{`sys_platform != "win32"`, nil, true},
		{`platform_python_implementation != "PyPy"`, nil, true},
		{`implementation_name != "pypy" and extra == "c"`, nil, false},
		{`implementation_name != "pypy" and extra == "c"`, []string{"c"}, true},
		{`extra == 'html-clean'`, []string{"html_clean"}, true},      // PEP 685 normalization
		{`extra == "a" and extra == "b"`, []string{"a", "b"}, false}, // one extra at a time, as pip
		{`(platform_machine == "aarch64" or (platform_machine == "x86_64" or platform_machine == "amd64")) and python_version < "3.14"`, nil, true},
		{`(sys_platform != 'win32' and (sys_platform != 'cygwin' and platform_python_implementation != 'PyPy')) and extra == 'standard'`, nil, false},
		{`"linux" in sys_platform`, nil, true},
		{`"win" not in sys_platform`, nil, true},
		{`python_full_version >= "3.13.1"`, nil, true},
	}
	for _, tc := range tests {
		m, err := pydeps.ParseMarker(tc.marker)
		if err != nil {
			t.Fatalf("%s: %v", tc.marker, err)
		}
		if got := markerHolds(m, tc.extras); got != tc.want {
			t.Errorf("%s (extras %q): %t, want %t", tc.marker, tc.extras, got, tc.want)
		}
	}
	if !markerHolds(pydeps.Marker{}, nil) {
		t.Error("no marker does not hold")
	}
}
