// Command mklock resolves a project's dependencies against a PEP 503
// package index and writes lock files: a uv.lock in uv's schema (version
// 1, revision 3), a PEP 751 pylock.toml, or a pip requirements file with
// every file's hash. It exists because uv cannot be had on the test bed
// (PyPI, crates and uv's releases are out of reach), while the examples
// need locks whose hashes match the test bed's index: the real wheels
// repacked from Debian trixie (integration/testbed/realwheels.txt).
//
// The resolution is the simple kind: one version per package, the newest
// every constraint seen so far allows (a constraint that excludes a version
// already picked restarts the walk with that constraint known), final
// releases before pre-releases, a file for the lock's Python required. Its
// dependencies come from the Requires-Dist lines of each release's first
// wheel (downloaded, and checked against the index's #sha256=). uv.lock and
// pylock.toml are universal, as uv makes them: a dependency is locked when
// its marker holds on some supported platform (Linux, macOS, Windows;
// CPython, PyPy; every Python minor requires-python allows), and keeps that
// marker. The requirements file is for one target (-python, -arch), like
// pip-compile's output.
//
// Usage:
//
//	mklock [-index URL] -uv uv.lock [-pylock pylock.toml] DIR
//	mklock [-index URL] -requirements requirements.txt [-python 3.13] [-arch amd64] [-header TEXT] (requirements.in | DIR)
//
// DIR holds a pyproject.toml (PEP 621 [project], PEP 735
// [dependency-groups]); a requirements.in has one PEP 508 requirement per
// line. The index defaults to $DISTILL_INDEX_URL, then the test bed's
// http://127.0.0.1:3141/simple/. integration/testbed/relock.sh runs it for
// the examples.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/distill-build/distill/pydeps"
)

func main() {
	var o options
	def := os.Getenv("DISTILL_INDEX_URL")
	if def == "" {
		def = "http://127.0.0.1:3141/simple/"
	}
	flag.StringVar(&o.index, "index", def, "PEP 503 index URL")
	flag.StringVar(&o.uv, "uv", "", "write a uv.lock here (needs a pyproject.toml)")
	flag.StringVar(&o.pylock, "pylock", "", "write a PEP 751 pylock.toml here (needs a pyproject.toml)")
	flag.StringVar(&o.requirements, "requirements", "", "write a hashed requirements file here, for -python on linux/-arch")
	flag.StringVar(&o.python, "python", "3.13", "Python version of the requirements file's target")
	flag.StringVar(&o.arch, "arch", "amd64", "Go architecture name of the requirements file's target (amd64, arm64)")
	flag.StringVar(&o.header, "header", "regenerate it the same way.", "the end of the requirements file's header comment (how to regenerate it)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: mklock [-index URL] [-uv FILE] [-pylock FILE] [-requirements FILE] (DIR | pyproject.toml | requirements.in)\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || o.uv == "" && o.pylock == "" && o.requirements == "" {
		flag.Usage()
		os.Exit(2)
	}
	o.source = flag.Arg(0)
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "mklock: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	index, uv, pylock, requirements string
	python, arch, header            string
	source                          string
}

// input is what to lock: a pyproject's project, or a requirements.in.
type input struct {
	py       *pydeps.Pyproject
	main     []requirement
	optional map[string][]requirement
	groups   map[string][]requirement
	file     string // for messages and the requirements header
}

func readInput(src string) (*input, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		src = filepath.Join(src, "pyproject.toml")
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	in := &input{file: src}
	if filepath.Base(src) != "pyproject.toml" {
		for i, line := range strings.Split(string(data), "\n") {
			if j := strings.Index(line, " #"); j >= 0 {
				line = line[:j]
			}
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if strings.HasPrefix(line, "-") {
				return nil, fmt.Errorf("%s:%d: options (%s) are not supported; list requirements only", src, i+1, line)
			}
			r, _, err := newRequirement(line, false)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", src, i+1, err)
			}
			in.main = append(in.main, r)
		}
		return in, nil
	}
	py, err := pydeps.ParsePyproject(src, data)
	if err != nil {
		return nil, err
	}
	if !py.HasProject || py.Name == "" {
		return nil, fmt.Errorf("%s: no [project] with a name; mklock locks PEP 621 projects", src)
	}
	in.py = py
	conv := func(ds []pydeps.Dependency) ([]requirement, error) {
		var out []requirement
		for _, d := range ds {
			if d.Requirement == "" {
				return nil, fmt.Errorf("%s:%d: dependency %q is not a plain requirement (a path or a Poetry || constraint)", src, d.Pos.Line, d.Name)
			}
			r, _, err := newRequirement(d.Requirement, false)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", src, d.Pos.Line, err)
			}
			out = append(out, r)
		}
		return out, nil
	}
	if in.main, err = conv(py.Dependencies); err != nil {
		return nil, err
	}
	in.optional, in.groups = map[string][]requirement{}, map[string][]requirement{}
	for x, ds := range py.OptionalDependencies {
		if in.optional[x], err = conv(ds); err != nil {
			return nil, err
		}
	}
	for g, ds := range py.DependencyGroups {
		if in.groups[g], err = conv(ds); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (in *input) all() []requirement {
	out := append([]requirement(nil), in.main...)
	for _, x := range sortedKeys(in.optional) {
		out = append(out, in.optional[x]...)
	}
	for _, g := range sortedKeys(in.groups) {
		out = append(out, in.groups[g]...)
	}
	return out
}

func run(o options) error {
	in, err := readInput(o.source)
	if err != nil {
		return err
	}
	ix, err := newIndex(o.index)
	if err != nil {
		return err
	}
	if o.uv != "" || o.pylock != "" {
		if in.py == nil {
			return errors.New("-uv and -pylock lock a project: give its directory or pyproject.toml")
		}
		if in.py.RequiresPython == "" {
			return fmt.Errorf("%s: no requires-python; a universal lock is made for the Pythons it allows", in.file)
		}
		rp, err := pydeps.ParseSpecifier(in.py.RequiresPython)
		if err != nil {
			return fmt.Errorf("%s: requires-python: %v", in.file, err)
		}
		envs := universalEnvs(rp)
		if len(envs) == 0 {
			return fmt.Errorf("%s: requires-python %q allows no Python from 3.8 to 3.16", in.file, in.py.RequiresPython)
		}
		r := newResolver(ix, envs)
		if err := r.resolve(in.all()); err != nil {
			return err
		}
		nodes, err := r.graph()
		if err != nil {
			return err
		}
		if o.uv != "" {
			root, err := uvRoot(in, r)
			if err != nil {
				return err
			}
			if err := write(o.uv, writeUV(ix.URL(), in.py.RequiresPython, root, nodes)); err != nil {
				return err
			}
			report(o.uv, nodes)
		}
		if o.pylock != "" {
			markers, err := pylockMarkers(in, r, nodes)
			if err != nil {
				return err
			}
			data := writePylock(ix.URL(), in.py.RequiresPython, sortedKeys(in.optional), sortedKeys(in.groups), nodes, markers)
			if err := write(o.pylock, data); err != nil {
				return err
			}
			report(o.pylock, nodes)
		}
	}
	if o.requirements != "" {
		target := pydeps.EnvFor(o.python, o.arch)
		r := newResolver(ix, []pydeps.Env{target})
		if err := r.resolve(in.main); err != nil {
			return err
		}
		nodes, err := r.graph()
		if err != nil {
			return err
		}
		via := map[string][]string{}
		for _, n := range nodes {
			var ps []string
			for p := range r.parents[n.rel.Name] {
				if p == "" {
					p = "-r " + filepath.Base(in.file)
				}
				ps = append(ps, p)
			}
			sort.Strings(ps)
			via[n.rel.Name] = ps
		}
		header := []string{
			fmt.Sprintf("Every package %s needs on %s, pinned, with", filepath.Base(in.file), target),
			"the sha256 of each file the index serves (pip-compile --generate-hashes",
			"layout). Made by integration/cmd/mklock; " + o.header,
			"",
		}
		if err := write(o.requirements, writeRequirements(header, nodes, via)); err != nil {
			return err
		}
		report(o.requirements, nodes)
	}
	return nil
}

// uvRoot is the project as uv.lock records it.
func uvRoot(in *input, r *resolver) (*project, error) {
	py := in.py
	p := &project{name: pydeps.NormalizeName(py.Name), version: py.Version, editable: py.Package()}
	p.deps = r.edges(in.main)
	// under is the extra condition of an optional dependency (zero: none)
	decl := func(q requirement, under pydeps.Marker) declared {
		return declared{name: q.name, extras: q.extras, spec: q.spec.String(), marker: q.marker.And(under).Canonical()}
	}
	for _, q := range in.main {
		p.requiresDist = append(p.requiresDist, decl(q, pydeps.Marker{}))
	}
	if len(in.optional) > 0 {
		p.optional = map[string][]edge{}
		for _, x := range sortedKeys(in.optional) {
			p.optional[x] = r.edges(in.optional[x])
			under, err := pydeps.Comparison{Left: "extra", LeftVariable: true, Op: "==", Right: x}.Marker()
			if err != nil {
				return nil, err
			}
			for _, q := range in.optional[x] {
				p.requiresDist = append(p.requiresDist, decl(q, under))
			}
			p.provides = append(p.provides, x)
		}
	}
	sort.SliceStable(p.requiresDist, func(i, j int) bool { return p.requiresDist[i].name < p.requiresDist[j].name })
	if len(in.groups) > 0 {
		p.groups, p.requiresDev = map[string][]edge{}, map[string][]declared{}
		for _, g := range sortedKeys(in.groups) {
			p.groups[g] = r.edges(in.groups[g])
			for _, q := range in.groups[g] {
				p.requiresDev[g] = append(p.requiresDev[g], decl(q, pydeps.Marker{}))
			}
			sort.SliceStable(p.requiresDev[g], func(i, j int) bool { return p.requiresDev[g][i].name < p.requiresDev[g][j].name })
		}
	}
	return p, nil
}

// term is a conjunction of marker strings (sorted, unique); the empty term
// is true.
type term []string

func (t term) key() string { return strings.Join(t, "\x00") }

func (t term) with(m pydeps.Marker) term {
	if m.IsZero() {
		return t
	}
	s := m.Canonical()
	if m.Op() == "or" { // joined with " and "
		s = "(" + s + ")"
	}
	return term(mergeNames(t, []string{s}))
}

// pylockMarkers computes each package's marker: the disjunction, over the
// paths from the project to it, of the conjunction of the markers on the
// way (a dependency group's path starts with `'g' in dependency_groups`, an
// extra's with `'x' in extras`). "" means always.
func pylockMarkers(in *input, r *resolver, nodes []*node) (map[string]string, error) {
	byName := map[string]*node{}
	for _, n := range nodes {
		byName[n.rel.Name] = n
	}
	terms := map[string]map[string]term{}
	var queue []string
	add := func(name string, t term) {
		if terms[name] == nil {
			terms[name] = map[string]term{}
		}
		if _, ok := terms[name][t.key()]; ok {
			return
		}
		if _, ok := terms[name][""]; ok { // already always
			return
		}
		terms[name][t.key()] = t
		queue = append(queue, name)
	}
	start := func(reqs []requirement, t term) {
		for _, e := range r.edges(reqs) {
			add(e.name, t.with(e.marker))
		}
	}
	// a path through extra x starts with `'x' in extras`, one through group g with `'g' in dependency_groups`
	member := func(name, set string) (term, error) {
		m, err := pydeps.Comparison{Left: name, Op: "in", Right: set, RightVariable: true}.Marker()
		return term{m.Canonical()}, err
	}
	start(in.main, nil)
	for _, x := range sortedKeys(in.optional) {
		t, err := member(x, "extras")
		if err != nil {
			return nil, err
		}
		start(in.optional[x], t)
	}
	for _, g := range sortedKeys(in.groups) {
		t, err := member(g, "dependency_groups")
		if err != nil {
			return nil, err
		}
		start(in.groups[g], t)
	}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 100000 {
			return nil, errors.New("package markers do not settle (a cycle keeps adding paths)")
		}
		name := queue[0]
		queue = queue[1:]
		n := byName[name]
		if n == nil {
			continue
		}
		es := append([]edge(nil), n.deps...)
		for _, x := range sortedKeys(n.optional) {
			es = append(es, n.optional[x]...)
		}
		for _, t := range terms[name] {
			for _, e := range es {
				add(e.name, t.with(e.marker))
			}
		}
	}
	out := map[string]string{}
	for name, ts := range terms {
		if _, ok := ts[""]; ok {
			continue
		}
		var parts []string
		for _, k := range sortedKeys(ts) {
			t := ts[k]
			s := strings.Join(t, " and ")
			if len(ts) > 1 && len(t) > 1 {
				s = "(" + s + ")"
			}
			parts = append(parts, s)
		}
		m := strings.Join(parts, " or ")
		if _, err := pydeps.ParseMarker(m); err != nil {
			return nil, fmt.Errorf("package %s: marker %q: %v", name, m, err)
		}
		out[name] = m
	}
	return out, nil
}

func write(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// logOut receives what mklock wrote (tests discard it).
var logOut io.Writer = os.Stderr

func report(path string, nodes []*node) {
	var b bytes.Buffer
	for i, n := range nodes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", n.rel.Name, n.rel.Version)
	}
	fmt.Fprintf(logOut, "mklock: wrote %s: %d packages (%s)\n", path, len(nodes), b.String())
}
