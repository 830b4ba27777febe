package pydeps

import (
	"fmt"
	"sort"
	"strings"
)

// ParsePylock reads a PEP 751 lock file (pylock.toml or
// pylock.<name>.toml), lock-version 1.x.
func ParsePylock(file string, data []byte) (*Lock, error) {
	doc, err := parseTOML(file, data)
	if err != nil {
		return nil, err
	}
	r := newReader(doc)
	root := doc.root
	lv, off, ok := r.str(root, "lock-version")
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	if !ok {
		return nil, errAt(file, Pos{1, 1}, "no lock-version: a PEP 751 lock file starts with lock-version = \"1.0\"")
	}
	if major, _, _ := strings.Cut(lv, "."); major != "1" {
		return nil, errAt(file, r.pos(off), "unsupported pylock lock-version %q; supported: 1.x (PEP 751)", lv)
	}
	l := &Lock{Kind: KindPylock, File: file, Version: lv}
	for _, e := range r.strings(root, "environments") {
		l.Environments = append(l.Environments, r.marker(e.str, e.off))
	}
	if rp, off, ok := r.str(root, "requires-python"); ok {
		if _, err := ParseSpecifier(rp); err != nil {
			r.fail(off, "requires-python: %v", err)
		} else {
			l.RequiresPython, l.RequiresPythonPos = rp, r.pos(off)
		}
	}
	names := func(key string) []string {
		var out []string
		for _, s := range r.strings(root, key) {
			out = append(out, NormalizeName(s.str))
		}
		return out
	}
	l.Extras, l.DependencyGroups, l.DefaultGroups = names("extras"), names("dependency-groups"), names("default-groups")
	for _, pv := range r.tables(root, "packages") {
		if r.errs.full() {
			break
		}
		if p := pylockPackage(r, pv); p != nil {
			l.Packages = append(l.Packages, p)
		}
	}
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	return l, nil
}

// pylockHashes reads a hashes table {sha256 = "..."}; algorithms pip does
// not take are skipped.
func pylockHashes(r *reader, t *ttable, required bool, at int) []string {
	ht := r.table(t, "hashes")
	if ht == nil {
		if required {
			r.fail(at, "no hashes table: PEP 751 requires hashes = { sha256 = \"...\" }")
		}
		return nil
	}
	var out []string
	for _, e := range ht.entries {
		algo := strings.ToLower(e.key)
		if e.val.kind != tString {
			r.typeErr(e.key, e.val, "a hex string")
			continue
		}
		if _, ok := hashLengths[algo]; !ok {
			continue
		}
		h, err := checkHash(algo, e.val.str)
		if err != nil {
			r.fail(e.val.off, "%v", err)
			continue
		}
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

func pylockArtifact(r *reader, v *tval) Artifact {
	t := v.tab
	var a Artifact
	a.Name, _, _ = r.str(t, "name")
	a.URL, _, _ = r.str(t, "url")
	a.Path, _, _ = r.str(t, "path")
	if a.URL == "" && a.Path == "" {
		r.fail(v.off, "a file entry needs url or path")
	}
	a.Hashes = pylockHashes(r, t, true, v.off)
	if n, _, ok := r.integer(t, "size"); ok {
		a.Size = n
	}
	return a
}

func pylockPackage(r *reader, pv *tval) *Package {
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
	p.Version = r.version(t, false, what, pv.off)
	if m, off, ok := r.str(t, "marker"); ok {
		p.Marker = r.marker(m, off)
	}
	if rp, off, ok := r.str(t, "requires-python"); ok {
		if _, err := ParseSpecifier(rp); err != nil {
			r.fail(off, "%s: requires-python: %v", what, err)
		} else {
			p.RequiresPython = rp
		}
	}
	index, _, _ := r.str(t, "index")
	kinds := 0
	if vcs := r.table(t, "vcs"); vcs != nil {
		kinds++
		p.Source = SourceGit
		p.SourceValue, _, _ = r.str(vcs, "url")
		if p.SourceValue == "" {
			p.SourceValue, _, _ = r.str(vcs, "path")
		}
		if c, _, ok := r.str(vcs, "commit-id"); ok {
			p.SourceValue += "@" + c
		}
		p.Subdirectory, _, _ = r.str(vcs, "subdirectory")
	}
	if dir := r.table(t, "directory"); dir != nil {
		kinds++
		p.Source = SourceDirectory
		if ed, _ := r.boolean(dir, "editable"); ed {
			p.Source = SourceEditable
		}
		p.SourceValue, _, _ = r.str(dir, "path")
		p.Subdirectory, _, _ = r.str(dir, "subdirectory")
	}
	if arc := t.get("archive"); arc != nil {
		kinds++
		if arc.kind != tTable {
			r.typeErr("archive", arc, "a table")
		} else {
			a := pylockArtifact(r, arc)
			p.Source, p.SourceValue = SourceURL, a.URL
			if a.URL == "" {
				p.Source, p.SourceValue = SourcePath, a.Path
			}
			p.Subdirectory, _, _ = r.str(arc.tab, "subdirectory")
			p.Hashes = a.Hashes
		}
	}
	if sd := t.get("sdist"); sd != nil || t.get("wheels") != nil {
		kinds++
		if sd != nil {
			if sd.kind != tTable {
				r.typeErr("sdist", sd, "a table")
			} else {
				a := pylockArtifact(r, sd)
				p.Sdist = &a
			}
		}
		for _, w := range r.tables(t, "wheels") {
			p.Wheels = append(p.Wheels, pylockArtifact(r, w))
		}
		p.Source, p.SourceValue = SourceRegistry, index
		// files only on disk: one local file to install
		files := p.Wheels
		if p.Sdist != nil {
			files = append(files[:len(files):len(files)], *p.Sdist)
		}
		local := len(files) > 0
		for _, f := range files {
			if f.URL != "" {
				local = false
			}
		}
		if local {
			if len(files) > 1 {
				r.fail(pv.off, "%s lists %d files by path only; distill installs a local package from one file", what, len(files))
			}
			p.Source, p.SourceValue = SourcePath, files[0].Path
		}
	}
	switch {
	case kinds == 0:
		r.fail(pv.off, "%s has no source: PEP 751 needs one of vcs, directory, archive, or sdist/wheels", what)
	case kinds > 1:
		r.fail(pv.off, "%s has more than one of vcs, directory, archive and sdist/wheels", what)
	}
	if p.Source == SourceRegistry && p.Version == "" && kinds == 1 {
		r.fail(pv.off, "%s from an index has no version", what)
	}
	for _, d := range r.tables(t, "dependencies") {
		if n, _, ok := r.str(d.tab, "name"); ok {
			e := Edge{Name: NormalizeName(n), Pos: r.pos(d.off)}
			e.Version, _, _ = r.str(d.tab, "version")
			p.Dependencies = append(p.Dependencies, e)
		}
	}
	p.finishHashes()
	return p
}
