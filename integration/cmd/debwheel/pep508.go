package main

// Just enough of the Python packaging specifications (PEP 503 names, PEP 508
// requirements and markers, PEP 440 versions and specifiers) to tell whether
// the wheel set installs from itself alone, the way pip would see it on
// CPython 3.13 / Linux x86_64. It is a check of a fixed, known set, not a
// resolver: every distribution has exactly one version here.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var nameRuns = regexp.MustCompile(`[-_.]+`)

// normalize is the PEP 503 project name normalization.
func normalize(name string) string { return strings.ToLower(nameRuns.ReplaceAllString(name, "-")) }

// escapeName is the form of a name in wheel file names and .dist-info
// directories (binary distribution format: lower case, runs of -_. as "_").
func escapeName(name string) string { return strings.ToLower(nameRuns.ReplaceAllString(name, "_")) }

// A requirement is one parsed Requires-Dist value.
type requirement struct {
	Name   string
	Extras []string
	Spec   string // e.g. ">=1.0,<2" (parentheses of the old form removed)
	URL    string // from "name @ URL"
	Marker string // text after ';', trimmed
}

// String writes the requirement back (without the URL: see plain).
func (r requirement) String() string {
	s := r.Name
	if len(r.Extras) > 0 {
		s += "[" + strings.Join(r.Extras, ",") + "]"
	}
	s += r.Spec
	if r.URL != "" {
		s += " @ " + r.URL
		if r.Marker != "" {
			s += " "
		}
	}
	if r.Marker != "" {
		s += "; " + r.Marker
	}
	return s
}

func parseRequirement(s string) (requirement, error) {
	var r requirement
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (isAlnum(s[i]) || (i > 0 && strings.IndexByte("-_.", s[i]) >= 0)) {
		i++
	}
	if i == 0 {
		return r, fmt.Errorf("no project name in %q", s)
	}
	r.Name, s = s[:i], strings.TrimSpace(s[i:])
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return r, fmt.Errorf("unclosed extras in %q", s)
		}
		for _, e := range strings.Split(s[1:end], ",") {
			if e = strings.TrimSpace(e); e != "" {
				r.Extras = append(r.Extras, e)
			}
		}
		s = strings.TrimSpace(s[end+1:])
	}
	rest, marker, hasMarker := s, "", false
	if strings.HasPrefix(s, "@") {
		// URL form: the URL ends at whitespace; a marker needs " ;" after it
		s = strings.TrimSpace(s[1:])
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		r.URL, rest = s[:end], strings.TrimSpace(s[end:])
		if rest != "" && !strings.HasPrefix(rest, ";") {
			return r, fmt.Errorf("junk after URL in %q", s)
		}
		rest, marker, hasMarker = "", strings.TrimPrefix(rest, ";"), rest != ""
	} else if j := strings.IndexByte(s, ';'); j >= 0 {
		rest, marker, hasMarker = s[:j], s[j+1:], true
	}
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		rest = strings.TrimSpace(rest[1 : len(rest)-1])
	}
	r.Spec = strings.ReplaceAll(rest, " ", "")
	if r.Spec != "" {
		if _, err := parseSpecifiers(r.Spec); err != nil {
			return r, err
		}
	}
	if hasMarker {
		r.Marker = strings.TrimSpace(marker)
		if _, err := parseMarker(r.Marker); err != nil {
			return r, fmt.Errorf("marker %q: %w", r.Marker, err)
		}
	}
	return r, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ---------------------------------------------------------------- versions

// A version is a parsed PEP 440 version.
type version struct {
	epoch   int
	release []int
	pre     []int // nil, or {kind (0 a, 1 b, 2 rc), number}
	post    int   // -1: none
	dev     int   // -1: none
	local   string
}

var versionRE = regexp.MustCompile(`^v?(?:(\d+)!)?(\d+(?:\.\d+)*)` + // 1 epoch, 2 release
	`(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?` + // 3 pre kind, 4 number
	`(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d*))?` + // 5 implicit post number, 6 post word, 7 number
	`(?:[-_.]?(dev)[-_.]?(\d*))?` + // 8 dev word, 9 number
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$`) // 10 local

func parseVersion(s string) (version, error) {
	m := versionRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return version{}, fmt.Errorf("invalid version %q", s)
	}
	v := version{epoch: atoi(m[1]), post: -1, dev: -1, local: m[10]}
	for _, p := range strings.Split(m[2], ".") {
		v.release = append(v.release, atoi(p))
	}
	if m[3] != "" {
		kind := map[string]int{"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}[m[3]]
		v.pre = []int{kind, atoi(m[4])}
	}
	switch {
	case m[5] != "":
		v.post = atoi(m[5])
	case m[6] != "":
		v.post = atoi(m[7])
	}
	if m[8] != "" {
		v.dev = atoi(m[9])
	}
	return v, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// isPre: pip does not pick pre-releases (and dev releases) unless asked.
func (v version) isPre() bool { return v.pre != nil || v.dev >= 0 }

func (v version) String() string {
	var b strings.Builder
	if v.epoch != 0 {
		fmt.Fprintf(&b, "%d!", v.epoch)
	}
	for i, n := range v.release {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(n))
	}
	if v.pre != nil {
		fmt.Fprintf(&b, "%s%d", []string{"a", "b", "rc"}[v.pre[0]], v.pre[1])
	}
	if v.post >= 0 {
		fmt.Fprintf(&b, ".post%d", v.post)
	}
	if v.dev >= 0 {
		fmt.Fprintf(&b, ".dev%d", v.dev)
	}
	if v.local != "" {
		b.WriteString("+" + v.local)
	}
	return b.String()
}

// compareVersions orders versions as PEP 440 does (local labels compared as strings).
func compareVersions(a, b version) int {
	if c := cmpInt(a.epoch, b.epoch); c != 0 {
		return c
	}
	for i := 0; i < max(len(a.release), len(b.release)); i++ {
		if c := cmpInt(at(a.release, i), at(b.release, i)); c != 0 {
			return c
		}
	}
	// a dev release of a final sorts before its pre-releases; finals after them
	preKey := func(v version) [2]int {
		switch {
		case v.pre == nil && v.post < 0 && v.dev >= 0:
			return [2]int{-1, 0}
		case v.pre == nil:
			return [2]int{3, 0}
		}
		return [2]int{v.pre[0], v.pre[1]}
	}
	pa, pb := preKey(a), preKey(b)
	if c := cmpInt(pa[0], pb[0]); c != 0 {
		return c
	}
	if c := cmpInt(pa[1], pb[1]); c != 0 {
		return c
	}
	if c := cmpInt(a.post, b.post); c != 0 {
		return c
	}
	devKey := func(v version) int {
		if v.dev < 0 {
			return int(^uint(0) >> 1)
		}
		return v.dev
	}
	if c := cmpInt(devKey(a), devKey(b)); c != 0 {
		return c
	}
	return strings.Compare(a.local, b.local)
}

func at(s []int, i int) int {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ---------------------------------------------------------------- specifiers

type specifier struct {
	op       string
	v        version
	raw      string // the version text
	wildcard bool   // ==1.2.* / !=1.2.*
}

var specRE = regexp.MustCompile(`^(~=|===|==|!=|<=|>=|<|>)(.+)$`)

func parseSpecifiers(s string) ([]specifier, error) {
	var out []specifier
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		m := specRE.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("invalid specifier %q", part)
		}
		sp := specifier{op: m[1], raw: m[2]}
		if sp.op == "===" {
			out = append(out, sp)
			continue
		}
		txt := m[2]
		if strings.HasSuffix(txt, ".*") && (sp.op == "==" || sp.op == "!=") {
			sp.wildcard, txt = true, strings.TrimSuffix(txt, ".*")
		}
		v, err := parseVersion(txt)
		if err != nil {
			return nil, fmt.Errorf("specifier %q: %w", part, err)
		}
		if sp.op == "~=" && len(v.release) < 2 {
			return nil, fmt.Errorf("specifier %q: ~= needs two release numbers", part)
		}
		sp.v = v
		out = append(out, sp)
	}
	return out, nil
}

// satisfies tells whether v matches every specifier of spec (PEP 440).
func satisfies(v version, spec string) (bool, error) {
	sps, err := parseSpecifiers(spec)
	if err != nil {
		return false, err
	}
	for _, sp := range sps {
		if !sp.matches(v) {
			return false, nil
		}
	}
	return true, nil
}

func (sp specifier) matches(v version) bool {
	noLocal := v
	noLocal.local = ""
	switch sp.op {
	case "===":
		return v.String() == sp.raw
	case "==", "!=":
		eq := false
		if sp.wildcard {
			eq = v.epoch == sp.v.epoch && prefixMatch(v.release, sp.v.release)
		} else if sp.v.local == "" {
			eq = compareVersions(noLocal, sp.v) == 0
		} else {
			eq = compareVersions(v, sp.v) == 0
		}
		return eq == (sp.op == "==")
	case ">=":
		return compareVersions(noLocal, sp.v) >= 0
	case "<=":
		return compareVersions(noLocal, sp.v) <= 0
	case ">":
		// >V excludes post-releases of V (unless V is one)
		if sp.v.post < 0 && v.post >= 0 && sameRelease(v, sp.v) {
			return false
		}
		return compareVersions(noLocal, sp.v) > 0
	case "<":
		// <V excludes pre-releases of V (unless V is one)
		if !sp.v.isPre() && v.isPre() && sameRelease(v, sp.v) {
			return false
		}
		return compareVersions(noLocal, sp.v) < 0
	case "~=":
		return compareVersions(noLocal, sp.v) >= 0 && v.epoch == sp.v.epoch &&
			prefixMatch(v.release, sp.v.release[:len(sp.v.release)-1])
	}
	return false
}

func sameRelease(a, b version) bool {
	if a.epoch != b.epoch {
		return false
	}
	for i := 0; i < max(len(a.release), len(b.release)); i++ {
		if at(a.release, i) != at(b.release, i) {
			return false
		}
	}
	return true
}

// prefixMatch: the release of v, padded with zeros, starts with prefix.
func prefixMatch(release, prefix []int) bool {
	for i, n := range prefix {
		if at(release, i) != n {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- markers

// environment is what markers see on the builders the test bed serves:
// CPython 3.13 on Linux x86_64 (trixie builds everything for 3.13 only).
var environment = map[string]string{
	"python_version":                 "3.13",
	"python_full_version":            "3.13.5",
	"implementation_version":         "3.13.5",
	"os_name":                        "posix",
	"sys_platform":                   "linux",
	"platform_system":                "Linux",
	"platform_machine":               "x86_64",
	"platform_python_implementation": "CPython",
	"implementation_name":            "cpython",
	"platform_release":               "",
	"platform_version":               "",
}

// A marker node: either a comparison (op set) or and/or of children.
type marker struct {
	op          string // comparison operator; "" for and/or
	left, right string // operands: a variable name, or a quoted literal
	lvar, rvar  bool
	bool        string // "and" / "or"
	kids        []*marker
}

func parseMarker(s string) (*marker, error) {
	toks, err := markerTokens(s)
	if err != nil {
		return nil, err
	}
	p := &markerParser{toks: toks}
	m, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	return m, nil
}

func markerTokens(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '"' || c == '\'':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated string")
			}
			toks = append(toks, s[i:i+end+2])
			i += end + 2
		case strings.IndexByte("<>=!~", c) >= 0:
			j := i
			for j < len(s) && strings.IndexByte("<>=!~", s[j]) >= 0 {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			j := i
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_' || s[j] == '.') {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q", s[i:])
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

type markerParser struct {
	toks []string
	i    int
}

func (p *markerParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *markerParser) next() string { t := p.peek(); p.i++; return t }

func (p *markerParser) or() (*marker, error)  { return p.chain("or", p.and) }
func (p *markerParser) and() (*marker, error) { return p.chain("and", p.atom) }

func (p *markerParser) chain(word string, sub func() (*marker, error)) (*marker, error) {
	m, err := sub()
	if err != nil {
		return nil, err
	}
	if p.peek() != word {
		return m, nil
	}
	n := &marker{bool: word, kids: []*marker{m}}
	for p.peek() == word {
		p.next()
		k, err := sub()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, k)
	}
	return n, nil
}

func (p *markerParser) atom() (*marker, error) {
	if p.peek() == "(" {
		p.next()
		m, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		return m, nil
	}
	m := &marker{}
	var err error
	if m.left, m.lvar, err = p.operand(); err != nil {
		return nil, err
	}
	switch op := p.next(); op {
	case "<", "<=", ">", ">=", "==", "!=", "~=", "===", "in":
		m.op = op
	case "not":
		if p.next() != "in" {
			return nil, fmt.Errorf("expected 'not in'")
		}
		m.op = "not in"
	default:
		return nil, fmt.Errorf("expected an operator, got %q", op)
	}
	if m.right, m.rvar, err = p.operand(); err != nil {
		return nil, err
	}
	return m, nil
}

func (p *markerParser) operand() (string, bool, error) {
	t := p.next()
	if len(t) >= 2 && (t[0] == '"' || t[0] == '\'') {
		return t[1 : len(t)-1], false, nil
	}
	if _, known := environment[t]; known || t == "extra" {
		return t, true, nil
	}
	return "", false, fmt.Errorf("unknown marker variable %q", t)
}

// eval evaluates the marker with extra set to one extra name ("" for none),
// as pip does once per requested extra.
func (m *marker) eval(extra string) bool {
	if m.op == "" {
		for _, k := range m.kids {
			v := k.eval(extra)
			if m.bool == "and" && !v {
				return false
			}
			if m.bool == "or" && v {
				return true
			}
		}
		return m.bool == "and"
	}
	val := func(s string, isVar bool) string {
		if !isVar {
			return s
		}
		if s == "extra" {
			return extra
		}
		return environment[s]
	}
	l, r := val(m.left, m.lvar), val(m.right, m.rvar)
	if m.left == "extra" && m.lvar || m.right == "extra" && m.rvar {
		// extra names compare normalized (PEP 685)
		l, r = normalize(l), normalize(r)
	}
	switch m.op {
	case "in":
		return strings.Contains(r, l)
	case "not in":
		return !strings.Contains(r, l)
	}
	if lv, err := parseVersion(l); err == nil && l != "" {
		if ok, err := satisfies(lv, m.op+r); err == nil {
			return ok
		}
	}
	switch m.op {
	case "==", "===":
		return l == r
	case "!=":
		return l != r
	case "<":
		return l < r
	case "<=":
		return l <= r
	case ">":
		return l > r
	case ">=":
		return l >= r
	}
	return false
}
