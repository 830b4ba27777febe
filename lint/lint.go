// Package lint holds distill's check rules: data, not code paths. Each rule
// is a BuildKit linter.LinterRule (rules.go): a name, a one-line
// description, a link to its section in docs/rules.md and the Format
// function that writes its messages, paired with one small check function
// in a single table. The frontend runs Check for `--call=check` and before
// every build; a Policy (the # check= directive, the
// BUILDKIT_DOCKERFILE_CHECK build argument, policy.skip and policy.strict)
// decides which findings are reported and whether they fail the build;
// `distill validate` prints the same list.
//
// Check is a pure function of its Input: it reads no files, asks no
// registry and never echoes a value that might be a secret. The package
// does not know how images are built (it does not import package llb):
// what it needs of the pair and of the start-up verification comes in as
// plain data (EndOfLife, Verification).
package lint

import (
	"sort"
	"strings"

	"github.com/distill-build/distill/spec"
)

// DocsURL is where the rules are documented; each rule's URL is this plus
// "#" and its lowercase name (GitHub's anchor for the rule's heading).
const DocsURL = "https://github.com/distill-build/distill/blob/main/docs/rules.md"

// Rule is one check, as the user sees it.
type Rule struct {
	Name        string // stable identifier, CamelCase, e.g. "InsecureIndexURL"
	Description string // one line: what the rule catches
	URL         string // DocsURL#<lowercase name>
}

// Finding is one problem found in a spec or what it builds on.
type Finding struct {
	Rule    Rule
	Message string // one sentence, specific: names the value/field and the fix
	// Field is the spec field the finding concerns; the zero Path when it
	// concerns none (the lock). Locate it with Spec.Locate: a field the
	// file does not write is located at its nearest written section.
	Field spec.Path
	// Error marks a finding that fails the build whatever the policy says
	// (the start-up verification's, under policy.verify: error).
	Error bool
}

// Text is the finding as one line, FILE:LINE:COL: Rule: message, located
// at its field (FILE: Rule: message when it has no position), with
// severity ("warning", "error") before the rule when given. It is how the
// build's error and `distill validate` write findings.
func (f Finding) Text(s *spec.Spec, severity string) string {
	msg := f.Rule.Name + ": " + f.Message
	if severity != "" {
		msg = severity + ": " + msg
	}
	pos, _ := s.Locate(f.Field)
	return spec.FormatAt(s.File, pos, msg)
}

// LockStatus values for Input.LockStatus.
const (
	LockUnchecked = ""        // no lock check was made
	LockOK        = "ok"      // distill.lock exists and matches the registry: the bases are pinned by it
	LockMissing   = "missing" // a lock is expected but there is no distill.lock
	LockStale     = "stale"   // a locked digest differs from what the registry now serves
)

// Input is everything the rules look at.
type Input struct {
	Spec *spec.Spec
	// EndOfLife are the end-of-life images of the base pair the spec's
	// python.version selects, from the pair table. EndOfLifeBase reports
	// each, unless the spec overrides base.runtime (then the user chose
	// and maintains the runtime).
	EndOfLife []EndOfLife
	// Dependencies is the dependency source the build uses.
	Dependencies Dependencies
	// LockStatus is filled by the caller when a distill.lock exists or is
	// expected: LockUnchecked, LockOK, LockMissing or LockStale.
	LockStatus string
	// LockDetail says what is stale, e.g. "runtime gcr.io/...: locked
	// sha256:aaa, registry has sha256:bbb".
	LockDetail string
}

// EndOfLife is a base image that no longer gets security updates. The
// finding reads "<Image> <Why>; use <Replacement>".
type EndOfLife struct {
	// Field is the spec field that selects the image: python.version.
	Field spec.Path
	// Image names the image, e.g. "gcr.io/distroless/python3-debian12".
	Image string
	// Why completes a sentence about Image: "reached end of life in April
	// 2026 and no longer gets security updates".
	Why string
	// Replacement is what to use instead: `python.version: "3.13"
	// (gcr.io/distroless/python3-debian13:nonroot with python:3.13-slim-trixie)`.
	Replacement string
}

// Dependencies is what the rules see of the dependency source.
type Dependencies struct {
	// Kind is "requirements", "pyproject", "uv.lock", "poetry.lock",
	// "pylock.toml", or "" when the app has no dependencies.
	Kind string
	// Path is the source file, relative to the context.
	Path string
	// Field is the spec field that named it, as Python.DependencyFile
	// returns it ("" when detected).
	Field spec.Path
	// Requirements is the content of a requirements file (nil otherwise).
	Requirements []byte
	// Present are the dependency files at the context root: uv.lock,
	// poetry.lock, pylock.toml, requirements.txt, and pyproject.toml when
	// it declares dependencies or a project.
	Present []string
}

// ruleDef pairs a rule with its check. check calls add once per finding.
type ruleDef struct {
	Rule
	check func(c *checker)
}

// Rules is every rule, in docs order.
var Rules = func() []Rule {
	out := make([]Rule, len(table))
	for i, d := range table {
		out[i] = d.Rule
	}
	return out
}()

// Lookup returns the rule named name.
func Lookup(name string) (Rule, bool) {
	for _, r := range Rules {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// checker is the state one Check run shares between the rule checks.
type checker struct {
	in   Input
	s    *spec.Spec
	req  []reqLine // parsed requirements, nil when none
	rule Rule
	out  []Finding
}

// add records a finding of the rule being checked; msg comes from that
// rule's Format.
func (c *checker) add(field spec.Path, msg string) {
	c.out = append(c.out, Finding{Rule: c.rule, Message: msg, Field: field})
}

// reqField is the field requirement findings point at: python.requirements
// or python.dependencies when the spec names the file, else none (the
// default file).
func (c *checker) reqField() spec.Path { return c.in.Dependencies.Field }

// reqName is how messages name the requirements file.
func (c *checker) reqName() string {
	if c.in.Dependencies.Path != "" {
		return c.in.Dependencies.Path
	}
	return spec.DefaultRequirements
}

// Check runs every rule. Findings are ordered by rule (the order of Rules),
// then by the position of their field in the spec (findings without a
// position first), then in the order the rule found them.
func Check(in Input) []Finding {
	if in.Spec == nil {
		return nil
	}
	c := &checker{in: in, s: in.Spec}
	if in.Dependencies.Requirements != nil {
		c.req = parseRequirements(in.Dependencies.Requirements)
	}
	order := map[string]int{}
	for i, d := range table {
		order[d.Name] = i
		if d.check == nil {
			continue
		}
		c.rule = d.Rule
		d.check(c)
	}
	pos := func(f Finding) (int, int) {
		p, _ := in.Spec.Locate(f.Field)
		return p.Line, p.Column
	}
	sort.SliceStable(c.out, func(i, j int) bool {
		a, b := c.out[i], c.out[j]
		if oa, ob := order[a.Rule.Name], order[b.Rule.Name]; oa != ob {
			return oa < ob
		}
		la, ca := pos(a)
		lb, cb := pos(b)
		if la != lb {
			return la < lb
		}
		return ca < cb
	})
	return capPerRule(c.out)
}

// maxPerRule bounds the findings one rule reports: a 500-line unpinned
// requirements file needs one fix (compile it), not 500 warnings.
const maxPerRule = 20

// capPerRule keeps the first maxPerRule-1 findings of each rule (the list is
// sorted, so these are the first in the file) and replaces the rest with one
// finding that counts them.
func capPerRule(fs []Finding) []Finding {
	var out []Finding
	for i := 0; i < len(fs); {
		j := i
		for j < len(fs) && fs[j].Rule.Name == fs[i].Rule.Name {
			j++
		}
		if n := j - i; n > maxPerRule {
			out = append(out, fs[i:i+maxPerRule-1]...)
			more := n - (maxPerRule - 1)
			out = append(out, Finding{Rule: fs[i].Rule, Field: fs[i+maxPerRule-1].Field, Message: moreFindings(more, fs[i].Rule.Name)})
		} else {
			out = append(out, fs[i:j]...)
		}
		i = j
	}
	return out
}

func checkEndOfLife(c *checker) {
	if c.s.Base.Runtime != "" {
		// the user chose and maintains the runtime
		return
	}
	for _, e := range c.in.EndOfLife {
		c.add(e.Field, RuleEndOfLifeBase.Format(e.Image, e.Why, e.Replacement))
	}
}

func checkUnpinnedBase(c *checker) {
	if c.in.LockStatus == LockOK {
		// A current distill.lock pins the tags to digests.
		return
	}
	for _, b := range []struct {
		field spec.Path
		ref   string
	}{
		{spec.Field("base.builder"), c.s.Base.Builder},
		{spec.Field("base.runtime"), c.s.Base.Runtime},
	} {
		if b.ref == "" || strings.Contains(b.ref, "@sha256:") {
			continue
		}
		c.add(b.field, RuleUnpinnedBase.Format(b.field, b.ref))
	}
}

func checkMissingLock(c *checker) {
	if c.in.LockStatus == LockMissing {
		c.add(spec.Path{}, RuleMissingLock.Format())
	}
}

func checkStaleLock(c *checker) {
	if c.in.LockStatus == LockStale {
		c.add(spec.Path{}, RuleStaleLock.Format(c.in.LockDetail))
	}
}

// clip shortens s for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}
