package main

import (
	"archive/zip"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/distill-build/distill/pydeps"
)

// A dist is what the closure check needs of one wheel.
type dist struct {
	Name     string // normalized
	Version  string
	Requires []string // Requires-Dist values
	Extras   []string // Provides-Extra, normalized
}

// distOf reads a wheel file's METADATA.
func distOf(file string) (dist, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return dist{}, err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".dist-info/METADATA") || strings.Count(f.Name, "/") != 1 {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return dist{}, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return dist{}, err
		}
		return distFromMetadata(parseMetadata(string(b))), nil
	}
	return dist{}, fmt.Errorf("%s: no .dist-info/METADATA", file)
}

func distFromMetadata(m *metadata) dist {
	d := dist{Name: pydeps.NormalizeName(m.get("Name")), Version: m.get("Version"), Requires: m.all("Requires-Dist")}
	for _, e := range m.all("Provides-Extra") {
		d.Extras = append(d.Extras, pydeps.NormalizeName(e))
	}
	return d
}

// checkClosure tells whether installing each distribution of the set (no
// extras) needs only distributions of the set, at versions pip would
// accept: every Requires-Dist whose marker holds on CPython 3.13 / Linux
// x86_64 names a member whose version satisfies the specifier, with the
// extras it asks for, recursively. A pre-release version is an error too:
// pip skips pre-releases unless asked (mako's and alembic's ".dev0").
func checkClosure(set map[string]dist) []string {
	var problems []string
	for _, name := range sortedKeys(set) {
		if v, err := pydeps.ParseVersion(set[name].Version); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
		} else if v.IsPrerelease() {
			problems = append(problems, fmt.Sprintf("%s %s is a pre-release: pip will not install it unless asked", name, set[name].Version))
		}
	}
	seen := map[string]bool{}
	var visit func(name string, extras []string, chain []string)
	visit = func(name string, extras []string, chain []string) {
		key := name + "[" + strings.Join(extras, ",") + "]"
		if seen[key] {
			return
		}
		seen[key] = true
		d := set[name]
		for _, e := range extras {
			if !contains(d.Extras, e) {
				problems = append(problems, fmt.Sprintf("%s: %s has no extra %q", strings.Join(chain, " -> "), name, e))
			}
		}
		for _, raw := range d.Requires {
			r, err := pydeps.ParseRequirement(raw)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: Requires-Dist %q: %v", name, raw, err))
				continue
			}
			if !markerHolds(r.Marker, extras) {
				continue
			}
			dep := pydeps.NormalizeName(r.Name)
			where := strings.Join(with(chain, raw), " -> ")
			t, ok := set[dep]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is not in the set", where, dep))
				continue
			}
			if len(r.Specifier.Clauses) > 0 {
				v, err := pydeps.ParseVersion(t.Version)
				if err != nil {
					continue // reported above
				}
				if !r.Specifier.Contains(v) {
					problems = append(problems, fmt.Sprintf("%s: the set has %s %s", where, dep, t.Version))
					continue
				}
			}
			var sub []string
			for _, e := range r.Extras {
				sub = append(sub, pydeps.NormalizeName(e))
			}
			sort.Strings(sub)
			visit(dep, sub, with(chain, dep))
		}
	}
	for _, name := range sortedKeys(set) {
		visit(name, nil, []string{name})
	}
	sort.Strings(problems)
	return problems
}

// target is what markers see on the builders the test bed serves: CPython
// 3.13 on Linux x86_64 (trixie builds everything for 3.13 only).
var target = pydeps.EnvFor("3.13.5", "amd64")

// markerHolds evaluates a marker on target once with no extra and once per
// requested extra, as pip does (the extra variable holds one name at a
// time, so `extra == "a" and extra == "b"` never holds). The zero Marker
// holds.
func markerHolds(m pydeps.Marker, extras []string) bool {
	if m.Eval(target) {
		return true
	}
	for _, e := range extras {
		if m.Eval(target, e) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// with returns a copy of chain with s appended (chains are shared by the recursion).
func with(chain []string, s string) []string {
	return append(append([]string(nil), chain...), s)
}
