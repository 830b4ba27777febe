package spec

import (
	"reflect"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/linter"
)

func TestCheckDirective(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want *CheckDirective
	}{
		{"none", minimal, nil},
		{"after syntax", "# syntax=distill/frontend:v1\n# check=skip=PrivilegedPort,RootUser;error=true\n" + minimal, &CheckDirective{
			Value:   "skip=PrivilegedPort,RootUser;error=true",
			Config:  linter.Config{SkipRules: []string{"PrivilegedPort", "RootUser"}, ReturnAsError: true},
			Pos:     Position{2, 9},
			SkipPos: []Position{{2, 14}, {2, 29}},
		}},
		{"first line, spaces around =, upper case", "#  CHECK = error=true\n" + minimal, &CheckDirective{
			Value:  "error=true",
			Config: linter.Config{ReturnAsError: true},
			Pos:    Position{1, 12},
		}},
		{"skip all", "# check=skip=all\n" + minimal, &CheckDirective{
			Value: "skip=all", Config: linter.Config{SkipAll: true}, Pos: Position{1, 9},
		}},
		{"before syntax", "# check=error=false\n# syntax=distill/frontend:v1\n" + minimal, &CheckDirective{
			Value: "error=false", Pos: Position{1, 9},
		}},
		// as in a Dockerfile, directives end at the first other line
		{"after a plain comment it is a comment", "# distill spec\n# check=error=true\n" + minimal, nil},
		{"after the YAML it is a comment", minimal + "# check=error=true\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.src)
			if !reflect.DeepEqual(s.Check, tt.want) {
				t.Errorf("Check = %+v, want %+v", s.Check, tt.want)
			}
		})
	}
}

func TestCheckDirectiveInvalid(t *testing.T) {
	tests := []errCase{
		{"unknown option", "# check=skip=RootUser;eror=true\n" + minimal, []string{
			`1:23: # check=skip=RootUser;eror=true: invalid check option "eror"; e.g. # check=skip=PrivilegedPort,RootUser;error=true`,
		}},
		{"not key=value", "# syntax=x\n# check=RootUser\n" + minimal, []string{
			`2:9: # check=RootUser: invalid check option "RootUser"; e.g. # check=skip=PrivilegedPort,RootUser;error=true`,
		}},
		{"error not a boolean", "# check=error=yes\n" + minimal, []string{
			`1:9: # check=error=yes: failed to parse check option "error=yes": strconv.ParseBool: parsing "yes": invalid syntax;`,
		}},
		{"space in the value", "# check=skip=RootUser; error=true\n" + minimal, []string{
			`1:23: # check=skip=RootUser; error=true: the value must not contain spaces (BuildKit ignores everything after one);`,
		}},
		{"key twice", "# check=skip=A;skip=B\n" + minimal, []string{
			`1:16: # check=skip=A;skip=B: skip= is given twice;`,
		}},
		{"two directives", "# check=skip=RootUser\n# check=error=true\n" + minimal, []string{
			`2:1: a second # check= directive (the first is on line 1)`,
		}},
		{"directive and YAML errors together", "# check=x\n" + withApp("policy: {strict: 1}\n", ""), []string{
			`1:9: # check=x: invalid check option "x"`,
			`5:18: policy.strict must be true or false`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.src, tt.want) })
	}
}

func TestPolicySkip(t *testing.T) {
	s := mustParse(t, withApp("policy:\n  skip: [PrivilegedPort, RootUser]\n", ""))
	if !reflect.DeepEqual(s.Policy.Skip, []string{"PrivilegedPort", "RootUser"}) {
		t.Errorf("Skip = %q", s.Policy.Skip)
	}
	if pos, ok := s.Locate(Field("policy.skip").Index(1)); !ok || pos != (Position{5, 26}) {
		t.Errorf("policy.skip[1] at %v %v", pos, ok)
	}
	tests := []errCase{
		{"all", withApp("policy: {skip: [all]}\n", ""), []string{
			`4:17: policy.skip[0]: all is not a rule; to skip every rule, write the directive # check=skip=all at the top of the file`,
		}},
		{"not a rule name", withApp("policy: {skip: [root-user, \"\"]}\n", ""), []string{
			`4:17: policy.skip[0] "root-user" is not a rule name: rule names are CamelCase, e.g. PrivilegedPort (see docs/rules.md)`,
			`4:28: policy.skip[1] "" is not a rule name`,
		}},
		{"twice", withApp("policy: {skip: [RootUser, RootUser]}\n", ""), []string{
			`4:27: policy.skip[1] "RootUser" is listed twice (first at policy.skip[0])`,
		}},
		{"not a list", withApp("policy: {skip: RootUser}\n", ""), []string{
			`4:16: policy.skip must be a list, got the string "RootUser"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.src, tt.want) })
	}
}
