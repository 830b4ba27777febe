package pydeps

import "testing"

func TestParseVersionNormalizes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1.0", "1.0"},
		{"v1.0", "1.0"},
		{"1.0-alpha1", "1.0a1"},
		{"1.0.BETA.2", "1.0b2"},
		{"1.0c1", "1.0rc1"},
		{"1.0preview3", "1.0rc3"},
		{"1.0-1", "1.0.post1"},
		{"1.0.rev2", "1.0.post2"},
		{"1.0dev", "1.0.dev0"},
		{"2!1.0+Ubuntu-1", "2!1.0+ubuntu.1"},
		{"1.0.0a1.post2.dev3", "1.0.0a1.post2.dev3"},
	} {
		v, err := ParseVersion(tc.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tc.in, err)
			continue
		}
		if got := v.String(); got != tc.want {
			t.Errorf("ParseVersion(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", "1.0-", "a1", "1..0", "1.0+", "1.0+a..b", "99999999999999999999999"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

func TestVersionOrder(t *testing.T) {
	// each strictly less than the next (PEP 440 examples)
	order := []string{
		"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12",
		"1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345",
		"1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5",
		"1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1", "1!0.1",
	}
	for i := 0; i+1 < len(order); i++ {
		a, _ := ParseVersion(order[i])
		b, _ := ParseVersion(order[i+1])
		if a.Compare(b) >= 0 || b.Compare(a) <= 0 {
			t.Errorf("%s should sort before %s", order[i], order[i+1])
		}
	}
	a, _ := ParseVersion("1.0")
	b, _ := ParseVersion("1.0.0.0")
	if a.Compare(b) != 0 {
		t.Error("1.0 != 1.0.0.0")
	}
}

func TestVersionEqualAndPrerelease(t *testing.T) {
	for _, eq := range [][2]string{{"1.0", "1.0.0"}, {"1.0rc1", "1.0c1"}, {"1.0-1", "1.0.post1"}, {"1.0alpha1", "1.0a1"}, {"v2025.1.31", "2025.1.31"}} {
		a, _ := ParseVersion(eq[0])
		b, _ := ParseVersion(eq[1])
		if a.Compare(b) != 0 {
			t.Errorf("%s should equal %s", eq[0], eq[1])
		}
	}
	for _, bad := range []string{"1.0-foo", "abc"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// pip skips these unless asked (mako's and alembic's ".dev0" releases)
	for v, pre := range map[string]bool{"1.3.9.dev0": true, "1.0rc1": true, "2.0": false, "2.0.post1": false} {
		pv, _ := ParseVersion(v)
		if pv.IsPrerelease() != pre {
			t.Errorf("%s: IsPrerelease %t", v, !pre)
		}
	}
}

func TestSpecifierContains(t *testing.T) {
	for _, tc := range []struct {
		spec, version string
		want          bool
	}{
		{">=1.2,<2", "1.5", true},
		{">=1.2,<2", "2.0", false},
		{">=1.2,<2", "1.1", false},
		{"==1.2.*", "1.2.9", true},
		{"==1.2.*", "1.3", false},
		{"==1.2.*", "1.2", true},
		{"!=1.2.*", "1.2.1", false},
		{"==1.2", "1.2.0", true},
		{"==1.2", "1.2+local", true},
		{"==1.2+local", "1.2", false},
		{"~=1.4.5", "1.4.9", true},
		{"~=1.4.5", "1.5.0", false},
		{"~=1.4", "1.9", true},
		{"~=1.4", "2.0", false},
		{"<2.0", "2.0a1", false},
		{"<2.0", "1.9", true},
		{"<2.0a5", "2.0a1", true},
		{">1.7", "1.7.post1", false},
		{">1.7", "1.7.1", true},
		{">1.7.post1", "1.7.post2", true},
		{">1.7", "1.7+local", false},
		{"<=1.7", "1.7+local", true},
		{"===1.0-foo", "1.0-foo", true},
		{"===1.0", "1.0.0", false},
		{"", "3.0", true},
		{">=1!1.0", "2.0", false},
		{">=3.8", "3.13.5", true},
		{">= 3.9 , < 4.0", "3.13", true},
		// Requires-Dist of the test bed's real wheels (debwheel's closure check)
		{"<0.47.0,>=0.40.0", "0.46.1", true},
		{"<0.47.0,>=0.40.0", "0.47.0", false},
		{"!=1.8,!=1.8.1,!=2.0.0,!=2.0.1,!=2.1.0,<3.0.0,>=1.7.4", "2.10.6", true},
		{"==2.27.1", "2.27.2", false},
		{"==1.*", "1.0.7", true},
		{"==1.*", "2.0", false},
		{"~=0.1", "0.1.2", true},
		{"~=0.1", "1.0", false},
		{">=4.6.0,!=4.7.0", "4.7.0", false},
		{"<4,>=2.5", "3.10", true},
		{"<1.0", "1.0rc1", false},
		{">1.0", "1.0.post1", false},
		{"!=1.2.*", "1.3", true},
	} {
		s, err := ParseSpecifier(tc.spec)
		if err != nil {
			t.Errorf("ParseSpecifier(%q): %v", tc.spec, err)
			continue
		}
		if got := s.ContainsString(tc.version); got != tc.want {
			t.Errorf("%q contains %q = %v, want %v", tc.spec, tc.version, got, tc.want)
		}
	}
	for _, bad := range []string{"1.0", ">=", ">=1.0.*", "~=1", "~=1.*", "<1.0+local", "==1.0a1.*", ">=1,,<2", "=>1"} {
		if _, err := ParseSpecifier(bad); err == nil {
			t.Errorf("ParseSpecifier(%q) accepted", bad)
		}
	}
}

func TestPoetryConstraint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"^1.2.3", ">=1.2.3,<2"},
		{"^0.2.3", ">=0.2.3,<0.3"},
		{"^0.0.3", ">=0.0.3,<0.0.4"},
		{"^0.0", ">=0.0,<0.1"},
		{"^0", ">=0,<1"},
		{"^2", ">=2,<3"},
		{"~1.2.3", ">=1.2.3,<1.3"},
		{"~1.2", ">=1.2,<1.3"},
		{"~1", ">=1,<2"},
		{"~=1.2", "~=1.2"},
		{"*", ""},
		{"1.2.3", "==1.2.3"},
		{"1.2.*", "==1.2.*"},
		{">=1.0 <2.0", ">=1.0,<2.0"},
		{">= 1.0, < 2.0", ">=1.0,<2.0"},
	} {
		alts, err := parsePoetryConstraint(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if len(alts) != 1 || alts[0].String() != tc.want {
			t.Errorf("%q = %v, want %q", tc.in, alts, tc.want)
		}
	}
	alts, err := parsePoetryConstraint("^1.0 || ^3.0")
	if err != nil || len(alts) != 2 || alts[1].String() != ">=3.0,<4" {
		t.Errorf("union: %v %v", alts, err)
	}
	for _, bad := range []string{"^x", ">=", "^1.0 ||"} {
		if _, err := parsePoetryConstraint(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	m, err := pythonConstraintMarker("^3.9")
	if err != nil || m != `python_version >= "3.9" and python_version < "4"` {
		t.Errorf("python marker: %q %v", m, err)
	}
}
