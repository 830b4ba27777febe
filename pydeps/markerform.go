package pydeps

// What a lock writer does with markers beyond evaluating them: write one
// in one spelling, join two with "and", make a comparison from its parts or
// respell one as another, and take the `extra == "x"` condition out of a
// Requires-Dist marker (a lock lists such a dependency under extra x
// instead).

import (
	"fmt"
	"strings"
)

// Canonical returns the marker in one spelling, the one uv writes in
// uv.lock: literals in single quotes (in double quotes when they hold a
// single quote), one space around each operator, parentheses only around an
// "or" that stands inside an "and". Markers that differ only in quoting,
// spacing or redundant parentheses share it; the zero Marker's is "".
func (m Marker) Canonical() string {
	if m.root == nil {
		return ""
	}
	return m.root.canonical()
}

func (n *mnode) canonical() string {
	switch n.op {
	case "or":
		return n.left.canonical() + " or " + n.right.canonical()
	case "and":
		side := func(x *mnode) string {
			if x.op == "or" {
				return "(" + x.canonical() + ")"
			}
			return x.canonical()
		}
		return side(n.left) + " and " + side(n.right)
	}
	return n.lhs.canonical() + " " + n.op + " " + n.rhs.canonical()
}

func (o operand) canonical() string {
	switch {
	case o.variable != "":
		return o.variable
	case strings.ContainsRune(o.value, '\''):
		return `"` + o.value + `"`
	}
	return "'" + o.value + "'"
}

// made wraps a tree the methods below built: as it was never written, its
// String is its Canonical text.
func made(n *mnode) Marker {
	if n == nil {
		return Marker{}
	}
	return Marker{raw: n.canonical(), root: n}
}

// Op returns the operator at the top of the marker: "and", "or", the
// comparison's operator when the marker is one comparison, or "" for the
// zero Marker. A caller joining Canonical texts with " and " itself needs
// it: an "or" there takes parentheses.
func (m Marker) Op() string {
	if m.root == nil {
		return ""
	}
	return m.root.op
}

// And returns the marker that holds where both m and o hold. The zero
// Marker is true, so And with it returns the other marker as it is.
func (m Marker) And(o Marker) Marker {
	switch {
	case m.root == nil:
		return o
	case o.root == nil:
		return m
	}
	return made(andNodes(m.root, o.root))
}

// andNodes joins two trees with "and"; nil is true.
func andNodes(a, b *mnode) *mnode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &mnode{op: "and", left: a, right: b}
}

// A Comparison is one comparison of a marker, Left Op Right, each side a
// variable (LeftVariable, RightVariable) or a literal (without its quotes).
type Comparison struct {
	Left, Op, Right             string
	LeftVariable, RightVariable bool
}

// Rewrite returns the marker with every comparison c replaced by f(c), for
// respelling a condition as an equivalent one (uv writes `platform_system
// == 'Windows'` as `sys_platform == 'win32'`). It fails where f returns a
// comparison that ParseMarker would refuse.
func (m Marker) Rewrite(f func(Comparison) Comparison) (Marker, error) {
	if m.root == nil {
		return m, nil
	}
	n, err := m.root.rewrite(f)
	if err != nil {
		return Marker{}, err
	}
	return made(n), nil
}

func (n *mnode) rewrite(f func(Comparison) Comparison) (*mnode, error) {
	if n.op == "and" || n.op == "or" {
		l, err := n.left.rewrite(f)
		if err != nil {
			return nil, err
		}
		r, err := n.right.rewrite(f)
		if err != nil {
			return nil, err
		}
		return &mnode{op: n.op, left: l, right: r}, nil
	}
	c := Comparison{Op: n.op}
	c.Left, c.LeftVariable = n.lhs.spelled()
	c.Right, c.RightVariable = n.rhs.spelled()
	m, err := f(c).Marker()
	if err != nil {
		return nil, fmt.Errorf("rewriting %q: %v", n.canonical(), err)
	}
	return m.root, nil
}

// Marker makes the comparison a marker (a lock writer's `extra == 'x'`, or
// `'x' in extras`). Its text is read back with ParseMarker, so what the
// parser refuses (an unknown variable, a literal with both kinds of quote,
// text that makes more than one comparison) is an error here too.
func (c Comparison) Marker() (Marker, error) {
	text := spell(c.Left, c.LeftVariable) + " " + c.Op + " " + spell(c.Right, c.RightVariable)
	m, err := ParseMarker(text)
	if err != nil {
		return Marker{}, err
	}
	if m.root.op == "and" || m.root.op == "or" {
		return Marker{}, fmt.Errorf("%q is not one comparison", text)
	}
	return made(m.root), nil
}

func (o operand) spelled() (string, bool) {
	if o.variable != "" {
		return o.variable, true
	}
	return o.value, false
}

func spell(s string, variable bool) string {
	if variable {
		return s
	}
	return operand{value: s}.canonical()
}

// SplitExtra takes the extra condition out of a Requires-Dist marker, as a
// lock lists the dependency under the extra: `A and extra == "x"` is extra
// x with the rest A; `extra == "a" or extra == "b"` is extras a and b with
// no rest. The extras come back normalized (PEP 685), none for a marker
// that does not test extra (the whole marker is then the rest); a zero rest
// means always. Other uses of extra (two extras at once, extra != "x", extra
// in an "or" with another condition) are errors.
func (m Marker) SplitExtra() (extras []string, rest Marker, err error) {
	if m.root == nil {
		return nil, Marker{}, nil
	}
	xs, n, err := splitExtra(m.root)
	if err != nil {
		return nil, Marker{}, err
	}
	return xs, made(n), nil
}

func splitExtra(n *mnode) ([]string, *mnode, error) {
	if x, ok := n.extraEquals(); ok {
		return []string{NormalizeName(x)}, nil, nil
	}
	if !n.mentionsExtra() {
		return nil, n, nil
	}
	switch n.op {
	case "and", "or":
		xl, rl, err := splitExtra(n.left)
		if err != nil {
			return nil, nil, err
		}
		xr, rr, err := splitExtra(n.right)
		if err != nil {
			return nil, nil, err
		}
		if n.op == "and" {
			if len(xl) > 0 && len(xr) > 0 {
				return nil, nil, fmt.Errorf("marker %q tests two extras at once", n.canonical())
			}
			return append(xl, xr...), andNodes(rl, rr), nil
		}
		if len(xl) > 0 && len(xr) > 0 && rl == nil && rr == nil {
			return append(xl, xr...), nil, nil
		}
	}
	return nil, nil, fmt.Errorf(`marker %q uses extra in a way that does not split (only "... and extra == 'x'" and "extra == 'a' or extra == 'b'")`, n.canonical())
}

// extraEquals reports `extra == "x"` (either way round) and its x.
func (n *mnode) extraEquals() (string, bool) {
	if n.op != "==" {
		return "", false
	}
	switch {
	case n.lhs.variable == varExtra && n.rhs.variable == "":
		return n.rhs.value, true
	case n.rhs.variable == varExtra && n.lhs.variable == "":
		return n.lhs.value, true
	}
	return "", false
}

func (n *mnode) mentionsExtra() bool {
	if n.op == "and" || n.op == "or" {
		return n.left.mentionsExtra() || n.right.mentionsExtra()
	}
	return n.lhs.variable == varExtra || n.rhs.variable == varExtra
}
