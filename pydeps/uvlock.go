package pydeps

import (
	"fmt"
	"strconv"
)

// ParseUVLock reads a uv.lock: version = 1, any revision.
func ParseUVLock(file string, data []byte) (*Lock, error) {
	doc, err := parseTOML(file, data)
	if err != nil {
		return nil, err
	}
	r := newReader(doc)
	root := doc.root
	ver, off, ok := r.integer(root, "version")
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	if !ok {
		return nil, errAt(file, Pos{1, 1}, "no version: a uv.lock starts with version = 1")
	}
	if ver != 1 {
		return nil, errAt(file, r.pos(off), "unsupported uv.lock version %d; supported: version = 1 (any revision)", ver)
	}
	l := &Lock{Kind: KindUVLock, File: file, Version: "1"}
	if rev, _, ok := r.integer(root, "revision"); ok && smallInt(rev) {
		l.Revision = int(rev)
	}
	if rp, off, ok := r.str(root, "requires-python"); ok {
		if _, err := ParseSpecifier(rp); err != nil {
			r.fail(off, "requires-python: %v", err)
		} else {
			l.RequiresPython, l.RequiresPythonPos = rp, r.pos(off)
		}
	}
	if m := r.table(root, "manifest"); m != nil {
		for _, s := range r.strings(m, "members") {
			l.Members = append(l.Members, NormalizeName(s.str))
		}
	}
	for _, pv := range r.tables(root, "package") {
		if r.errs.full() {
			break
		}
		if p := uvPackage(r, pv); p != nil {
			l.Packages = append(l.Packages, p)
		}
	}
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	return l, nil
}

var uvSourceKinds = map[string]SourceKind{
	"registry": SourceRegistry, "url": SourceURL, "path": SourcePath,
	"directory": SourceDirectory, "editable": SourceEditable,
	"virtual": SourceVirtual, "git": SourceGit,
}

// uvSource reads a source table such as { registry = "https://..." }.
func uvSource(r *reader, v *tval) (SourceKind, string, string, bool) {
	if v.kind != tTable {
		r.fail(v.off, "source must be a table such as { registry = \"https://pypi.org/simple\" }, not %s", v.kind)
		return 0, "", "", false
	}
	var kind SourceKind
	var value string
	found := false
	for _, e := range v.tab.entries {
		k, ok := uvSourceKinds[e.key]
		if !ok {
			continue
		}
		if found {
			r.fail(e.keyOff, "source has two kinds")
			return 0, "", "", false
		}
		if e.val.kind != tString {
			r.typeErr(e.key, e.val, "a string")
			return 0, "", "", false
		}
		kind, value, found = k, e.val.str, true
	}
	if !found {
		r.fail(v.off, "source names none of registry, url, path, directory, editable, virtual, git")
		return 0, "", "", false
	}
	sub, _, _ := r.str(v.tab, "subdirectory")
	return kind, value, sub, true
}

func uvPackage(r *reader, pv *tval) *Package {
	t := pv.tab
	name, noff, ok := r.str(t, "name")
	if !ok {
		if t.get("name") == nil {
			r.fail(pv.off, "package entry has no name")
		}
		return nil
	}
	if !ValidName(name) {
		r.fail(noff, "invalid package name %q", name)
		return nil
	}
	p := &Package{Name: NormalizeName(name), Pos: r.pos(pv.off)}
	what := fmt.Sprintf("package %q", name)
	if sv := t.get("source"); sv != nil {
		if k, val, sub, ok := uvSource(r, sv); ok {
			p.Source, p.SourceValue, p.Subdirectory = k, val, sub
		}
	} else {
		r.fail(pv.off, "%s has no source", what)
	}
	// source trees of the workspace may have a dynamic version
	p.Version = r.version(t, p.Source != SourceVirtual && p.Source != SourceEditable && p.Source != SourceDirectory, what, pv.off)
	p.Dependencies = uvEdges(r, r.array(t, "dependencies"), "dependencies")
	if od := r.table(t, "optional-dependencies"); od != nil {
		p.OptionalDependencies = map[string][]Edge{}
		for _, e := range od.entries {
			p.OptionalDependencies[NormalizeName(e.key)] = uvEdges(r, r.array(od, e.key), e.key)
		}
	}
	if dd := r.table(t, "dev-dependencies"); dd != nil {
		p.DependencyGroups = map[string][]Edge{}
		for _, e := range dd.entries {
			p.DependencyGroups[NormalizeName(e.key)] = uvEdges(r, r.array(dd, e.key), e.key)
		}
	}
	if sd := r.table(t, "sdist"); sd != nil {
		a := uvArtifact(r, sd)
		p.Sdist = &a
	}
	for _, w := range r.tables(t, "wheels") {
		p.Wheels = append(p.Wheels, uvArtifact(r, w.tab))
	}
	p.finishHashes()
	return p
}

func uvArtifact(r *reader, t *ttable) Artifact {
	var a Artifact
	a.URL, _, _ = r.str(t, "url")
	a.Path, _, _ = r.str(t, "path")
	a.Name, _, _ = r.str(t, "filename")
	a.Hashes = r.hash(t, "hash")
	if n, _, ok := r.integer(t, "size"); ok {
		a.Size = n
	}
	return a
}

func uvEdges(r *reader, vals []*tval, what string) []Edge {
	var out []Edge
	for _, v := range vals {
		if v.kind != tTable {
			r.fail(v.off, "each entry of %q must be a table such as { name = \"idna\" }, not %s", what, v.kind)
			continue
		}
		t := v.tab
		name, noff, ok := r.str(t, "name")
		if !ok {
			if t.get("name") == nil {
				r.fail(v.off, "dependency has no name")
			}
			continue
		}
		if !ValidName(name) {
			r.fail(noff, "invalid dependency name %q", name)
			continue
		}
		e := Edge{Name: NormalizeName(name), Pos: r.pos(v.off)}
		e.Version, _, _ = r.str(t, "version")
		if sv := t.get("source"); sv != nil {
			if k, val, _, ok := uvSource(r, sv); ok {
				e.Source = k.String() + "=" + val
			}
		}
		if m, off, ok := r.str(t, "marker"); ok {
			e.Marker = r.marker(m, off)
		}
		for _, x := range r.strings(t, "extra") {
			e.Extras = append(e.Extras, NormalizeName(x.str))
		}
		out = append(out, e)
	}
	return out
}

// uvConflictExtra is how uv writes an extra (or a group) of a workspace
// package in its conflict markers: extra == 'extra-3-app-cpu'.
func uvConflictExtra(kind, pkg, name string) string {
	return kind + "-" + strconv.Itoa(len(pkg)) + "-" + pkg + "-" + name
}
