package frontend

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/inputs"
	"github.com/distill-build/distill/lang/python"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
)

const reportSpec = `# syntax=distill/frontend
apiVersion: distill/v1
name: app
language: python
app:
  entrypoint: [sh, -c, "python app.py"]
  ports: [80, 443]
`

// reportCase parses src and checks it as the frontend does, with the
// build argument arg (nil: none).
func reportCase(t *testing.T, src string, arg *linter.Config) (*spec.Spec, lint.Policy, []lint.Finding, *dockerui.Source, *[]string) {
	t.Helper()
	s, err := spec.Parse("distill.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	pol, err := lint.NewPolicy(s, arg)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := python.SelectPair(s)
	if err != nil {
		t.Fatal(err)
	}
	findings := Findings(&inputs.Inputs{Spec: s, Pair: pair, Project: noProject{}}, nil)
	var warned []string
	src0 := &dockerui.Source{
		SourceMap: bkllb.NewSourceMap(nil, "distill.yaml", "distill", []byte(src)),
		Warn: func(_ context.Context, msg string, opts client.WarnOpts) {
			line := 0
			if len(opts.Range) > 0 {
				line = int(opts.Range[0].Start.Line)
			}
			rule, _, _ := strings.Cut(msg, ":")
			_, anchor, _ := strings.Cut(opts.URL, "#")
			warned = append(warned, fmt.Sprintf("%s #%s %d", rule, anchor, line))
		},
	}
	return s, pol, findings, src0, &warned
}

func TestReportWarns(t *testing.T) {
	s, pol, findings, src, warned := reportCase(t, reportSpec+"policy: {skip: [MissingLock]}\n", nil)
	if err := report(context.Background(), pol, s, src, findings); err != nil {
		t.Fatal(err)
	}
	want := []string{"ShellEntrypoint #shellentrypoint 6", "PrivilegedPort #privilegedport 7", "PrivilegedPort #privilegedport 7"}
	if !reflect.DeepEqual(*warned, want) {
		t.Errorf("warnings %q, want %q", *warned, want)
	}
}

// Under an error policy the build fails with every finding, each on its
// own line at its spec position, and the error points at all their lines.
func TestReportStrictListsEveryFinding(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		arg       *linter.Config
		head      string
	}{
		{"policy.strict", reportSpec + "policy: {strict: true}\n", nil, "policy.strict: 4 findings fail the build"},
		{"build argument", reportSpec, &linter.Config{ReturnAsError: true}, "BUILDKIT_DOCKERFILE_CHECK=error=true: 4 findings fail the build"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, pol, findings, src, warned := reportCase(t, tt.src, tt.arg)
			err := report(context.Background(), pol, s, src, findings)
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			want := []string{tt.head, "distill.yaml: MissingLock: ", "distill.yaml:6:16: ShellEntrypoint: ", "distill.yaml:7:11: PrivilegedPort: app.ports[0] is 80", "distill.yaml:7:15: PrivilegedPort: app.ports[1] is 443"}
			ok := len(lines) == len(want)
			for i := 0; ok && i < len(want); i++ {
				ok = strings.HasPrefix(lines[i], want[i])
			}
			if !ok {
				t.Errorf("error:\n%v\nwant lines starting\n%s", err, strings.Join(want, "\n"))
			}
			if srcs := errdefs.Sources(err); len(srcs) != 1 || len(srcs[0].Ranges) != 3 {
				t.Errorf("error sources %+v, want the 3 positioned findings' lines", srcs)
			}
			if len(*warned) != 0 {
				t.Errorf("warned as well: %q", *warned)
			}
		})
	}
}

// --call=check: skipped rules are not listed; an error policy's result
// Error lists every finding, as the build's error does.
func TestLintSubrequest(t *testing.T) {
	s, pol, findings, src, _ := reportCase(t, "# check=skip=MissingLock;error=true\n"+reportSpec[strings.Index(reportSpec, "\n")+1:], nil)
	pair, _ := python.SelectPair(s)
	check := func(context.Context, bool) ([]lint.Finding, error) { return findings, nil }
	res, err := requestHandler(&inputs.Inputs{Spec: s, Pair: pair}, src, pol, check).Lint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, w := range res.Warnings {
		rules = append(rules, w.RuleName)
	}
	if !reflect.DeepEqual(rules, []string{"ShellEntrypoint", "PrivilegedPort", "PrivilegedPort"}) {
		t.Errorf("warnings %v", rules)
	}
	want := pol.Err(s, pol.Apply(findings)).Error()
	if res.Error == nil || res.Error.Message != want || len(res.Error.Location.Ranges) != 3 {
		t.Fatalf("result error %+v, want\n%s", res.Error, want)
	}
	if n := strings.Count(res.Error.Message, "\n"); n != 3 || !strings.HasPrefix(res.Error.Message, "# check=error=true: 3 findings fail the build") {
		t.Errorf("result error:\n%s", res.Error.Message)
	}
}

// The pair table's end-of-life facts give lint what it needs to write the
// message, word for word.
func TestEndOfLifeFinding(t *testing.T) {
	s, err := spec.Parse("distill.yaml", []byte("apiVersion: distill/v1\nname: a\nlanguage: python\npython: {version: \"3.11\"}\napp: {entrypoint: [python]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := python.SelectPair(s)
	if err != nil {
		t.Fatal(err)
	}
	var eol []lint.Finding
	for _, f := range Findings(&inputs.Inputs{Spec: s, Pair: pair, Project: noProject{}}, nil) {
		if f.Rule.Name == "EndOfLifeBase" {
			eol = append(eol, f)
		}
	}
	want := `gcr.io/distroless/python3-debian12 reached end of life in April 2026 and no longer gets security updates; use python.version: "3.13" (gcr.io/distroless/python3-debian13:nonroot with python:3.13-slim-trixie)`
	if len(eol) != 1 || eol[0].Message != want || eol[0].Field != spec.Field("python.version") || eol[0].Rule.URL != lint.DocsURL+"#endoflifebase" {
		t.Errorf("findings %+v, want one EndOfLifeBase at python.version:\n%s", eol, want)
	}
}

// noProject is a language project that adds nothing to the check rules.
type noProject struct{ assemble.Project }

func (noProject) Lint(*lint.Input) {}
