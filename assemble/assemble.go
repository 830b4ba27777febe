// Package assemble turns a spec, the language's plan and the resolved base
// images into BuildKit LLB: the hardened builder stage, the runtime stage
// made of layers merged onto the runtime base, the OCI image config, the
// SBOM and the start-up verification. It holds everything that is the same
// for every language; a language (package lang/...) implements Language
// and composes its builder steps from the Stage toolkit.
//
// Everything here is a pure function of (spec, pair, bases, options, plan):
// no network, no gateway client, no clock. The frontend resolves the base
// images and reads the build context; this package only describes the
// build, so the same inputs always marshal to the same digest.
package assemble

import (
	"fmt"
	"strings"
	"time"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Fixed paths and ids of the generated build. They are part of the
// product's contract (documented in the README), not tunables.
const (
	// BuildUID/BuildGID own everything the builder writes; no build step
	// runs as root except OS package installation and directory setup.
	BuildUID = 10001
	BuildGID = 10001
	// BuildHome is the build user's HOME (language caches live beneath it).
	BuildHome = "/home/build"
	// RuntimeUser is the runtime image's numeric user (distroless and
	// Chainguard both call uid 65532 "nonroot").
	RuntimeUser = "65532:65532"
	// ContextMount is where a dependency install sees the context paths it
	// needs besides its manifest (path dependencies of a lock).
	ContextMount = "/run/distill/context"
	// HelperMount holds distill's own static binary, mounted read only as
	// HelperExe into the steps that run it (see Helper).
	HelperMount = "/run/distill/helper"
	HelperExe   = HelperMount + "/distill"
)

// Image is a base image resolved to a digest, with its config.
type Image struct {
	// Ref is the reference the spec or the pair named (by tag).
	Ref string
	// Digest is the manifest digest the tag resolved to.
	Digest digest.Digest
	// Config is the image config (env, user, labels, history).
	Config dockerspec.DockerOCIImage
}

// Pinned returns the reference with its digest, which is what the LLB uses.
func (i Image) Pinned() string {
	name := TrimDigest(i.Ref)
	if i.Digest == "" {
		return name
	}
	return name + "@" + i.Digest.String()
}

// Bases are the resolved builder and runtime images.
type Bases struct {
	Builder Image
	Runtime Image
}

// Pair is a builder/runtime image pair that agree on what the app needs
// from both: for an interpreted language the interpreter's version, path
// and C library.
type Pair struct {
	// Builder and Runtime are image references by tag (or digest when the
	// spec pins one); the frontend resolves both to digests together.
	Builder string
	Runtime string
	// Interpreter is the language's interpreter in the runtime image ("" for
	// a language that needs none). It is recorded as an image label.
	Interpreter string
	// Version is the language's version the pair carries ("3.13"), empty
	// when the pair only has a floating tag.
	Version string
	// EndOfLife, when set, says why EndOfLifeImage no longer gets security
	// updates; Replacement is what to use instead. The check rules report it.
	EndOfLifeImage, EndOfLife, Replacement string
	// EndOfLifeField is the spec field that chose the pair.
	EndOfLifeField string
}

// Helper is distill's own static executable as a state, run by the steps
// that would otherwise need an interpreter in the builder (directory setup,
// apt, finalize, SBOM, runtime packages, verification): the frontend image
// itself in a `# syntax=` build, the CLI's own executable (sent through the
// session) in a `distill build`. Being static, it runs in any image.
type Helper struct {
	// State holds the executable at Path.
	State llb.State
	Path  string
}

// Options are the inputs that do not come from the spec.
type Options struct {
	// Context is the build context, already filtered by .dockerignore.
	// DefaultExcludes and app.exclude are applied again when copying.
	Context llb.State
	// Platform is the target platform.
	Platform ocispecs.Platform
	// Helper is distill's static executable (see Helper).
	Helper Helper
	// CacheNamespace prefixes cache mount ids (BUILDKIT_CACHE_MOUNT_NS), so
	// tenants of one engine do not share caches unless they want to.
	CacheNamespace string
	// SourceMap, when set, ties each step to the spec line it comes from so
	// a failing step is reported at that line.
	SourceMap *llb.SourceMap
	// SourceDateEpoch, when set, is the mtime of every file and directory
	// in the layers distill adds, so two builds of the same inputs give
	// byte-identical layers. Without it, files keep the time they were
	// written in the builder.
	SourceDateEpoch *time.Time
}

// Result is the generated build.
type Result struct {
	// Image is the final runtime image's filesystem.
	Image llb.State
	// Builder is the builder stage after the last build step (the
	// `builder` target, for debugging a dependency install).
	Builder llb.State
	// Config is the final image's OCI config.
	Config dockerspec.DockerOCIImage
	// SBOM holds an SPDX document of the image's packages at SBOMPath. It
	// is only solved when an SBOM is requested.
	SBOM llb.State
	// Verify, when VerifyOn, holds the start-up verification's report at
	// VerifyReport (see ParseReport); the frontend solves it before
	// exporting the image.
	Verify   llb.State
	VerifyOn bool
}

// Plan is one platform's build in a language: what it adds to the generic
// stages. Its methods are called once each, in the order listed.
type Plan interface {
	// Builder describes the builder stage from its base: the language's
	// toolchain and dependency steps around the app copy and the build
	// commands, composed from the Stage's toolkit.
	Builder(st *Stage, base llb.State) llb.State
	// Layers are the language's runtime layers besides the base, the
	// runtime packages and the app (a venv, node_modules), from the
	// finished builder.
	Layers(st *Stage, builder llb.State) []Layer
	// Env sets the language's runtime environment on the image's
	// environment (PATH of its tools, interpreter settings).
	Env(env *Env)
	// Inventory is the SBOM's language part: a kind the helper knows
	// ("pypi") and the directory of the finished builder it reads, or "".
	Inventory() (kind, dir string)
	// Verify is the helper command and its arguments after the report
	// path that checks the assembled image will start (see VerifyArgs).
	Verify(st *Stage, path string) []string
	// HealthcheckHTTP is the exec-form command of an HTTP healthcheck, made
	// with the runtime's own interpreter; nil when the language has none
	// (the spec must then use a command).
	HealthcheckHTTP(url, timeout string) []string
}

// Layer is one runtime layer a language adds and the history line that
// describes it.
type Layer struct {
	State   llb.State
	History string
}

// DefaultExcludes are left out of the build context even when there is no
// .dockerignore: secrets and VCS data that a `COPY . .` would otherwise ship.
// They are applied after the user's ignore patterns, so a `!` pattern cannot
// bring them back.
var DefaultExcludes = []string{
	".git", "**/.git",
	".hg", ".svn",
	".env", ".env.*", "**/.env", "**/.env.*",
	"**/*.pem", "**/*.key", "**/*.p12", "**/*.pfx",
	"**/id_rsa*", "**/id_dsa*", "**/id_ecdsa*", "**/id_ed25519*",
	"**/.ssh", "**/.aws", "**/.gnupg", "**/.docker/config.json", "**/.kube/config",
	"**/.npmrc", "**/.pypirc", "**/.netrc", "**/.git-credentials",
}

// ContextExcludes is the exclude list for the build context: the user's
// .dockerignore, then app.exclude, then the defaults last (the generic ones
// and the language's caches) so no `!` pattern can re-include a secret.
func ContextExcludes(dockerignore []string, s *spec.Spec, language []string) []string {
	out := make([]string, 0, len(dockerignore)+len(s.App.Exclude)+len(DefaultExcludes)+len(language))
	out = append(out, dockerignore...)
	out = append(out, s.App.Exclude...)
	out = append(out, DefaultExcludes...)
	return append(out, language...)
}

// Build describes the whole build: the builder stage, the runtime layers,
// the config, the SBOM and the verification.
func Build(s *spec.Spec, pair Pair, bases Bases, opt Options, plan Plan) (*Result, error) {
	if len(s.App.Entrypoint) == 0 {
		return nil, fmt.Errorf("app.entrypoint is required")
	}
	if s.App.Healthcheck.HTTP != "" && plan.HealthcheckHTTP("", "") == nil {
		return nil, s.Errorf(spec.Field("app.healthcheck.http"), "app.healthcheck.http needs an interpreter in the runtime image, which language %s has not; use app.healthcheck.command", s.Language)
	}
	st := &Stage{s: s, pair: pair, bases: bases, opt: opt}
	bst := plan.Builder(st, st.BaseState(bases.Builder, "builder"))
	layers := []llb.State{st.BaseState(bases.Runtime, "runtime")}
	var history []string
	if pkgs, ok := st.runtimePackages(); ok {
		layers = append(layers, pkgs)
		st.packagesLayer = &pkgs
		history = append(history, "add runtime packages "+strings.Join(s.App.RuntimePackages, " "))
	}
	for _, l := range plan.Layers(st, bst) {
		layers = append(layers, l.State)
		history = append(history, l.History)
	}
	layers = append(layers, st.appLayer(bst))
	history = append(history, "copy app "+st.Workdir())
	cfg := st.imageConfig(plan, history)
	res := &Result{
		Image:   llb.Merge(layers, llb.WithCustomName("[runtime] merge the layers onto the runtime image")),
		Builder: bst, Config: cfg, SBOM: st.sbomState(bst, plan),
	}
	if s.Policy.Verify != spec.VerifyOff {
		// every layer but the app's code (the last one)
		res.Verify, res.VerifyOn = st.verifyState(layers[:len(layers)-1], bst, cfg, plan), true
	}
	return res, nil
}

// TrimDigest drops a reference's @digest.
func TrimDigest(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i]
	}
	return ref
}
