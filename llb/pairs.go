// Package llb turns a parsed distill spec into BuildKit LLB: a hardened
// builder stage and a minimal runtime stage, plus the OCI image config.
//
// Everything here is a pure function of (spec, resolved base images,
// options): no network, no gateway client, no clock. The frontend resolves
// the base images and reads the build context; this package only describes
// the build, so the same inputs always marshal to the same digest.
package llb

import (
	"fmt"

	"github.com/distill-build/distill/spec"
)

// Pair is a builder/runtime image pair that agree on the Python minor
// version, the interpreter path and the C library.
type Pair struct {
	// Builder and Runtime are image references by tag (or digest when the
	// spec pins one); the frontend resolves both to digests together.
	Builder string
	Runtime string
	// RuntimePython is the interpreter's path in the runtime image. The
	// venv's interpreter link and pyvenv.cfg point here, so the venv works
	// in the runtime even though the builder keeps Python elsewhere.
	RuntimePython string
	// PythonVersion is the minor version, empty when the pair only has a
	// floating tag (Chainguard's public catalog).
	PythonVersion string
	// Warnings are findings about the pair itself (end of life, unpinned).
	Warnings []Warning
}

// Warning is a finding that does not stop the build unless policy.strict
// is set. Rule names are stable identifiers, documented in docs/rules.
type Warning struct {
	Rule    string
	Message string
	// Field is the spec field path the finding concerns ("python.version").
	Field string
	URL   string
}

const rulesURL = "https://github.com/distill-build/distill/blob/main/docs/rules.md#"

// pythonPair is one row of the default pair table in DESIGN.md.
type pythonPair struct {
	builder, runtime, interpreter string
	eol                           string // non-empty: why the pair is end of life
	replacement                   string
}

// distrolessPairs are keyed by Python minor version. Facts behind them:
// distroless python3-debian13 ships Python 3.13 at /usr/bin/python3.13 and
// matches python:3.13-slim-trixie (same glibc generation); python3-debian12
// (3.11) was dropped upstream and reached end of life in April 2026.
var distrolessPairs = map[string]pythonPair{
	"3.13": {
		builder:     "docker.io/library/python:3.13-slim-trixie",
		runtime:     "gcr.io/distroless/python3-debian13:nonroot",
		interpreter: "/usr/bin/python3.13",
	},
	"3.11": {
		builder:     "docker.io/library/python:3.11-slim-bookworm",
		runtime:     "gcr.io/distroless/python3-debian12:nonroot",
		interpreter: "/usr/bin/python3.11",
		eol:         "gcr.io/distroless/python3-debian12 reached end of life in April 2026 and no longer gets security updates",
		replacement: `python.version: "3.13" (gcr.io/distroless/python3-debian13:nonroot with python:3.13-slim-trixie)`,
	},
}

// Chainguard's public catalog serves only :latest and :latest-dev; both
// keep the interpreter at /usr/bin/python.
const (
	chainguardBuilder = "cgr.dev/chainguard/python:latest-dev"
	chainguardRuntime = "cgr.dev/chainguard/python:latest"
	chainguardPython  = "/usr/bin/python"
)

// SelectPair picks the builder/runtime pair for a spec, applying base
// overrides. It fails only for combinations the spec package should already
// have rejected, so a caller can rely on a valid spec always having a pair.
func SelectPair(s *spec.Spec) (Pair, error) {
	var p Pair
	switch s.Runtime {
	case spec.RuntimeChainguard:
		p = Pair{Builder: chainguardBuilder, Runtime: chainguardRuntime, RuntimePython: chainguardPython}
	case spec.RuntimeDistroless, "":
		row, ok := distrolessPairs[s.Python.Version]
		if !ok {
			return Pair{}, fmt.Errorf("python.version %q has no distroless pair; allowed: %v", s.Python.Version, spec.PythonVersions)
		}
		p = Pair{Builder: row.builder, Runtime: row.runtime, RuntimePython: row.interpreter, PythonVersion: s.Python.Version}
		if row.eol != "" && s.Base.Runtime == "" {
			p.Warnings = append(p.Warnings, Warning{
				Rule:    "EndOfLifeBase",
				Message: fmt.Sprintf("%s; use %s", row.eol, row.replacement),
				Field:   "python.version",
				URL:     rulesURL + "endoflifebase",
			})
		}
	default:
		return Pair{}, fmt.Errorf("runtime %q is not supported; allowed: %s, %s", s.Runtime, spec.RuntimeDistroless, spec.RuntimeChainguard)
	}
	// An override keeps the family's interpreter layout: a company's
	// hardened distroless image is expected to be laid out like distroless.
	if s.Base.Builder != "" {
		p.Builder = s.Base.Builder
	}
	if s.Base.Runtime != "" {
		p.Runtime = s.Base.Runtime
	}
	return p, nil
}
