// Package python is distill's Python language: the matched builder/runtime
// pairs (distroless, Chainguard), the dependency sources it reads
// (requirements files, pyproject.toml, uv.lock, poetry.lock, pylock.toml,
// through package pydeps), and its part of the build: a venv created for
// the runtime's interpreter, the dependency install, the project install,
// bytecode compiled once, and the venv and project layers of the image.
//
// Its in-build steps that are not Python's own tools (pip, compileall) run
// distill's static helper (package helper, and pyhelper for Python's).
package python

import (
	"path"
	"strconv"
	"strings"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
)

// Fixed paths of the Python build, part of the product's contract.
const (
	// VenvDir is where the virtual environment lives in both stages.
	VenvDir = "/opt/venv"

	requirementsMount = "/run/distill/requirements"
	pipCacheDir       = assemble.BuildHome + "/.cache/pip"
)

// Dependencies is what the dependency install step gets, planned from the
// dependency source (a requirements file, pyproject.toml or a lock).
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
	// a lock), mounted under assemble.ContextMount.
	LocalPaths []string
	// Local are packages from directories in the context (path
	// dependencies of a lock), installed by a second pip run with --no-deps:
	// pip cannot check hashes of a directory.
	Local []byte
	// Field is the spec field that named the source (zero when detected), so
	// a failing install points at it.
	Field spec.Path
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

// contextExcludes are Python's caches and local environments, never part
// of an image's app directory.
var contextExcludes = []string{
	"**/__pycache__", "**/*.pyc",
	"**/.venv", "**/.tox", "**/.pytest_cache", "**/.mypy_cache",
}

// Plan is one platform's Python build.
type Plan struct {
	// Interpreter is the runtime's interpreter path; the venv is created
	// through it, so its links and pyvenv.cfg work in the runtime.
	Interpreter string
	Deps        Dependencies

	// depsState is the builder after the dependency install and its
	// finalize; its venv is the image's venv layer unless build commands
	// may have changed it. appState is the builder right after the app
	// copy, the base of the project layer's diff.
	depsState, appState llb.State
	commands            bool
}

// Builder is the builder stage: OS packages, the build user and the
// interpreter link, the venv, the dependency install and its finalize
// (before the app copy: a code change leaves them cached), the app, the
// project install, the build commands and the app's bytecode.
func (p *Plan) Builder(st *assemble.Stage, base llb.State) llb.State {
	s := st.Spec()
	wd := st.Workdir()
	p.commands = len(s.Build.Commands) > 0
	bst := st.Apt(base)
	bst = st.Prepare(bst, map[string]string{p.Interpreter: "python3"},
		[]string{VenvDir, assemble.BuildHome, wd}, spec.Path{},
		"prepare build user "+strconv.Itoa(assemble.BuildUID)+" and "+p.Interpreter)

	// From here on everything runs as the unprivileged build user.
	bst = st.AsBuildUser(bst).
		AddEnv("VIRTUAL_ENV", VenvDir).
		AddEnv("PIP_DISABLE_PIP_VERSION_CHECK", "1").
		AddEnv("PIP_NO_INPUT", "1")

	// The venv is created through the runtime's interpreter path, without
	// pip: packages are installed by the builder's own pip, so the venv
	// never contains pip, setuptools or wheel to begin with.
	bst = bst.Run(
		llb.Args([]string{p.Interpreter, "-m", "venv", "--without-pip", VenvDir}),
		llb.Network(llb.NetModeNone),
		st.Step("builder", spec.Field("python.version"), "create venv %s for %s", VenvDir, p.Interpreter),
	).Root()

	if p.Deps.any() {
		bst = p.pipInstall(st, bst)
		// before the app is copied in: a code change leaves this step cached
		bst = p.finalize(st, bst, spec.Path{}, "compile the venv's bytecode, drop packaging tools and write bits", "venv")
	}
	p.depsState = bst

	bst = st.CopyApp(bst, contextExcludes)
	if len(p.Deps.Projects) > 0 {
		p.appState = bst
		bst = p.installProject(st, bst)
	}
	bst = st.Commands(bst, VenvDir+"/bin")

	if p.commands {
		// build commands run as the venv's owner and may have changed it
		return p.finalize(st, bst, spec.Path{}, "compile bytecode of the venv and "+wd+", drop write bits", "venv", wd)
	}
	if len(p.Deps.Projects) > 0 {
		targets := []string{}
		for _, pr := range p.Deps.Projects {
			targets = append(targets, "project="+pr.Name)
		}
		return p.finalize(st, bst, spec.Field("python.project"), "compile bytecode of "+p.Deps.projectNames()+" and "+wd+", drop write bits", append(targets, wd)...)
	}
	return p.finalize(st, bst, spec.Path{}, "compile bytecode of "+wd+", drop write bits", wd)
}

// finalize runs the helper's python-finalize on the given targets ("venv",
// "project=NAME" or an app dir): packaging tools out of the venv, bytecode
// compiled by the venv's interpreter, write bits dropped.
func (p *Plan) finalize(st *assemble.Stage, s llb.State, field spec.Path, what string, targets ...string) llb.State {
	return s.Run(
		st.Helper("python-finalize", append([]string{VenvDir}, targets...)...),
		llb.Network(llb.NetModeNone),
		st.Step("builder", field, "%s", what),
	).Root()
}

// pipInstall mounts only the dependency manifest (manifest-first: an app
// code change leaves this step's inputs untouched, so it stays cached) and
// installs into the venv with the builder's pip. It is the only step besides
// apt and the project install with network access.
func (p *Plan) pipInstall(st *assemble.Stage, s llb.State) llb.State {
	d := p.Deps
	var req llb.State
	switch {
	case d.Generated != nil:
		req = st.Mkfile("/requirements.txt", d.Generated, d.Field, "requirements from %s", d.Describe)
	case d.RequirementsPath != "":
		// A requirements file that is a symlink (requirements.txt ->
		// requirements/prod.txt) is resolved, or the mount would hold a link
		// that dangles. BuildKit resolves it inside the context root, so a
		// link pointing out of the context (to /etc/passwd) names a path in
		// the context, never a file of the build host.
		req = llb.Scratch().File(
			llb.Copy(st.Context(), assemble.CleanContextPath(d.RequirementsPath), "/requirements.txt", &llb.CopyInfo{FollowSymlinks: true}),
			st.Constraints("builder", d.Field, "copy %s", d.RequirementsPath)...,
		)
	}
	opts := []llb.RunOption{}
	if len(d.LocalPaths) > 0 {
		// path dependencies of a lock: only those paths, so other code
		// changes still leave the install cached
		var fa *llb.FileAction
		for _, lp := range d.LocalPaths {
			src := assemble.CleanContextPath(lp)
			ci := &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, AllowWildcard: false, ExcludePatterns: assemble.DefaultExcludes}
			if fa == nil {
				fa = llb.Copy(st.Context(), src, src, ci)
			} else {
				fa = fa.Copy(st.Context(), src, src, ci)
			}
		}
		local := llb.Scratch().File(fa, st.Constraints("builder", d.Field, "copy path dependencies %s", strings.Join(d.LocalPaths, " "))...)
		opts = append(opts, llb.AddMount(assemble.ContextMount, local, llb.Readonly))
	}
	opts = append(opts, pipEnv(st)...)
	// one pip run per requirements file, each the only file at
	// requirementsMount, with the shared mounts and environment
	pip := func(s, reqs llb.State, flags []string, what string) llb.State {
		args := []string{"python3", "-m", "pip", "--python", VenvDir + "/bin/python", "install",
			"--no-compile", "--no-warn-script-location", "--progress-bar", "off"}
		args = append(append(args, flags...), "-r", requirementsMount+"/requirements.txt")
		run := append(append([]llb.RunOption{}, opts...), llb.Args(append(args, indexArgs(st)...)),
			llb.AddMount(requirementsMount, reqs, llb.Readonly),
			st.Step("builder", d.Field, "%s", what))
		return s.Run(run...).Root()
	}
	if d.Generated != nil || d.RequirementsPath != "" {
		s = pip(s, req, d.PipArgs, "pip install "+d.Describe)
	}
	if d.Local != nil {
		local := st.Mkfile("/requirements.txt", d.Local, d.Field, "path dependencies of %s", d.Describe)
		s = pip(s, local, []string{"--no-deps"}, "pip install path dependencies of "+d.Describe+" (no hashes: they are directories)")
	}
	return s
}

// indexArgs points pip at the spec's index.
func indexArgs(st *assemble.Stage) []string {
	s := st.Spec()
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
func pipEnv(st *assemble.Stage) []llb.RunOption {
	opts := []llb.RunOption{
		llb.AddMount(pipCacheDir, assemble.CacheDirOwnedByBuildUser(), llb.SourcePath("/cache"),
			llb.AsPersistentCacheDir(st.CacheID("pip"), llb.CacheMountShared)),
		llb.AddEnv("PIP_CACHE_DIR", pipCacheDir),
		// Loopback traffic cannot be intercepted, so a plain-http index on
		// this host (a local devpi or proxy) is as safe as https.
		llb.AddEnv("PIP_TRUSTED_HOST", "localhost 127.0.0.1"),
	}
	if s := st.Spec().Python.IndexURLSecret; s != "" {
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
func (p *Plan) installProject(st *assemble.Stage, s llb.State) llb.State {
	args := []string{VenvDir, "/tmp/distill-project", strconv.Itoa(len(p.Deps.Projects))}
	for _, pr := range p.Deps.Projects {
		args = append(args, path.Join(st.Workdir(), pr.Dir))
	}
	args = append(args, indexArgs(st)...)
	opts := []llb.RunOption{
		st.Helper("python-project", args...),
		llb.AddMount("/tmp", llb.Scratch(), llb.Tmpfs()),
	}
	opts = append(opts, pipEnv(st)...)
	opts = append(opts, st.Step("builder", spec.Field("python.project"), "install project %s into %s (no dependencies)", p.Deps.projectNames(), VenvDir))
	return s.Run(opts...).Root()
}

// Layers are the venv (the dependencies only, so a code change leaves it
// unchanged) and the project's own files, the difference the project
// install made. Build commands may write to the venv, so with them the
// venv comes from the finished builder.
func (p *Plan) Layers(st *assemble.Stage, bst llb.State) []assemble.Layer {
	venvFrom := p.depsState
	if p.commands || !p.Deps.any() {
		venvFrom = bst
	}
	out := []assemble.Layer{{State: st.Layer(venvFrom, VenvDir, spec.Path{}, "copy venv %s (owned by root)", VenvDir), History: "copy venv " + VenvDir}}
	if len(p.Deps.Projects) > 0 && !p.commands {
		diff := llb.Diff(p.appState, bst, llb.WithCustomName("[runtime] files of project "+p.Deps.projectNames()))
		out = append(out, assemble.Layer{
			State:   st.Layer(diff, VenvDir, spec.Field("python.project"), "copy project %s (owned by root)", p.Deps.projectNames()),
			History: "install project " + p.Deps.projectNames(),
		})
	}
	return out
}

// Env puts the venv first on PATH and keeps the interpreter from writing
// bytecode or buffering output.
func (p *Plan) Env(env *assemble.Env) {
	env.Set("PATH", VenvDir+"/bin:"+env.Get("PATH", assemble.DefaultPath))
	env.Set("VIRTUAL_ENV", VenvDir)
	env.Set("PYTHONUNBUFFERED", "1")
	env.Set("PYTHONDONTWRITEBYTECODE", "1")
}

// Inventory is the venv: its dist-info METADATA name what is installed.
func (p *Plan) Inventory() (string, string) { return "pypi", VenvDir }

// Verify checks the entrypoint, the shared libraries and that every
// installed distribution's modules import, with the venv's interpreter.
func (p *Plan) Verify(st *assemble.Stage, pathEnv string) []string {
	return []string{"python-verify", assemble.VerifyReportFile, VenvDir, assemble.VerifyAppMount, pathEnv}
}

// HealthcheckHTTP is an HTTP GET by the venv's interpreter (the runtime has
// no shell and no curl).
func (p *Plan) HealthcheckHTTP(url, timeout string) []string {
	return []string{VenvDir + "/bin/python", "-I", "-c", healthScript, url, timeout}
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
