package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/distill-build/distill/pydeps"
)

func TestEggRequires(t *testing.T) {
	tests := []struct {
		name, in     string
		reqs, extras []string
	}{{
		name: "unconditional, marker-only, extra, extra with marker",
		in:   "a>=1\nb\n\n[:python_version < \"3.8\"]\nc\n\n[Speed_Ups]\nd\n\n[speed-ups:sys_platform == \"win32\"]\ne; os_name == \"nt\"\n",
		reqs: []string{"a>=1", "b", `c; python_version < "3.8"`, `d; extra == "speed-ups"`,
			`e; (os_name == "nt") and (sys_platform == "win32") and extra == "speed-ups"`},
		extras: []string{"speed-ups"},
	}, {
		name:   "an empty extra section still provides the extra (pillow's [typing])",
		in:     "[typing]\n\n[typing:python_version < \"3.10\"]\ntyping-extensions\n",
		reqs:   []string{`typing-extensions; (python_version < "3.10") and extra == "typing"`},
		extras: []string{"typing"},
	}, {
		name: "sqlalchemy's long marker section",
		in:   "[:python_version < \"3.14\" and (platform_machine == \"aarch64\" or platform_machine == \"x86_64\")]\ngreenlet>=1\n",
		reqs: []string{`greenlet>=1; python_version < "3.14" and (platform_machine == "aarch64" or platform_machine == "x86_64")`},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reqs, extras, err := eggRequires(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(reqs, tc.reqs) || !reflect.DeepEqual(extras, tc.extras) {
				t.Errorf("got\n  %q\n  %q\nwant\n  %q\n  %q", reqs, extras, tc.reqs, tc.extras)
			}
			for _, r := range reqs { // and every result is a valid requirement
				if _, err := pydeps.ParseRequirement(r); err != nil {
					t.Errorf("%s: %v", r, err)
				}
			}
		})
	}
	if _, _, err := eggRequires("[x]\n>=broken\n"); err == nil {
		t.Error("a broken line was accepted")
	}
}

func TestReleaseVersion(t *testing.T) {
	tests := []struct {
		meta, deb, want string
		changed         bool
	}{
		{"1.3.9.dev0", "1.3.9-1", "1.3.9", true},            // mako
		{"1.13.2.dev0", "1.13.2-4", "1.13.2", true},         // alembic
		{"1.13.2.dev0", "1:1.13.2+ds-4", "1.13.2", true},    // epoch and repack suffix
		{"2.0.dev3", "2.0~dev3-1", "2.0.dev3", false},       // Debian says pre-release too
		{"2.0.dev3", "1.9-1", "2.0.dev3", false},            // not the version Debian packaged
		{"8.1.8", "8.2.0+0.really.8.1.8-1", "8.1.8", false}, // click: METADATA wins, untouched
		{"4.2.30", "3:4.2.30-0+deb13u1", "4.2.30", false},
	}
	for _, tc := range tests {
		got, changed := releaseVersion(tc.meta, tc.deb)
		if got != tc.want || changed != tc.changed {
			t.Errorf("releaseVersion(%s, %s) = %s %t, want %s %t", tc.meta, tc.deb, got, changed, tc.want, tc.changed)
		}
	}
}

func TestMetadataEdit(t *testing.T) {
	in := "Metadata-Version: 2.1\nName: x\nVersion: 1.0.dev0\nLicense: line one\n        line two\nRequires-Dist: a @ https://example.invalid/a.zip ; extra == \"e\"\nRequires-Dist: b\n\nBody\n\nmore body\n"
	m := parseMetadata(in)
	if m.String() != in {
		t.Fatalf("round trip changed the text:\n%s", m.String())
	}
	if m.get("license") != "line one\n        line two" {
		t.Errorf("continuation: %q", m.get("License"))
	}
	m.set("Version", "1.0")
	if _, err := m.plainRequirements(); err != nil {
		t.Fatal(err)
	}
	m.add("Requires-Dist", "c")
	m.needVersion("2.1")
	m.needVersion("1.2") // never lowers
	want := "Metadata-Version: 2.1\nName: x\nVersion: 1.0\nLicense: line one\n        line two\nRequires-Dist: a; extra == \"e\"\nRequires-Dist: b\nRequires-Dist: c\n\nBody\n\nmore body\n"
	if m.String() != want {
		t.Errorf("got\n%s\nwant\n%s", m.String(), want)
	}
	old := parseMetadata("Metadata-Version: 1.1\nName: y\n")
	old.needVersion("2.1")
	if !strings.HasPrefix(old.String(), "Metadata-Version: 2.1\n") {
		t.Errorf("not raised: %s", old.String())
	}
}

func TestParseList(t *testing.T) {
	in := `# comment
flask   python3-flask   # trailing comment
django  python3-django  fill=libjs-jquery,libjs-x
flit-core flit top=flit_core
cryptography python3-cryptography requires='cffi>=1.12; platform_python_implementation != "PyPy"'
pycparser python3-pycparser drop=ast.pickle

`
	specs, err := parseList(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []spec{
		{Name: "cryptography", Packages: []string{"python3-cryptography"}, Requires: []string{`cffi>=1.12; platform_python_implementation != "PyPy"`}, Line: 5},
		{Name: "django", Packages: []string{"python3-django"}, Fill: []string{"libjs-jquery", "libjs-x"}, Line: 3},
		{Name: "flask", Packages: []string{"python3-flask"}, Line: 2},
		{Name: "flit-core", Packages: []string{"flit"}, Top: []string{"flit_core"}, Line: 4},
		{Name: "pycparser", Packages: []string{"python3-pycparser"}, Drop: []string{"ast.pickle"}, Line: 6},
	}
	if !reflect.DeepEqual(specs, want) {
		t.Errorf("got  %+v\nwant %+v", specs, want)
	}
	if specs[1].canonical() == (spec{Name: "django", Packages: []string{"python3-django"}}).canonical() {
		t.Error("options are not part of the canonical form")
	}
	for _, bad := range []string{
		"flask",                       // no package
		"flask python3-flask bogus=1", // unknown option
		"flask python3-flask fill=",   // empty value
		"flask -o",                    // not a package name
		"flask python3-flask\nFlask python3-flask2", // duplicate (normalized)
		"x python3-x requires='>=1'",                // invalid requirement
		"x python3-x requires='a",                   // unterminated quote
		"-x python3-x",                              // not a distribution name
	} {
		if _, err := parseList(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
