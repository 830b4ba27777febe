package assemble

import (
	"context"

	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/spec"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Language is what a language implements to be built by distill: its pairs
// of base images, how it reads its inputs (dependency manifests), its plan
// of builder steps and runtime layers per platform, and the helper commands
// it runs inside the build. Package lang registers the languages.
type Language interface {
	// Name is the spec's `language:` value.
	Name() string
	// Pair selects the builder and runtime images for a spec.
	Pair(s *spec.Spec) (Pair, error)
	// ContextExcludes are left out of every build context of the language
	// (caches and build outputs), after the user's patterns.
	ContextExcludes() []string
	// Load reads what the language needs from the build context, once per
	// build and before any image is resolved. The frontend and the CLI pass
	// their own ContextReader, so both see the same files.
	Load(ctx context.Context, s *spec.Spec, files ContextReader) (Project, error)
}

// ContextReader reads files of the build context as the build sees them
// (.dockerignore applied, links never leading out of the context). Absent
// names are left out of the answer; a directory is an error.
type ContextReader interface {
	ReadContext(ctx context.Context, names []string) (map[string][]byte, error)
}

// Project is one app's inputs as its language read them.
type Project interface {
	// Describe says in one line what the build installs ("uv.lock (14
	// packages, hashes enforced)"), for `distill validate` and outlines.
	Describe() string
	// Precheck finds, before any image is resolved, what the inputs alone
	// show is wrong for the platform (a lock that disagrees with its
	// manifest), so --call=check reports it too.
	Precheck(ctx context.Context, s *spec.Spec, pair Pair, p ocispecs.Platform) error
	// Lint fills the language's part of the check rules' input.
	Lint(in *lint.Input)
	// Plan decides one platform's build, once the bases are resolved.
	// images reads files of the base images; nil when there is no engine
	// (`distill llb`), in which case facts that only the images tell are
	// taken from the pair and the spec.
	Plan(ctx context.Context, pc PlanContext) (Plan, error)
	// Verified turns the verification's report into findings.
	Verified(s *spec.Spec, pair Pair, r *Report, hints map[string]string) []lint.Finding
}

// PlanContext is what a Project plans one platform's build from.
type PlanContext struct {
	Spec     *spec.Spec
	Pair     Pair
	Bases    Bases
	Platform ocispecs.Platform
	// Images reads the base images' files; nil without an engine.
	Images ImageReader
}

// ImageReader reads a base image's filesystem (by its pinned reference).
type ImageReader interface {
	// ReadLink says whether p exists in img and where it points ("" for a
	// file that is not a link).
	ReadLink(ctx context.Context, img Image, p string) (target string, exists bool, err error)
}

// FileError is an error in a file other than the spec (a pyproject.toml, a
// lock), with that file's content so the client can show the excerpt, as
// buildx does for the spec.
type FileError struct {
	Err          error
	File         string
	Data         []byte
	Line, Column int
}

func (e *FileError) Error() string { return e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }
