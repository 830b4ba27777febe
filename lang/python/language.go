package python

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/pydeps"
	"github.com/distill-build/distill/spec"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
	"golang.org/x/sync/errgroup"
)

// Language is Python, as package lang registers it.
type Language struct{}

// Name is the spec's language value.
func (Language) Name() string { return spec.LanguagePython }

// Pair is the matched builder/runtime pair (see SelectPair).
func (Language) Pair(s *spec.Spec) (assemble.Pair, error) { return SelectPair(s) }

// ContextExcludes are Python's caches and local environments.
func (Language) ContextExcludes() []string { return append([]string{}, contextExcludes...) }

// Load decides the dependency source: one read of the candidate files.
func (Language) Load(ctx context.Context, s *spec.Spec, files assemble.ContextReader) (assemble.Project, error) {
	names := dependencyCandidates(s)
	got, err := files.ReadContext(ctx, names)
	if err != nil {
		return nil, err
	}
	src, err := DetectDependencies(pydeps.FileReaderFunc(func(name string) ([]byte, bool, error) {
		name = path.Clean(name)
		if !slices.Contains(names, name) {
			return nil, false, errors.New("internal error: " + name + " was not read")
		}
		dt, ok := got[name]
		return dt, ok, nil
	}), s)
	if err != nil {
		return nil, fileError(err, src)
	}
	return &project{src: src}, nil
}

// KnownPython is the Python minor the pair or the spec names, "" for a
// floating tag whose minor only the image tells.
func KnownPython(s *spec.Spec, pair assemble.Pair) string {
	if pair.Version != "" {
		return pair.Version
	}
	return s.Python.Version
}

type project struct{ src *Source }

func (p *project) Describe() string { return p.src.Describe() }

// Source is the dependency source the project was loaded with.
func (p *project) Source() *Source { return p.src }

// Precheck plans a lock for the pair's Python, when the pair names it (a
// floating runtime is planned once its image is read).
func (p *project) Precheck(ctx context.Context, s *spec.Spec, pair assemble.Pair, pl ocispecs.Platform) error {
	if minor := KnownPython(s, pair); minor != "" {
		if _, _, err := p.src.Plan(s, pl, minor, dockerspec.DockerOCIImage{}); err != nil {
			return fileError(err, p.src)
		}
	}
	return nil
}

func (p *project) Lint(in *lint.Input) { in.Dependencies = LintDependencies(p.src) }

// Plan reads the pair's interpreters (when the pair does not name its
// Python, or the spec overrides a base) and plans the dependency install
// for the platform's markers.
func (p *project) Plan(ctx context.Context, pc assemble.PlanContext) (assemble.Plan, error) {
	s := pc.Spec
	minor := ""
	if pc.Images != nil {
		var err error
		if minor, err = checkPythonPair(ctx, pc.Images, s, pc.Pair, pc.Bases); err != nil {
			return nil, err
		}
	}
	if minor == "" {
		minor = KnownPython(s, pc.Pair)
	}
	deps, _, err := p.src.Plan(s, pc.Platform, minor, pc.Bases.Builder.Config)
	if err != nil {
		return nil, fileError(err, p.src)
	}
	return &Plan{Interpreter: pc.Pair.Interpreter, Deps: deps}, nil
}

func (p *project) Verified(s *spec.Spec, pair assemble.Pair, r *assemble.Report, hints map[string]string) []lint.Finding {
	return lint.Verified(s, assemble.LintVerification(pair, r), hints)
}

// fileError attaches a dependency file's content to its error.
func fileError(err error, src *Source) error {
	if name, data, line, col, ok := dependencyError(err, src); ok {
		return &assemble.FileError{Err: err, File: name, Data: data, Line: line, Column: col}
	}
	return err
}

var pythonNameRe = regexp.MustCompile(`^python(3\.[0-9]+)$`)

// pythonMinor follows the first candidate path that exists through its
// links (at most 8) to a file named python3.N and returns N's minor and the
// candidate; "" when none leads to one.
func pythonMinor(ctx context.Context, r assemble.ImageReader, img assemble.Image, candidates []string) (string, string, error) {
	for _, start := range candidates {
		cur := start
		for hop := 0; hop < 8 && cur != ""; hop++ {
			target, exists, err := r.ReadLink(ctx, img, cur)
			if err != nil {
				return "", "", err
			}
			if !exists {
				break
			}
			dir, name := path.Split(cur)
			if m := pythonNameRe.FindStringSubmatch(name); m != nil && target == "" {
				return m[1], start, nil
			}
			if target == "" {
				break
			}
			if !strings.HasPrefix(target, "/") {
				target = path.Join(dir, target)
			}
			cur = target
		}
	}
	return "", "", nil
}

// interpreterCandidates are where an image's python3 may be: the pair's
// path first, then python3 in each PATH directory of its config.
func interpreterCandidates(img assemble.Image, first string) []string {
	var out []string
	if first != "" {
		out = append(out, first)
	}
	for _, kv := range img.Config.Config.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, d := range strings.Split(v, ":") {
				if d != "" {
					out = append(out, path.Join(d, "python3"))
				}
			}
		}
	}
	return append(out, "/usr/local/bin/python3", "/usr/bin/python3")
}

// checkPythonPair reads which Python minor each image carries, when the
// pair does not say (a floating tag) or the spec overrides a base: a venv
// made by one minor does not run on another. It returns the runtime's minor
// ("" when not read).
func checkPythonPair(ctx context.Context, r assemble.ImageReader, s *spec.Spec, pair assemble.Pair, bases assemble.Bases) (string, error) {
	if !pairNeedsReading(s, pair) {
		return "", nil
	}
	var rt, rtPath, bl, blPath string
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		rt, rtPath, err = pythonMinor(ctx, r, bases.Runtime, interpreterCandidates(bases.Runtime, pair.Interpreter))
		return errors.Wrapf(err, "reading %s", bases.Runtime.Pinned())
	})
	eg.Go(func() error {
		var err error
		bl, blPath, err = pythonMinor(ctx, r, bases.Builder, interpreterCandidates(bases.Builder, ""))
		return errors.Wrapf(err, "reading %s", bases.Builder.Pinned())
	})
	if err := eg.Wait(); err != nil {
		return "", err
	}
	if rt != "" && bl != "" && rt != bl {
		return rt, s.Errorf(spec.Field("python.version"), "the builder %s has Python %s (%s) but the runtime %s has Python %s (%s): a venv made by one does not run on the other; use images of one Python minor",
			pair.Builder, bl, blPath, pair.Runtime, rt, rtPath)
	}
	if want := s.Python.Version; want != "" && rt != "" && want != rt {
		return rt, s.Errorf(spec.Field("python.version"), "python.version is %q but the runtime %s carries Python %s (%s)%s",
			want, pair.Runtime, rt, rtPath, floatingHint(s, rt))
	}
	return rt, nil
}

// pairNeedsReading: a pair from the table names its Python; a floating tag
// or an override may carry any.
func pairNeedsReading(s *spec.Spec, pair assemble.Pair) bool {
	return pair.Version == "" || s.Base.Builder != "" || s.Base.Runtime != ""
}

func floatingHint(s *spec.Spec, actual string) string {
	if s.Runtime == spec.RuntimeChainguard && s.Base.Runtime == "" {
		return fmt.Sprintf("; Chainguard's free tier serves only latest, which moves between minors: accept it with python.version: %q (and check your dependencies support it), or pin older images by digest with base.builder and base.runtime", actual)
	}
	return ""
}
