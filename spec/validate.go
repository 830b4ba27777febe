package spec

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/patternmatcher"
)

var (
	chainguardVersionRe = regexp.MustCompile(`^3\.[0-9]{1,2}$`)
	// dependencyFileRe is what python.dependencies may name (by base name).
	dependencyFileRe = regexp.MustCompile(`^([^/]+\.txt|pyproject\.toml|uv\.lock|poetry\.lock|pylock\.toml|pylock\.[^/.]+\.toml)$`)
	nameSepRe        = regexp.MustCompile(`[-_.]+`)
)

// applyDefaults is the one place defaults are set. It runs before
// validation, which uses the parser's positions to tell a written value
// from a defaulted one.
func applyDefaults(s *Spec, p *parser) {
	if s.Runtime == "" {
		s.Runtime = RuntimeDistroless
	}
	// Only distroless has versioned pairs; for chainguard the version is
	// whatever "latest" is, and an empty Version says so.
	if s.Language == LanguagePython && s.Runtime == RuntimeDistroless && s.Python.Version == "" {
		s.Python.Version = DefaultPythonVersion
	}
	if s.App.Workdir == "" {
		s.App.Workdir = DefaultWorkdir
	}
	if s.Python.Project == "" {
		s.Python.Project = DefaultProject
	}
	if s.Policy.Verify == "" {
		s.Policy.Verify = DefaultVerify
	}
	// The dependency source stays empty when unwritten: the frontend detects
	// it from the context (package pydeps).
}

func (p *parser) written(field Path) bool {
	_, ok := p.pos[field]
	return ok
}

// at is where an error about field points: its value, else its key, else
// the nearest written parent.
func (p *parser) at(field Path) Position {
	for f := field; !f.IsZero(); f = f.Parent() {
		if pos, ok := p.pos[f]; ok {
			return pos
		}
	}
	return Position{1, 1}
}

// fail reports a validation error unless field already has one: a value
// that could not be read (wrong type) is not also reported as empty.
func (p *parser) fail(field Path, format string, args ...any) {
	if p.failed[field] {
		return
	}
	p.errorf(p.at(field), field, format, args...)
}

func (p *parser) failKey(field Path, format string, args ...any) {
	if p.failed[field] {
		return
	}
	pos, ok := p.keyPos[field]
	if !ok {
		pos = p.at(field)
	}
	p.errorf(pos, field, format, args...)
}

func (p *parser) validate(s *Spec) {
	p.required(s)
	p.enum(Field("apiVersion"), s.APIVersion)
	if name := Field("name"); p.written(name) {
		switch {
		case len(s.Name) > maxNameLen:
			p.fail(name, "name is %d characters; the limit is %d", len(s.Name), maxNameLen)
		case !nameRe.MatchString(s.Name):
			p.fail(name, "name %q is invalid: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (pattern %s)", truncate(s.Name, 60), nameRe)
		}
	}
	p.enum(Field("language"), s.Language)
	p.enum(Field("runtime"), s.Runtime)
	if lang := Field("language"); p.written(Field("python")) && p.written(lang) && s.Language != LanguagePython && !p.failed[lang] {
		p.failKey(Field("python"), "python: configures language python; this spec's language is %s", truncate(s.Language, 60))
	}
	p.validatePython(s)
	p.validateBuild(s)
	p.validateApp(s)
	p.reference(Field("base.builder"), s.Base.Builder)
	p.reference(Field("base.runtime"), s.Base.Runtime)
	p.validatePolicy(s)
}

// validatePolicy checks the form of policy.skip; whether each name is a
// rule is for package lint to say, which owns the rules.
func (p *parser) validatePolicy(s *Spec) {
	skip := Field("policy.skip")
	seen := map[string]int{}
	for i, name := range s.Policy.Skip {
		fi := skip.Index(i)
		switch first, dup := seen[name]; {
		case name == "all":
			p.fail(fi, "policy.skip[%d]: all is not a rule; to skip every rule, write the directive # check=skip=all at the top of the file", i)
		case !ruleNameRe.MatchString(name):
			p.fail(fi, "policy.skip[%d] %q is not a rule name: rule names are CamelCase, e.g. PrivilegedPort (see docs/rules.md)", i, truncate(name, 60))
		case dup:
			p.fail(fi, "policy.skip[%d] %q is listed twice (first at policy.skip[%d])", i, name, first)
		default:
			seen[name] = i
		}
	}
}

// required reports missing required fields; a missing section is reported
// once, not once per field inside it.
func (p *parser) required(s *Spec) {
	for _, name := range []string{"apiVersion", "name", "language", "app", "app.entrypoint"} {
		f := Field(name)
		parent := f.Parent()
		if p.written(f) || (!parent.IsZero() && !p.written(parent)) {
			continue
		}
		r := rules[name]
		hint := ""
		if r.example != "" {
			hint = ", e.g. " + r.example
		}
		if !parent.IsZero() {
			p.failKey(parent, "%s is required%s", f, hint)
			continue
		}
		p.errorf(p.rootPos(), f, "%s is required%s", f, hint)
	}
}

// rootPos is the first key of the document, where a missing top-level key
// is reported.
func (p *parser) rootPos() Position {
	best := Position{}
	for f, pos := range p.keyPos {
		if !f.Parent().IsZero() {
			continue
		}
		if best.Line == 0 || pos.Line < best.Line || (pos.Line == best.Line && pos.Column < best.Column) {
			best = pos
		}
	}
	if best.Line == 0 {
		return Position{1, 1}
	}
	return best
}

func (p *parser) enum(field Path, v string) {
	if !p.written(field) {
		return
	}
	allowed := ruleFor(field).enum
	if !slices.Contains(allowed, v) {
		p.fail(field, "%s %q is not supported; allowed: %s", field, truncate(v, 60), strings.Join(allowed, ", "))
	}
}

func (p *parser) validatePython(s *Spec) {
	py := s.Python
	py0 := Field("python")
	version, requirements, dependencies := py0.Key("version"), py0.Key("requirements"), py0.Key("dependencies")
	indexURL, indexURLSecret := py0.Key("indexUrl"), py0.Key("indexUrlSecret")
	if p.written(version) {
		if s.Runtime == RuntimeChainguard {
			// Chainguard's free tier has only latest: the version is not a
			// choice but an expectation, checked against the images.
			if !chainguardVersionRe.MatchString(py.Version) {
				p.fail(version, "python.version %q is not a Python 3 minor version, e.g. \"3.13\"", truncate(py.Version, 20))
			}
		} else if s.Runtime == RuntimeDistroless {
			p.enum(version, py.Version)
		}
	}
	if p.written(requirements) {
		p.relPath(requirements, py.Requirements, pathFile)
	}
	if p.written(dependencies) {
		p.relPath(dependencies, py.Dependencies, pathFile)
		if !p.failed[dependencies] && !dependencyFileRe.MatchString(path.Base(py.Dependencies)) {
			p.fail(dependencies, "python.dependencies %q is not a dependency file distill reads; allowed: a requirements file (*.txt), pyproject.toml, uv.lock, poetry.lock, pylock.toml or pylock.<name>.toml", truncate(py.Dependencies, 60))
		}
	}
	if p.written(dependencies) && p.written(requirements) {
		p.fail(requirements, "python.requirements and python.dependencies both name the dependency source; keep python.dependencies")
	}
	for _, f := range []string{"python.extras", "python.groups"} {
		var items []string
		if f == "python.extras" {
			items = py.Extras
		} else {
			items = py.Groups
		}
		seen := map[string]int{}
		for i, x := range items {
			fi := Field(f).Index(i)
			if !extraNameRe.MatchString(x) {
				p.fail(fi, "%s[%d] %q is not an extra or group name: letters, digits, '.', '_' and '-', starting and ending with a letter or digit", f, i, truncate(x, 60))
				continue
			}
			n := normalizeName(x)
			if first, dup := seen[n]; dup {
				p.fail(fi, "%s[%d] %q is listed twice (first at %s[%d])", f, i, truncate(x, 60), f, first)
				continue
			}
			seen[n] = i
		}
	}
	p.enum(py0.Key("project"), py.Project)
	if p.written(indexURL) {
		if msg := checkIndexURL(py.IndexURL); msg != "" {
			p.fail(indexURL, "python.indexUrl %s", msg)
		}
	}
	if p.written(indexURLSecret) && !secretIDRe.MatchString(py.IndexURLSecret) {
		p.fail(indexURLSecret, "python.indexUrlSecret %q is not a BuildKit secret id: use letters, digits, '.', '_' and '-', starting with a letter or digit (pattern %s)", truncate(py.IndexURLSecret, 60), secretIDRe)
	}
	// Both would mean two indexes and one silently winning; a private index
	// that quietly falls back to a public one is how dependency confusion
	// happens, so the spec has to say which one it means.
	if p.written(indexURL) && p.written(indexURLSecret) {
		p.fail(indexURLSecret, "python.indexUrl and python.indexUrlSecret are mutually exclusive: the secret's URL replaces the index; keep indexUrlSecret for a private index, or indexUrl for a public one")
	}
}

// checkIndexURL returns what is wrong with an index URL, or "". Messages
// never repeat the URL: it may carry a token the user pasted by mistake.
func checkIndexURL(raw string) string {
	if raw == "" {
		return "is empty"
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return "must not contain whitespace or control characters"
		}
	}
	rest, hasScheme := strings.CutPrefix(strings.ToLower(raw), "https://")
	if !hasScheme {
		rest, hasScheme = strings.CutPrefix(strings.ToLower(raw), "http://")
	}
	if !hasScheme {
		return "must be an http:// or https:// URL"
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if strings.Contains(authority, "@") {
		return "must not contain credentials (user:password@): put the whole URL in a BuildKit secret and name it in python.indexUrlSecret"
	}
	u, err := url.Parse(raw)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return fmt.Sprintf("is not a valid URL: %v", err)
	}
	if u.Host == "" {
		return "has no host"
	}
	return ""
}

const (
	pathFile    = iota // requirements: a file
	pathInclude        // include: a file or directory, trailing / allowed
	pathPattern        // exclude: a .dockerignore pattern, leading ! allowed
)

// relPath checks that a path stays inside the build context. Paths are
// compared as written: the frontend resolves them against the context with
// BuildKit's own include/exclude handling, which does not follow symlinks
// out of it.
func (p *parser) relPath(field Path, v string, kind int) {
	q := v
	if kind == pathPattern {
		q = strings.TrimPrefix(v, "!")
	}
	switch {
	case q == "":
		p.fail(field, "%s is empty", field)
	case strings.ContainsAny(q, "\x00\n\r"):
		p.fail(field, "%s must not contain NUL or line breaks", field)
	case strings.TrimSpace(q) != q:
		p.fail(field, "%s %q has leading or trailing spaces", field, truncate(v, 60))
	case kind == pathFile && strings.HasPrefix(q, "-"):
		// The file is passed to pip; a name like "--index-url=..." must
		// never be readable as an option, whatever the caller does.
		p.fail(field, "%s %q starts with '-'; rename the file", field, truncate(v, 60))
	case strings.HasPrefix(q, "/"):
		p.fail(field, "%s %q is absolute; paths are relative to the build context, e.g. %q", field, truncate(v, 60), truncate(strings.TrimLeft(q, "/"), 60))
	case q == ".." || strings.HasPrefix(q, "../") || strings.Contains(q, "/../") || strings.HasSuffix(q, "/.."):
		p.fail(field, "%s %q leaves the build context (..); paths must stay inside it", field, truncate(v, 60))
	default:
		if kind == pathFile && strings.HasSuffix(q, "/") {
			p.fail(field, "%s %q names a directory; it must be a file, e.g. requirements.txt", field, truncate(v, 60))
			return
		}
		trimmed := q
		if kind != pathFile {
			trimmed = strings.TrimSuffix(q, "/")
		}
		if c := path.Clean(trimmed); c != trimmed {
			p.fail(field, "%s %q is not a clean path; write %q", field, truncate(v, 60), truncate(c, 60))
			return
		}
		if kind == pathPattern {
			if _, err := patternmatcher.New([]string{v}); err != nil {
				p.fail(field, "%s %q is not a valid .dockerignore pattern: %v", field, truncate(v, 60), err)
			}
		}
	}
}

func (p *parser) validateBuild(s *Spec) {
	b := s.Build
	for i, pkg := range b.AptPackages {
		if !aptPackageRe.MatchString(pkg) {
			p.fail(Field("build.aptPackages").Index(i), "build.aptPackages[%d] %q is not a Debian package: write name or name=version (name: lowercase letters, digits, '+', '-', '.'; version starts with a digit)", i, truncate(pkg, 60))
		}
	}
	if len(b.AptPackages) > 0 && s.Runtime == RuntimeChainguard && s.Base.Builder == "" {
		p.fail(Field("build.aptPackages"), "build.aptPackages needs runtime distroless: the chainguard (Wolfi) builder installs packages with apk, not apt")
	}
	p.env(Field("build.env"), b.Env)
	for i, argv := range b.Commands {
		p.argv(Field("build.commands").Index(i), argv, rules["build.commands"].items.example)
	}
}

func (p *parser) validateApp(s *Spec) {
	a := s.App
	for i, v := range a.Include {
		p.relPath(Field("app.include").Index(i), v, pathInclude)
	}
	for i, v := range a.Exclude {
		p.relPath(Field("app.exclude").Index(i), v, pathPattern)
	}
	if workdir := Field("app.workdir"); p.written(workdir) {
		w := a.Workdir
		switch {
		case strings.ContainsAny(w, "\x00\n\r"):
			p.fail(workdir, "app.workdir must not contain NUL or line breaks")
		case !strings.HasPrefix(w, "/"):
			p.fail(workdir, "app.workdir %q must be an absolute path, e.g. /app", truncate(w, 60))
		case w == "/" || path.Clean(w) == "/":
			p.fail(workdir, "app.workdir must not be /: the app gets its own directory, e.g. /app")
		case strings.Contains(w+"/", "/../"):
			p.fail(workdir, "app.workdir %q must not contain ..", truncate(w, 60))
		case path.Clean(w) != w:
			p.fail(workdir, "app.workdir %q is not a clean path; write %q", truncate(w, 60), truncate(path.Clean(w), 60))
		}
	}
	if ep := Field("app.entrypoint"); p.written(ep) {
		p.argv(ep, a.Entrypoint, rules["app.entrypoint"].example)
	}
	p.env(Field("app.env"), a.Env)
	seen := map[int]int{}
	for i, port := range a.Ports {
		if port == 0 { // unreadable, already reported
			continue
		}
		if first, dup := seen[port]; dup {
			p.fail(Field("app.ports").Index(i), "app.ports[%d]: port %d is listed twice (first at app.ports[%d])", i, port, first)
			continue
		}
		seen[port] = i
	}
	seenPkg := map[string]int{}
	for i, pkg := range a.RuntimePackages {
		fi := Field("app.runtimePackages").Index(i)
		if !runtimePackageRe.MatchString(pkg) {
			p.fail(fi, "app.runtimePackages[%d] %q is not a Debian package name: lowercase letters, digits, '+', '-' and '.', starting with a letter or digit (no version: the runtime's release decides it)", i, truncate(pkg, 60))
			continue
		}
		if first, dup := seenPkg[pkg]; dup {
			p.fail(fi, "app.runtimePackages[%d] %q is listed twice (first at app.runtimePackages[%d])", i, pkg, first)
			continue
		}
		seenPkg[pkg] = i
	}
	if len(a.RuntimePackages) > 0 && s.Runtime == RuntimeChainguard {
		p.fail(Field("app.runtimePackages"), "app.runtimePackages needs a Debian-based runtime (distroless, or a base.runtime whose /etc/os-release is Debian): Chainguard images are Wolfi and have no Debian packages; use a Chainguard image that already carries the library, or runtime: distroless")
	}
	p.validateHealthcheck(s)
	for _, l := range a.Labels {
		f := Field("app.labels").Key(l.Key)
		if !labelKeyRe.MatchString(l.Key) {
			p.failKey(f, "label key %q is invalid: use lowercase letters, digits, '.', '_', '-' and '/', starting and ending with a letter or digit, e.g. org.opencontainers.image.source", truncate(l.Key, 60))
		}
		if strings.ContainsRune(l.Value, 0) {
			p.fail(f, "label %s contains a NUL byte", truncate(l.Key, 60))
		}
	}
}

func (p *parser) validateHealthcheck(s *Spec) {
	h := s.App.Healthcheck
	f := Field("app.healthcheck")
	if !p.written(f) {
		return
	}
	httpF, portF, commandF := f.Key("http"), f.Key("port"), f.Key("command")
	switch {
	case h.HTTP != "" && len(h.Command) > 0:
		p.fail(commandF, "app.healthcheck: give http or command, not both")
	case !h.Set() && !p.failed[httpF] && !p.failed[commandF]:
		p.failKey(f, "app.healthcheck needs http (a path, e.g. http: /healthz) or command (exec form, e.g. command: [python, -m, app.health])")
	}
	if p.written(httpF) && !httpPathRe.MatchString(h.HTTP) {
		p.fail(httpF, "app.healthcheck.http %q must be a URL path starting with / (printable ASCII, no spaces), e.g. /healthz", truncate(h.HTTP, 60))
	}
	if p.written(commandF) {
		p.argv(commandF, h.Command, ruleFor(commandF).example)
	}
	if h.HTTP != "" && h.Port == 0 && len(s.App.Ports) == 0 && !p.failed[portF] {
		p.fail(httpF, "app.healthcheck.http needs a port: set app.healthcheck.port or app.ports")
	}
	if p.written(portF) && !p.written(httpF) && !p.failed[portF] {
		p.fail(portF, "app.healthcheck.port applies to http checks only")
	}
	for _, k := range []string{"interval", "timeout", "startPeriod"} {
		fk := f.Key(k)
		if !p.written(fk) || p.failed[fk] {
			continue
		}
		var v string
		switch k {
		case "interval":
			v = h.Interval
		case "timeout":
			v = h.Timeout
		default:
			v = h.StartPeriod
		}
		d, err := time.ParseDuration(v)
		switch {
		case !durationRe.MatchString(v) || err != nil:
			p.fail(fk, "app.healthcheck.%s %q is not a duration; write whole units like 30s, 1m30s or 500ms", k, truncate(v, 40))
		case k != "startPeriod" && d < time.Millisecond:
			p.fail(fk, "app.healthcheck.%s must be at least 1ms", k)
		}
	}
}

// normalizeName is PEP 503/685 name normalization (runs of -_. become -,
// lowercase), used to compare extras and groups.
func normalizeName(s string) string {
	return strings.ToLower(nameSepRe.ReplaceAllString(s, "-"))
}

// argv checks an exec-form command. Elements are passed verbatim as argv,
// never through a shell, so only NUL (which cannot be in an argv element)
// and an empty program are wrong.
func (p *parser) argv(field Path, argv []string, example string) {
	if len(argv) == 0 {
		p.fail(field, "%s is an empty list; give a program and its arguments, e.g. %s", field, example)
		return
	}
	if argv[0] == "" {
		p.fail(field.Index(0), "%s[0], the program, is empty", field)
	}
	for i, a := range argv {
		if strings.ContainsRune(a, 0) {
			p.fail(field.Index(i), "%s[%d] contains a NUL byte, which cannot be passed as an argument", field, i)
		}
	}
}

func (p *parser) env(field Path, vars []EnvVar) {
	reserved := ruleFor(field).reserved
	for _, e := range vars {
		f := field.Key(e.Name)
		switch {
		case !envNameRe.MatchString(e.Name):
			p.failKey(f, "%s: %q is not a valid variable name: use letters, digits and '_', not starting with a digit", field, truncate(e.Name, 60))
		case reserved[e.Name] != "":
			p.failKey(f, "%s: %s is reserved: %s", field, e.Name, reserved[e.Name])
		}
		if strings.ContainsRune(e.Value, 0) {
			p.fail(f, "%s.%s contains a NUL byte, which cannot be in an environment value", field, truncate(e.Name, 60))
		}
	}
}

func (p *parser) reference(field Path, v string) {
	if !p.written(field) {
		return
	}
	if _, err := reference.ParseNormalizedNamed(v); err != nil {
		p.fail(field, "%s %q is not a valid image reference (%v), e.g. registry.example/python:3.13@sha256:<64 hex digits>", field, truncate(v, 100), err)
	}
}
