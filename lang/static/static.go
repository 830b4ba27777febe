// Package static is the language of an app that is already a binary: a
// program built outside distill (a Go or Rust binary, statically linked),
// copied from the build context onto a runtime with no interpreter at all
// (distroless static, Chainguard static). distill adds its hardening: the
// non-root user, files owned by root and not writable, the labels, the
// SBOM of the runtime and the start-up verification of the entrypoint.
package static

import (
	"context"
	"fmt"
	"strconv"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Name is the spec's language value.
const Name = "static"

// Both stages use the static image: the builder only copies the app and
// fixes its permissions, with distill's own static helper, so it needs no
// shell or package manager either.
var pairs = map[string]string{
	spec.RuntimeDistroless: "gcr.io/distroless/static-debian13:nonroot",
	spec.RuntimeChainguard: "cgr.dev/chainguard/static:latest",
}

// Language is the static language, as package lang registers it.
type Language struct{}

// Name is the spec's language value.
func (Language) Name() string { return Name }

// Pair is the static image of the runtime family, for both stages, unless
// the spec overrides them.
func (Language) Pair(s *spec.Spec) (assemble.Pair, error) {
	img, ok := pairs[s.Runtime]
	if !ok {
		return assemble.Pair{}, fmt.Errorf("runtime %q has no static image; allowed: %s, %s", s.Runtime, spec.RuntimeDistroless, spec.RuntimeChainguard)
	}
	p := assemble.Pair{Builder: img, Runtime: img}
	if s.Base.Builder != "" {
		p.Builder = s.Base.Builder
	}
	if s.Base.Runtime != "" {
		p.Runtime = s.Base.Runtime
	}
	return p, nil
}

// ContextExcludes: a prebuilt binary has no caches of its own.
func (Language) ContextExcludes() []string { return nil }

// Load reads nothing: the app is the binary.
func (Language) Load(context.Context, *spec.Spec, assemble.ContextReader) (assemble.Project, error) {
	return project{}, nil
}

type project struct{}

func (project) Describe() string { return "none (a prebuilt binary from the context)" }

// Precheck refuses, before any image is pulled, what needs apt in the
// builder while the builder is the static image, which has no apt (nor a
// shell or a C library): it would otherwise fail in the build with apt-get
// not found. With base.builder set, the user chose a builder that has it.
func (project) Precheck(_ context.Context, s *spec.Spec, pair assemble.Pair, _ ocispecs.Platform) error {
	if s.Base.Builder != "" {
		return nil
	}
	switch {
	case len(s.Build.AptPackages) > 0:
		return s.Errorf(spec.Field("build.aptPackages"), "build.aptPackages needs apt in the builder, and language static's builder %s has none; build the binary before distill, or set base.builder to an image with apt", pair.Builder)
	case len(s.App.RuntimePackages) > 0:
		return s.Errorf(spec.Field("app.runtimePackages"), "app.runtimePackages needs apt in the builder, and language static's builder %s has none; set base.builder to a Debian image with apt (the packages come from the runtime's release)", pair.Builder)
	}
	return nil
}

func (project) Lint(*lint.Input) {}

func (project) Plan(context.Context, assemble.PlanContext) (assemble.Plan, error) {
	return plan{}, nil
}

func (project) Verified(s *spec.Spec, pair assemble.Pair, r *assemble.Report, hints map[string]string) []lint.Finding {
	return lint.Verified(s, assemble.LintVerification(pair, r), hints)
}

type plan struct{}

// Builder copies the app as the build user, runs the build commands and
// drops write bits: every step is the helper or the user's own argv.
func (plan) Builder(st *assemble.Stage, base llb.State) llb.State {
	wd := st.Workdir()
	bst := st.Apt(base)
	bst = st.Prepare(bst, nil, []string{assemble.BuildHome, wd}, spec.Path{}, "prepare build user "+strconv.Itoa(assemble.BuildUID)+" and "+wd)
	bst = st.AsBuildUser(bst)
	bst = st.CopyApp(bst, nil)
	bst = st.Commands(bst, "")
	return bst.Run(
		st.Helper("permissions", wd),
		llb.Network(llb.NetModeNone),
		st.Step("builder", spec.Path{}, "drop write bits of %s", wd),
	).Root()
}

func (plan) Layers(*assemble.Stage, llb.State) []assemble.Layer { return nil }

func (plan) Env(*assemble.Env) {}

func (plan) Inventory() (string, string) { return "", "" }

func (plan) Verify(_ *assemble.Stage, pathEnv string) []string {
	return assemble.GenericVerify(pathEnv)
}

// HealthcheckHTTP: there is no interpreter to make the request with.
func (plan) HealthcheckHTTP(string, string) []string { return nil }
