package pydeps

import (
	"fmt"
	"sort"
	"strings"
)

// SourceKind is where a locked package comes from.
type SourceKind int

const (
	// SourceRegistry: a package index (PyPI or another); the default.
	SourceRegistry SourceKind = iota
	// SourceURL: a direct URL to a wheel or an sdist.
	SourceURL
	// SourcePath: a wheel or an sdist file on disk.
	SourcePath
	// SourceDirectory: a source tree on disk.
	SourceDirectory
	// SourceEditable: a source tree on disk, installed editable.
	SourceEditable
	// SourceVirtual: a source tree that is not a package (only its
	// dependencies are installed).
	SourceVirtual
	// SourceGit: a VCS checkout.
	SourceGit
)

func (k SourceKind) String() string {
	return [...]string{"registry", "url", "path", "directory", "editable", "virtual", "git"}[k]
}

// Lock is a lock file of any kind in one model.
type Lock struct {
	Kind Kind
	File string
	// Version is the lock format version as written: "1" for uv,
	// lock-version for Poetry ("1.0" when absent) and pylock.
	Version string
	// Revision is uv's revision (0 when absent).
	Revision int
	// RequiresPython is the lock's own Python constraint (PEP 440), ""
	// when it has none.
	RequiresPython    string
	RequiresPythonPos Pos
	Packages          []*Package
	// Members are uv workspace members (normalized names).
	Members []string
	// Environments (pylock) are the markers of the environments the lock
	// is valid for; empty means any.
	Environments []Marker
	// Extras, DependencyGroups and DefaultGroups are pylock's lists.
	Extras           []string
	DependencyGroups []string
	DefaultGroups    []string
	// ContentHash is Poetry's hash of the pyproject it was locked from.
	ContentHash string
}

// Package is one locked distribution.
type Package struct {
	Name    string // normalized (PEP 503)
	Version string
	Source  SourceKind
	// SourceValue is the index URL, URL, path or VCS URL of the source.
	SourceValue  string
	Subdirectory string
	// Hashes are every hash the lock lists for the package's files,
	// "sha256:<hex>" (or sha384/sha512), sorted and unique.
	Hashes []string
	Wheels []Artifact
	Sdist  *Artifact
	// Dependencies are the package's dependency edges;
	// OptionalDependencies its edges per extra; DependencyGroups its
	// edges per dependency group (uv's dev-dependencies).
	Dependencies         []Edge
	OptionalDependencies map[string][]Edge
	DependencyGroups     map[string][]Edge
	// Marker is pylock's marker, or Poetry 2.1's markers string; true
	// when absent. GroupMarkers is Poetry 2.1's per-group markers table.
	Marker       Marker
	GroupMarkers map[string]Marker
	// Groups are Poetry's groups (2.1) or category (1.x).
	Groups         []string
	Optional       bool
	RequiresPython string
	// Pos is where the package entry starts.
	Pos Pos
}

// Artifact is one wheel or sdist file.
type Artifact struct {
	Name   string // file name, when the lock gives it
	URL    string
	Path   string
	Hashes []string
	Size   int64
}

// Edge is a dependency of a locked package.
type Edge struct {
	Name string // normalized
	// Version and Source pick one of several locked versions of Name
	// (uv's forked resolutions); Specifier and Alternatives are Poetry's
	// constraint, which does the same there.
	Version      string
	Source       string
	Specifier    Specifier
	Alternatives []Specifier
	Extras       []string
	Marker       Marker
	Optional     bool
	Pos          Pos
}

func (e Edge) allows(v string) bool {
	d := Dependency{Specifier: e.Specifier, Alternatives: e.Alternatives}
	return d.Allows(v)
}

// sourceID identifies a package source for uv's edge matching.
func (p *Package) sourceID() string { return p.Source.String() + "=" + p.SourceValue }

// ParseLock parses a lock file of the given kind.
func ParseLock(kind Kind, file string, data []byte) (*Lock, error) {
	switch kind {
	case KindUVLock:
		return ParseUVLock(file, data)
	case KindPoetryLock:
		return ParsePoetryLock(file, data)
	case KindPylock:
		return ParsePylock(file, data)
	}
	return nil, &Error{File: file, Msg: fmt.Sprintf("%s is not a lock file kind", kind)}
}

var hashLengths = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

// parseHash validates "algorithm:hex" and returns it lower-cased.
func parseHash(s string) (string, error) {
	algo, hex, ok := strings.Cut(s, ":")
	if !ok {
		return "", fmt.Errorf("malformed hash %q: expected sha256:<64 hex digits>", s)
	}
	return checkHash(strings.ToLower(algo), hex)
}

func checkHash(algo, hex string) (string, error) {
	n, ok := hashLengths[algo]
	if !ok {
		return "", fmt.Errorf("hash algorithm %q is not accepted by pip --require-hashes; use sha256, sha384 or sha512", algo)
	}
	hex = strings.ToLower(hex)
	if len(hex) != n || strings.Trim(hex, "0123456789abcdef") != "" {
		return "", fmt.Errorf("malformed %s hash %q: expected %d hex digits", algo, shorten(hex), n)
	}
	return algo + ":" + hex, nil
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// finishHashes sorts and de-duplicates the package's hashes.
func (p *Package) finishHashes() {
	var all []string
	for _, w := range p.Wheels {
		all = append(all, w.Hashes...)
	}
	if p.Sdist != nil {
		all = append(all, p.Sdist.Hashes...)
	}
	all = append(all, p.Hashes...)
	sort.Strings(all)
	p.Hashes = compactStrings(all)
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// readHash reads a "hash" string key of an artifact table.
func (r *reader) hash(t *ttable, key string) []string {
	s, off, ok := r.str(t, key)
	if !ok {
		return nil
	}
	h, err := parseHash(s)
	if err != nil {
		r.fail(off, "%v", err)
		return nil
	}
	return []string{h}
}

// parseMarkerAt parses a marker string value, reporting errors at it.
func (r *reader) marker(s string, off int) Marker {
	if strings.TrimSpace(s) == "" {
		return Marker{}
	}
	m, err := ParseMarker(s)
	if err != nil {
		r.fail(off, "%v", err)
	}
	return m
}

// checkVersion reports an invalid PEP 440 version of a package.
func (r *reader) version(t *ttable, required bool, what string, at int) string {
	v, off, ok := r.str(t, "version")
	if !ok {
		if required && t.get("version") == nil {
			r.fail(at, "%s has no version", what)
		}
		return ""
	}
	if _, err := ParseVersion(v); err != nil {
		r.fail(off, "%s: %v", what, err)
	}
	return v
}
