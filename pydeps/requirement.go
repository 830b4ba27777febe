package pydeps

import (
	"fmt"
	"regexp"
	"strings"
)

// Requirement is a parsed PEP 508 dependency specification.
type Requirement struct {
	Name      string // as written
	Extras    []string
	Specifier Specifier
	URL       string // a direct reference (name @ URL)
	Marker    Marker
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?`)

// ValidName reports a valid PEP 508 project, extra or group name.
func ValidName(s string) bool { return nameRE.FindString(s) == s && s != "" }

// ParseRequirement parses "name[extra,...] specifier ; marker" or
// "name[extra] @ URL ; marker". A specifier in parentheses, as Poetry
// writes them, is accepted too.
func ParseRequirement(s string) (Requirement, error) {
	var r Requirement
	rest := strings.TrimSpace(s)
	fail := func(format string, args ...any) (Requirement, error) {
		return Requirement{}, fmt.Errorf("invalid requirement %q: %s", s, fmt.Sprintf(format, args...))
	}
	r.Name = nameRE.FindString(rest)
	if r.Name == "" {
		return fail("it must start with a project name")
	}
	rest = strings.TrimSpace(rest[len(r.Name):])
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return fail("missing ']'")
		}
		for _, e := range strings.Split(rest[1:end], ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if !ValidName(e) {
				return fail("invalid extra %q", e)
			}
			r.Extras = append(r.Extras, e)
		}
		rest = strings.TrimSpace(rest[end+1:])
	}
	markerText := ""
	if strings.HasPrefix(rest, "@") {
		rest = strings.TrimSpace(rest[1:])
		url := rest
		if i := strings.IndexAny(rest, " \t"); i >= 0 {
			url = rest[:i]
			rest = strings.TrimSpace(rest[i:])
		} else {
			rest = ""
		}
		if url == "" || !strings.Contains(url, ":") && !strings.HasPrefix(url, ".") && !strings.HasPrefix(url, "/") {
			return fail("%q is not a URL", url)
		}
		r.URL = url
		if rest != "" {
			if !strings.HasPrefix(rest, ";") {
				return fail("unexpected %q after the URL", rest)
			}
			markerText = rest[1:]
		}
	} else {
		spec := rest
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			spec, markerText = rest[:i], rest[i+1:]
			if strings.TrimSpace(markerText) == "" {
				return fail("empty marker after ';'")
			}
		}
		spec = strings.TrimSpace(spec)
		if strings.HasPrefix(spec, "(") {
			if !strings.HasSuffix(spec, ")") {
				return fail("missing ')'")
			}
			spec = strings.TrimSpace(spec[1 : len(spec)-1])
		}
		sp, err := ParseSpecifier(spec)
		if err != nil {
			return fail("%v", err)
		}
		r.Specifier = sp
	}
	if strings.TrimSpace(markerText) != "" {
		m, err := ParseMarker(strings.TrimSpace(markerText))
		if err != nil {
			return fail("%v", err)
		}
		r.Marker = m
	}
	return r, nil
}

// String formats the requirement in PEP 508 form.
func (r Requirement) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if len(r.Extras) > 0 {
		b.WriteString("[" + strings.Join(r.Extras, ",") + "]")
	}
	if r.URL != "" {
		b.WriteString(" @ " + r.URL)
		if !r.Marker.IsZero() {
			b.WriteString(" ")
		}
	} else if len(r.Specifier.Clauses) > 0 {
		b.WriteString(r.Specifier.String())
	}
	if !r.Marker.IsZero() {
		b.WriteString("; " + r.Marker.String())
	}
	return b.String()
}
