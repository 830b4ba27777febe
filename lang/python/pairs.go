package python

import (
	"fmt"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/spec"
)

// pythonPair is one row of the default pair table in DESIGN.md.
type pythonPair struct {
	builder, runtime, interpreter string
	eolImage, eol                 string // non-empty: the image that is end of life, and why
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
		eolImage:    "gcr.io/distroless/python3-debian12",
		eol:         "reached end of life in April 2026 and no longer gets security updates",
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
func SelectPair(s *spec.Spec) (assemble.Pair, error) {
	var p assemble.Pair
	switch s.Runtime {
	case spec.RuntimeChainguard:
		p = assemble.Pair{Builder: chainguardBuilder, Runtime: chainguardRuntime, Interpreter: chainguardPython}
	case spec.RuntimeDistroless, "":
		row, ok := distrolessPairs[s.Python.Version]
		if !ok {
			return assemble.Pair{}, fmt.Errorf("python.version %q has no distroless pair; allowed: %v", s.Python.Version, spec.PythonVersions)
		}
		p = assemble.Pair{Builder: row.builder, Runtime: row.runtime, Interpreter: row.interpreter, Version: s.Python.Version}
		if row.eol != "" && s.Base.Runtime == "" {
			p.EndOfLifeImage, p.EndOfLife, p.Replacement, p.EndOfLifeField = row.eolImage, row.eol, row.replacement, "python.version"
		}
	default:
		return assemble.Pair{}, fmt.Errorf("runtime %q is not supported; allowed: %s, %s", s.Runtime, spec.RuntimeDistroless, spec.RuntimeChainguard)
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
