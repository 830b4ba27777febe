package pydeps

import (
	"fmt"
	"path"
	"strings"
)

// Kind is a kind of dependency source.
type Kind int

const (
	// KindNone: the context declares no dependencies.
	KindNone Kind = iota
	// KindRequirements: a pip requirements file (any *.txt name).
	KindRequirements
	// KindPyproject: an unlocked pyproject.toml (PEP 621 or Poetry).
	KindPyproject
	// KindUVLock: uv.lock.
	KindUVLock
	// KindPoetryLock: poetry.lock.
	KindPoetryLock
	// KindPylock: a PEP 751 pylock.toml or pylock.<name>.toml.
	KindPylock
)

func (k Kind) String() string {
	switch k {
	case KindRequirements:
		return "requirements"
	case KindPyproject:
		return "pyproject"
	case KindUVLock:
		return "uv.lock"
	case KindPoetryLock:
		return "poetry.lock"
	case KindPylock:
		return "pylock"
	}
	return "none"
}

// Locked reports a lock file kind.
func (k Kind) Locked() bool { return k == KindUVLock || k == KindPoetryLock || k == KindPylock }

// KindOf tells the kind of a dependency file by its base name: *.txt is a
// requirements file, then pyproject.toml, uv.lock, poetry.lock,
// pylock.toml and pylock.<name>.toml (PEP 751).
func KindOf(name string) (Kind, bool) {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	switch {
	case base == "pyproject.toml":
		return KindPyproject, true
	case base == "uv.lock":
		return KindUVLock, true
	case base == "poetry.lock":
		return KindPoetryLock, true
	case base == "pylock.toml":
		return KindPylock, true
	case strings.HasPrefix(base, "pylock.") && strings.HasSuffix(base, ".toml") && len(base) > len("pylock..toml"):
		// PEP 751: the name between the dots is one word without dots
		if mid := strings.TrimSuffix(strings.TrimPrefix(base, "pylock."), ".toml"); !strings.Contains(mid, ".") {
			return KindPylock, true
		}
		return KindNone, false
	case strings.HasSuffix(base, ".txt") && len(base) > len(".txt"):
		return KindRequirements, true
	}
	return KindNone, false
}

// Source is the dependency file a build uses.
type Source struct {
	Kind Kind
	// Path is the file, relative to the context root ("" for KindNone).
	Path string
	// Pyproject is the pyproject.toml beside a lock file or named by
	// the pyproject kind, relative to the context root; "" if none.
	Pyproject string
}

// FileReader reads files relative to the root of a build context. Read
// reports ok=false for a file that does not exist.
type FileReader interface {
	Read(relPath string) (data []byte, ok bool, err error)
}

// FileReaderFunc adapts a function to FileReader.
type FileReaderFunc func(relPath string) ([]byte, bool, error)

// Read calls f.
func (f FileReaderFunc) Read(relPath string) ([]byte, bool, error) { return f(relPath) }

// lockNames are the lock files Detect looks for, in this order.
var lockNames = []string{"uv.lock", "poetry.lock", "pylock.toml"}

// Detect chooses the dependency source of a context root when the spec
// names none. The order:
//
//  1. a lock file: uv.lock, poetry.lock or pylock.toml. Exactly one may be
//     present; two or more is an error that names them and asks the user
//     to choose one with python.dependencies.
//  2. requirements.txt.
//  3. pyproject.toml when it declares dependencies: a [project] table or
//     Poetry's [tool.poetry] (name or dependencies).
//  4. nothing: Source{} (no dependencies; not an error).
//
// With a lock file, Source.Pyproject is "pyproject.toml" when that file is
// present. Detect reads pyproject.toml only for step 3 and reports its
// syntax errors there.
func Detect(fs FileReader) (Source, error) {
	exists := func(name string) (bool, []byte, error) {
		data, ok, err := fs.Read(name)
		if err != nil {
			return false, nil, fmt.Errorf("reading %s: %w", name, err)
		}
		return ok, data, nil
	}
	var locks []string
	for _, n := range lockNames {
		ok, _, err := exists(n)
		if err != nil {
			return Source{}, err
		}
		if ok {
			locks = append(locks, n)
		}
	}
	hasPy, pyData, err := exists("pyproject.toml")
	if err != nil {
		return Source{}, err
	}
	pyPath := ""
	if hasPy {
		pyPath = "pyproject.toml"
	}
	switch len(locks) {
	case 0:
	case 1:
		k, _ := KindOf(locks[0])
		return Source{Kind: k, Path: locks[0], Pyproject: pyPath}, nil
	default:
		return Source{}, &Error{Msg: fmt.Sprintf("the context has %s; choose one with python.dependencies in the spec (for example python.dependencies: %s)", joinAnd(locks), locks[0])}
	}
	ok, _, err := exists("requirements.txt")
	if err != nil {
		return Source{}, err
	}
	if ok {
		return Source{Kind: KindRequirements, Path: "requirements.txt"}, nil
	}
	if hasPy {
		p, err := ParsePyproject("pyproject.toml", pyData)
		if err != nil {
			return Source{}, err
		}
		if p.DeclaresDependencies() {
			return Source{Kind: KindPyproject, Path: "pyproject.toml", Pyproject: "pyproject.toml"}, nil
		}
	}
	return Source{}, nil
}

func joinAnd(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
