package pydeps

import (
	"fmt"
	"strings"
)

// ParsePoetryLock reads a poetry.lock of lock-version 1.x (hashes under
// [metadata.files], category) or 2.x (files per package; 2.1 adds groups
// and markers). A missing lock-version is Poetry's 1.0.
func ParsePoetryLock(file string, data []byte) (*Lock, error) {
	doc, err := parseTOML(file, data)
	if err != nil {
		return nil, err
	}
	r := newReader(doc)
	root := doc.root
	meta := r.table(root, "metadata")
	lv, off, ok := r.str(meta, "lock-version")
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	if !ok {
		lv = "1.0"
		if meta != nil {
			off = root.get("metadata").off
		}
	}
	major, _, _ := strings.Cut(lv, ".")
	if major != "1" && major != "2" {
		return nil, errAt(file, r.pos(off), "unsupported poetry.lock lock-version %q; supported: 1.x and 2.x (Poetry 1.0 to 2.x)", lv)
	}
	l := &Lock{Kind: KindPoetryLock, File: file, Version: lv}
	l.ContentHash, _, _ = r.str(meta, "content-hash")
	if pv, off, ok := r.str(meta, "python-versions"); ok {
		if alts, err := parsePoetryConstraint(pv); err != nil {
			r.fail(off, "python-versions: %v", err)
		} else if len(alts) == 1 {
			l.RequiresPython, l.RequiresPythonPos = alts[0].String(), r.pos(off)
		}
	}
	// 1.x: hashes in [metadata.files], by package name
	files := map[string][]string{}
	if mf := r.table(meta, "files"); mf != nil {
		for _, e := range mf.entries {
			n := NormalizeName(e.key)
			for _, f := range r.tables(mf, e.key) {
				files[n] = append(files[n], r.hash(f.tab, "hash")...)
			}
		}
	}
	for _, pv := range r.tables(root, "package") {
		if r.errs.full() {
			break
		}
		if p := poetryPackage(r, pv); p != nil {
			p.Hashes = append(p.Hashes, files[p.Name]...)
			p.finishHashes()
			l.Packages = append(l.Packages, p)
		}
	}
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	return l, nil
}

func poetryPackage(r *reader, pv *tval) *Package {
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
	what := fmt.Sprintf("package %q", name)
	p := &Package{Name: NormalizeName(name), Pos: r.pos(pv.off)}
	p.Version = r.version(t, true, what, pv.off)
	p.Optional, _ = r.boolean(t, "optional")
	if c, _, ok := r.str(t, "category"); ok {
		p.Groups = []string{NormalizeName(c)}
	}
	if t.get("groups") != nil {
		p.Groups = nil
		for _, g := range r.strings(t, "groups") {
			p.Groups = append(p.Groups, NormalizeName(g.str))
		}
	}
	if mv := t.get("markers"); mv != nil {
		switch mv.kind {
		case tString:
			p.Marker = r.marker(mv.str, mv.off)
		case tTable:
			p.GroupMarkers = map[string]Marker{}
			for _, e := range mv.tab.entries {
				if e.val.kind != tString {
					r.typeErr(e.key, e.val, "a marker string")
					continue
				}
				p.GroupMarkers[NormalizeName(e.key)] = r.marker(e.val.str, e.val.off)
			}
		default:
			r.typeErr("markers", mv, "a string or a table")
		}
	}
	p.RequiresPython, _, _ = r.str(t, "python-versions")
	for _, f := range r.tables(t, "files") {
		a := Artifact{}
		a.Name, _, _ = r.str(f.tab, "file")
		a.Hashes = r.hash(f.tab, "hash")
		if strings.HasSuffix(a.Name, ".whl") {
			p.Wheels = append(p.Wheels, a)
		} else {
			p.Hashes = append(p.Hashes, a.Hashes...)
		}
	}
	develop, _ := r.boolean(t, "develop")
	if src := r.table(t, "source"); src != nil {
		typ, toff, _ := r.str(src, "type")
		url, _, _ := r.str(src, "url")
		p.SourceValue = url
		p.Subdirectory, _, _ = r.str(src, "subdirectory")
		switch typ {
		case "legacy", "pypi", "":
			p.Source = SourceRegistry
		case "git", "hg", "svn", "bzr":
			p.Source = SourceGit
			if ref, _, ok := r.str(src, "resolved_reference"); ok && ref != "" {
				p.SourceValue += "@" + ref
			}
		case "directory":
			p.Source = SourceDirectory
			if develop {
				p.Source = SourceEditable
			}
		case "file":
			p.Source = SourcePath
			if strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://") {
				p.Source = SourceURL
			}
		case "url":
			p.Source = SourceURL
		default:
			r.fail(toff, "%s: unknown source type %q; Poetry writes legacy, git, directory, file or url", what, typ)
		}
	}
	if deps := r.table(t, "dependencies"); deps != nil {
		for _, e := range deps.entries {
			for _, d := range poetryDeps(r, e) {
				p.Dependencies = append(p.Dependencies, Edge{
					Name: d.Name, Specifier: d.Specifier, Alternatives: d.Alternatives,
					Extras: d.Extras, Marker: d.Marker, Optional: d.Optional, Pos: d.Pos,
				})
			}
		}
	}
	if ex := r.table(t, "extras"); ex != nil {
		p.OptionalDependencies = map[string][]Edge{}
		for _, e := range ex.entries {
			extra := NormalizeName(e.key)
			p.OptionalDependencies[extra] = []Edge{}
			for _, s := range r.strings(ex, e.key) {
				// "name (>=1.0)" or "name[extra] (>=1.0)"
				req, err := ParseRequirement(s.str)
				if err != nil {
					r.fail(s.off, "%s: extra %q: %v", what, e.key, err)
					continue
				}
				p.OptionalDependencies[extra] = append(p.OptionalDependencies[extra], Edge{
					Name: NormalizeName(req.Name), Extras: req.Extras, Pos: r.pos(s.off),
				})
			}
		}
	}
	return p
}
