// Package lint holds distill's check rules: data, not code paths. Each rule
// is a name, a one-line description and a link to its section in
// docs/rules.md, paired with one small check function in a single table
// (checks below). The frontend runs Check for `--call=check` and before every
// build, printing each finding as a warning, or failing the build on it when
// policy.strict is set; `distill validate` prints the same list.
//
// Check is a pure function of its Input: it reads no files, asks no
// registry and never echoes a value that might be a secret.
package lint

import (
	"fmt"
	"sort"
	"strings"

	"github.com/distill-build/distill/spec"
)

// DocsURL is where the rules are documented; each rule's URL is this plus
// "#" and its lowercase name (GitHub's anchor for the rule's heading). It is
// the same base llb.SelectPair uses for its EndOfLifeBase warning.
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
	Field   string // spec field path, as in spec.Spec.Positions (may be "")
	// Error marks a finding that fails the build whatever policy.strict
	// says (the start-up verification's, under policy.verify: error).
	Error bool
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
	// Pair carries findings about the base pair itself (end of life).
	Pair Pair
	// Dependencies is the dependency source the build uses.
	Dependencies Dependencies
	// LockStatus is filled by the caller when a distill.lock exists or is
	// expected: LockUnchecked, LockOK, LockMissing or LockStale.
	LockStatus string
	// LockDetail says what is stale, e.g. "runtime gcr.io/...: locked
	// sha256:aaa, registry has sha256:bbb".
	LockDetail string
}

// Pair is what the rules see of the base pair.
type Pair struct {
	Warnings []Warning
}

// Warning is a finding the pair table itself makes.
type Warning struct {
	Rule, Message, Field, URL string
}

// Dependencies is what the rules see of the dependency source.
type Dependencies struct {
	// Kind is "requirements", "pyproject", "uv.lock", "poetry.lock",
	// "pylock.toml", or "" when the app has no dependencies.
	Kind string
	// Path is the source file, relative to the context.
	Path string
	// Field is the spec field that named it ("" when detected).
	Field string
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

func rule(name, description string) Rule {
	return Rule{Name: name, Description: description, URL: DocsURL + "#" + strings.ToLower(name)}
}

// table is every rule, in docs order, with its check.
var table = []ruleDef{
	{rule("EndOfLifeBase", "The base image pair no longer receives security updates."), checkEndOfLife},
	{rule("UnpinnedBase", "A base.builder or base.runtime override names a tag without an @sha256 digest."), checkUnpinnedBase},
	{rule("MissingLock", "No distill.lock pins the base images to digests."), checkMissingLock},
	{rule("StaleLock", "distill.lock pins a base digest that the registry no longer serves under its tag."), checkStaleLock},
	{rule("UnpinnedRequirement", "A requirement is not pinned to one exact version (==) or, for VCS, to a commit."), checkUnpinnedRequirement},
	{rule("UnlockedDependencies", "The dependencies come from pyproject.toml without a lock file, so each build may install other versions."), checkUnlockedDependencies},
	{rule("IgnoredDependencyFile", "A lock file or pyproject.toml is in the context, but the build installs from another file."), checkIgnoredDependencyFile},
	{rule("RequirementWithoutHash", "The requirements file has requirements without --hash, so a replaced package file would go unnoticed."), checkRequirementHashes},
	{rule("LocalRequirement", "The requirements file refers to another file or a local path, which the dependency install cannot see."), checkLocalRequirement},
	{rule("IndexURLInRequirements", "The requirements file sets its own index (--index-url, --extra-index-url, --find-links, --trusted-host)."), checkIndexInRequirements},
	{rule("InsecureIndexURL", "Packages are downloaded over plain http from a host other than loopback."), checkInsecureIndex},
	{rule("SecretInSpec", "A value in the spec looks like a password, token or private key, and would be readable in the image."), checkSecrets},
	{rule("ShellEntrypoint", "The entrypoint needs a shell (sh -c, $VAR, &&, |, redirection) but exec form has none and the runtime image has no shell."), checkShellEntrypoint},
	{rule("ShellInBuildCommand", "A build command runs a shell (sh -c) or uses shell syntax that exec form passes literally."), checkShellInBuild},
	{rule("PrivilegedPort", "The app listens on a port below 1024, which its non-root user cannot bind everywhere."), checkPrivilegedPort},
	{rule("RootUser", "The spec asks for root (sudo, su, gosu, USER=root), which distill's non-root images do not allow."), checkRootUser},
	// Found by the start-up verification of the built image (see Verified),
	// not by looking at the spec: no check function.
	{rule("EntrypointNotFound", "The entrypoint's program is not in the image, or the runtime user cannot execute it."), nil},
	{rule("PythonVersionMismatch", "The builder and the runtime run different Python minor versions, so the venv cannot start."), nil},
	{rule("MissingLibrary", "A compiled module or program needs a shared library that the runtime image does not have."), nil},
	{rule("ImportFailure", "A module of an installed distribution does not import in the image."), nil},
	{rule("SilentFallback", "An extension module fails to load and its package silently falls back to slower pure Python."), nil},
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

func (c *checker) add(field, format string, args ...any) {
	c.out = append(c.out, Finding{Rule: c.rule, Message: fmt.Sprintf(format, args...), Field: field})
}

// field returns f when the spec has a position for it, else "".
func (c *checker) field(f string) string {
	if _, ok := c.s.Positions[f]; ok {
		return f
	}
	return ""
}

// reqField is the field requirement findings point at: python.requirements
// when the spec names the file, else nothing (the default file).
func (c *checker) reqField() string {
	if f := c.in.Dependencies.Field; f != "" {
		return c.field(f)
	}
	return ""
}

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
	// Pair warnings with a rule this package does not know still get
	// reported, after the known ones.
	for _, w := range in.Pair.Warnings {
		if _, known := order[w.Rule]; known {
			continue
		}
		order[w.Rule] = len(order)
		c.out = append(c.out, Finding{Rule: Rule{Name: w.Rule, URL: w.URL}, Message: w.Message, Field: w.Field})
	}
	pos := func(f Finding) (int, int) {
		p, ok := in.Spec.Positions[f.Field]
		if !ok {
			return 0, 0
		}
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
			out = append(out, Finding{Rule: fs[i].Rule, Field: fs[i+maxPerRule-1].Field,
				Message: fmt.Sprintf("%d more %s findings like the ones above are not shown; fix those and run the check again", more, fs[i].Rule.Name)})
		} else {
			out = append(out, fs[i:j]...)
		}
		i = j
	}
	return out
}

// pairWarnings turns the pair's warnings for the current rule into findings.
func (c *checker) pairWarnings() bool {
	found := false
	for _, w := range c.in.Pair.Warnings {
		if w.Rule == c.rule.Name {
			c.out = append(c.out, Finding{Rule: c.rule, Message: w.Message, Field: w.Field})
			found = true
		}
	}
	return found
}

func checkEndOfLife(c *checker) { c.pairWarnings() }

func checkUnpinnedBase(c *checker) {
	if c.pairWarnings() || c.in.LockStatus == LockOK {
		// A current distill.lock pins the tags to digests.
		return
	}
	for _, b := range []struct{ field, ref string }{
		{"base.builder", c.s.Base.Builder},
		{"base.runtime", c.s.Base.Runtime},
	} {
		if b.ref == "" || strings.Contains(b.ref, "@sha256:") {
			continue
		}
		c.add(c.field(b.field), "%s %q is a tag, which its publisher can point at a different image at any time; pin it as %s@sha256:<digest> (docker buildx imagetools inspect %s prints the digest) or run distill lock",
			b.field, clip(b.ref, 100), clip(b.ref, 100), clip(b.ref, 100))
	}
}

func checkMissingLock(c *checker) {
	if c.in.LockStatus != LockMissing {
		return
	}
	c.add("", "there is no distill.lock beside the spec, so each build uses whatever digest the base tags point at that day; run distill lock and commit distill.lock")
}

func checkStaleLock(c *checker) {
	if c.in.LockStatus != LockStale {
		return
	}
	detail := ""
	if c.in.LockDetail != "" {
		detail = " (" + c.in.LockDetail + ")"
	}
	c.add("", "distill.lock pins a base digest the registry no longer serves under its tag%s, so the build misses the publisher's updates; run distill lock to take the new digest and commit distill.lock", detail)
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
