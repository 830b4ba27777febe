package pydeps

// PEP 440 versions and specifiers. No Go module on the module proxy
// implements them with the specifier semantics pip uses (exclusive ordered
// comparisons, prefix matching, local versions, arbitrary equality), and the
// whole of it is a few hundred lines, so it lives here.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is a parsed PEP 440 version.
type Version struct {
	Epoch   uint64
	Release []uint64
	// Pre is "a", "b" or "rc" with PreN, or "" for no pre-release.
	Pre   string
	PreN  uint64
	Post  *uint64
	Dev   *uint64
	Local []string // lower-cased segments
}

var versionRE = regexp.MustCompile(`^v?(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)` +
	`(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?` +
	`(?:(?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?` +
	`(?:[-_.]?(dev)[-_.]?([0-9]+)?)?` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$`)

// ParseVersion parses a PEP 440 version, accepting the spellings PEP 440
// normalizes (case, "alpha", "-1" post-releases, a leading "v", ...).
func ParseVersion(s string) (Version, error) {
	m := versionRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return Version{}, fmt.Errorf("invalid version %q (see PEP 440)", s)
	}
	var v Version
	var err error
	num := func(t string) uint64 {
		if t == "" || err != nil {
			return 0
		}
		n, e := strconv.ParseUint(t, 10, 64)
		if e != nil {
			err = fmt.Errorf("invalid version %q: number %s is too large", s, t)
		}
		return n
	}
	v.Epoch = num(m[1])
	for _, p := range strings.Split(m[2], ".") {
		v.Release = append(v.Release, num(p))
	}
	if m[3] != "" {
		switch m[3] {
		case "alpha", "a":
			v.Pre = "a"
		case "beta", "b":
			v.Pre = "b"
		default:
			v.Pre = "rc"
		}
		v.PreN = num(m[4])
	}
	if m[5] != "" {
		n := num(m[5])
		v.Post = &n
	} else if m[6] != "" {
		n := num(m[7])
		v.Post = &n
	}
	if m[8] != "" {
		n := num(m[9])
		v.Dev = &n
	}
	if m[10] != "" {
		v.Local = strings.FieldsFunc(m[10], func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	}
	if err != nil {
		return Version{}, err
	}
	return v, nil
}

// String returns the normalized form of the version.
func (v Version) String() string {
	var b strings.Builder
	if v.Epoch != 0 {
		fmt.Fprintf(&b, "%d!", v.Epoch)
	}
	for i, r := range v.Release {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(r, 10))
	}
	if v.Pre != "" {
		fmt.Fprintf(&b, "%s%d", v.Pre, v.PreN)
	}
	if v.Post != nil {
		fmt.Fprintf(&b, ".post%d", *v.Post)
	}
	if v.Dev != nil {
		fmt.Fprintf(&b, ".dev%d", *v.Dev)
	}
	if len(v.Local) > 0 {
		b.WriteString("+" + strings.Join(v.Local, "."))
	}
	return b.String()
}

// IsPrerelease reports a pre-release or development release.
func (v Version) IsPrerelease() bool { return v.Pre != "" || v.Dev != nil }

func (v Version) public() Version { v.Local = nil; return v }

func (v Version) base() Version {
	return Version{Epoch: v.Epoch, Release: v.Release}
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Compare orders versions as PEP 440 does: -1, 0 or 1.
func (v Version) Compare(w Version) int {
	if c := cmpU(v.Epoch, w.Epoch); c != 0 {
		return c
	}
	n := max(len(v.Release), len(w.Release))
	for i := 0; i < n; i++ {
		var a, b uint64
		if i < len(v.Release) {
			a = v.Release[i]
		}
		if i < len(w.Release) {
			b = w.Release[i]
		}
		if c := cmpU(a, b); c != 0 {
			return c
		}
	}
	// pre-release: a dev-only release sorts before any pre-release, a
	// final release after all of them
	if c := preKey(v).cmp(preKey(w)); c != 0 {
		return c
	}
	if c := optKey(v.Post, -1).cmp(optKey(w.Post, -1)); c != 0 {
		return c
	}
	if c := optKey(v.Dev, 1).cmp(optKey(w.Dev, 1)); c != 0 {
		return c
	}
	return cmpLocal(v.Local, w.Local)
}

// key is an optional number with infinities on either side.
type key struct {
	inf int // -1: before everything, 1: after everything
	a   int
	n   uint64
}

func (k key) cmp(o key) int {
	if k.inf != o.inf {
		if k.inf < o.inf {
			return -1
		}
		return 1
	}
	if k.inf != 0 {
		return 0
	}
	if k.a != o.a {
		if k.a < o.a {
			return -1
		}
		return 1
	}
	return cmpU(k.n, o.n)
}

func preKey(v Version) key {
	switch {
	case v.Pre == "" && v.Post == nil && v.Dev != nil:
		return key{inf: -1}
	case v.Pre == "":
		return key{inf: 1}
	}
	return key{a: map[string]int{"a": 0, "b": 1, "rc": 2}[v.Pre], n: v.PreN}
}

func optKey(p *uint64, absent int) key {
	if p == nil {
		return key{inf: absent}
	}
	return key{n: *p}
}

func cmpLocal(a, b []string) int {
	if len(a) == 0 || len(b) == 0 {
		return cmpU(uint64(len(a)), uint64(len(b)))
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := cmpLocalSeg(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmpU(uint64(len(a)), uint64(len(b)))
}

// cmpLocalSeg: numeric segments compare as numbers and sort after
// alphanumeric ones.
func cmpLocalSeg(a, b string) int {
	an, aerr := strconv.ParseUint(a, 10, 64)
	bn, berr := strconv.ParseUint(b, 10, 64)
	switch {
	case aerr == nil && berr == nil:
		return cmpU(an, bn)
	case aerr == nil:
		return 1
	case berr == nil:
		return -1
	}
	return strings.Compare(a, b)
}

// Specifier is a parsed PEP 440 version specifier set: clauses joined by
// commas, all of which must match. The empty set matches every version.
type Specifier struct {
	Clauses []Clause
}

// Clause is one operator and version of a specifier.
type Clause struct {
	Op       string // ==, !=, <=, >=, <, >, ~=, ===
	Version  Version
	Raw      string // the version text as written
	Wildcard bool   // ==V.* or !=V.*
}

func (c Clause) String() string {
	if c.Wildcard {
		return c.Op + c.Raw + ".*"
	}
	return c.Op + c.Raw
}

func (s Specifier) String() string {
	parts := make([]string, len(s.Clauses))
	for i, c := range s.Clauses {
		parts[i] = c.String()
	}
	return strings.Join(parts, ",")
}

var specOps = []string{"===", "~=", "==", "!=", "<=", ">=", "<", ">"}

// ParseSpecifier parses a comma-separated PEP 440 specifier set such as
// ">=1.2,!=1.3.*,<2". Whitespace is ignored; an empty string is the empty
// set.
func ParseSpecifier(s string) (Specifier, error) {
	var spec Specifier
	if strings.TrimSpace(s) == "" {
		return spec, nil
	}
	for _, part := range strings.Split(s, ",") {
		c, err := parseClause(strings.TrimSpace(part))
		if err != nil {
			return Specifier{}, fmt.Errorf("invalid specifier %q: %v", s, err)
		}
		spec.Clauses = append(spec.Clauses, c)
	}
	return spec, nil
}

func parseClause(s string) (Clause, error) {
	var c Clause
	for _, op := range specOps {
		if strings.HasPrefix(s, op) {
			c.Op = op
			break
		}
	}
	if c.Op == "" {
		if s == "" {
			return c, fmt.Errorf("empty clause")
		}
		return c, fmt.Errorf("%q needs an operator (==, !=, <=, >=, <, >, ~=, ===)", s)
	}
	v := strings.TrimSpace(s[len(c.Op):])
	if v == "" {
		return c, fmt.Errorf("%q has no version", s)
	}
	if c.Op == "===" {
		if strings.ContainsAny(v, " \t;") {
			return c, fmt.Errorf("%q: arbitrary equality takes one word", s)
		}
		c.Raw = v
		return c, nil
	}
	if strings.HasSuffix(v, ".*") {
		if c.Op != "==" && c.Op != "!=" {
			return c, fmt.Errorf("%q: a .* suffix is only allowed with == and !=", s)
		}
		c.Wildcard = true
		v = strings.TrimSuffix(v, ".*")
	}
	ver, err := ParseVersion(v)
	if err != nil {
		return c, err
	}
	c.Version, c.Raw = ver, v
	switch {
	case c.Wildcard && (ver.Pre != "" || ver.Post != nil || ver.Dev != nil || len(ver.Local) > 0):
		return c, fmt.Errorf("%q: a .* prefix may hold only release numbers", s)
	case len(ver.Local) > 0 && c.Op != "==" && c.Op != "!=":
		return c, fmt.Errorf("%q: a local version (+...) is only allowed with == and !=", s)
	case c.Op == "~=" && len(ver.Release) < 2:
		return c, fmt.Errorf("%q: ~= needs at least two release numbers", s)
	}
	return c, nil
}

// Contains reports whether v satisfies every clause. Pre-releases are
// accepted: a lock file or an interpreter version that is a pre-release was
// chosen on purpose.
func (s Specifier) Contains(v Version) bool {
	for _, c := range s.Clauses {
		if !c.Contains(v) {
			return false
		}
	}
	return true
}

// ContainsString parses v and tests it; an invalid version matches only
// "===" clauses that spell it.
func (s Specifier) ContainsString(v string) bool {
	ver, err := ParseVersion(v)
	if err != nil {
		for _, c := range s.Clauses {
			if c.Op != "===" || !strings.EqualFold(c.Raw, strings.TrimSpace(v)) {
				return false
			}
		}
		return len(s.Clauses) > 0
	}
	for _, c := range s.Clauses {
		if c.Op == "===" {
			if !strings.EqualFold(c.Raw, strings.TrimSpace(v)) {
				return false
			}
			continue
		}
		if !c.Contains(ver) {
			return false
		}
	}
	return true
}

// Contains tests one clause.
func (c Clause) Contains(v Version) bool {
	switch c.Op {
	case "===":
		return strings.EqualFold(c.Raw, v.String())
	case "==":
		return c.equal(v)
	case "!=":
		return !c.equal(v)
	case "~=":
		prefix := Clause{Op: "==", Wildcard: true, Version: Version{Epoch: c.Version.Epoch, Release: c.Version.Release[:len(c.Version.Release)-1]}}
		return v.public().Compare(c.Version) >= 0 && prefix.equal(v)
	case "<=":
		return v.public().Compare(c.Version) <= 0
	case ">=":
		return v.public().Compare(c.Version) >= 0
	case "<":
		if v.public().Compare(c.Version) >= 0 {
			return false
		}
		// <V excludes pre-releases of V itself unless V is one
		if !c.Version.IsPrerelease() && v.IsPrerelease() && v.base().Compare(c.Version.base()) == 0 {
			return false
		}
		return true
	case ">":
		if v.public().Compare(c.Version) <= 0 {
			return false
		}
		// >V excludes post-releases and local versions of V
		if c.Version.Post == nil && v.Post != nil && v.base().Compare(c.Version.base()) == 0 {
			return false
		}
		if len(v.Local) > 0 && v.base().Compare(c.Version.base()) == 0 {
			return false
		}
		return true
	}
	return false
}

func (c Clause) equal(v Version) bool {
	if c.Wildcard {
		if v.Epoch != c.Version.Epoch {
			return false
		}
		for i, r := range c.Version.Release {
			var x uint64
			if i < len(v.Release) {
				x = v.Release[i]
			}
			if x != r {
				return false
			}
		}
		return true
	}
	if len(c.Version.Local) == 0 {
		v = v.public()
	}
	return v.Compare(c.Version) == 0
}
