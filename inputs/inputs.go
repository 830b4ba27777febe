// Package inputs reads and parses one build's inputs — the spec, the lock
// beside it, the context's .dockerignore and the language's files of the
// context — through one Reader, so the frontend (gateway refs) and every
// CLI command (the local directory, Dir) see the same files and decide the
// same way.
package inputs

import (
	"context"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/lang"
	"github.com/distill-build/distill/lock"
	"github.com/distill-build/distill/spec"
)

// Reader reads a build's inputs.
type Reader interface {
	// ReadContext reads files of the build context with the excludes
	// applied; absent or excluded names are left out, a directory is an
	// error, and a link never leads out of the context.
	ReadContext(ctx context.Context, names, excludes []string) (map[string][]byte, error)
	// Spec returns the spec file's name (as the build names it) and content.
	Spec(ctx context.Context) (name string, data []byte, err error)
	// Lock returns distill.lock from beside the spec; nil when absent.
	Lock(ctx context.Context, specName string) ([]byte, error)
	// Ignore returns the context's .dockerignore patterns.
	Ignore(ctx context.Context, specName string) ([]string, error)
}

// Inputs are one build's parsed inputs.
type Inputs struct {
	Spec *spec.Spec
	// SpecData is the spec file's content (for error excerpts).
	SpecData []byte
	// Lock is the parsed distill.lock, nil when there is none.
	Lock     *lock.File
	Ignore   []string
	Language assemble.Language
	Pair     assemble.Pair
	Project  assemble.Project
}

// Load reads and parses everything a build needs before any image is
// resolved. Errors in the spec are *spec.Error values (with their line);
// errors in a dependency file come as *assemble.FileError, with that file.
func Load(ctx context.Context, r Reader) (*Inputs, error) {
	name, data, err := r.Spec(ctx)
	if err != nil {
		return nil, err
	}
	s, err := spec.Parse(name, data)
	if err != nil {
		return nil, err
	}
	in := &Inputs{Spec: s, SpecData: data}
	if in.Language, err = lang.For(s); err != nil {
		return nil, err
	}
	if in.Pair, err = in.Language.Pair(s); err != nil {
		return nil, err
	}
	dt, err := r.Lock(ctx, name)
	if err != nil {
		return nil, err
	}
	if dt != nil {
		if in.Lock, err = lock.Parse(dt); err != nil {
			return nil, err
		}
	}
	if in.Ignore, err = r.Ignore(ctx, name); err != nil {
		return nil, err
	}
	if in.Project, err = in.Language.Load(ctx, s, contextFiles{r, in.ContextExcludes()}); err != nil {
		return nil, err
	}
	return in, nil
}

// ContextExcludes are the patterns the build context is read with: the
// user's .dockerignore, app.exclude, the secrets distill always leaves out
// and the language's caches.
func (in *Inputs) ContextExcludes() []string {
	return assemble.ContextExcludes(in.Ignore, in.Spec, in.Language.ContextExcludes())
}

type contextFiles struct {
	r        Reader
	excludes []string
}

func (c contextFiles) ReadContext(ctx context.Context, names []string) (map[string][]byte, error) {
	return c.r.ReadContext(ctx, names, c.excludes)
}
