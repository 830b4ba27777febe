package main

import (
	"fmt"
	"strings"

	"github.com/distill-build/distill/pydeps"
)

// A marker as a tree, for what pydeps.Marker does not offer: taking the
// `extra == "x"` condition out of a Requires-Dist marker (lock files list
// those under the extra) and writing markers in one spelling. Evaluation
// is pydeps' (see expr.eval).

type expr struct {
	op   string // "and", "or", or "cmp"
	l, r *expr
	// a comparison: lhs op rhs, each a variable or a quoted literal
	lhs, cmp, rhs string
	lq, rq        bool // lhs / rhs is a literal
}

type mtoken struct {
	text   string
	quoted bool
}

func lexMarker(s string) ([]mtoken, error) {
	var out []mtoken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			out = append(out, mtoken{text: string(c)})
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated string in %q", s)
			}
			out = append(out, mtoken{text: s[i+1 : i+1+j], quoted: true})
			i += j + 2
		case strings.ContainsRune("=!<>~", rune(c)):
			j := i
			for j < len(s) && strings.ContainsRune("=!<>~", rune(s[j])) {
				j++
			}
			out = append(out, mtoken{text: s[i:j]})
			i = j
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t()'\"=!<>~", rune(s[j])) {
				j++
			}
			out = append(out, mtoken{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

type mparser struct {
	toks []mtoken
	i    int
	src  string
}

func (p *mparser) peek(w string) bool {
	return p.i < len(p.toks) && !p.toks[p.i].quoted && p.toks[p.i].text == w
}

func (p *mparser) or() (*expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek("or") {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &expr{op: "or", l: l, r: r}
	}
	return l, nil
}

func (p *mparser) and() (*expr, error) {
	l, err := p.atom()
	if err != nil {
		return nil, err
	}
	for p.peek("and") {
		p.i++
		r, err := p.atom()
		if err != nil {
			return nil, err
		}
		l = &expr{op: "and", l: l, r: r}
	}
	return l, nil
}

func (p *mparser) atom() (*expr, error) {
	if p.peek("(") {
		p.i++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peek(")") {
			return nil, fmt.Errorf("missing ')' in %q", p.src)
		}
		p.i++
		return e, nil
	}
	if p.i+3 > len(p.toks) {
		return nil, fmt.Errorf("incomplete comparison in %q", p.src)
	}
	l := p.toks[p.i]
	p.i++
	op := p.toks[p.i].text
	p.i++
	if op == "not" && p.peek("in") {
		op = "not in"
		p.i++
	}
	if p.i >= len(p.toks) {
		return nil, fmt.Errorf("incomplete comparison in %q", p.src)
	}
	r := p.toks[p.i]
	p.i++
	return &expr{op: "cmp", lhs: l.text, lq: l.quoted, cmp: op, rhs: r.text, rq: r.quoted}, nil
}

// parseExpr parses a PEP 508 marker; pydeps.ParseMarker validates it too.
func parseExpr(s string) (*expr, error) {
	if _, err := pydeps.ParseMarker(s); err != nil {
		return nil, err
	}
	toks, err := lexMarker(s)
	if err != nil {
		return nil, err
	}
	p := &mparser{toks: toks, src: s}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q in %q", p.toks[p.i].text, s)
	}
	return normalize(e), nil
}

// normalize writes `platform_system == 'Windows'` as `sys_platform ==
// 'win32'`, the spelling uv uses for it, so a package reached both ways
// gets one marker.
func normalize(e *expr) *expr {
	if e == nil {
		return nil
	}
	if e.op != "cmp" {
		return &expr{op: e.op, l: normalize(e.l), r: normalize(e.r)}
	}
	c := *e
	if c.cmp == "==" || c.cmp == "!=" {
		if !c.lq && c.lhs == "platform_system" && c.rq && c.rhs == "Windows" {
			c.lhs, c.rhs = "sys_platform", "win32"
		}
	}
	return &c
}

func quote(s string) string {
	if strings.ContainsRune(s, '\'') {
		return `"` + s + `"`
	}
	return "'" + s + "'"
}

// String writes the marker with single quotes and single spaces, and
// parentheses only where "or" is inside "and".
func (e *expr) String() string {
	if e == nil {
		return ""
	}
	switch e.op {
	case "or":
		return e.l.String() + " or " + e.r.String()
	case "and":
		side := func(x *expr) string {
			if x.op == "or" {
				return "(" + x.String() + ")"
			}
			return x.String()
		}
		return side(e.l) + " and " + side(e.r)
	}
	l, r := e.lhs, e.rhs
	if e.lq {
		l = quote(l)
	}
	if e.rq {
		r = quote(r)
	}
	return l + " " + e.cmp + " " + r
}

func and(a, b *expr) *expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &expr{op: "and", l: a, r: b}
}

func or(a, b *expr) *expr {
	if a == nil || b == nil {
		return nil // true or x: true
	}
	return &expr{op: "or", l: a, r: b}
}

// isExtra reports a comparison of the "extra" variable with a literal.
func (e *expr) isExtra() (string, bool) {
	if e.op != "cmp" || e.cmp != "==" {
		return "", false
	}
	switch {
	case !e.lq && e.lhs == "extra" && e.rq:
		return e.rhs, true
	case !e.rq && e.rhs == "extra" && e.lq:
		return e.lhs, true
	}
	return "", false
}

func (e *expr) mentionsExtra() bool {
	if e.op == "cmp" {
		return (!e.lq && e.lhs == "extra") || (!e.rq && e.rhs == "extra")
	}
	return e.l.mentionsExtra() || e.r.mentionsExtra()
}

// splitExtra takes the extra condition out of a Requires-Dist marker:
// `A and extra == "x"` is extra x with marker A; `extra == "a" or extra ==
// "b"` is extras a and b without a marker. It returns the extras (none: a
// base requirement) and the rest (nil: always).
func splitExtra(e *expr) ([]string, *expr, error) {
	if e == nil {
		return nil, nil, nil
	}
	if x, ok := e.isExtra(); ok {
		return []string{pydeps.NormalizeName(x)}, nil, nil
	}
	if !e.mentionsExtra() {
		return nil, e, nil
	}
	switch e.op {
	case "and":
		xl, rl, err := splitExtra(e.l)
		if err != nil {
			return nil, nil, err
		}
		xr, rr, err := splitExtra(e.r)
		if err != nil {
			return nil, nil, err
		}
		if len(xl) > 0 && len(xr) > 0 {
			return nil, nil, fmt.Errorf("marker %q tests two extras at once", e)
		}
		return append(xl, xr...), and(rl, rr), nil
	case "or":
		xl, rl, err := splitExtra(e.l)
		if err != nil {
			return nil, nil, err
		}
		xr, rr, err := splitExtra(e.r)
		if err != nil {
			return nil, nil, err
		}
		if len(xl) > 0 && len(xr) > 0 && rl == nil && rr == nil {
			return append(xl, xr...), nil, nil
		}
	}
	return nil, nil, fmt.Errorf("marker %q uses extra in a way mklock does not split (only `... and extra == \"x\"` and `extra == \"a\" or extra == \"b\"`)", e)
}

// compiled is a marker ready to evaluate; the zero value is always true.
type compiled struct {
	e *expr
	m pydeps.Marker
}

func compile(e *expr) (compiled, error) {
	if e == nil {
		return compiled{}, nil
	}
	m, err := pydeps.ParseMarker(e.String())
	if err != nil {
		return compiled{}, err
	}
	return compiled{e: e, m: m}, nil
}

// truth says whether the marker holds in none, some or all of envs.
func (c compiled) truth(envs []pydeps.Env) (some, all bool) {
	if c.e == nil {
		return true, true
	}
	all = true
	for _, e := range envs {
		if c.m.Eval(e) {
			some = true
		} else {
			all = false
		}
	}
	return some, all
}
