// Package spec holds the distill.yaml v1 types, their strict YAML parsing
// with file:line:column errors, defaults, validation and the JSON Schema.
//
// The package is pure: it never touches the network or a build engine. Its
// consumers (package llb, the frontend, the CLI) get a *Spec whose defaults
// are applied and whose values are validated, plus the source position of
// every field so later stages can point back at the spec line they concern.
package spec

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
)

// PythonVersions are the minor versions that have a matched distroless pair.
var PythonVersions = []string{"3.13", "3.11"}

// Spec is a parsed, defaulted and validated distill.yaml.
type Spec struct {
	APIVersion string `json:"apiVersion" yaml:"apiVersion" doc:"Spec format version; must be distill/v1."`
	Name       string `json:"name" yaml:"name" doc:"Image name: lowercase, [a-z0-9][a-z0-9._-]*."`
	Language   string `json:"language" yaml:"language" doc:"Application language; python in v1."`
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
	// Positions maps a field path ("app.entrypoint", "build.env.FOO",
	// "build.commands[1]") to where its value starts in the file.
	Positions map[string]Position `json:"-" yaml:"-"`
}

// Python configures the Python toolchain and the dependency install.
type Python struct {
	Version string `json:"version,omitempty" yaml:"version" doc:"Python minor version (3.13 default, 3.11); selects a matched builder/runtime pair. Not allowed with runtime chainguard, whose free tier serves only latest."`
	// Requirements is the requirements file, relative to the context. Empty
	// after parsing means "requirements.txt when present" (RequirementsSet false).
	Requirements    string `json:"requirements,omitempty" yaml:"requirements" doc:"Requirements file relative to the context; default requirements.txt when present."`
	RequirementsSet bool   `json:"-" yaml:"-"`
	IndexURL        string `json:"indexUrl,omitempty" yaml:"indexUrl" doc:"Package index URL (PEP 503). A URL with credentials is rejected: use indexUrlSecret."`
	IndexURLSecret  string `json:"indexUrlSecret,omitempty" yaml:"indexUrlSecret" doc:"BuildKit secret id whose value becomes PIP_INDEX_URL for the install step only."`
}

// RequirementsFile is the requirements file to look for in the context:
// the one the spec names, or requirements.txt (used only when present).
func (p Python) RequirementsFile() string {
	if p.RequirementsSet {
		return p.Requirements
	}
	return DefaultRequirements
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
}

// Base overrides the default builder/runtime pair.
type Base struct {
	Builder string `json:"builder,omitempty" yaml:"builder" doc:"Builder image reference; pin with @sha256:... ."`
	Runtime string `json:"runtime,omitempty" yaml:"runtime" doc:"Runtime image reference; pin with @sha256:... ."`
}

// Policy configures how strict the build is.
type Policy struct {
	Strict bool `json:"strict,omitempty" yaml:"strict" doc:"When true, every check warning fails the build."`
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
