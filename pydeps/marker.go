package pydeps

// PEP 508 environment markers, with the PEP 685 rule for extra names and
// the PEP 751 set variables "extras" and "dependency_groups".

import (
	"fmt"
	"strings"
)

// Env holds the values of the marker variables for one target.
type Env struct {
	OSName                       string // os_name
	SysPlatform                  string // sys_platform
	PlatformMachine              string // platform_machine
	PlatformPythonImplementation string // platform_python_implementation
	PlatformRelease              string // platform_release
	PlatformSystem               string // platform_system
	PlatformVersion              string // platform_version
	PythonVersion                string // python_version: major.minor
	PythonFullVersion            string // python_full_version
	ImplementationName           string // implementation_name
	ImplementationVersion        string // implementation_version
}

// EnvFor returns the environment of CPython pythonFullVersion ("3.13.5";
// "3.13" stands for 3.13.0) on linux for a Go architecture name: amd64 is
// x86_64, arm64 aarch64. platform_release and platform_version (the kernel
// of the build machine) are unknown and left empty.
func EnvFor(pythonFullVersion, goarch string) Env {
	full := strings.TrimSpace(pythonFullVersion)
	short := full
	if parts := strings.SplitN(full, ".", 3); len(parts) >= 2 {
		short = parts[0] + "." + parts[1]
	}
	machine := map[string]string{
		"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l",
		"ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
	}[goarch]
	if machine == "" {
		machine = goarch
	}
	return Env{
		OSName:                       "posix",
		SysPlatform:                  "linux",
		PlatformMachine:              machine,
		PlatformPythonImplementation: "CPython",
		PlatformSystem:               "Linux",
		PythonVersion:                short,
		PythonFullVersion:            full,
		ImplementationName:           "cpython",
		ImplementationVersion:        full,
	}
}

// String describes the target for users: "CPython 3.13 linux/x86_64".
func (e Env) String() string {
	return fmt.Sprintf("%s %s %s/%s", e.PlatformPythonImplementation, e.PythonVersion, e.SysPlatform, e.PlatformMachine)
}

// markerVars maps each variable (and the dotted spellings older tools
// wrote) to its field.
var markerVars = map[string]func(*Env) string{
	"os_name":                        func(e *Env) string { return e.OSName },
	"os.name":                        func(e *Env) string { return e.OSName },
	"sys_platform":                   func(e *Env) string { return e.SysPlatform },
	"sys.platform":                   func(e *Env) string { return e.SysPlatform },
	"platform_machine":               func(e *Env) string { return e.PlatformMachine },
	"platform.machine":               func(e *Env) string { return e.PlatformMachine },
	"platform_python_implementation": func(e *Env) string { return e.PlatformPythonImplementation },
	"platform.python_implementation": func(e *Env) string { return e.PlatformPythonImplementation },
	"python_implementation":          func(e *Env) string { return e.PlatformPythonImplementation },
	"platform_release":               func(e *Env) string { return e.PlatformRelease },
	"platform_system":                func(e *Env) string { return e.PlatformSystem },
	"platform_version":               func(e *Env) string { return e.PlatformVersion },
	"platform.version":               func(e *Env) string { return e.PlatformVersion },
	"python_version":                 func(e *Env) string { return e.PythonVersion },
	"python_full_version":            func(e *Env) string { return e.PythonFullVersion },
	"implementation_name":            func(e *Env) string { return e.ImplementationName },
	"implementation_version":         func(e *Env) string { return e.ImplementationVersion },
}

// set variables: their value is a set of normalized names
const (
	varExtra  = "extra"
	varExtras = "extras"
	varGroups = "dependency_groups"
)

// Marker is a parsed PEP 508 environment marker. The zero Marker (no
// marker) is always true.
type Marker struct {
	raw  string
	root *mnode
}

type mnode struct {
	op          string // "and", "or", or a comparison operator
	left, right *mnode // and/or
	lhs, rhs    operand
}

type operand struct {
	variable string // "" for a literal
	value    string
}

// String returns the marker as written.
func (m Marker) String() string { return m.raw }

// IsZero reports an absent marker.
func (m Marker) IsZero() bool { return m.root == nil }

// ParseMarker parses a PEP 508 marker expression.
func ParseMarker(s string) (Marker, error) {
	p := &markerParser{s: s}
	if strings.TrimSpace(s) == "" {
		return Marker{}, fmt.Errorf("empty marker")
	}
	n, err := p.or(0)
	if err == nil {
		p.space()
		if p.i < len(p.s) {
			err = p.errorf("unexpected %q", p.rest())
		}
	}
	if err != nil {
		return Marker{}, fmt.Errorf("invalid marker %q: %v", s, err)
	}
	return Marker{raw: s, root: n}, nil
}

// maxMarkerDepth bounds parentheses in a marker.
const maxMarkerDepth = 32

type markerParser struct {
	s string
	i int
}

func (p *markerParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at character %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *markerParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (p *markerParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// word consumes the keyword w when it stands alone.
func (p *markerParser) word(w string) bool {
	p.space()
	if !strings.HasPrefix(p.s[p.i:], w) {
		return false
	}
	end := p.i + len(w)
	if end < len(p.s) && isIdentChar(p.s[end]) {
		return false
	}
	p.i = end
	return true
}

func isIdentChar(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *markerParser) or(depth int) (*mnode, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.word("or") {
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		left = &mnode{op: "or", left: left, right: right}
	}
	return left, nil
}

func (p *markerParser) and(depth int) (*mnode, error) {
	left, err := p.expr(depth)
	if err != nil {
		return nil, err
	}
	for p.word("and") {
		right, err := p.expr(depth)
		if err != nil {
			return nil, err
		}
		left = &mnode{op: "and", left: left, right: right}
	}
	return left, nil
}

func (p *markerParser) expr(depth int) (*mnode, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		if depth >= maxMarkerDepth {
			return nil, p.errorf("parentheses nest more than %d deep", maxMarkerDepth)
		}
		p.i++
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, p.errorf("expected ')'")
		}
		p.i++
		return n, nil
	}
	lhs, err := p.operand()
	if err != nil {
		return nil, err
	}
	op, err := p.op()
	if err != nil {
		return nil, err
	}
	rhs, err := p.operand()
	if err != nil {
		return nil, err
	}
	n := &mnode{op: op, lhs: lhs, rhs: rhs}
	return n, checkComparison(n)
}

func (p *markerParser) operand() (operand, error) {
	p.space()
	if p.i >= len(p.s) {
		return operand{}, p.errorf("expected a variable or a quoted string, found the end")
	}
	if q := p.s[p.i]; q == '\'' || q == '"' {
		end := strings.IndexByte(p.s[p.i+1:], q)
		if end < 0 {
			return operand{}, p.errorf("unterminated string")
		}
		v := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return operand{value: v}, nil
	}
	start := p.i
	for p.i < len(p.s) && isIdentChar(p.s[p.i]) {
		p.i++
	}
	name := p.s[start:p.i]
	if name == "" {
		return operand{}, p.errorf("expected a variable or a quoted string, found %q", p.rest())
	}
	if _, ok := markerVars[name]; !ok && name != varExtra && name != varExtras && name != varGroups {
		p.i = start
		return operand{}, p.errorf("unknown marker variable %q", name)
	}
	return operand{variable: name}, nil
}

func (p *markerParser) op() (string, error) {
	p.space()
	for _, op := range []string{"===", "==", "!=", "<=", ">=", "~=", "<", ">"} {
		if strings.HasPrefix(p.s[p.i:], op) {
			p.i += len(op)
			return op, nil
		}
	}
	if p.word("in") {
		return "in", nil
	}
	save := p.i
	if p.word("not") && p.word("in") {
		return "not in", nil
	}
	p.i = save
	return "", p.errorf("expected a comparison operator, found %q", p.rest())
}

func isSetVar(name string) bool { return name == varExtras || name == varGroups }

func checkComparison(n *mnode) error {
	l, r := n.lhs, n.rhs
	if l.variable == "" && r.variable == "" {
		return nil // two literals: legal, if useless
	}
	if isSetVar(l.variable) || (isSetVar(r.variable) && n.op != "in" && n.op != "not in") {
		return fmt.Errorf("%s can only be tested with 'name' in %s", firstVar(l, r), firstVar(l, r))
	}
	if n.op == "~=" {
		lit := r
		if r.variable != "" {
			lit = l
		}
		if lit.variable == "" {
			if _, err := ParseSpecifier("~=" + lit.value); err != nil {
				return err
			}
		}
	}
	return nil
}

func firstVar(a, b operand) string {
	if isSetVar(a.variable) {
		return a.variable
	}
	return b.variable
}

// markerCtx is what a marker is evaluated against.
type markerCtx struct {
	env    *Env
	extras map[string]bool // active extras (normalized): extra and extras
	groups map[string]bool // active dependency groups (normalized)
}

// Eval evaluates the marker for env with the given extras active (names are
// normalized per PEP 685). A zero Marker is true.
func (m Marker) Eval(env Env, extras ...string) bool {
	ctx := markerCtx{env: &env, extras: nameSet(extras)}
	return m.eval(ctx)
}

func (m Marker) eval(ctx markerCtx) bool {
	if m.root == nil {
		return true
	}
	return m.root.eval(ctx)
}

func nameSet(names []string) map[string]bool {
	s := map[string]bool{}
	for _, n := range names {
		s[NormalizeName(n)] = true
	}
	return s
}

func (n *mnode) eval(ctx markerCtx) bool {
	switch n.op {
	case "and":
		return n.left.eval(ctx) && n.right.eval(ctx)
	case "or":
		return n.left.eval(ctx) || n.right.eval(ctx)
	}
	l, r := n.lhs, n.rhs
	// sets: 'x' in extras, 'g' not in dependency_groups
	if isSetVar(r.variable) {
		set := ctx.extras
		if r.variable == varGroups {
			set = ctx.groups
		}
		in := set[NormalizeName(l.value)]
		if l.variable != "" {
			in = false
		}
		if n.op == "not in" {
			return !in
		}
		return in
	}
	// extra == 'x' tests whether extra x is active
	if l.variable == varExtra || r.variable == varExtra {
		lit := r
		if r.variable == varExtra {
			lit = l
		}
		in := lit.variable == "" && ctx.extras[NormalizeName(lit.value)]
		switch n.op {
		case "==", "===":
			return in
		case "!=":
			return !in
		}
		return false
	}
	lv, rv := l.resolve(ctx.env), r.resolve(ctx.env)
	return compareMarker(lv, n.op, rv)
}

func (o operand) resolve(env *Env) string {
	if o.variable == "" {
		return o.value
	}
	return markerVars[o.variable](env)
}

// compareMarker compares with version semantics when the right side makes
// a valid specifier and the left side is a version, and as Python compares
// strings otherwise.
func compareMarker(lhs, op, rhs string) bool {
	switch op {
	case "in":
		return strings.Contains(rhs, lhs)
	case "not in":
		return !strings.Contains(rhs, lhs)
	}
	if spec, err := ParseSpecifier(op + rhs); err == nil {
		if v, err := ParseVersion(lhs); err == nil {
			return spec.Contains(v)
		}
	}
	switch op {
	case "==", "===":
		return lhs == rhs
	case "!=":
		return lhs != rhs
	case "<":
		return lhs < rhs
	case "<=":
		return lhs <= rhs
	case ">":
		return lhs > rhs
	case ">=":
		return lhs >= rhs
	}
	return false // ~= has no string meaning
}

// NormalizeName normalizes a project, extra or group name (PEP 503, PEP
// 685): lower case, runs of "-", "_" and "." become one "-".
func NormalizeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	sep := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			sep = true
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteByte(c)
	}
	return b.String()
}
