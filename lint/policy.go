package lint

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
)

// Policy decides which findings are reported and whether they fail the
// build. It is a plain value: NewPolicy reads only its arguments, and
// Apply and Err only theirs.
type Policy struct {
	// SkipAll reports no finding (skip=all).
	SkipAll bool
	// Skip are the rules whose findings are not reported, sorted.
	Skip []string
	// Error makes every reported finding fail the build (error=true,
	// policy.strict).
	Error bool
	// ErrorBy names what set Error, for the build's message:
	// "policy.strict", "# check=error=true" or
	// "BUILDKIT_DOCKERFILE_CHECK=error=true".
	ErrorBy string
}

// Where a policy comes from, for ErrorBy.
const (
	byStrict    = "policy.strict"
	byDirective = "# check=error=true"
	byBuildArg  = "BUILDKIT_DOCKERFILE_CHECK=error=true"
)

// NewPolicy is the policy of a build of s. arg is the
// BUILDKIT_DOCKERFILE_CHECK build argument as BuildKit's dockerui parsed
// it (dockerui.Client.LinterConfig), nil when the build has none. The
// sources merge the way BuildKit merges them for a Dockerfile:
//
//  1. the base is arg when given, else the spec's "# check=" directive:
//     the build argument replaces the file's directive, it is not merged
//     with it (BuildKit's dockerfile2llb does the same);
//  2. policy.skip adds its rules to the base's skip list, as a stage's
//     "# check=skip=" comment adds to a Dockerfile's
//     (linter.Linter.WithMergedConfig);
//  3. policy.strict: true makes findings errors whatever the base says
//     (error=false cannot weaken it).
//
// Rule names in the directive and in policy.skip are checked against
// Rules: an unknown name is a spec.ErrorList at the name, listing the
// rules. Names in arg are not checked: the build argument is shared with
// Dockerfile builds, whose rules distill does not have, and an unknown
// name there skips nothing.
func NewPolicy(s *spec.Spec, arg *linter.Config) (Policy, error) {
	if err := checkRuleNames(s); err != nil {
		return Policy{}, err
	}
	base, by := &linter.Config{}, ""
	switch {
	case arg != nil:
		base, by = arg, byBuildArg
	case s.Check != nil:
		c := s.Check.Config
		base, by = &c, byDirective
	}
	l := linter.New(base).WithMergedConfig(&linter.Config{SkipRules: s.Policy.Skip})
	p := Policy{SkipAll: l.SkipAll, Error: l.ReturnAsError}
	for name := range l.SkippedRules {
		p.Skip = append(p.Skip, name)
	}
	slices.Sort(p.Skip)
	if p.Error {
		p.ErrorBy = by
	}
	if s.Policy.Strict {
		p.Error, p.ErrorBy = true, byStrict
	}
	return p, nil
}

// checkRuleNames reports the names in the directive's skip list and in
// policy.skip that are not rules, at each name. The spec package checks
// their form; only this package knows the rules.
func checkRuleNames(s *spec.Spec) error {
	var errs spec.ErrorList
	allowed := func() string {
		names := make([]string, len(Rules))
		for i, r := range Rules {
			names[i] = r.Name
		}
		return strings.Join(names, ", ")
	}
	if d := s.Check; d != nil {
		for i, name := range d.Config.SkipRules {
			if _, ok := Lookup(name); ok {
				continue
			}
			var pos spec.Position
			if i < len(d.SkipPos) {
				pos = d.SkipPos[i]
			}
			errs = append(errs, &spec.Error{File: s.File, Line: pos.Line, Column: pos.Column,
				Msg: fmt.Sprintf("# check=%s: %q is not a distill check rule (allowed: %s, or all)", d.Value, name, allowed())})
		}
	}
	for i, name := range s.Policy.Skip {
		if _, ok := Lookup(name); !ok {
			errs = append(errs, s.Errorf(spec.Field("policy.skip").Index(i), "policy.skip[%d] %q is not a check rule (allowed: %s)", i, name, allowed()))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// skips reports whether the policy leaves rule's findings out.
func (p Policy) skips(rule string) bool {
	return p.SkipAll || slices.Contains(p.Skip, rule)
}

// Apply returns the findings to report, in order: those of skipped rules
// are left out, except a finding that fails the build whatever the policy
// says (Finding.Error: the start-up verification under policy.verify:
// error). Skipping silences warnings; it never lets a failing
// verification pass (policy.verify: warn or off does that, in the spec).
func (p Policy) Apply(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Error || !p.skips(f.Rule.Name) {
			out = append(out, f)
		}
	}
	return out
}

// Err is the build's error when the policy makes findings errors: one
// error listing every finding of fs (the reported ones, see Apply), each
// on its own line as FILE:LINE:COL: Rule: message (its rule's link),
// after a line saying what made them errors. Nil when the policy does not
// (p.Error is false) or fs is empty. Verification errors (Finding.Error)
// are the caller's to report, with what the verification says.
func (p Policy) Err(s *spec.Spec, fs []Finding) error {
	if !p.Error || len(fs) == 0 {
		return nil
	}
	var b strings.Builder
	n := "1 finding fails"
	if len(fs) > 1 {
		n = fmt.Sprintf("%d findings fail", len(fs))
	}
	fmt.Fprintf(&b, "%s: %s the build (%s)", p.ErrorBy, n, errorHelp(p.ErrorBy))
	for _, f := range fs {
		b.WriteString("\n" + f.Text(s, "") + " (" + f.Rule.URL + ")")
	}
	return errors.New(b.String())
}

// errorHelp says how to turn an error policy off, by where it came from.
func errorHelp(by string) string {
	switch by {
	case byStrict:
		return "policy.strict turns every warning into an error; fix them, or skip a rule with policy.skip"
	case byDirective:
		return "the spec's # check= directive turns every warning into an error; fix them, or skip a rule with # check=skip="
	}
	return "the build argument turns every warning into an error; fix them, or skip a rule with BUILDKIT_DOCKERFILE_CHECK=skip="
}
