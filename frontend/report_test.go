package frontend

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/llb"
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
	pair, err := llb.SelectPair(s)
	if err != nil {
		t.Fatal(err)
	}
	findings := lint.Check(lint.Input{Spec: s, EndOfLife: LintEndOfLife(pair), LockStatus: lint.LockMissing})
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
	pair, _ := llb.SelectPair(s)
	res, err := requestHandler(s, src, pair, &Dependencies{}, pol, findings).Lint(context.Background())
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

// The bridge from the pair's warning gives lint what it needs to write
// today's message, word for word.
func TestLintEndOfLife(t *testing.T) {
	s, err := spec.Parse("distill.yaml", []byte("apiVersion: distill/v1\nname: a\nlanguage: python\npython: {version: \"3.11\"}\napp: {entrypoint: [python]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := llb.SelectPair(s)
	if err != nil || len(pair.Warnings) != 1 {
		t.Fatalf("pair %+v, %v", pair, err)
	}
	eol := LintEndOfLife(pair)
	want := []lint.EndOfLife{{
		Field:       spec.Field("python.version"),
		Image:       "gcr.io/distroless/python3-debian12",
		Why:         "reached end of life in April 2026 and no longer gets security updates",
		Replacement: `python.version: "3.13" (gcr.io/distroless/python3-debian13:nonroot with python:3.13-slim-trixie)`,
	}}
	if !reflect.DeepEqual(eol, want) {
		t.Errorf("got %+v\nwant %+v", eol, want)
	}
	fs := lint.Check(lint.Input{Spec: s, EndOfLife: eol})
	if len(fs) != 1 || fs[0].Message != pair.Warnings[0].Message || fs[0].Rule.URL != pair.Warnings[0].URL {
		t.Errorf("findings %+v, want the pair's warning %+v", fs, pair.Warnings[0])
	}
	if got := LintEndOfLife(llb.Pair{}); got != nil {
		t.Errorf("no warnings: %+v", got)
	}
}

func TestVerification(t *testing.T) {
	pair := llb.Pair{Builder: "b", Runtime: "r"}
	r := &llb.Report{
		Errors:   []llb.ReportProblem{{Kind: "library", Object: "x.so", Missing: []string{"libpq.so.5"}}},
		Warnings: []llb.ReportProblem{{Kind: "fallback", Module: "yaml._yaml", Package: "yaml", Error: "e"}},
	}
	want := lint.Verification{Builder: "b", Runtime: "r", User: llb.RuntimeUser,
		Errors:   []lint.Problem{{Kind: "library", Object: "x.so", Missing: []string{"libpq.so.5"}}},
		Warnings: []lint.Problem{{Kind: "fallback", Module: "yaml._yaml", Package: "yaml", Error: "e"}},
	}
	if got := verification(pair, r); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
