package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/distill-build/distill/pydeps"
)

// A spec is one line of the distribution list: which Debian packages make
// one wheel, and how.
type spec struct {
	Name     string   // distribution name as on PyPI; METADATA must agree (after normalization)
	Packages []string // binary packages whose dist-packages go into the wheel, merged
	Fill     []string // packages read only to resolve symlinks that leave the wheel
	Top      []string // keep only these top-level names (a .deb holding several projects)
	Drop     []string // paths under dist-packages to leave out (Debian build leftovers)
	Requires []string // Requires-Dist lines Debian's METADATA lost and the code needs
	Line     int      // line number in the list, for messages
}

// canonical is the spec as one normalized string: part of the cache key, so
// editing a line's options rebuilds that wheel (comments and spacing do not).
func (s spec) canonical() string {
	var b strings.Builder
	b.WriteString(s.Name)
	b.WriteString(" " + strings.Join(s.Packages, " "))
	for _, kv := range []struct {
		k string
		v []string
	}{{"fill", s.Fill}, {"top", s.Top}, {"drop", s.Drop}, {"requires", s.Requires}} {
		for _, v := range kv.v {
			fmt.Fprintf(&b, " %s=%q", kv.k, v)
		}
	}
	return b.String()
}

// debs is every package the spec reads: content packages, then fill ones.
func (s spec) debs() []string { return append(append([]string(nil), s.Packages...), s.Fill...) }

func readList(path string) ([]spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	specs, err := parseList(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return specs, nil
}

// parseList reads the list format (see integration/testbed/realwheels.txt):
//
//	NAME PACKAGE... [fill=PKG,...] [top=NAME,...] [drop=PATH,...] [requires='REQ']...
//
// '#' starts a comment; single quotes keep spaces inside one word (a
// requirement with a marker has spaces and double quotes).
func parseList(r io.Reader) ([]spec, error) {
	var specs []spec
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		words, err := splitWords(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if len(words) == 0 {
			continue
		}
		s := spec{Name: words[0], Line: n}
		if !pydeps.ValidName(s.Name) {
			return nil, fmt.Errorf("line %d: %q is not a distribution name", n, s.Name)
		}
		for _, w := range words[1:] {
			k, v, isOpt := strings.Cut(w, "=")
			if !isOpt {
				s.Packages = append(s.Packages, w)
				continue
			}
			if v == "" {
				return nil, fmt.Errorf("line %d: %s= needs a value", n, k)
			}
			switch k {
			case "fill":
				s.Fill = append(s.Fill, strings.Split(v, ",")...)
			case "top":
				s.Top = append(s.Top, strings.Split(v, ",")...)
			case "drop":
				s.Drop = append(s.Drop, strings.Split(v, ",")...)
			case "requires":
				if _, err := pydeps.ParseRequirement(v); err != nil {
					return nil, fmt.Errorf("line %d: requires=%q: %w", n, v, err)
				}
				s.Requires = append(s.Requires, v)
			default:
				return nil, fmt.Errorf("line %d: unknown option %s= (fill, top, drop, requires)", n, k)
			}
		}
		if len(s.Packages) == 0 {
			return nil, fmt.Errorf("line %d: %s: no Debian package", n, s.Name)
		}
		for _, p := range s.debs() {
			if !validPackage(p) {
				return nil, fmt.Errorf("line %d: %q is not a Debian package name", n, p)
			}
		}
		key := pydeps.NormalizeName(s.Name)
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("line %d: %s is already on line %d", n, s.Name, prev)
		}
		seen[key] = n
		specs = append(specs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(specs, func(i, j int) bool { return pydeps.NormalizeName(specs[i].Name) < pydeps.NormalizeName(specs[j].Name) })
	return specs, nil
}

// splitWords splits on blanks, drops a '#' comment, and honours '...' quoting.
func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == '#' && !inWord:
			return finish(words, &cur, inWord), nil
		case r == ' ' || r == '\t':
			words = finish(words, &cur, inWord)
			inWord = false
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote")
	}
	return finish(words, &cur, inWord), nil
}

func finish(words []string, cur *strings.Builder, inWord bool) []string {
	if inWord {
		words = append(words, cur.String())
	}
	cur.Reset()
	return words
}

// validPackage is Debian policy §5.6.1: lower case, digits, + - ., two or
// more characters, starting alphanumeric. It also keeps arguments to
// apt-get from looking like options.
func validPackage(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("+-.", r)) {
			return false
		}
	}
	return true
}
