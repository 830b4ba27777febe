package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/distill-build/distill/pydeps"
)

// requirement is one dependency: a root of the project or a Requires-Dist
// line of a locked release, with its extra condition taken out.
type requirement struct {
	name   string // normalized
	extras []string
	spec   pydeps.Specifier
	marker pydeps.Marker // zero: always
	text   string        // as written, for messages
}

func newRequirement(text string, extraOK bool) (requirement, []string, error) {
	req, err := pydeps.ParseRequirement(text)
	if err != nil {
		return requirement{}, nil, err
	}
	if req.URL != "" {
		return requirement{}, nil, fmt.Errorf("%q is a direct reference (name @ URL); mklock locks index packages only", text)
	}
	r := requirement{name: pydeps.NormalizeName(req.Name), spec: req.Specifier, text: text}
	for _, x := range req.Extras {
		r.extras = append(r.extras, pydeps.NormalizeName(x))
	}
	sort.Strings(r.extras)
	var under []string
	if !req.Marker.IsZero() {
		if under, r.marker, err = lockMarker(req.Marker); err != nil {
			return requirement{}, nil, err
		}
		if len(under) > 0 && !extraOK {
			return requirement{}, nil, fmt.Errorf("%q: an extra condition belongs in a package's metadata, not here", text)
		}
	}
	return r, under, nil
}

// universalEnvs are the environments a universal lock (uv, Poetry and
// pylock do this) is made for: CPython and PyPy on Linux (x86_64,
// aarch64), macOS (arm64, x86_64) and Windows (AMD64), for each Python
// minor from 3.8 to 3.16 that requires-python allows (its first and a late
// patch release).
func universalEnvs(requiresPython pydeps.Specifier) []pydeps.Env {
	type platform struct{ osName, sys, system, machine string }
	platforms := []platform{
		{"posix", "linux", "Linux", "x86_64"}, {"posix", "linux", "Linux", "aarch64"},
		{"posix", "darwin", "Darwin", "arm64"}, {"posix", "darwin", "Darwin", "x86_64"},
		{"nt", "win32", "Windows", "AMD64"},
	}
	var out []pydeps.Env
	for minor := 8; minor <= 16; minor++ {
		for _, patch := range []int{0, 99} {
			full := fmt.Sprintf("3.%d.%d", minor, patch)
			if v, _ := pydeps.ParseVersion(full); !requiresPython.Contains(v) {
				continue
			}
			for _, p := range platforms {
				for _, impl := range []string{"CPython", "PyPy"} {
					e := pydeps.EnvFor(full, "amd64")
					e.OSName, e.SysPlatform, e.PlatformSystem, e.PlatformMachine = p.osName, p.sys, p.system, p.machine
					if impl == "PyPy" {
						e.PlatformPythonImplementation, e.ImplementationName, e.ImplementationVersion = "PyPy", "pypy", "7.3.17"
					}
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// resolver picks one version of every package the roots need, in all of
// envs at once (one version per package: no forks), the newest release
// every constraint met so far allows. A constraint that excludes a version
// already picked restarts the walk with that constraint known.
type resolver struct {
	ix     *index
	envs   []pydeps.Env
	python []pydeps.Version // the Python versions of envs, for files' requires-python

	constraints map[string][]requirement
	chosen      map[string]*release
	active      map[string]map[string]bool // extras asked of each chosen package
	deps        map[*release]map[string][]requirement
	parents     map[string]map[string]bool // who asked for a package ("" = the roots)
}

func newResolver(ix *index, envs []pydeps.Env) *resolver {
	r := &resolver{ix: ix, envs: envs, constraints: map[string][]requirement{}, deps: map[*release]map[string][]requirement{}}
	seen := map[string]bool{}
	for _, e := range envs {
		if !seen[e.PythonFullVersion] {
			seen[e.PythonFullVersion] = true
			v, _ := pydeps.ParseVersion(e.PythonFullVersion)
			r.python = append(r.python, v)
		}
	}
	return r
}

func (r *resolver) resolve(roots []requirement) error {
	for attempt := 0; attempt < 200; attempt++ {
		restart, err := r.pass(roots)
		if err != nil {
			return err
		}
		if !restart {
			return nil
		}
	}
	return fmt.Errorf("no stable resolution after 200 attempts (constraints keep excluding what was picked)")
}

type queued struct {
	req  requirement
	from string
}

func (r *resolver) pass(roots []requirement) (bool, error) {
	r.chosen = map[string]*release{}
	r.active = map[string]map[string]bool{}
	r.parents = map[string]map[string]bool{}
	var queue []queued
	for _, x := range roots {
		queue = append(queue, queued{x, ""})
	}
	for len(queue) > 0 {
		q := queue[0]
		queue = queue[1:]
		if some, _ := truth(q.req.marker, r.envs); !some {
			continue
		}
		name := q.req.name
		if r.parents[name] == nil {
			r.parents[name] = map[string]bool{}
		}
		r.parents[name][q.from] = true
		if !r.known(q.req) {
			r.constraints[name] = append(r.constraints[name], q.req)
		}
		rel := r.chosen[name]
		if rel != nil && !q.req.spec.Contains(rel.Version) {
			return true, nil
		}
		if rel == nil {
			var err error
			if rel, err = r.pick(name); err != nil {
				who := "the project"
				if q.from != "" {
					who = q.from
				}
				return false, fmt.Errorf("%s (required by %s as %q): %v", name, who, q.req.text, err)
			}
			r.chosen[name] = rel
			r.active[name] = map[string]bool{}
			deps, err := r.depsOf(rel)
			if err != nil {
				return false, err
			}
			for _, d := range deps[""] {
				queue = append(queue, queued{d, name})
			}
		}
		for _, x := range q.req.extras {
			if r.active[name][x] {
				continue
			}
			r.active[name][x] = true
			deps, err := r.depsOf(rel)
			if err != nil {
				return false, err
			}
			for _, d := range deps[x] {
				queue = append(queue, queued{d, name})
			}
		}
	}
	return false, nil
}

func (r *resolver) known(q requirement) bool {
	for _, c := range r.constraints[q.name] {
		if c.spec.String() == q.spec.String() {
			return true
		}
	}
	return false
}

// pick chooses the newest release that every constraint allows and that
// has a file for the Python versions of the lock (final releases before
// pre-releases).
func (r *resolver) pick(name string) (*release, error) {
	rels, err := r.ix.releases(name)
	if err != nil {
		return nil, err
	}
	var pre *release
	var why []string
	for _, rel := range rels {
		ok := true
		for _, c := range r.constraints[name] {
			if !c.spec.Contains(rel.Version) {
				ok = false
				break
			}
		}
		if !ok {
			why = append(why, rel.Version.String())
			continue
		}
		if !r.pythonOK(rel) {
			why = append(why, rel.Version.String()+" (requires-python)")
			continue
		}
		if rel.Version.IsPrerelease() {
			if pre == nil {
				pre = rel
			}
			continue
		}
		return rel, nil
	}
	if pre != nil {
		return pre, nil
	}
	var specs []string
	for _, c := range r.constraints[name] {
		if s := c.spec.String(); s != "" {
			specs = append(specs, s)
		}
	}
	return nil, fmt.Errorf("no release satisfies %s (the index has %s)", orAny(strings.Join(specs, " and ")), strings.Join(why, ", "))
}

func orAny(s string) string {
	if s == "" {
		return "any version"
	}
	return s
}

// pythonOK: some file of the release allows the lock's lowest Python.
func (r *resolver) pythonOK(rel *release) bool {
	if len(r.python) == 0 {
		return true
	}
	lowest := r.python[0]
	for _, v := range r.python[1:] {
		if v.Compare(lowest) < 0 {
			lowest = v
		}
	}
	for _, f := range rel.Files {
		if f.RequiresPython == "" {
			return true
		}
		if s, err := pydeps.ParseSpecifier(f.RequiresPython); err == nil && s.Contains(lowest) {
			return true
		}
	}
	return false
}

// depsOf reads a release's Requires-Dist lines, grouped by extra ("": the
// base requirements).
func (r *resolver) depsOf(rel *release) (map[string][]requirement, error) {
	if d, ok := r.deps[rel]; ok {
		return d, nil
	}
	lines, err := r.ix.metadataOf(rel)
	if err != nil {
		return nil, err
	}
	d := map[string][]requirement{}
	for _, l := range lines {
		req, extras, err := newRequirement(l, true)
		if err != nil {
			return nil, fmt.Errorf("%s %s: Requires-Dist: %v", rel.Name, rel.Version, err)
		}
		if len(extras) == 0 {
			d[""] = append(d[""], req)
		}
		for _, x := range extras {
			d[x] = append(d[x], req)
		}
	}
	r.deps[rel] = d
	return d, nil
}

// edge is a dependency as a lock records it: the package, the extras it
// asks for, and the marker under which it applies (zero: everywhere).
type edge struct {
	name   string
	extras []string
	marker pydeps.Marker
}

// edges turns requirements into the edges of the resolved graph: those
// whose marker holds nowhere are dropped, a marker that holds everywhere
// is left out, and two requirements of one package under one marker merge.
func (r *resolver) edges(reqs []requirement) []edge {
	var out []edge
	idx := map[string]int{}
	for _, q := range reqs {
		some, all := truth(q.marker, r.envs)
		if !some || r.chosen[q.name] == nil {
			continue
		}
		e := edge{name: q.name, extras: q.extras}
		if !all {
			e.marker = q.marker
		}
		key := e.name + ";" + e.marker.Canonical()
		if i, ok := idx[key]; ok {
			out[i].extras = mergeNames(out[i].extras, e.extras)
			continue
		}
		idx[key] = len(out)
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].marker.Canonical() < out[j].marker.Canonical()
	})
	return out
}

func mergeNames(a, b []string) []string {
	out := append(append([]string(nil), a...), b...)
	sort.Strings(out)
	var u []string
	for i, s := range out {
		if i == 0 || s != out[i-1] {
			u = append(u, s)
		}
	}
	return u
}

// node is a locked package with its edges.
type node struct {
	rel      *release
	deps     []edge
	optional map[string][]edge // the extras of it that the resolution uses
}

// graph is the resolved packages, sorted by name.
func (r *resolver) graph() ([]*node, error) {
	var names []string
	for n := range r.chosen {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*node
	for _, n := range names {
		rel := r.chosen[n]
		deps, err := r.depsOf(rel)
		if err != nil {
			return nil, err
		}
		nd := &node{rel: rel, deps: r.edges(deps[""])}
		for x := range r.active[n] {
			if nd.optional == nil {
				nd.optional = map[string][]edge{}
			}
			nd.optional[x] = r.edges(deps[x])
		}
		if err := r.ix.sizes(rel); err != nil {
			return nil, err
		}
		out = append(out, nd)
	}
	return out, nil
}
