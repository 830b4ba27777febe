package llb

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Fixed paths and ids of the generated build. They are part of the
// product's contract (documented in the README), not tunables.
const (
	// VenvDir is where the virtual environment lives in both stages.
	VenvDir = "/opt/venv"
	// BuildUID/BuildGID own everything the builder writes; no build step
	// runs as root except OS package installation and directory setup.
	BuildUID = 10001
	BuildGID = 10001
	// BuildHome is the build user's HOME (pip's cache lives beneath it).
	BuildHome = "/home/build"
	// RuntimeUser is the runtime image's numeric user (distroless and
	// Chainguard both call uid 65532 "nonroot").
	RuntimeUser = "65532:65532"

	requirementsMount = "/run/distill/requirements"
	// ContextMount is where the dependency install sees the context paths
	// it needs besides the manifest (path dependencies of a lock).
	ContextMount = "/run/distill/context"
	pipCacheDir  = BuildHome + "/.cache/pip"
)

// Dependencies is what the dependency install step gets. The frontend
// fills it from the dependency source (a requirements file, pyproject.toml
// or a lock); package llb only turns it into steps.
type Dependencies struct {
	// RequirementsPath is a requirements file in the context that pip reads
	// as it is; empty when Generated is used or there are no dependencies.
	RequirementsPath string
	// Generated is a requirements file made from a pyproject.toml or a lock
	// (for a lock: exact versions with hashes). Being the step's only input
	// besides LocalPaths, a code change cannot invalidate the install.
	Generated []byte
	// PipArgs are added to pip install (--require-hashes --no-deps for a lock).
	PipArgs []string
	// LocalPaths are context paths the install needs (path dependencies of
	// a lock), mounted under ContextMount.
	LocalPaths []string
	// Local are packages from directories in the context (path
	// dependencies of a lock), installed by a second pip run with --no-deps:
	// pip cannot check hashes of a directory.
	Local []byte
	// Field is the spec field that named the source ("" when detected), so
	// a failing install points at it.
	Field string
	// Describe is the source as the progress line shows it, e.g.
	// "uv.lock (14 packages, hashes enforced)".
	Describe string
	// Projects are the pyproject.toml projects (the app's own, and
	// workspace members it uses) installed into the venv, without their
	// dependencies, after the app copy.
	Projects []Project
}

// Project is a Python project in the app directory.
type Project struct {
	// Name is the distribution name (its files are found by its RECORD).
	Name string
	// Dir is its directory relative to the context root ("." for the root).
	Dir string
}

// any reports whether there is a dependency install at all.
func (d Dependencies) any() bool {
	return d.RequirementsPath != "" || d.Generated != nil || d.Local != nil
}

func (d Dependencies) projectNames() string {
	names := make([]string, len(d.Projects))
	for i, p := range d.Projects {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
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
	"**/__pycache__", "**/*.pyc",
	"**/.venv", "**/.tox", "**/.pytest_cache", "**/.mypy_cache",
}

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
	name := trimDigest(i.Ref)
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

// Options are the inputs that do not come from the spec.
type Options struct {
	// Context is the build context, already filtered by .dockerignore.
	// DefaultExcludes and app.exclude are applied again when copying.
	Context llb.State
	// Platform is the target platform.
	Platform ocispecs.Platform
	// Deps is the dependency install the frontend planned from the spec and
	// the context (package pydeps); its zero value installs nothing.
	Deps Dependencies
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

// Build describes the whole Python build: the builder stage steps 1–5 and
// the runtime stage steps 6–8 of DESIGN.md.
func Build(s *spec.Spec, pair Pair, bases Bases, opt Options) (*Result, error) {
	if s.Language != spec.LanguagePython {
		return nil, fmt.Errorf("language %q is not supported; allowed: %s", s.Language, spec.LanguagePython)
	}
	if len(s.App.Entrypoint) == 0 {
		return nil, fmt.Errorf("app.entrypoint is required")
	}
	b := &builder{s: s, pair: pair, bases: bases, opt: opt}
	bst := b.builderStage()
	layers := b.runtimeLayers(bst)
	cfg := b.imageConfig()
	res := &Result{
		Image:   llb.Merge(layers, llb.WithCustomName("[runtime] merge venv and app layers onto the runtime image")),
		Builder: bst, Config: cfg, SBOM: b.sbomState(bst),
	}
	if verifyOn(s) {
		// every layer but the app's code (the last one)
		res.Verify, res.VerifyOn = b.verifyState(layers[:len(layers)-1], bst, cfg), true
	}
	return res, nil
}

type builder struct {
	s     *spec.Spec
	pair  Pair
	bases Bases
	opt   Options
	step  int
	// depsState is the builder after the dependency install and its
	// finalize; its venv is the image's venv layer unless build commands
	// may have changed it. appState is the builder right after the app
	// copy, the base of the project layer's diff.
	depsState, appState llb.State
	// packagesLayer is the app.runtimePackages layer, nil without any.
	packagesLayer *llb.State
}

func (b *builder) workdir() string {
	if b.s.App.Workdir != "" {
		return b.s.App.Workdir
	}
	return spec.DefaultWorkdir
}

// name gives each vertex a readable progress line; numbering follows the
// order the steps are described in, which is fixed.
func (b *builder) name(stage, format string, args ...any) llb.ConstraintsOpt {
	b.step++
	return llb.WithCustomName(fmt.Sprintf("[%s %d] %s", stage, b.step, fmt.Sprintf(format, args...)))
}

// at ties a vertex to the spec field it comes from; without a known field
// it still names the spec file, so errors say which file built the step.
func (b *builder) at(field string) llb.ConstraintsOpt {
	pos, ok := b.s.Positions[field]
	if !ok {
		return b.opt.SourceMap.Location(nil)
	}
	line := int32(pos.Line)
	return b.opt.SourceMap.Location([]*pb.Range{{Start: &pb.Position{Line: line}, End: &pb.Position{Line: line}}})
}

// constraints merges the name and, when known, the source location.
func (b *builder) constraints(stage, field, format string, args ...any) []llb.ConstraintsOpt {
	out := []llb.ConstraintsOpt{b.name(stage, format, args...), llb.Platform(b.opt.Platform)}
	if b.opt.SourceMap != nil {
		out = append(out, b.at(field))
	}
	return out
}

func (b *builder) cacheID(kind string) string {
	// Keyed by the builder image repository so two distros never share an
	// apt or pip cache, but every app on the same builder shares downloads.
	return b.opt.CacheNamespace + "distill/" + kind + "/" + trimDigest(b.bases.Builder.Ref)
}

// baseState starts a stage from a digest-pinned image with its config's
// environment and working directory, as a Dockerfile FROM would.
func (b *builder) baseState(img Image, stage string) llb.State {
	st := llb.Image(img.Pinned(), llb.Platform(b.opt.Platform), llb.WithCustomName(fmt.Sprintf("[%s] FROM %s", stage, img.Pinned())))
	for _, kv := range img.Config.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		st = st.AddEnv(k, v)
	}
	if wd := img.Config.Config.WorkingDir; wd != "" {
		st = st.Dir(wd)
	}
	return st
}

func (b *builder) builderStage() llb.State {
	s := b.s
	wd := b.workdir()
	st := b.baseState(b.bases.Builder, "builder")

	// OS packages first: they change least often, and this is the only
	// step that runs as root with the network on.
	if len(s.Build.AptPackages) > 0 {
		run := st.Run(
			llb.Args(append([]string{"python3", "-c", aptScript}, s.Build.AptPackages...)),
			llb.User("0:0"),
			llb.AddMount("/var/cache/apt", llb.Scratch(), llb.AsPersistentCacheDir(b.cacheID("apt-cache"), llb.CacheMountLocked)),
			llb.AddMount("/var/lib/apt/lists", llb.Scratch(), llb.AsPersistentCacheDir(b.cacheID("apt-lists"), llb.CacheMountLocked)),
			withConstraints(b.constraints("builder", "build.aptPackages", "apt-get install %s", strings.Join(s.Build.AptPackages, " "))),
		)
		st = run.Root()
	}

	st = st.Run(
		llb.Args([]string{"python3", "-c", prepareScript, b.pair.RuntimePython,
			strconv.Itoa(BuildUID), strconv.Itoa(BuildGID), VenvDir, BuildHome, wd}),
		llb.User("0:0"),
		llb.Network(llb.NetModeNone),
		withConstraints(b.constraints("builder", "", "prepare build user %d and %s", BuildUID, b.pair.RuntimePython)),
	).Root()

	// From here on everything runs as the unprivileged build user.
	st = st.User(fmt.Sprintf("%d:%d", BuildUID, BuildGID)).
		AddEnv("HOME", BuildHome).
		AddEnv("VIRTUAL_ENV", VenvDir).
		AddEnv("PIP_DISABLE_PIP_VERSION_CHECK", "1").
		AddEnv("PIP_NO_INPUT", "1")

	// The venv is created through the runtime's interpreter path, without
	// pip: packages are installed by the builder's own pip, so the venv
	// never contains pip, setuptools or wheel to begin with.
	st = st.Run(
		llb.Args([]string{b.pair.RuntimePython, "-m", "venv", "--without-pip", VenvDir}),
		llb.Network(llb.NetModeNone),
		withConstraints(b.constraints("builder", "python.version", "create venv %s for %s", VenvDir, b.pair.RuntimePython)),
	).Root()

	if b.opt.Deps.any() {
		st = b.pipInstall(st)
		// before the app is copied in: a code change leaves this step cached
		st = b.finalize(st, "", "compile the venv's bytecode, drop packaging tools and write bits", "venv")
	}
	b.depsState = st

	st = b.copyApp(st)
	if len(b.opt.Deps.Projects) > 0 {
		b.appState = st
		st = b.installProject(st)
	}

	venvPath := VenvDir + "/bin:" + envValue(b.bases.Builder.Config.Config.Env, "PATH", defaultPath)
	for i, argv := range s.Build.Commands {
		opts := []llb.RunOption{
			llb.Args(argv),
			llb.Dir(wd),
			llb.Network(llb.NetModeNone),
			llb.AddEnv("PATH", venvPath),
		}
		for _, e := range s.Build.Env {
			opts = append(opts, llb.AddEnv(e.Name, e.Value))
		}
		opts = append(opts, withConstraints(b.constraints("builder", fmt.Sprintf("build.commands[%d]", i), "%s", quoteArgv(argv))))
		st = st.Run(opts...).Root()
	}

	if len(s.Build.Commands) > 0 {
		// build commands run as the venv's owner and may have changed it
		return b.finalize(st, "", "compile bytecode of the venv and "+wd+", drop write bits", "venv", wd)
	}
	if len(b.opt.Deps.Projects) > 0 {
		targets := []string{}
		for _, p := range b.opt.Deps.Projects {
			targets = append(targets, "project="+p.Name)
		}
		return b.finalize(st, "python.project", "compile bytecode of "+b.opt.Deps.projectNames()+" and "+wd+", drop write bits", append(targets, wd)...)
	}
	return b.finalize(st, "", "compile bytecode of "+wd+", drop write bits", wd)
}

// finalize runs finalizeScript on the given targets ("venv" or an app dir).
func (b *builder) finalize(st llb.State, field, what string, targets ...string) llb.State {
	return st.Run(
		llb.Args(append([]string{"python3", "-c", finalizeScript, VenvDir}, targets...)),
		llb.Network(llb.NetModeNone),
		withConstraints(b.constraints("builder", field, "%s", what)),
	).Root()
}

// pipInstall mounts only the dependency manifest (manifest-first: an app
// code change leaves this step's inputs untouched, so it stays cached) and
// installs into the venv with the builder's pip. It is the only step besides
// apt and the project install with network access.
func (b *builder) pipInstall(st llb.State) llb.State {
	d := b.opt.Deps
	var req llb.State
	switch {
	case d.Generated != nil:
		req = llb.Scratch().File(
			llb.Mkfile("/requirements.txt", 0o644, d.Generated, llb.WithCreatedTime(epochOrZero(b.opt.SourceDateEpoch))),
			b.constraints("builder", d.Field, "requirements from %s", d.Describe)...,
		)
	case d.RequirementsPath != "":
		// A requirements file that is a symlink (requirements.txt ->
		// requirements/prod.txt) is resolved, or the mount would hold a link
		// that dangles. BuildKit resolves it inside the context root, so a
		// link pointing out of the context (to /etc/passwd) names a path in
		// the context, never a file of the build host.
		req = llb.Scratch().File(
			llb.Copy(b.opt.Context, cleanContextPath(d.RequirementsPath), "/requirements.txt", &llb.CopyInfo{FollowSymlinks: true}),
			b.constraints("builder", d.Field, "copy %s", d.RequirementsPath)...,
		)
	}
	opts := []llb.RunOption{}
	if len(d.LocalPaths) > 0 {
		// path dependencies of a lock: only those paths, so other code
		// changes still leave the install cached
		var fa *llb.FileAction
		for _, p := range d.LocalPaths {
			src := cleanContextPath(p)
			ci := &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, AllowWildcard: false, ExcludePatterns: DefaultExcludes}
			if fa == nil {
				fa = llb.Copy(b.opt.Context, src, src, ci)
			} else {
				fa = fa.Copy(b.opt.Context, src, src, ci)
			}
		}
		local := llb.Scratch().File(fa, b.constraints("builder", d.Field, "copy path dependencies %s", strings.Join(d.LocalPaths, " "))...)
		opts = append(opts, llb.AddMount(ContextMount, local, llb.Readonly))
	}
	opts = append(opts, b.pipEnv()...)
	// one pip run per requirements file, each the only file at
	// requirementsMount, with the shared mounts and environment
	pip := func(st, reqs llb.State, flags []string, what string) llb.State {
		args := []string{"python3", "-m", "pip", "--python", VenvDir + "/bin/python", "install",
			"--no-compile", "--no-warn-script-location", "--progress-bar", "off"}
		args = append(append(args, flags...), "-r", requirementsMount+"/requirements.txt")
		run := append(append([]llb.RunOption{}, opts...), llb.Args(append(args, b.indexArgs()...)),
			llb.AddMount(requirementsMount, reqs, llb.Readonly),
			withConstraints(b.constraints("builder", d.Field, "%s", what)))
		return st.Run(run...).Root()
	}
	if d.Generated != nil || d.RequirementsPath != "" {
		st = pip(st, req, d.PipArgs, "pip install "+d.Describe)
	}
	if d.Local != nil {
		local := llb.Scratch().File(
			llb.Mkfile("/requirements.txt", 0o644, d.Local, llb.WithCreatedTime(epochOrZero(b.opt.SourceDateEpoch))),
			b.constraints("builder", d.Field, "path dependencies of %s", d.Describe)...,
		)
		st = pip(st, local, []string{"--no-deps"}, "pip install path dependencies of "+d.Describe+" (no hashes: they are directories)")
	}
	return st
}

// indexArgs points pip at the spec's index.
func (b *builder) indexArgs() []string {
	s := b.s
	if s.Python.IndexURL == "" {
		return nil
	}
	args := []string{"--index-url", s.Python.IndexURL}
	if host, ok := plainHTTPHost(s.Python.IndexURL); ok {
		// pip ignores a plain-http index unless it is trusted; the spec
		// asked for this URL explicitly and the check rule flags it.
		args = append(args, "--trusted-host", host)
	}
	return args
}

// pipEnv is what every pip step with network gets: the pip cache in a
// cache mount owned by the build user, loopback trusted, and the index
// secret as an environment variable of this step only.
func (b *builder) pipEnv() []llb.RunOption {
	opts := []llb.RunOption{
		llb.AddMount(pipCacheDir, cacheDirOwnedBy(BuildUID, BuildGID), llb.SourcePath("/cache"),
			llb.AsPersistentCacheDir(b.cacheID("pip"), llb.CacheMountShared)),
		llb.AddEnv("PIP_CACHE_DIR", pipCacheDir),
		// Loopback traffic cannot be intercepted, so a plain-http index on
		// this host (a local devpi or proxy) is as safe as https.
		llb.AddEnv("PIP_TRUSTED_HOST", "localhost 127.0.0.1"),
	}
	if s := b.s.Python.IndexURLSecret; s != "" {
		opts = append(opts, llb.AddSecret("PIP_INDEX_URL", llb.SecretID(s), llb.SecretAsEnv(true)))
	}
	return opts
}

// installProject installs the app directory as a Python project (its
// pyproject.toml declares a build backend) into the venv, non-editable and
// without dependencies: those came from the dependency step. The build
// backend comes from the index (pip's build isolation), so this step has
// network. The sources are built from a copy on a tmpfs, so no build/ or
// *.egg-info directory lands in the app.
func (b *builder) installProject(st llb.State) llb.State {
	args := []string{"python3", "-c", projectScript, VenvDir, "/tmp/distill-project", strconv.Itoa(len(b.opt.Deps.Projects))}
	for _, p := range b.opt.Deps.Projects {
		args = append(args, path.Join(b.workdir(), p.Dir))
	}
	args = append(args, b.indexArgs()...)
	opts := []llb.RunOption{
		llb.Args(args),
		llb.AddMount("/tmp", llb.Scratch(), llb.Tmpfs()),
	}
	opts = append(opts, b.pipEnv()...)
	opts = append(opts, withConstraints(b.constraints("builder", "python.project", "install project %s into %s (no dependencies)", b.opt.Deps.projectNames(), VenvDir)))
	return st.Run(opts...).Root()
}

func epochOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Unix(0, 0).UTC()
	}
	return *t
}

// copyApp copies the app into the builder's working directory, owned by
// the build user so build commands can write (e.g. compile) in place.
func (b *builder) copyApp(st llb.State) llb.State {
	s := b.s
	wd := b.workdir()
	excludes := append(append([]string{}, s.App.Exclude...), DefaultExcludes...)
	owner := &llb.ChownOpt{User: &llb.UserOpt{UID: BuildUID}, Group: &llb.UserOpt{UID: BuildGID}}
	if len(s.App.Include) == 0 {
		return st.File(
			llb.Copy(b.opt.Context, "/", wd, &llb.CopyInfo{
				CopyDirContentsOnly: true, CreateDestPath: true, ExcludePatterns: excludes, ChownOpt: owner,
			}),
			b.constraints("builder", "app", "copy app into %s", wd)...,
		)
	}
	var fa *llb.FileAction
	for _, inc := range s.App.Include {
		src := cleanContextPath(inc)
		ci := &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, ExcludePatterns: excludes, ChownOpt: owner}
		if fa == nil {
			fa = llb.Copy(b.opt.Context, src, path.Join(wd, src), ci)
		} else {
			fa = fa.Copy(b.opt.Context, src, path.Join(wd, src), ci)
		}
	}
	return st.File(fa, b.constraints("builder", "app.include", "copy %s into %s", strings.Join(s.App.Include, " "), wd)...)
}

// runtimeLayers are the layers of the runtime image: its base, then the
// runtime packages, the venv, the project and the app. Each copy is its own
// layer on an empty state, merged on top of the base (the LLB form of COPY
// --link): a new runtime digest leaves them valid, and nothing of the
// builder besides these trees reaches the image. The app comes last.
func (b *builder) runtimeLayers(bst llb.State) []llb.State {
	wd := b.workdir()
	base := b.baseState(b.bases.Runtime, "runtime")
	root := &llb.ChownOpt{User: &llb.UserOpt{UID: 0}, Group: &llb.UserOpt{UID: 0}}
	copyInfo := func() *llb.CopyInfo {
		return &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, ChownOpt: root, CreatedTime: b.opt.SourceDateEpoch}
	}
	// The venv layer holds the dependencies only, so a code change leaves
	// it unchanged; the project's own files are a layer of their own, the
	// difference the project install made. Build commands may write to the
	// venv, so with them the venv comes from the last builder state.
	layers := []llb.State{base}
	if pkgs, ok := b.runtimePackages(); ok {
		layers = append(layers, pkgs)
		b.packagesLayer = &pkgs
	}
	venvFrom := b.depsState
	if len(b.s.Build.Commands) > 0 || !b.opt.Deps.any() {
		venvFrom = bst
	}
	layers = append(layers, llb.Scratch().File(
		llb.Copy(venvFrom, VenvDir, VenvDir, copyInfo()),
		b.constraints("runtime", "", "copy venv %s (owned by root)", VenvDir)...,
	))
	if len(b.opt.Deps.Projects) > 0 && len(b.s.Build.Commands) == 0 {
		diff := llb.Diff(b.appState, bst, llb.WithCustomName("[runtime] files of project "+b.opt.Deps.projectNames()))
		layers = append(layers, llb.Scratch().File(
			llb.Copy(diff, VenvDir, VenvDir, copyInfo()),
			b.constraints("runtime", "python.project", "copy project %s (owned by root)", b.opt.Deps.projectNames())...,
		))
	}
	return append(layers, llb.Scratch().File(
		llb.Copy(bst, wd, wd, copyInfo()),
		b.constraints("runtime", "app.entrypoint", "copy app %s (owned by root)", wd)...,
	))
}

// cacheDirOwnedBy is the initial content of a cache mount: a directory owned
// by the build user, so pip can write its cache (BuildKit would otherwise
// create the mount as root:root 0755 and pip would silently disable it).
func cacheDirOwnedBy(uid, gid int) llb.State {
	return llb.Scratch().File(llb.Mkdir("/cache", 0o755, llb.WithUIDGID(uid, gid)), llb.WithCustomName("[internal] cache directory for the build user"))
}

func withConstraints(opts []llb.ConstraintsOpt) llb.RunOption {
	return runConstraints(opts)
}

type runConstraints []llb.ConstraintsOpt

func (rc runConstraints) SetRunOption(ei *llb.ExecInfo) {
	for _, o := range rc {
		o.SetConstraintsOption(&ei.Constraints)
	}
}

// cleanContextPath makes a validated context-relative path absolute within
// the context (spec validation already refused escapes).
func cleanContextPath(p string) string {
	return path.Join("/", strings.TrimSuffix(p, "/"))
}

// plainHTTPHost returns the host of an http:// URL.
func plainHTTPHost(u string) (string, bool) {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		return "", false
	}
	host, _, _ := strings.Cut(rest, "/")
	if h, _, found := strings.Cut(host, ":"); found && !strings.HasPrefix(host, "[") {
		host = h
	}
	return host, host != ""
}

// quoteArgv renders an argv for a progress line only; it never reaches a
// shell.
func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`;&|<>()") {
			q[i] = strconv.Quote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// ContextExcludes is the exclude list for the build context: the user's
// .dockerignore, then app.exclude, then DefaultExcludes last so no `!`
// pattern can re-include a secret.
func ContextExcludes(dockerignore []string, s *spec.Spec) []string {
	out := make([]string, 0, len(dockerignore)+len(s.App.Exclude)+len(DefaultExcludes))
	out = append(out, dockerignore...)
	out = append(out, s.App.Exclude...)
	return append(out, DefaultExcludes...)
}
