package lint

import (
	"reflect"
	"strings"
	"testing"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
)

// parseFile parses a whole spec file (directives included).
func parseFile(t *testing.T, src string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("distill.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", src, err)
	}
	return s
}

// arg is the BUILDKIT_DOCKERFILE_CHECK build argument as dockerui parses it.
func arg(t *testing.T, v string) *linter.Config {
	t.Helper()
	c, err := linter.ParseLintOptions(v)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewPolicy(t *testing.T) {
	const body = head + cleanApp
	tests := []struct {
		name      string
		directive string // the # check= line, if any
		policy    string // the spec's policy section, if any
		arg       string // the build argument; "-" for none
		want      Policy
	}{
		{"nothing", "", "", "-", Policy{}},
		{"directive skip and error", "# check=skip=RootUser,PrivilegedPort;error=true\n", "", "-",
			Policy{Skip: []string{"PrivilegedPort", "RootUser"}, Error: true, ErrorBy: "# check=error=true"}},
		{"directive skip=all", "# check=skip=all\n", "", "-", Policy{SkipAll: true}},
		{"build argument skip=all", "", "", "skip=all", Policy{SkipAll: true}},
		{"build argument error", "", "", "error=true", Policy{Error: true, ErrorBy: "BUILDKIT_DOCKERFILE_CHECK=error=true"}},
		// BuildKit: the build argument replaces the file's directive
		{"build argument replaces the directive", "# check=skip=RootUser;error=true\n", "", "skip=PrivilegedPort",
			Policy{Skip: []string{"PrivilegedPort"}}},
		{"empty build argument replaces the directive", "# check=skip=all;error=true\n", "", "", Policy{}},
		{"build argument names Dockerfile rules", "", "", "skip=JSONArgsRecommended;error=true",
			Policy{Skip: []string{"JSONArgsRecommended"}, Error: true, ErrorBy: "BUILDKIT_DOCKERFILE_CHECK=error=true"}},
		// policy.skip adds to whichever base, as a stage's # check= comment does
		{"policy.skip alone", "", "policy: {skip: [ShellEntrypoint]}\n", "-", Policy{Skip: []string{"ShellEntrypoint"}}},
		{"policy.skip and the directive", "# check=skip=RootUser\n", "policy: {skip: [ShellEntrypoint, RootUser]}\n", "-",
			Policy{Skip: []string{"RootUser", "ShellEntrypoint"}}},
		{"policy.skip and the build argument", "# check=skip=RootUser\n", "policy: {skip: [ShellEntrypoint]}\n", "skip=MissingLock",
			Policy{Skip: []string{"MissingLock", "ShellEntrypoint"}}},
		// policy.strict cannot be weakened
		{"policy.strict", "", "policy: {strict: true}\n", "-", Policy{Error: true, ErrorBy: "policy.strict"}},
		{"policy.strict over error=false", "# check=error=false\n", "policy: {strict: true}\n", "error=false",
			Policy{Error: true, ErrorBy: "policy.strict"}},
		{"policy.strict with skip=all", "", "policy: {strict: true}\n", "skip=all",
			Policy{SkipAll: true, Error: true, ErrorBy: "policy.strict"}},
		{"policy.strict: false does not undo the directive", "# check=error=true\n", "policy: {strict: false}\n", "-",
			Policy{Error: true, ErrorBy: "# check=error=true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseFile(t, tt.directive+body+tt.policy)
			var a *linter.Config
			if tt.arg != "-" {
				a = arg(t, tt.arg)
			}
			got, err := NewPolicy(s, a)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNewPolicyUnknownRule(t *testing.T) {
	allowed := "EndOfLifeBase, UnpinnedBase, MissingLock, StaleLock, UnpinnedRequirement, UnlockedDependencies, IgnoredDependencyFile, RequirementWithoutHash, LocalRequirement, IndexURLInRequirements, InsecureIndexURL, SecretInSpec, ShellEntrypoint, ShellInBuildCommand, PrivilegedPort, RootUser, EntrypointNotFound, PythonVersionMismatch, MissingLibrary, ImportFailure, SilentFallback"
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"policy.skip", head + cleanApp + "policy:\n  skip: [RootUser, RootUsr]\n",
			`distill.yaml:10:20: policy.skip[1] "RootUsr" is not a check rule (allowed: ` + allowed + `)`},
		{"directive", "# syntax=distill/frontend\n# check=skip=RootUser,JSONArgsRecommended;error=true\n" + head + cleanApp,
			`distill.yaml:2:23: # check=skip=RootUser,JSONArgsRecommended;error=true: "JSONArgsRecommended" is not a distill check rule (allowed: ` + allowed + `, or all)`},
		{"both, in file order", "# check=skip=Nope\n" + head + cleanApp + "policy: {skip: [Nada]}\n",
			`distill.yaml:1:14: # check=skip=Nope: "Nope" is not a distill check rule (allowed: ` + allowed + `, or all)` + "\n" +
				`distill.yaml:10:17: policy.skip[0] "Nada" is not a check rule (allowed: ` + allowed + `)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPolicy(parseFile(t, tt.src), arg(t, "skip=AlsoUnknown"))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n%v\nwant\n%s", err, tt.want)
			}
			if len(spec.AsErrors(err)) != strings.Count(tt.want, "\n")+1 {
				t.Errorf("not a spec error list: %#v", err)
			}
		})
	}
}

func TestPolicyApply(t *testing.T) {
	warn := func(r Rule) Finding { return Finding{Rule: r, Message: "m"} }
	shell, root := warn(info(&RuleShellEntrypoint)), warn(info(&RuleRootUser))
	fallback := warn(info(&RuleSilentFallback))
	missing := Finding{Rule: info(&RuleMissingLibrary), Message: "m", Error: true}
	all := []Finding{shell, root, missing, fallback}
	tests := []struct {
		name string
		p    Policy
		want []Finding
	}{
		{"nothing skipped", Policy{}, all},
		{"named rules", Policy{Skip: []string{"RootUser", "SilentFallback"}}, []Finding{shell, missing}},
		{"skip=all keeps verification errors", Policy{SkipAll: true}, []Finding{missing}},
		{"a failing verification is never skipped", Policy{Skip: []string{"MissingLibrary"}}, all},
		{"error does not drop anything", Policy{Error: true}, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Apply(all); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", names(got), names(tt.want))
			}
		})
	}
}

// Under an error policy the build fails listing every finding, one per
// line, not the first one only.
func TestPolicyErr(t *testing.T) {
	yaml := "app:\n  entrypoint: [sh, -c, \"python app.py\"]\n  ports: [80, 443]\n"
	s := parse(t, yaml)
	fs := Check(Input{Spec: s, LockStatus: LockMissing})
	if got := names(fs); !reflect.DeepEqual(got, []string{"MissingLock", "ShellEntrypoint", "PrivilegedPort", "PrivilegedPort"}) {
		t.Fatalf("findings %v", got)
	}
	p, err := NewPolicy(parseFile(t, head+yaml+"policy: {strict: true}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "policy.strict: 4 findings fail the build (policy.strict turns every warning into an error; fix them, or skip a rule with policy.skip)\n" +
		"distill.yaml: MissingLock: " + RuleMissingLock.Format() + " (" + DocsURL + "#missinglock)\n" +
		"distill.yaml:5:16: ShellEntrypoint: " + RuleShellEntrypoint.Format(spec.Path{}, "sh -c", true) + " (" + DocsURL + "#shellentrypoint)\n" +
		"distill.yaml:6:11: PrivilegedPort: " + RulePrivilegedPort.Format(spec.Field("app.ports").Index(0), 80, false) + " (" + DocsURL + "#privilegedport)\n" +
		"distill.yaml:6:15: PrivilegedPort: " + RulePrivilegedPort.Format(spec.Field("app.ports").Index(1), 443, false) + " (" + DocsURL + "#privilegedport)"
	if err := p.Err(s, p.Apply(fs)); err == nil || err.Error() != want {
		t.Errorf("Err:\n%v\nwant\n%s", err, want)
	}

	// skipped rules are not in it; one finding says so
	p.Skip = []string{"MissingLock", "PrivilegedPort"}
	p.ErrorBy = "# check=error=true"
	want = "# check=error=true: 1 finding fails the build (the spec's # check= directive turns every warning into an error; fix them, or skip a rule with # check=skip=)\n" +
		"distill.yaml:5:16: ShellEntrypoint: " + RuleShellEntrypoint.Format(spec.Path{}, "sh -c", true) + " (" + DocsURL + "#shellentrypoint)"
	if err := p.Err(s, p.Apply(fs)); err == nil || err.Error() != want {
		t.Errorf("Err:\n%v\nwant\n%s", err, want)
	}
	// not an error policy, or nothing left: no error
	if err := (Policy{}).Err(s, fs); err != nil {
		t.Errorf("warning policy: %v", err)
	}
	if err := (Policy{SkipAll: true, Error: true, ErrorBy: byBuildArg}).Err(s, nil); err != nil {
		t.Errorf("no findings: %v", err)
	}
}
