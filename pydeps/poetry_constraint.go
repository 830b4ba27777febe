package pydeps

import (
	"fmt"
	"strconv"
	"strings"
)

// parsePoetryConstraint converts a Poetry version constraint ("^1.2",
// "~1.2.3", "*", "1.2.*", ">=1,<2", "^1 || ^2") to PEP 440 specifier
// sets, one per alternative of a "||" union.
func parsePoetryConstraint(s string) ([]Specifier, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" {
		return []Specifier{{}}, nil
	}
	var out []Specifier
	for _, alt := range splitUnion(s) {
		spec, err := poetryAnd(alt)
		if err != nil {
			return nil, fmt.Errorf("invalid version constraint %q: %v", s, err)
		}
		out = append(out, spec)
	}
	return out, nil
}

func splitUnion(s string) []string {
	s = strings.ReplaceAll(s, "||", "|")
	return strings.Split(s, "|")
}

var poetryOps = []string{"===", "==", "!=", "<=", ">=", "~=", "<", ">", "^", "~", "="}

func poetryAnd(s string) (Specifier, error) {
	var clauses []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == ',' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		op := ""
		for _, o := range poetryOps {
			if strings.HasPrefix(s[i:], o) {
				op = o
				break
			}
		}
		i += len(op)
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		start := i
		for i < len(s) && s[i] != ' ' && s[i] != ',' && s[i] != '\t' {
			i++
		}
		ver := s[start:i]
		if ver == "" {
			return Specifier{}, fmt.Errorf("%q has no version", op)
		}
		c, err := poetryClause(op, ver)
		if err != nil {
			return Specifier{}, err
		}
		clauses = append(clauses, c...)
	}
	if len(clauses) == 0 {
		return Specifier{}, fmt.Errorf("empty constraint")
	}
	return ParseSpecifier(strings.Join(clauses, ","))
}

func poetryClause(op, ver string) ([]string, error) {
	switch op {
	case "", "=":
		if ver == "*" {
			return nil, nil
		}
		if strings.HasSuffix(ver, ".*") {
			return []string{"==" + ver}, nil
		}
		return []string{"==" + ver}, nil
	case "^", "~":
		v, err := ParseVersion(ver)
		if err != nil {
			return nil, err
		}
		r := v.Release
		var upper []uint64
		switch {
		case op == "~" && len(r) == 1:
			upper = []uint64{r[0] + 1}
		case op == "~":
			upper = []uint64{r[0], r[1] + 1}
		case r[0] != 0 || len(r) == 1:
			upper = []uint64{r[0] + 1}
		case r[1] != 0 || len(r) == 2:
			upper = []uint64{0, r[1] + 1}
		default:
			upper = []uint64{0, 0, r[2] + 1}
		}
		up := make([]string, len(upper))
		for i, u := range upper {
			up[i] = strconv.FormatUint(u, 10)
		}
		epoch := ""
		if v.Epoch != 0 {
			epoch = strconv.FormatUint(v.Epoch, 10) + "!"
		}
		return []string{">=" + ver, "<" + epoch + strings.Join(up, ".")}, nil
	}
	return []string{op + ver}, nil
}

// pythonConstraintMarker turns a Poetry "python" constraint of a dependency
// into a marker: python_version for two-part versions, else
// python_full_version.
func pythonConstraintMarker(s string) (string, error) {
	alts, err := parsePoetryConstraint(s)
	if err != nil {
		return "", err
	}
	var ors []string
	for _, spec := range alts {
		if len(spec.Clauses) == 0 {
			return "", nil // any python
		}
		var ands []string
		for _, c := range spec.Clauses {
			v := "python_full_version"
			if len(c.Version.Release) <= 2 {
				v = "python_version"
			}
			val := c.Raw
			if c.Wildcard {
				val += ".*"
			}
			ands = append(ands, fmt.Sprintf("%s %s %q", v, c.Op, val))
		}
		ors = append(ors, strings.Join(ands, " and "))
	}
	if len(ors) == 1 {
		return ors[0], nil
	}
	return "(" + strings.Join(ors, ") or (") + ")", nil
}
