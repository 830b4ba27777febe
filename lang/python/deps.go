package python

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/pydeps"
	"github.com/distill-build/distill/spec"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Source is the dependency source of a build, decided once from the spec
// and the context (it does not depend on the platform) and planned per
// platform by Plan. The frontend reads the context through the gateway,
// the CLI from the local directory; both give the same answer because both
// run this code.
type Source struct {
	Source pydeps.Source
	// Field is the spec field that named the source, zero when detected.
	Field spec.Path
	// Data and Pyproject are the contents of Source.Path and of the
	// pyproject.toml that goes with it (nil when none).
	Data, Pyproject []byte
	// Present are the dependency files the context root has (for the
	// IgnoredDependencyFile check), sorted.
	Present []string
}

// dependencyCandidates are the files DetectDependencies may read: the one
// the spec names and the pyproject.toml beside it, or the detection's.
func dependencyCandidates(s *spec.Spec) []string {
	out := []string{"uv.lock", "poetry.lock", "pylock.toml", spec.DefaultRequirements, "pyproject.toml"}
	if f, _ := s.Python.DependencyFile(); f != "" {
		out = append(out, f, path.Join(path.Dir(f), "pyproject.toml"))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// DetectDependencies decides the dependency source: the file the spec
// names (python.dependencies or python.requirements), which must exist, or
// the one pydeps.Detect finds.
func DetectDependencies(fs pydeps.FileReader, s *spec.Spec) (*Source, error) {
	d := &Source{}
	for _, n := range []string{"poetry.lock", "pylock.toml", "pyproject.toml", spec.DefaultRequirements, "uv.lock"} {
		data, ok, err := fs.Read(n)
		if err != nil {
			return nil, err
		}
		if ok && n == "pyproject.toml" {
			// tool configuration alone (ruff, black) is not a source
			py, err := pydeps.ParsePyproject(n, data)
			ok = err == nil && (py.DeclaresDependencies() || py.BuildSystem != nil)
		}
		if ok {
			d.Present = append(d.Present, n)
		}
	}
	name, field := s.Python.DependencyFile()
	if name != "" {
		kind, ok := pydeps.KindOf(path.Base(name))
		if !ok { // spec validation allows only known names
			return nil, s.Errorf(field, "%s %q is not a dependency file distill reads", field, name)
		}
		data, ok, err := fs.Read(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, s.Errorf(field, "%s %q does not exist in the build context (or is excluded by .dockerignore, or is a symlink that points outside the context)", field, name)
		}
		d.Source, d.Field, d.Data = pydeps.Source{Kind: kind, Path: name}, field, data
		if kind != pydeps.KindRequirements {
			py := path.Join(path.Dir(name), "pyproject.toml")
			if kind == pydeps.KindPyproject {
				py = name
			}
			if pd, ok, err := fs.Read(py); err != nil {
				return nil, err
			} else if ok {
				d.Source.Pyproject, d.Pyproject = py, pd
			}
		}
		return d, nil
	}
	src, err := pydeps.Detect(fs)
	if err != nil {
		var pe *pydeps.Error
		if errors.As(err, &pe) && pe.File == "" {
			// two lock files: the spec is where the choice is made, at its
			// python section when it has one
			if _, ok := s.Locate(spec.Field("python")); ok {
				return nil, s.Errorf(spec.Field("python"), "%s", pe.Msg)
			}
			return nil, fmt.Errorf("%s: %s", s.File, pe.Msg)
		}
		return nil, err
	}
	d.Source = src
	for _, x := range []struct {
		p   string
		dst *[]byte
	}{{src.Path, &d.Data}, {src.Pyproject, &d.Pyproject}} {
		if x.p == "" {
			continue
		}
		data, _, err := fs.Read(x.p)
		if err != nil {
			return nil, err
		}
		*x.dst = data
	}
	return d, nil
}

// Describe is the source as users see it (validate, outline, progress).
func (d *Source) Describe() string {
	if d == nil || d.Source.Kind == pydeps.KindNone {
		return "none (no requirements.txt, pyproject.toml or lock file)"
	}
	how := "detected"
	if !d.Field.IsZero() {
		how = "from " + d.Field.String()
	}
	return fmt.Sprintf("%s (%s, %s)", d.Source.Path, d.Source.Kind, how)
}

// Plan turns the source into the install of one platform: a requirements
// file passed through, or exact hashed requirements resolved from a lock
// for that platform's markers. pythonMinor is the runtime's Python minor
// (read from the image, or the pair's); builder is the builder image,
// whose PYTHON_VERSION (official images) gives the full version.
func (d *Source) Plan(s *spec.Spec, p ocispecs.Platform, pythonMinor string, builder dockerspec.DockerOCIImage) (Dependencies, *pydeps.Plan, error) {
	switch d.Source.Kind {
	case pydeps.KindNone:
		return Dependencies{}, nil, nil
	case pydeps.KindRequirements:
		return Dependencies{RequirementsPath: d.Source.Path, Field: d.Field, Describe: "-r " + d.Source.Path}, nil, nil
	}
	full := pythonMinor
	if v := assemble.EnvValue(builder.Config.Env, "PYTHON_VERSION", ""); v != "" && (full == "" || strings.HasPrefix(v, full+".")) {
		full = v
	}
	if full == "" {
		return Dependencies{}, nil, s.Errorf(spec.Field("python.version"), "cannot tell which Python the runtime carries, which %s needs to choose packages; set python.version", d.Source.Path)
	}
	plan, err := pydeps.Resolve(pydeps.Inputs{Source: d.Source, Data: d.Data, Pyproject: d.Pyproject}, pydeps.EnvFor(full, p.Architecture),
		pydeps.Options{Extras: s.Python.Extras, Groups: s.Python.Groups, ContextMount: assemble.ContextMount})
	if err != nil {
		return Dependencies{}, nil, err
	}
	out := Dependencies{
		Generated:  plan.Requirements,
		PipArgs:    plan.PipArgs,
		LocalPaths: plan.LocalPaths,
		Local:      plan.LocalRequirements,
		Field:      d.Field,
		Describe:   plan.Summary(),
	}
	if len(out.Generated) == 0 && len(out.Local) == 0 {
		out.Generated = nil
	}
	if s.Python.Project != spec.ProjectCopy && (plan.Project != nil || s.Python.Project == spec.ProjectInstall) {
		dir := path.Dir(d.Source.Pyproject)
		name := ""
		if plan.Project != nil {
			name = plan.Project.Name
		} else if py, err := pydeps.ParsePyproject(d.Source.Pyproject, d.Pyproject); err == nil {
			name = py.Name
		}
		if name != "" && d.Source.Pyproject != "" {
			out.Projects = append(out.Projects, Project{Name: name, Dir: dir})
		}
		for _, m := range plan.Members {
			out.Projects = append(out.Projects, Project{Name: m.Name, Dir: m.Path})
		}
	}
	return out, plan, nil
}

// dependencyError shows an error in a dependency file (pyproject.toml, a
// lock) with that file's excerpt, as buildx does for the spec.
func dependencyError(err error, d *Source) (filename string, data []byte, line, col int, ok bool) {
	var pe *pydeps.Error
	var pes pydeps.Errors
	switch {
	case errors.As(err, &pe):
	case errors.As(err, &pes) && len(pes) > 0:
		pe = pes[0]
	default:
		return "", nil, 0, 0, false
	}
	if d == nil || pe.File == "" {
		return "", nil, 0, 0, false
	}
	switch pe.File {
	case d.Source.Path:
		data = d.Data
	case d.Source.Pyproject:
		data = d.Pyproject
	default:
		return "", nil, 0, 0, false
	}
	return pe.File, data, pe.Line, pe.Column, true
}

// LintDependencies is what the check rules see of the dependencies.
func LintDependencies(d *Source) lint.Dependencies {
	out := lint.Dependencies{Present: d.Present, Field: d.Field}
	out.Kind, out.Path = d.Source.Kind.String(), d.Source.Path
	if d.Source.Kind == pydeps.KindRequirements {
		out.Requirements = d.Data
	}
	return out
}
