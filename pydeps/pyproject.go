package pydeps

import (
	"sort"
	"strings"
)

// Pyproject is what this package reads from a pyproject.toml: PEP 621
// [project], PEP 735 [dependency-groups], [build-system], and the
// dependency tables of [tool.poetry] and [tool.uv].
type Pyproject struct {
	File string
	// Name is the project name as written ([project] or [tool.poetry]).
	Name    string
	Version string
	// HasProject reports a [project] table; Poetry a [tool.poetry] table.
	HasProject bool
	Poetry     bool
	// RequiresPython is a PEP 440 specifier ("" for none); Poetry's
	// "python" dependency is converted.
	RequiresPython    string
	RequiresPythonPos Pos
	// Dependencies are the main dependencies: [project] dependencies, or
	// Poetry's [tool.poetry.dependencies] when [project] declares none.
	Dependencies []Dependency
	// OptionalDependencies maps each extra (normalized) to its
	// dependencies; for Poetry, [tool.poetry.extras] names optional
	// dependencies.
	OptionalDependencies map[string][]Dependency
	// DependencyGroups maps each group (normalized) to its dependencies:
	// PEP 735 [dependency-groups] with include-group expanded, Poetry
	// groups (dev-dependencies as "dev") and tool.uv.dev-dependencies as
	// "dev".
	DependencyGroups map[string][]Dependency
	// Scripts maps console script names to "module:function".
	Scripts     map[string]string
	BuildSystem *BuildSystem
	// UVPackage is tool.uv.package; PoetryPackageMode
	// tool.poetry.package-mode; nil when unset.
	UVPackage         *bool
	PoetryPackageMode *bool
	// DynamicDependencies reports "dependencies" in [project] dynamic.
	DynamicDependencies bool
}

// BuildSystem is [build-system].
type BuildSystem struct {
	Requires []string
	Backend  string
	Pos      Pos
}

// Dependency is one declared dependency and where it is written.
type Dependency struct {
	Name string // normalized
	// Requirement is the dependency in PEP 508 form, as pip takes it; ""
	// when it has a local path (see Path) or a Poetry "||" constraint no
	// PEP 440 specifier can express (see Alternatives).
	Requirement string
	Extras      []string
	// Specifier is the version constraint; Alternatives holds every
	// alternative of a Poetry union (Specifier is the first).
	Specifier    Specifier
	Alternatives []Specifier
	URL          string // a direct reference (https, file, git+...)
	Path         string // a Poetry path dependency, relative to pyproject.toml
	Git          bool
	Marker       Marker
	// Optional marks a Poetry dependency installed only through an extra.
	Optional bool
	Pos      Pos
}

// Allows reports whether version v satisfies the dependency's constraint.
func (d Dependency) Allows(v string) bool {
	alts := d.Alternatives
	if len(alts) == 0 {
		alts = []Specifier{d.Specifier}
	}
	for _, s := range alts {
		if s.ContainsString(v) {
			return true
		}
	}
	return false
}

// Package reports whether the project itself is to be installed: it has a
// [build-system] (or tool.uv.package = true, which uv builds with its
// default backend) and a name, and neither tool.uv.package = false nor
// Poetry's package-mode = false. A Poetry project without [build-system]
// is not a package.
func (p *Pyproject) Package() bool {
	if p == nil || p.Name == "" {
		return false
	}
	if p.UVPackage != nil && !*p.UVPackage {
		return false
	}
	if p.PoetryPackageMode != nil && !*p.PoetryPackageMode {
		return false
	}
	if p.BuildSystem == nil {
		return p.UVPackage != nil && *p.UVPackage
	}
	return true
}

// DeclaresDependencies reports a [project] table or Poetry dependencies:
// the pyproject is a source of dependencies, not only tool settings.
func (p *Pyproject) DeclaresDependencies() bool {
	return p.HasProject || len(p.Dependencies) > 0 || p.Poetry && p.Name != ""
}

// ParsePyproject reads a pyproject.toml.
func ParsePyproject(file string, data []byte) (*Pyproject, error) {
	doc, err := parseTOML(file, data)
	if err != nil {
		return nil, err
	}
	r := newReader(doc)
	p := &Pyproject{
		File:                 file,
		OptionalDependencies: map[string][]Dependency{},
		DependencyGroups:     map[string][]Dependency{},
		Scripts:              map[string]string{},
	}
	root := doc.root
	proj := r.table(root, "project")
	tool := r.table(root, "tool")
	poetry := r.table(tool, "poetry")
	uv := r.table(tool, "uv")

	if bs := r.table(root, "build-system"); bs != nil {
		b := &BuildSystem{Pos: r.pos(root.get("build-system").off)}
		for _, s := range r.strings(bs, "requires") {
			b.Requires = append(b.Requires, s.str)
		}
		b.Backend, _, _ = r.str(bs, "build-backend")
		p.BuildSystem = b
	}
	if uv != nil {
		if v, ok := r.boolean(uv, "package"); ok {
			p.UVPackage = &v
		}
	}

	if proj != nil {
		p.HasProject = true
		p.Name, _, _ = r.str(proj, "name")
		p.Version, _, _ = r.str(proj, "version")
		for _, d := range r.strings(proj, "dynamic") {
			if d.str == "dependencies" {
				p.DynamicDependencies = true
			}
		}
		if rp, off, ok := r.str(proj, "requires-python"); ok {
			p.setRequiresPython(r, rp, off, false)
		}
		if proj.get("dependencies") != nil {
			p.Dependencies = pep508List(r, r.strings(proj, "dependencies"))
		}
		if od := r.table(proj, "optional-dependencies"); od != nil {
			for _, e := range od.entries {
				extra := NormalizeName(e.key)
				if !ValidName(e.key) {
					r.fail(e.keyOff, "invalid extra name %q", e.key)
				}
				p.OptionalDependencies[extra] = append(p.OptionalDependencies[extra], pep508List(r, r.strings(od, e.key))...)
			}
		}
		p.readScripts(r, r.table(proj, "scripts"))
	}

	if dg := r.table(root, "dependency-groups"); dg != nil {
		p.readDependencyGroups(r, dg)
	}
	if uv != nil && uv.get("dev-dependencies") != nil {
		p.DependencyGroups["dev"] = append(p.DependencyGroups["dev"], pep508List(r, r.strings(uv, "dev-dependencies"))...)
	}

	if poetry != nil {
		p.Poetry = true
		p.readPoetry(r, poetry, proj)
	}
	if p.Name != "" && !ValidName(p.Name) {
		off := 0
		if v := proj.get("name"); v != nil {
			off = v.off
		} else if v := poetry.get("name"); v != nil {
			off = v.off
		}
		r.fail(off, "invalid project name %q: use letters, digits, \".\", \"-\" and \"_\"", p.Name)
	}
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Pyproject) setRequiresPython(r *reader, spec string, off int, poetry bool) {
	if poetry {
		alts, err := parsePoetryConstraint(spec)
		if err != nil {
			r.fail(off, "python: %v", err)
			return
		}
		if len(alts) > 1 {
			r.fail(off, "python = %q: a union (||) of Python versions is not supported; write one range", spec)
			return
		}
		spec = alts[0].String()
	} else if _, err := ParseSpecifier(spec); err != nil {
		r.fail(off, "requires-python: %v", err)
		return
	}
	p.RequiresPython = spec
	p.RequiresPythonPos = r.pos(off)
}

func pep508List(r *reader, vals []*tval) []Dependency {
	var out []Dependency
	for _, v := range vals {
		if d, ok := pep508Dep(r, v); ok {
			out = append(out, d)
		}
	}
	return out
}

func pep508Dep(r *reader, v *tval) (Dependency, bool) {
	req, err := ParseRequirement(v.str)
	if err != nil {
		r.fail(v.off, "%v", err)
		return Dependency{}, false
	}
	d := Dependency{
		Name:        NormalizeName(req.Name),
		Requirement: strings.TrimSpace(v.str),
		Extras:      req.Extras,
		Specifier:   req.Specifier,
		URL:         req.URL,
		Git:         strings.HasPrefix(req.URL, "git+"),
		Marker:      req.Marker,
		Pos:         r.pos(v.off),
	}
	return d, true
}

func (p *Pyproject) readScripts(r *reader, t *ttable) {
	if t == nil {
		return
	}
	for _, e := range t.entries {
		switch e.val.kind {
		case tString:
			p.Scripts[e.key] = e.val.str
		case tTable: // Poetry: {callable = "m:f", extras = [...]} or {reference = ...}
			if c, _, ok := r.str(e.val.tab, "callable"); ok {
				p.Scripts[e.key] = c
			} else if c, _, ok := r.str(e.val.tab, "reference"); ok {
				p.Scripts[e.key] = c
			}
		default:
			r.typeErr(e.key, e.val, "a string")
		}
	}
}

// readDependencyGroups reads PEP 735 groups, expanding include-group.
func (p *Pyproject) readDependencyGroups(r *reader, dg *ttable) {
	byName := map[string]tentry{}
	for _, e := range dg.entries {
		n := NormalizeName(e.key)
		if !ValidName(e.key) {
			r.fail(e.keyOff, "invalid dependency group name %q", e.key)
			continue
		}
		if _, dup := byName[n]; dup {
			r.fail(e.keyOff, "dependency group %q is defined twice (names are compared normalized)", e.key)
			continue
		}
		byName[n] = e
	}
	var expand func(name string, stack []string) []Dependency
	done := map[string][]Dependency{}
	expand = func(name string, stack []string) []Dependency {
		if deps, ok := done[name]; ok {
			return deps
		}
		e := byName[name]
		for _, s := range stack {
			if s == name {
				r.fail(e.keyOff, "dependency group %q includes itself (%s)", e.key, strings.Join(append(stack, name), " -> "))
				return nil
			}
		}
		if e.val.kind != tArray {
			r.typeErr(e.key, e.val, "an array")
			return nil
		}
		var deps []Dependency
		for _, v := range e.val.arr {
			switch v.kind {
			case tString:
				if d, ok := pep508Dep(r, v); ok {
					deps = append(deps, d)
				}
			case tTable:
				inc, off, ok := r.str(v.tab, "include-group")
				if !ok || len(v.tab.entries) != 1 {
					r.fail(v.off, "a table in a dependency group must be {include-group = \"name\"}")
					continue
				}
				target := NormalizeName(inc)
				if _, ok := byName[target]; !ok {
					r.fail(off, "include-group %q: no such dependency group", inc)
					continue
				}
				deps = append(deps, expand(target, append(stack, name))...)
			default:
				r.fail(v.off, "dependency group %q: entries must be strings or {include-group = ...}, not %s", e.key, v.kind)
			}
		}
		done[name] = deps
		return deps
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p.DependencyGroups[n] = append(p.DependencyGroups[n], expand(n, nil)...)
	}
}

func (p *Pyproject) readPoetry(r *reader, poetry, proj *ttable) {
	if p.Name == "" {
		p.Name, _, _ = r.str(poetry, "name")
	}
	if p.Version == "" {
		p.Version, _, _ = r.str(poetry, "version")
	}
	if v, ok := r.boolean(poetry, "package-mode"); ok {
		p.PoetryPackageMode = &v
	}
	if len(p.Scripts) == 0 {
		p.readScripts(r, r.table(poetry, "scripts"))
	}
	// Poetry 2 reads [project] dependencies when they are declared there;
	// tool.poetry.dependencies then only adds sources and python.
	useProject := proj != nil && proj.get("dependencies") != nil
	var main []Dependency
	if deps := r.table(poetry, "dependencies"); deps != nil {
		for _, e := range deps.entries {
			if e.key == "python" {
				if p.RequiresPython == "" {
					if s, off, ok := r.str(deps, "python"); ok {
						p.setRequiresPython(r, s, off, true)
					}
				}
				continue
			}
			main = append(main, poetryDeps(r, e)...)
		}
	}
	if !useProject {
		extras := r.table(poetry, "extras")
		optional := map[string]Dependency{}
		for _, d := range main {
			if d.Optional {
				optional[d.Name] = d
				continue
			}
			p.Dependencies = append(p.Dependencies, d)
		}
		if extras != nil {
			for _, e := range extras.entries {
				extra := NormalizeName(e.key)
				for _, s := range r.strings(extras, e.key) {
					// an extra names optional dependencies, maybe with [extras]
					name := NormalizeName(strings.TrimSpace(strings.SplitN(s.str, "[", 2)[0]))
					d, ok := optional[name]
					if !ok {
						r.fail(s.off, "extra %q names %q, which is not an optional dependency in [tool.poetry.dependencies]", e.key, s.str)
						continue
					}
					p.OptionalDependencies[extra] = append(p.OptionalDependencies[extra], d)
				}
			}
		}
	}
	if dev := r.table(poetry, "dev-dependencies"); dev != nil {
		for _, e := range dev.entries {
			p.DependencyGroups["dev"] = append(p.DependencyGroups["dev"], poetryDeps(r, e)...)
		}
	}
	if groups := r.table(poetry, "group"); groups != nil {
		for _, g := range groups.entries {
			if g.val.kind != tTable {
				r.typeErr(g.key, g.val, "a table")
				continue
			}
			name := NormalizeName(g.key)
			deps := r.table(g.val.tab, "dependencies")
			if deps == nil {
				continue
			}
			for _, e := range deps.entries {
				p.DependencyGroups[name] = append(p.DependencyGroups[name], poetryDeps(r, e)...)
			}
		}
	}
}

// poetryDeps converts one entry of a Poetry dependency table: a
// constraint string, a table, or an array of tables with different
// markers.
func poetryDeps(r *reader, e tentry) []Dependency {
	if !ValidName(e.key) {
		r.fail(e.keyOff, "invalid dependency name %q", e.key)
		return nil
	}
	switch e.val.kind {
	case tString, tTable:
		if d, ok := poetryDep(r, e.key, e.val, r.pos(e.keyOff)); ok {
			return []Dependency{d}
		}
	case tArray:
		var out []Dependency
		for _, v := range e.val.arr {
			if v.kind != tTable {
				r.fail(v.off, "%q: each constraint must be a table, not %s", e.key, v.kind)
				continue
			}
			if d, ok := poetryDep(r, e.key, v, r.pos(v.off)); ok {
				out = append(out, d)
			}
		}
		return out
	default:
		r.typeErr(e.key, e.val, "a version string or a table")
	}
	return nil
}

func poetryDep(r *reader, name string, v *tval, pos Pos) (Dependency, bool) {
	d := Dependency{Name: NormalizeName(name), Pos: pos}
	constraint := "*"
	var markers []string
	if v.kind == tString {
		constraint = v.str
	} else {
		t := v.tab
		if s, _, ok := r.str(t, "version"); ok {
			constraint = s
		}
		for _, x := range r.strings(t, "extras") {
			d.Extras = append(d.Extras, x.str)
		}
		d.Optional, _ = r.boolean(t, "optional")
		if m, _, ok := r.str(t, "markers"); ok {
			markers = append(markers, m)
		}
		if py, off, ok := r.str(t, "python"); ok {
			m, err := pythonConstraintMarker(py)
			if err != nil {
				r.fail(off, "%q: python: %v", name, err)
				return d, false
			}
			if m != "" {
				markers = append(markers, m)
			}
		}
		if pl, _, ok := r.str(t, "platform"); ok {
			markers = append(markers, "sys_platform == \""+pl+"\"")
		}
		if path, _, ok := r.str(t, "path"); ok {
			d.Path = path
		}
		if u, _, ok := r.str(t, "url"); ok {
			d.URL = u
		}
		if g, _, ok := r.str(t, "git"); ok {
			d.Git = true
			ref := ""
			for _, k := range []string{"rev", "tag", "branch"} {
				if s, _, ok := r.str(t, k); ok {
					ref = "@" + s
					break
				}
			}
			d.URL = "git+" + strings.TrimPrefix(g, "git+") + ref
			if sub, _, ok := r.str(t, "subdirectory"); ok {
				d.URL += "#subdirectory=" + sub
			}
		}
	}
	alts, err := parsePoetryConstraint(constraint)
	if err != nil {
		r.fail(v.off, "%q: %v", name, err)
		return d, false
	}
	d.Specifier = alts[0]
	if len(alts) > 1 {
		d.Alternatives = alts
	}
	if len(markers) > 0 {
		text := markers[0]
		if len(markers) > 1 {
			text = "(" + strings.Join(markers, ") and (") + ")"
		}
		m, err := ParseMarker(text)
		if err != nil {
			r.fail(v.off, "%q: %v", name, err)
			return d, false
		}
		d.Marker = m
	}
	if d.Path == "" && len(d.Alternatives) == 0 {
		req := Requirement{Name: name, Extras: d.Extras, Specifier: d.Specifier, URL: d.URL, Marker: d.Marker}
		if d.URL != "" {
			req.Specifier = Specifier{}
		}
		d.Requirement = req.String()
	}
	return d, true
}

// keys returns the keys of m, sorted.
func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
