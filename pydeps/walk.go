package pydeps

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// resolver walks one lock for one target.
type resolver struct {
	plan *Plan
	lock *Lock
	py   *Pyproject
	env  Env
	opts Options

	byName map[string][]*Package
	// active extras per reached package (the key set is the reached set)
	active map[*Package]map[string]bool
	queue  []*Package
	// names reached only through edges whose marker is false
	falseEdge map[string]bool
	// roots are the project packages of a uv lock (not installed here)
	roots  map[*Package]bool
	extras []string // chosen extras (normalized)
	groups []string // chosen groups (normalized)
	// baseExtras are the extra names every marker sees: uv's encoded
	// conflict extras of the chosen extras and groups
	baseExtras []string
	errs       *errorList
	pyErrs     *errorList
}

func (r *resolver) run() error {
	l := r.lock
	r.errs = &errorList{file: l.File}
	pyFile := "pyproject.toml"
	if r.py != nil {
		pyFile = r.py.File
	}
	r.pyErrs = &errorList{file: pyFile}
	r.byName = map[string][]*Package{}
	for _, p := range l.Packages {
		r.byName[p.Name] = append(r.byName[p.Name], p)
	}
	r.active = map[*Package]map[string]bool{}
	r.falseEdge = map[string]bool{}
	r.roots = map[*Package]bool{}

	var installed []*Package
	var err error
	switch l.Kind {
	case KindPylock:
		installed, err = r.pylock()
	case KindUVLock:
		installed, err = r.uv()
	case KindPoetryLock:
		installed, err = r.poetry()
	}
	if err != nil {
		return err
	}
	if err := r.errs.err(); err != nil {
		return err
	}
	// pyproject.toml problems of the walk and of the check, together
	if err := r.consistent(installed); err != nil {
		r.pyErrs.errs = append(r.pyErrs.errs, asErrors(err)...)
	}
	if err := r.pyErrs.err(); err != nil {
		return err
	}
	return r.emit(installed)
}

// ---- pylock: each package's marker decides

func (r *resolver) pylock() ([]*Package, error) {
	l := r.lock
	if len(l.Environments) > 0 {
		ok := false
		var envs []string
		for _, m := range l.Environments {
			envs = append(envs, m.String())
			if m.Eval(r.env) {
				ok = true
			}
		}
		if !ok {
			return nil, &Error{File: l.File, Msg: fmt.Sprintf("the lock is for environments %s, not for %s; %s", strings.Join(envs, " | "), r.env, lockCommand(l.Kind, l.File))}
		}
	}
	var err error
	available := l.Extras
	if r.py != nil {
		available = append(available, keys(r.py.OptionalDependencies)...)
	}
	if r.extras, err = pick(l.File, "extra", r.opts.Extras, uniq(available), "python.extras"); err != nil {
		return nil, err
	}
	availableG := append(append([]string(nil), l.DependencyGroups...), l.DefaultGroups...)
	if r.py != nil {
		availableG = append(availableG, keys(r.py.DependencyGroups)...)
	}
	if r.groups, err = pick(l.File, "dependency group", r.opts.Groups, uniq(availableG), "the groups option"); err != nil {
		return nil, err
	}
	// default-groups stand for the project's own dependencies: always on
	ctx := markerCtx{env: &r.env, extras: nameSet(r.extras), groups: nameSet(append(append([]string(nil), l.DefaultGroups...), r.groups...))}
	var out []*Package
	for _, p := range l.Packages {
		if !p.Marker.eval(ctx) {
			r.plan.Skipped++
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

func uniq(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return compactStrings(s)
}

// ---- uv: from the project package(s) through the edges

func (r *resolver) uv() ([]*Package, error) {
	l := r.lock
	members := map[string]bool{}
	for _, m := range l.Members {
		members[m] = true
	}
	isMember := func(p *Package) bool {
		if p.Source != SourceVirtual && p.Source != SourceEditable && p.Source != SourceDirectory {
			return false
		}
		return members[p.Name] || p.SourceValue == "." || p.SourceValue == ""
	}
	var roots []*Package
	switch {
	case r.py != nil && r.py.Name != "":
		want := NormalizeName(r.py.Name)
		for _, p := range r.byName[want] {
			if isMember(p) {
				roots = append(roots, p)
			}
		}
		if len(roots) == 0 {
			return nil, errAt(r.py.File, Pos{1, 1}, "project %q is not in %s; %s", r.py.Name, l.File, lockCommand(l.Kind, l.File))
		}
	default:
		for _, p := range l.Packages {
			if isMember(p) && p.SourceValue == "." {
				roots = append(roots, p)
			}
		}
		if len(roots) == 0 { // a virtual workspace root: every member
			for _, p := range l.Packages {
				if isMember(p) {
					roots = append(roots, p)
				}
			}
		}
		if len(roots) == 0 {
			return nil, &Error{File: l.File, Msg: "no project package (source = { virtual = \".\" } or { editable = \".\" }) and no workspace members; the lock does not say what to install"}
		}
	}
	var availE, availG []string
	for _, root := range roots {
		availE = append(availE, keys(root.OptionalDependencies)...)
		availG = append(availG, keys(root.DependencyGroups)...)
	}
	var err error
	if r.extras, err = pick(l.File, "extra", r.opts.Extras, uniq(availE), "python.extras"); err != nil {
		return nil, r.staleChoice(err, "extra")
	}
	if r.groups, err = pick(l.File, "dependency group", r.opts.Groups, uniq(availG), "the groups option"); err != nil {
		return nil, r.staleChoice(err, "dependency group")
	}
	for _, root := range roots {
		r.roots[root] = true
		for _, x := range r.extras {
			r.baseExtras = append(r.baseExtras, uvConflictExtra("extra", root.Name, x))
		}
		for _, g := range r.groups {
			r.baseExtras = append(r.baseExtras, uvConflictExtra("group", root.Name, g))
		}
	}
	for _, root := range roots {
		edges := append([]Edge(nil), root.Dependencies...)
		for _, x := range r.extras {
			edges = append(edges, root.OptionalDependencies[x]...)
		}
		for _, g := range r.groups {
			edges = append(edges, root.DependencyGroups[g]...)
		}
		r.reach(root, nil)
		r.follow(root, edges, nil, r.errs)
	}
	r.drain()
	var out []*Package
	for p := range r.active {
		if r.roots[p] {
			continue
		}
		if isMember(p) {
			if p.Source != SourceVirtual {
				dir, _ := contextPath(path.Dir(l.File), p.SourceValue)
				r.plan.Members = append(r.plan.Members, Member{Name: p.Name, Version: p.Version, Path: dir})
			}
			continue
		}
		out = append(out, p)
	}
	sort.Slice(r.plan.Members, func(i, j int) bool { return r.plan.Members[i].Name < r.plan.Members[j].Name })
	return out, nil
}

// staleChoice explains an extra or group that pyproject.toml declares but
// the lock does not know.
func (r *resolver) staleChoice(err error, what string) error {
	if r.py == nil {
		return err
	}
	avail := r.py.OptionalDependencies
	chosen := r.opts.Extras
	if what != "extra" {
		avail, chosen = r.py.DependencyGroups, r.opts.Groups
	}
	for _, c := range chosen {
		if _, ok := avail[NormalizeName(c)]; ok {
			if e := firstError(err); e != nil && strings.Contains(e.Msg, fmt.Sprintf("%q", c)) {
				return &Error{File: r.lock.File, Msg: fmt.Sprintf("%s %q is declared in %s but not in %s; %s", what, c, r.py.File, r.lock.File, lockCommand(r.lock.Kind, r.lock.File))}
			}
		}
	}
	return err
}

// ---- poetry: from pyproject.toml's dependencies through the edges

func (r *resolver) poetry() ([]*Package, error) {
	l := r.lock
	if r.py == nil {
		return nil, &Error{File: l.File, Msg: "poetry.lock needs the pyproject.toml beside it (its dependencies are the roots of the lock); add pyproject.toml to the context"}
	}
	deps, err := selected(r.py, r.opts)
	if err != nil {
		return nil, err
	}
	r.extras, _ = pick(r.py.File, "extra", r.opts.Extras, keys(r.py.OptionalDependencies), "")
	r.groups, _ = pick(r.py.File, "dependency group", r.opts.Groups, keys(r.py.DependencyGroups), "")
	edges := make([]Edge, len(deps))
	for i, d := range deps {
		edges[i] = Edge{Name: d.Name, Specifier: d.Specifier, Alternatives: d.Alternatives, Extras: d.Extras, Marker: d.Marker, Pos: d.Pos}
	}
	r.follow(nil, edges, nameSet(r.extras), r.pyErrs)
	r.drain()
	var out []*Package
	for p := range r.active {
		out = append(out, p)
	}
	return out, nil
}

// ---- the walk

// reach records that p is installed with the given extras and queues it
// when that adds something.
func (r *resolver) reach(p *Package, extras []string) {
	set, seen := r.active[p]
	if !seen {
		set = map[string]bool{}
		r.active[p] = set
	}
	grew := !seen
	for _, x := range extras {
		x = NormalizeName(x)
		if !set[x] {
			set[x] = true
			grew = true
		}
	}
	if grew && !r.roots[p] {
		r.queue = append(r.queue, p)
	}
}

func (r *resolver) drain() {
	for len(r.queue) > 0 && !r.errs.full() {
		p := r.queue[0]
		r.queue = r.queue[1:]
		active := r.active[p]
		edges := p.Dependencies
		if r.lock.Kind == KindUVLock {
			edges = append([]Edge(nil), p.Dependencies...)
			for _, x := range sortedSet(active) {
				edges = append(edges, p.OptionalDependencies[x]...)
			}
		} else {
			// Poetry: an optional dependency is in when an active extra
			// names it
			var in []Edge
			for _, e := range p.Dependencies {
				if e.Optional && !r.poetryExtraNames(p, active)[e.Name] {
					continue
				}
				in = append(in, e)
			}
			edges = in
		}
		r.follow(p, edges, active, r.errs)
	}
}

func (r *resolver) poetryExtraNames(p *Package, active map[string]bool) map[string]bool {
	names := map[string]bool{}
	for x := range active {
		for _, e := range p.OptionalDependencies[x] {
			names[e.Name] = true
		}
	}
	return names
}

func sortedSet(s map[string]bool) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// follow evaluates each edge's marker with the active extras and reaches
// its target. errs is where a missing target is reported: the lock, or
// pyproject.toml for Poetry's roots.
func (r *resolver) follow(from *Package, edges []Edge, active map[string]bool, errs *errorList) {
	extras := map[string]bool{}
	for x := range active {
		extras[x] = true
	}
	for _, x := range r.baseExtras {
		extras[x] = true
	}
	if from == nil || r.roots[from] {
		for _, x := range r.extras {
			extras[x] = true
		}
	}
	ctx := markerCtx{env: &r.env, extras: extras, groups: nameSet(r.groups)}
	for _, e := range edges {
		if !e.Marker.eval(ctx) {
			r.falseEdge[e.Name] = true
			continue
		}
		target := r.target(from, e, ctx, errs)
		if target == nil {
			continue
		}
		// Poetry 2.1 writes when a package is needed at all
		if !r.packageMarkerTrue(target, ctx) {
			r.falseEdge[e.Name] = true
			continue
		}
		r.reach(target, e.Extras)
	}
}

func (r *resolver) packageMarkerTrue(p *Package, ctx markerCtx) bool {
	if r.lock.Kind != KindPoetryLock {
		return true
	}
	if !p.Marker.eval(ctx) {
		return false
	}
	if len(p.GroupMarkers) == 0 {
		return true
	}
	known := false
	for _, g := range append([]string{"main"}, r.groups...) {
		if m, ok := p.GroupMarkers[g]; ok {
			known = true
			if m.eval(ctx) {
				return true
			}
		}
	}
	return !known
}

func (r *resolver) target(from *Package, e Edge, ctx markerCtx, errs *errorList) *Package {
	cands := r.byName[e.Name]
	l := r.lock
	if len(cands) == 0 {
		// a dependency of pyproject.toml that is not locked is reported
		// by the consistency check
		if from != nil {
			errs.add(e.Pos, "%q depends on %q, which the lock does not hold; %s", from.Name, e.Name, lockCommand(l.Kind, l.File))
		}
		return nil
	}
	if len(cands) == 1 {
		return cands[0]
	}
	var keep []*Package
	for _, c := range cands {
		switch {
		case e.Version != "" && c.Version != e.Version:
		case e.Source != "" && c.sourceID() != e.Source:
		case l.Kind == KindPoetryLock && !e.allows(c.Version):
		case l.Kind == KindPoetryLock && !c.Marker.eval(ctx):
		default:
			keep = append(keep, c)
		}
	}
	if len(keep) == 1 {
		return keep[0]
	}
	var versions []string
	for _, c := range cands {
		versions = append(versions, c.Version)
	}
	if len(keep) == 0 {
		errs.add(e.Pos, "no locked version of %q (%s) matches this dependency for %s; %s", e.Name, strings.Join(versions, ", "), r.env, lockCommand(l.Kind, l.File))
	} else {
		errs.add(e.Pos, "%s locks several versions of %q (%s) and this dependency does not say which; %s", l.File, e.Name, strings.Join(versions, ", "), lockCommand(l.Kind, l.File))
	}
	return nil
}

// ---- checks and output

// consistent checks pyproject.toml against the lock: every dependency that
// applies to the target must be installed at a version its specifier
// allows.
func (r *resolver) consistent(installed []*Package) error {
	if r.py == nil {
		return nil
	}
	l := r.lock
	deps, err := selected(r.py, r.opts)
	if err != nil {
		return err
	}
	byName := map[string]*Package{}
	for _, p := range installed {
		byName[p.Name] = p
	}
	for p := range r.roots {
		byName[p.Name] = p
	}
	for _, m := range r.plan.Members {
		for _, p := range r.byName[m.Name] {
			byName[p.Name] = p
		}
	}
	errs := &errorList{file: r.py.File}
	lockErrs := &errorList{file: l.File}
	ctx := markerCtx{env: &r.env, extras: nameSet(r.extras), groups: nameSet(r.groups)}
	for _, d := range deps {
		if !d.Marker.eval(ctx) {
			continue
		}
		p := byName[d.Name]
		switch {
		case p == nil && len(r.byName[d.Name]) == 0:
			errs.add(d.Pos, "dependency %q is not in %s; %s", d.Name, l.File, lockCommand(l.Kind, l.File))
		case p == nil:
			errs.add(d.Pos, "dependency %q is in %s but not locked as a dependency of this project for %s; %s", d.Name, l.File, r.env, lockCommand(l.Kind, l.File))
		case d.URL != "" || d.Path != "" || p.Version == "":
		case !d.Allows(p.Version):
			errs.add(d.Pos, "dependency %q requires %s, but %s pins %s; %s", d.Name, constraintString(d), l.File, p.Version, lockCommand(l.Kind, l.File))
		}
	}
	// uv records the project's own dependencies: one that pyproject.toml
	// dropped means the lock is stale
	if l.Kind == KindUVLock && r.py.HasProject && !r.py.DynamicDependencies {
		declared := map[string]bool{}
		for _, d := range r.py.Dependencies {
			declared[d.Name] = true
		}
		for root := range r.roots {
			if NormalizeName(r.py.Name) != root.Name {
				continue
			}
			for _, e := range root.Dependencies {
				if !declared[e.Name] {
					lockErrs.add(e.Pos, "dependency %q of %q is no longer declared in %s; %s", e.Name, root.Name, r.py.File, lockCommand(l.Kind, l.File))
				}
			}
		}
	}
	errs.errs = append(errs.errs, lockErrs.errs...)
	return errs.err()
}

func constraintString(d Dependency) string {
	if len(d.Alternatives) > 0 {
		parts := make([]string, len(d.Alternatives))
		for i, a := range d.Alternatives {
			parts[i] = a.String()
		}
		return strings.Join(parts, " || ")
	}
	return d.Specifier.String()
}

// emit writes the requirements of the installed packages.
func (r *resolver) emit(installed []*Package) error {
	l := r.lock
	sort.Slice(installed, func(i, j int) bool {
		if installed[i].Name != installed[j].Name {
			return installed[i].Name < installed[j].Name
		}
		return installed[i].Version < installed[j].Version
	})
	errs := &errorList{file: l.File}
	var reqs, localReqs []string
	local := map[string]bool{}
	seen := map[string]*Package{}
	lockDir := path.Dir(l.File)
	for _, p := range installed {
		if p.Source == SourceVirtual {
			continue // a source tree that is not a package: its dependencies are in
		}
		what := fmt.Sprintf("package %q", p.Name)
		if p.Version != "" {
			what += " " + p.Version
		}
		if prev := seen[p.Name]; prev != nil {
			errs.add(p.Pos, "%s and %s %s both apply to %s: the lock's markers overlap; %s", what, prev.Name, prev.Version, r.env, lockCommand(l.Kind, l.File))
			continue
		}
		seen[p.Name] = p
		if p.RequiresPython != "" && l.Kind == KindPylock {
			if s, err := ParseSpecifier(p.RequiresPython); err == nil && !s.ContainsString(r.env.PythonFullVersion) {
				errs.add(p.Pos, "%s requires Python %s, not %s of the target", what, p.RequiresPython, r.env.PythonFullVersion)
				continue
			}
		}
		hashes := ""
		for _, h := range p.Hashes {
			hashes += " --hash=" + h
		}
		noHash := func(from string) {
			errs.add(p.Pos, "%s from %s has no hashes in %s, so pip cannot verify it; lock it with hashes (%s)", what, from, l.File, lockCommand(l.Kind, l.File))
		}
		r.plan.Packages = append(r.plan.Packages, Pin{Name: p.Name, Version: p.Version})
		switch p.Source {
		case SourceRegistry:
			if p.Version == "" {
				errs.add(p.Pos, "%s from an index has no version", what)
				continue
			}
			if hashes == "" {
				noHash("an index")
				continue
			}
			reqs = append(reqs, p.Name+"=="+p.Version+hashes)
		case SourceURL:
			if !strings.HasPrefix(p.SourceValue, "https://") {
				errs.add(p.Pos, "%s comes from %s; only https URLs are allowed (publish it to your index or use https)", what, p.SourceValue)
				continue
			}
			if hashes == "" {
				noHash(p.SourceValue)
				continue
			}
			u := p.SourceValue
			if p.Subdirectory != "" {
				u += "#subdirectory=" + p.Subdirectory
			}
			reqs = append(reqs, p.Name+" @ "+u+hashes)
		case SourcePath, SourceDirectory, SourceEditable:
			ctx, ok := contextPath(lockDir, p.SourceValue)
			if !ok {
				errs.add(p.Pos, "%s comes from %s, outside the build context; move it into the context or publish it to your index", what, p.SourceValue)
				continue
			}
			local[ctx] = true
			u := "file://" + path.Join(r.opts.ContextMount, ctx)
			if p.Subdirectory != "" {
				u += "#subdirectory=" + p.Subdirectory
			}
			if p.Source == SourcePath {
				if hashes == "" {
					noHash(p.SourceValue)
					continue
				}
				reqs = append(reqs, p.Name+" @ "+u+hashes)
			} else {
				localReqs = append(localReqs, p.Name+" @ "+u)
			}
		case SourceGit:
			errs.add(p.Pos, "%s comes from git (%s): pip cannot enforce a hash on a VCS checkout; publish it to your index, or build a wheel and lock it by path or https URL", what, p.SourceValue)
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	r.plan.Locked = true
	r.plan.PipArgs = []string{"--require-hashes", "--no-deps"}
	if len(reqs) > 0 {
		r.plan.Requirements = []byte(strings.Join(reqs, "\n") + "\n")
	}
	if len(localReqs) > 0 {
		r.plan.LocalRequirements = []byte(strings.Join(localReqs, "\n") + "\n")
	}
	r.plan.LocalPaths = keys(local)
	for name := range r.falseEdge {
		if seen[name] == nil && !r.isRootOrMember(name) {
			r.plan.Skipped++
		}
	}
	return nil
}

func (r *resolver) isRootOrMember(name string) bool {
	for p := range r.roots {
		if p.Name == name {
			return true
		}
	}
	for _, m := range r.plan.Members {
		if m.Name == name {
			return true
		}
	}
	return false
}
