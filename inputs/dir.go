package inputs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/distill-build/distill/lock"
	"github.com/distill-build/distill/spec"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Dir reads a build's inputs from the local directory, the way a build
// sees them: the spec file, the lock beside it (not in the context
// directory: `-f sub/distill.yaml .` has its lock in sub/), the
// .dockerignore (SPEC.dockerignore beside the spec first, as BuildKit's
// dockerui does), and context files with the excludes applied and no link
// leading out of the context.
type Dir struct {
	// Context is the build context directory.
	Context string
	// SpecFile is the spec's path on disk.
	SpecFile string
}

// Spec reads the spec file (at most spec.MaxSpecSize+1 bytes: Parse
// refuses larger ones).
func (d Dir) Spec(context.Context) (string, []byte, error) {
	f, err := os.Open(d.SpecFile)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	dt, err := io.ReadAll(io.LimitReader(f, spec.MaxSpecSize+1))
	return filepath.Base(d.SpecFile), dt, err
}

// Lock reads distill.lock beside the spec.
func (d Dir) Lock(context.Context, string) ([]byte, error) {
	dt, err := os.ReadFile(filepath.Join(filepath.Dir(d.SpecFile), lock.Filename))
	if os.IsNotExist(err) {
		return nil, nil
	}
	return dt, err
}

// Ignore reads SPEC.dockerignore beside the spec, else the context's
// .dockerignore.
func (d Dir) Ignore(context.Context, string) ([]string, error) {
	for _, p := range []string{d.SpecFile + ".dockerignore", filepath.Join(d.Context, ".dockerignore")} {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		defer f.Close()
		ignore, err := ignorefile.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(p), err)
		}
		return ignore, nil
	}
	return nil, nil
}

// MaxFileSize bounds a context file read for planning (a lock or a
// manifest): one byte over the languages' parsers' limit (pydeps'
// 16 MiB; lang/python's tests keep the two in step) is enough to refuse it.
const MaxFileSize = 16<<20 + 1

// ReadContext reads context files: a path the excludes (.dockerignore
// syntax) match, or a link that leads out of the directory, reads as
// absent.
func (d Dir) ReadContext(_ context.Context, names, excludes []string) (map[string][]byte, error) {
	pm, err := patternmatcher.New(excludes)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	root, err := filepath.Abs(d.Context)
	if err != nil {
		return nil, err
	}
	// the context itself may be a link (a checkout reached through one):
	// the context is what it points at, as BuildKit's local source sees it
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	out := map[string][]byte{}
	for _, name := range names {
		name = filepath.ToSlash(filepath.Clean(name))
		if excluded, _ := pm.MatchesOrParentMatches(name); excluded {
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(name))
		// like BuildKit, never follow a link out of the context
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		st, err := os.Stat(real)
		if err != nil {
			continue
		}
		if st.IsDir() {
			return nil, fmt.Errorf("%s is a directory; name a file", name)
		}
		f, err := os.Open(real)
		if err != nil {
			return nil, err
		}
		dt, err := io.ReadAll(io.LimitReader(f, MaxFileSize))
		f.Close()
		if err != nil {
			return nil, err
		}
		out[name] = dt
	}
	return out, nil
}
