package main

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/distill-build/distill/pydeps"
)

// formatVersion is part of every cache key: bump it whenever a change to
// this program changes the wheels it writes, so cached wheels get rebuilt.
const formatVersion = 1

// sitePrefixes are where Debian installs Python modules; both map to the
// wheel's root (purelib or platlib, per Root-Is-Purelib).
var sitePrefixes = []string{"usr/lib/python3/dist-packages/", "usr/lib/python3.13/dist-packages/"}

// A wheel is a repacked distribution before zipping.
type wheel struct {
	Name     string           // METADATA Name, as Debian wrote it
	Version  string           // from METADATA, never Debian's version
	Tag      string           // e.g. py3-none-any
	DistInfo string           // "flask-3.1.1.dist-info"
	Files    map[string]wfile // path in the wheel -> content; RECORD is added when zipping
	Notes    []string         // what the repack had to change, for the log
}

type wfile struct {
	data []byte
	exec bool
}

// FileName is the wheel's file name (binary distribution format).
func (w *wheel) FileName() string {
	return fmt.Sprintf("%s-%s-%s.whl", escapeName(w.Name), strings.ReplaceAll(w.Version, "-", "_"), w.Tag)
}

// escapeName is the form of a name in wheel file names and .dist-info
// directories (binary distribution format): the normalized name with "_"
// for "-".
func escapeName(name string) string {
	return strings.ReplaceAll(pydeps.NormalizeName(name), "-", "_")
}

// metaDir is a top-level *.dist-info or *.egg-info of a package.
type metaDir struct {
	top   string
	egg   bool
	files map[string]*node // path inside the directory -> node ("PKG-INFO" for a single-file egg-info)
	site  string           // the site prefix it is under (symlinks resolve from there)
	pkg   string
	meta  *metadata
}

// repack builds the wheel of one spec from its read packages (content and fill).
func repack(s spec, debs map[string]*deb) (*wheel, error) {
	content, all := tree{}, tree{}
	var gen []string
	for _, p := range s.Packages {
		d := debs[p]
		if err := content.merge(d.files); err != nil {
			return nil, err
		}
		gen = append(gen, d.Package+" "+d.Version)
	}
	if err := all.merge(content); err != nil {
		return nil, err
	}
	for _, p := range s.Fill {
		d := debs[p]
		if err := all.merge(d.files); err != nil {
			return nil, err
		}
		gen = append(gen, "fill "+d.Package+" "+d.Version)
	}

	w := &wheel{Files: map[string]wfile{}}
	metas := map[string]*metaDir{}
	var scripts []string
	usedTop, usedDrop, usedFill := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range sortedKeys(content) {
		n := content[p]
		if n.dir {
			continue
		}
		site, rel, ok := sitePath(p)
		if !ok {
			// Console scripts come back from entry_points.txt when pip
			// installs the wheel; /usr/bin copies have Debian's shebang.
			// Everything else outside dist-packages (docs, /usr/share,
			// Pillow's headers in /usr/include) is no part of a PyPI wheel.
			if strings.HasPrefix(p, "usr/bin/") {
				scripts = append(scripts, path.Base(p))
			}
			continue
		}
		top, inner, _ := strings.Cut(rel, "/")
		if isMetaName(top) {
			md := metas[top]
			if md == nil {
				md = &metaDir{top: top, egg: strings.HasSuffix(top, ".egg-info"), files: map[string]*node{}, site: site, pkg: n.pkg}
				metas[top] = md
			}
			if inner == "" { // a single-file egg-info is its PKG-INFO
				inner = "PKG-INFO"
			}
			md.files[inner] = n
			continue
		}
		if compiled(rel) || !keepTop(s.Top, top, usedTop) || dropped(s.Drop, rel, usedDrop) {
			continue
		}
		if err := place(w.Files, all, p, rel, n, usedFill, 0); err != nil {
			return nil, err
		}
	}
	if len(w.Files) == 0 {
		return nil, fmt.Errorf("no module files under %s in %s", strings.Join(sitePrefixes, " or "), strings.Join(s.Packages, " "))
	}

	md, err := pickMeta(s, metas)
	if err != nil {
		return nil, err
	}
	if err := w.metadata(s, md, debs, all, usedFill); err != nil {
		return nil, err
	}
	// every option must have mattered (metadata files may use fill= too)
	for _, list := range []struct {
		opt  string
		vals []string
		used map[string]bool
	}{{"top", s.Top, usedTop}, {"drop", s.Drop, usedDrop}, {"fill", s.Fill, usedFill}} {
		for _, v := range list.vals {
			if !list.used[v] {
				return nil, fmt.Errorf("%s=%s matches nothing (a typo, or no longer needed)", list.opt, v)
			}
		}
	}
	w.noteScripts(scripts)
	if w.Tag, err = wheelTag(w.Files); err != nil {
		return nil, err
	}
	pure := w.Tag == "py3-none-any"
	w.Files[w.DistInfo+"/WHEEL"] = wfile{data: []byte(fmt.Sprintf(
		"Wheel-Version: 1.0\nGenerator: distill-debwheel %d (from %s)\nRoot-Is-Purelib: %t\nTag: %s\n",
		formatVersion, strings.Join(gen, ", "), pure, w.Tag))}
	return w, nil
}

// sitePath splits a package path into its site prefix and the path in the wheel.
func sitePath(p string) (site, rel string, ok bool) {
	for _, pre := range sitePrefixes {
		if rel, ok := strings.CutPrefix(p, pre); ok && rel != "" {
			return pre, rel, true
		}
	}
	return "", "", false
}

func isMetaName(top string) bool {
	return strings.HasSuffix(top, ".dist-info") || strings.HasSuffix(top, ".egg-info")
}

// compiled: byte code is the installer's job (pip compiles at install time).
func compiled(rel string) bool {
	return strings.HasSuffix(rel, ".pyc") || strings.HasSuffix(rel, ".pyo") ||
		strings.Contains("/"+rel+"/", "/__pycache__/")
}

// keepTop applies top=: a top-level entry matches by its name up to the
// first dot ("flit_core", "typing_extensions.py", "_cffi_backend.cpython-313-x86_64-linux-gnu.so").
func keepTop(tops []string, top string, used map[string]bool) bool {
	if len(tops) == 0 {
		return true
	}
	stem, _, _ := strings.Cut(top, ".")
	for _, t := range tops {
		if t == top || t == stem {
			used[t] = true
			return true
		}
	}
	return false
}

func dropped(drops []string, rel string, used map[string]bool) bool {
	for _, d := range drops {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			used[d] = true
			return true
		}
	}
	return false
}

// place puts the file at p (wheel path rel) into files. A symlink is
// replaced by what it points to, looked up in all (content and fill
// packages): a file's bytes, or a directory's whole tree. A wheel carries
// no symlinks (zip has none that pip honours) and none may dangle.
func place(files map[string]wfile, all tree, p, rel string, n *node, usedFill map[string]bool, depth int) error {
	if n.link == "" {
		files[rel] = wfile{data: n.data, exec: n.mode&0o111 != 0}
		return nil
	}
	if depth > maxHops {
		return fmt.Errorf("%s: symlinked directories nest too deep", p)
	}
	target, err := all.resolve(p)
	if err != nil {
		return err
	}
	if t := all[target]; t != nil && !t.dir {
		usedFill[t.pkg] = true
		files[rel] = wfile{data: t.data, exec: t.mode&0o111 != 0}
		return nil
	}
	if !all.isDir(target) {
		return fmt.Errorf("symlink %s -> %s: /%s is in none of the packages read (name the package that ships it with fill=)", p, n.link, target)
	}
	for _, q := range all.under(target) {
		qn := all[q]
		sub := rel + strings.TrimPrefix(q, target)
		if qn.dir || compiled(sub) {
			continue
		}
		usedFill[qn.pkg] = true
		if err := place(files, all, q, sub, qn, usedFill, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// pickMeta finds the metadata directory of the spec's distribution among
// the packages' top-level *.dist-info / *.egg-info.
func pickMeta(s spec, metas map[string]*metaDir) (*metaDir, error) {
	var mine *metaDir
	var others []string
	for _, top := range sortedKeys(metas) {
		md := metas[top]
		file := "METADATA"
		if md.egg {
			file = "PKG-INFO"
		}
		n := md.files[file]
		if n == nil || n.link != "" {
			return nil, fmt.Errorf("%s has no %s file", top, file)
		}
		md.meta = parseMetadata(string(n.data))
		name := md.meta.get("Name")
		switch {
		case name == "":
			return nil, fmt.Errorf("%s/%s has no Name", top, file)
		case pydeps.NormalizeName(name) != pydeps.NormalizeName(s.Name):
			others = append(others, name)
		case mine != nil:
			return nil, fmt.Errorf("two metadata directories for %s: %s and %s", s.Name, mine.top, top)
		default:
			mine = md
		}
	}
	if mine == nil {
		return nil, fmt.Errorf("no .dist-info or .egg-info for %s in %s (found: %s)", s.Name, strings.Join(s.Packages, " "), strings.Join(others, ", "))
	}
	// Another project's metadata means the .deb holds two projects (flit
	// and flit_core): which files are whose needs saying, with top=.
	if len(others) > 0 && len(s.Top) == 0 {
		return nil, fmt.Errorf("%s also hold %s: list the top-level names of %s with top=", strings.Join(s.Packages, " "), strings.Join(others, ", "), s.Name)
	}
	return mine, nil
}

// metadataDrop: files of Debian's metadata directory that a wheel's
// .dist-info must not carry (installer bookkeeping, egg-only files) or
// that the repack writes itself (METADATA, WHEEL, RECORD).
var metadataDrop = map[string]bool{
	"INSTALLER": true, "REQUESTED": true, "RECORD": true, "direct_url.json": true, "WHEEL": true, "METADATA": true,
	"PKG-INFO": true, "requires.txt": true, "SOURCES.txt": true, "dependency_links.txt": true,
	"not-zip-safe": true, "zip-safe": true, "installed-files.txt": true,
}

// metadata writes the .dist-info: METADATA (version, requirements fixed
// where a pitfall needs it) and the rest of Debian's metadata files.
func (w *wheel) metadata(s spec, md *metaDir, debs map[string]*deb, all tree, usedFill map[string]bool) error {
	m := md.meta
	w.Name = m.get("Name")
	if md.egg {
		w.Notes = append(w.Notes, "egg-info converted")
		// A PKG-INFO of metadata 2.x written by a recent setuptools carries
		// Requires-Dist itself (lxml, pillow, sqlalchemy): requires.txt then
		// says the same. Older ones have only requires.txt (python-dotenv).
		if rt := md.files["requires.txt"]; rt != nil && len(m.all("Requires-Dist")) == 0 {
			reqs, extras, err := eggRequires(string(rt.data))
			if err != nil {
				return fmt.Errorf("%s: %w", md.top, err)
			}
			have := map[string]bool{}
			for _, e := range m.all("Provides-Extra") {
				have[pydeps.NormalizeName(e)] = true
			}
			for _, e := range extras {
				if !have[e] {
					m.add("Provides-Extra", e)
				}
			}
			for _, r := range reqs {
				m.add("Requires-Dist", r)
			}
			if len(reqs)+len(extras) > 0 {
				m.needVersion("2.1")
				w.Notes = append(w.Notes, fmt.Sprintf("%d Requires-Dist from requires.txt", len(reqs)))
			}
		}
	}
	v := m.get("Version")
	if rel, changed := releaseVersion(v, debs[md.pkg].Version); changed {
		m.set("Version", rel)
		w.Notes = append(w.Notes, fmt.Sprintf("version %s -> %s (Debian packaged the release %s)", v, rel, debs[md.pkg].Version))
		v = rel
	}
	if _, err := pydeps.ParseVersion(v); err != nil {
		return fmt.Errorf("%s: METADATA Version: %w", md.top, err)
	}
	w.Version = v
	plain, err := m.plainRequirements()
	if err != nil {
		return fmt.Errorf("%s: %w", md.top, err)
	}
	if len(plain) > 0 {
		w.Notes = append(w.Notes, "URL requirements made plain: "+strings.Join(plain, ", "))
	}
	for _, req := range s.Requires {
		r, _ := pydeps.ParseRequirement(req)
		for _, have := range m.all("Requires-Dist") {
			if hr, err := pydeps.ParseRequirement(have); err == nil && pydeps.NormalizeName(hr.Name) == pydeps.NormalizeName(r.Name) {
				return fmt.Errorf("requires=%q: METADATA already requires %s (%q); drop the option", req, r.Name, have)
			}
		}
		m.add("Requires-Dist", req)
		m.needVersion("2.1")
		w.Notes = append(w.Notes, "added Requires-Dist: "+req)
	}

	w.DistInfo = escapeName(w.Name) + "-" + strings.ReplaceAll(v, "-", "_") + ".dist-info"
	w.Files[w.DistInfo+"/METADATA"] = wfile{data: []byte(m.String())}
	for _, inner := range sortedKeys(md.files) {
		if metadataDrop[inner] || compiled(inner) {
			continue
		}
		n := md.files[inner]
		src := md.site + md.top + "/" + inner
		if err := place(w.Files, all, src, w.DistInfo+"/"+inner, n, usedFill, 0); err != nil {
			return err
		}
	}
	return nil
}

// noteScripts reports the /usr/bin files that are no console or GUI
// script of entry_points.txt: pip recreates those that are; the others are
// Debian's own and not shipped (dh_python3-ply; python-dotenv, Debian's
// name for dotenv; flit's script, when the wheel is flit_core).
func (w *wheel) noteScripts(scripts []string) {
	eps := map[string]bool{}
	if f, ok := w.Files[w.DistInfo+"/entry_points.txt"]; ok {
		section := ""
		sc := bufio.NewScanner(bytes.NewReader(f.data))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "[") {
				section = strings.Trim(line, "[] ")
				continue
			}
			if name, _, ok := strings.Cut(line, "="); ok && (section == "console_scripts" || section == "gui_scripts") {
				eps[strings.TrimSpace(name)] = true
			}
		}
	}
	var lost []string
	for _, s := range scripts {
		if !eps[s] {
			lost = append(lost, s)
		}
	}
	if len(lost) > 0 {
		w.Notes = append(w.Notes, "not shipped (no console script of this wheel): /usr/bin/"+strings.Join(lost, ", /usr/bin/"))
	}
}

var extRE = regexp.MustCompile(`\.cpython-(\d+)[a-z]*-([a-z0-9_]+)-linux-gnu\.so$`)

// wheelTag derives the tag from the extension modules' file names. A
// version-specific extension makes the wheel cp313-cp313; abi3-only
// extensions make it cp313-abi3 (built against 3.13, so 3.13 is the least
// it promises); no native code makes it py3-none-any. Native code under
// any other name (a bare .so, an executable) in an otherwise pure wheel
// is an error: the tag would lie.
func wheelTag(files map[string]wfile) (string, error) {
	var cp, abi3 bool
	var native []string
	for _, rel := range sortedKeys(files) {
		base := path.Base(rel)
		if m := extRE.FindStringSubmatch(base); m != nil {
			if m[1] != "313" || m[2] != "x86_64" {
				return "", fmt.Errorf("%s: an extension for CPython %s on %s; only cp313 x86_64 is supported", rel, m[1], m[2])
			}
			cp = true
			continue
		}
		if strings.HasSuffix(base, ".abi3.so") {
			abi3 = true
			continue
		}
		if bytes.HasPrefix(files[rel].data, []byte("\x7fELF")) {
			native = append(native, rel)
		}
	}
	switch {
	case cp:
		return "cp313-cp313-linux_x86_64", nil
	case abi3:
		return "cp313-abi3-linux_x86_64", nil
	case len(native) > 0:
		return "", fmt.Errorf("native code without an extension-module name: %s", strings.Join(native, ", "))
	}
	return "py3-none-any", nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
