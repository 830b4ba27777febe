// Package spec holds the distill.yaml v1 types, their strict YAML parsing
// with file:line:column errors, defaults, validation and the JSON Schema.
//
// The package is pure: it never touches the network or a build engine. Its
// consumers (package llb, the frontend, the CLI) get a *Spec whose defaults
// are applied and whose values are validated, plus the source position of
// every field so later stages can point back at the spec line they concern.
package spec

import "github.com/moby/buildkit/frontend/dockerfile/linter"

// APIVersion is the only apiVersion this package accepts.
const APIVersion = "distill/v1"

// Languages and runtimes accepted in v1.
const (
	LanguagePython = "python"

	RuntimeDistroless = "distroless"
	RuntimeChainguard = "chainguard"
)

// Defaults applied by Parse when a field is absent.
const (
	DefaultPythonVersion = "3.13"
	DefaultRequirements  = "requirements.txt"
	DefaultWorkdir       = "/app"
	DefaultProject       = ProjectAuto
	DefaultVerify        = VerifyError
)

// python.project values.
const (
	ProjectAuto    = "auto"
	ProjectInstall = "install"
	ProjectCopy    = "copy"
)

// policy.verify values.
const (
	VerifyError = "error"
	VerifyWarn  = "warn"
	VerifyOff   = "off"
)

// PythonVersions are the minor versions that have a matched distroless pair.
var PythonVersions = []string{"3.13", "3.11"}

// Spec is a parsed, defaulted and validated distill.yaml.
type Spec struct {
	APIVersion string `json:"apiVersion" yaml:"apiVersion" doc:"Spec format version; must be distill/v1."`
	Name       string `json:"name" yaml:"name" doc:"Image name: lowercase, [a-z0-9][a-z0-9._-]*."`
	Language   string `json:"language" yaml:"language" doc:"Application language: python, or static (a prebuilt binary from the context)."`
	Runtime    string `json:"runtime,omitempty" yaml:"runtime" doc:"Runtime image family: distroless (default) or chainguard."`
	Python     Python `json:"python,omitempty" yaml:"python"`
	Build      Build  `json:"build,omitempty" yaml:"build"`
	App        App    `json:"app" yaml:"app"`
	Base       Base   `json:"base,omitempty" yaml:"base"`
	Policy     Policy `json:"policy,omitempty" yaml:"policy"`

	// File is the spec's file name as given to Parse (used in messages).
	File string `json:"-" yaml:"-"`
	// Syntax is the value of a first-line "# syntax=" directive, if any.
	Syntax string `json:"-" yaml:"-"`
	// Check is the file's "# check=" directive, nil when it has none.
	Check *CheckDirective `json:"-" yaml:"-"`
	// Positions maps a written field's path, as Path.String writes it
	// ("app.entrypoint", "build.env.FOO", "build.commands[1]"), to where its
	// value starts in the file. Look positions up with Locate, which takes
	// a Path and falls back to the nearest written ancestor; the map stays
	// exported until every caller does.
	Positions map[string]Position `json:"-" yaml:"-"`
}

// Python configures the Python toolchain and the dependency install.
type Python struct {
	Version string `json:"version,omitempty" yaml:"version" doc:"Python minor version (3.13 default, 3.11); selects a matched builder/runtime pair. With runtime chainguard it must equal the minor that the latest tag carries (checked against the images)."`
	// Dependencies names the dependency source, relative to the context:
	// a requirements file, pyproject.toml, uv.lock, poetry.lock or
	// pylock.toml. Empty means "detect" (see package pydeps).
	Dependencies string `json:"dependencies,omitempty" yaml:"dependencies" doc:"Dependency source relative to the context: a requirements file (*.txt), pyproject.toml, uv.lock, poetry.lock or pylock.toml; default: detected (a lock file, then requirements.txt, then pyproject.toml)."`
	// Requirements is the older name of Dependencies for requirements files;
	// both are accepted, not together.
	Requirements   string   `json:"requirements,omitempty" yaml:"requirements" doc:"Requirements file relative to the context (same as dependencies, for a requirements file)."`
	Extras         []string `json:"extras,omitempty" yaml:"extras" doc:"Optional dependency groups of the project (pyproject optional-dependencies / Poetry extras) to install."`
	Groups         []string `json:"groups,omitempty" yaml:"groups" doc:"Dependency groups (PEP 735 / Poetry groups / uv dev groups) to install besides the main dependencies."`
	Project        string   `json:"project,omitempty" yaml:"project" doc:"What to do with a pyproject.toml project: auto (default: install it when it declares a build-system and is not marked as an application), install, or copy (the sources are copied, not installed)."`
	IndexURL       string   `json:"indexUrl,omitempty" yaml:"indexUrl" doc:"Package index URL (PEP 503). A URL with credentials is rejected: use indexUrlSecret."`
	IndexURLSecret string   `json:"indexUrlSecret,omitempty" yaml:"indexUrlSecret" doc:"BuildKit secret id whose value becomes PIP_INDEX_URL for the install step only."`
}

// DependencyFile is the dependency source the spec names (python.dependencies
// or python.requirements) and the field that named it; "" when the spec
// leaves it to detection.
func (p Python) DependencyFile() (file string, field Path) {
	switch {
	case p.Dependencies != "":
		return p.Dependencies, Field("python.dependencies")
	case p.Requirements != "":
		return p.Requirements, Field("python.requirements")
	}
	return "", Path{}
}

// Build configures the builder stage.
type Build struct {
	AptPackages []string   `json:"aptPackages,omitempty" yaml:"aptPackages" doc:"Builder-only Debian packages (name or name=version)."`
	Env         []EnvVar   `json:"env,omitempty" yaml:"env" doc:"Build-time environment (a mapping of NAME: value)."`
	Commands    [][]string `json:"commands,omitempty" yaml:"commands" doc:"Extra build steps, exec form only (each a list of strings), run as the build user in the app directory with network off."`
}

// App configures what is copied into the runtime image and how it starts.
type App struct {
	Include    []string `json:"include,omitempty" yaml:"include" doc:"Paths copied from the context into the app directory; default the whole context minus ignores."`
	Exclude    []string `json:"exclude,omitempty" yaml:"exclude" doc:"Patterns (.dockerignore syntax) left out of the context."`
	Workdir    string   `json:"workdir,omitempty" yaml:"workdir" doc:"Absolute app directory and working directory; default /app."`
	Entrypoint []string `json:"entrypoint" yaml:"entrypoint" doc:"Exec-form entrypoint (a list of strings); the venv's bin is first on PATH."`
	Env        []EnvVar `json:"env,omitempty" yaml:"env" doc:"Runtime environment (a mapping of NAME: value)."`
	Ports      []int    `json:"ports,omitempty" yaml:"ports" doc:"TCP ports the app listens on (1-65535)."`
	Labels     []Label  `json:"labels,omitempty" yaml:"labels" doc:"Image labels (a mapping of key: value)."`
	// RuntimePackages are Debian packages unpacked into a Debian-based
	// runtime (without apt, dpkg or maintainer scripts in the image).
	RuntimePackages []string    `json:"runtimePackages,omitempty" yaml:"runtimePackages" doc:"Debian packages added to the runtime image from its own release (e.g. libpq5), with their dependencies, without apt or dpkg in the image."`
	Healthcheck     Healthcheck `json:"healthcheck,omitempty" yaml:"healthcheck" doc:"Exec-form HEALTHCHECK that needs no shell: an HTTP GET by the runtime's interpreter, or a command."`
}

// Healthcheck becomes the image's exec-form HEALTHCHECK: an HTTP GET made
// by the runtime's own interpreter (no shell, no curl), or a command.
type Healthcheck struct {
	HTTP        string   `json:"http,omitempty" yaml:"http" doc:"Path of an HTTP GET on 127.0.0.1 (e.g. /healthz); healthy on a 2xx or 3xx answer."`
	Port        int      `json:"port,omitempty" yaml:"port" doc:"Port for http; default the first of app.ports."`
	Command     []string `json:"command,omitempty" yaml:"command" doc:"Exec-form command instead of http (healthy when it exits 0)."`
	Interval    string   `json:"interval,omitempty" yaml:"interval" doc:"Time between checks, e.g. 30s (default 30s)."`
	Timeout     string   `json:"timeout,omitempty" yaml:"timeout" doc:"Time one check may take, e.g. 5s (default 5s)."`
	StartPeriod string   `json:"startPeriod,omitempty" yaml:"startPeriod" doc:"Grace period after start during which failures do not count, e.g. 10s (default 0s)."`
	Retries     int      `json:"retries,omitempty" yaml:"retries" doc:"Consecutive failures before unhealthy (default 3)."`
}

// Set reports whether the spec asks for a healthcheck.
func (h Healthcheck) Set() bool { return h.HTTP != "" || len(h.Command) > 0 }

// Base overrides the default builder/runtime pair.
type Base struct {
	Builder string `json:"builder,omitempty" yaml:"builder" doc:"Builder image reference; pin with @sha256:... ."`
	Runtime string `json:"runtime,omitempty" yaml:"runtime" doc:"Runtime image reference; pin with @sha256:... ."`
}

// Policy configures how strict the build is.
type Policy struct {
	Strict bool `json:"strict,omitempty" yaml:"strict" doc:"When true, every check warning fails the build."`
	// Skip are check rules not to report, by name. The names are checked
	// against the rules by package lint, which owns them.
	Skip []string `json:"skip,omitempty" yaml:"skip" doc:"Check rules not to report, by name (docs/rules.md), e.g. [PrivilegedPort]. Added to the skip list of a # check= directive or the BUILDKIT_DOCKERFILE_CHECK build argument; never silences a failing start-up verification (policy.verify does)."`
	// Verify is how the start-up verification of the built image counts:
	// error (default), warn, or off.
	Verify string `json:"verify,omitempty" yaml:"verify" doc:"Start-up verification of the built image (entrypoint resolves, shared libraries found, modules import, interpreters agree): error (default: a failure fails the build), warn, or off."`
}

// CheckDirective is a "# check=" line among the directive lines at the top
// of the file, next to "# syntax=", in BuildKit's syntax for Dockerfiles:
// which check rules to skip and whether findings fail the build, e.g.
//
//	# check=skip=PrivilegedPort,RootUser;error=true
//
// Package lint turns it into its policy; it checks the rule names.
type CheckDirective struct {
	// Value is the text after "check=", e.g. "skip=PrivilegedPort;error=true".
	Value string
	// Config is Value as BuildKit's linter.ParseLintOptions reads it.
	Config linter.Config
	// Pos is where Value starts in the file.
	Pos Position
	// SkipPos is where each name of Config.SkipRules starts, in order.
	SkipPos []Position
}

// EnvVar is one environment variable, in file order.
type EnvVar struct {
	Name  string
	Value string
}

// Label is one image label, in file order.
type Label struct {
	Key   string
	Value string
}

// Position is a 1-based line and column in the spec file.
type Position struct {
	Line   int
	Column int
}
