package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/frontend"
	"github.com/distill-build/distill/lang/python"
	"github.com/distill-build/distill/pydeps"
	"github.com/distill-build/distill/spec"
	"github.com/spf13/cobra"
)

func initCmd() *cobra.Command {
	var force, stdout bool
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a commented distill.yaml for the Python project in DIR",
		Long: `Look at the project in DIR (default .) and write DIR/distill.yaml: the name,
the dependency source (found the way a build finds it), an entrypoint
(a console script, Django, a FastAPI/Starlette app with uvicorn, a Flask
app with gunicorn, or app.py/main.py) and port 8080. A comment above each
key says why it was chosen. An existing distill.yaml is never replaced
unless --force is given; --stdout prints the spec instead of writing it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runInit(cmd, dir, force, stdout)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing distill.yaml")
	cmd.Flags().BoolVar(&stdout, "stdout", false, "print the spec instead of writing DIR/distill.yaml")
	cmd.MarkFlagsMutuallyExclusive("force", "stdout")
	return cmd
}

func runInit(cmd *cobra.Command, dir string, force, stdout bool) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such directory", dir)
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	target := filepath.Join(dir, frontend.DefaultFilename)
	if !stdout && !force {
		if _, err := os.Lstat(target); err == nil {
			return fmt.Errorf("%s already exists; distill init does not overwrite it: use --force to replace it, or --stdout to print a new spec", target)
		}
	}
	g, err := inspectProject(dir)
	if err != nil {
		return err
	}
	out := g.render()
	// what init writes must be a spec every other command accepts
	if _, err := spec.Parse(frontend.DefaultFilename, out); err != nil {
		return fmt.Errorf("internal error: the generated spec does not parse: %w", err)
	}
	if stdout {
		_, err := cmd.OutOrStdout().Write(out)
		return err
	}
	if err := writeSpec(target, out, force); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n  name: %s\n  dependencies: %s\n  entrypoint: %s\nread the comments in it, then run: distill validate %s\n",
		target, g.name, g.deps.Describe(), strings.Join(g.entrypoint, " "), dir)
	return nil
}

// writeSpec creates path, or with force replaces it (a symlink is replaced,
// not followed).
func writeSpec(target string, data []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists; distill init does not overwrite it: use --force to replace it, or --stdout to print a new spec", target)
		}
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".distill.yaml.*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// generated is what init found, with the reason for each choice.
type generated struct {
	name    string
	nameWhy []string

	version    string
	versionWhy []string

	deps         *python.Source
	dependencies string // python.dependencies, when detection would not find it
	depsWhy      []string

	entrypoint    []string
	entrypointWhy []string

	commands    [][]string
	commandsWhy []string
}

// project is the directory as a build context: files read through the
// build's exclude rules.
type project struct {
	dir  string
	read pydeps.FileReaderFunc
	// depNames are the normalized names in the dependency source, each
	// with "" or the requirement that brings it (fastapi[standard]).
	depNames map[string]string
	depFile  string
	deps     *python.Source
	// notes explain candidates that were found but not used.
	notes []string
}

// file reads a context file; absent, excluded and unreadable files are
// all absent.
func (p *project) file(name string) ([]byte, bool) {
	data, ok, err := p.read(name)
	if err != nil || !ok {
		return nil, false
	}
	return data, true
}

// entries lists a context directory, sorted: regular files and directories
// whose names do not start with ".".
func (p *project) entries(rel string) (files, dirs []string) {
	list, err := os.ReadDir(filepath.Join(p.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, nil
	}
	for _, e := range list {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, "."):
		case e.IsDir():
			dirs = append(dirs, n)
		case e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0:
			files = append(files, n)
		}
	}
	return files, dirs
}

func (p *project) hasDep(name string) bool {
	_, ok := p.depNames[name]
	return ok
}

// depWhy says where a dependency was found: "gunicorn is in requirements.txt".
func (p *project) depWhy(name string) string {
	if via := p.depNames[name]; via != "" {
		return fmt.Sprintf("%s comes with %s in %s", name, via, p.depFile)
	}
	return fmt.Sprintf("%s is in %s", name, p.depFile)
}

func inspectProject(dir string) (*generated, error) {
	ignore, err := readDockerignore(dir)
	if err != nil {
		return nil, err
	}
	read, err := contextReader(dir, assemble.ContextExcludes(ignore, &spec.Spec{}, python.Language{}.ContextExcludes()))
	if err != nil {
		return nil, err
	}
	p := &project{dir: dir, read: read}
	g := &generated{}
	if err := p.dependencies(g); err != nil {
		return nil, err
	}
	py, pyErr := p.pyproject()
	g.name, g.nameWhy = p.imageName(py, pyErr)
	g.version, g.versionWhy = pythonVersion(py)
	p.entrypoint(g, py)
	g.entrypointWhy = append(g.entrypointWhy, p.notes...)
	return g, nil
}

// dependencies decides the source exactly as a build does; only a source
// detection cannot find is written into the spec.
func (p *project) dependencies(g *generated) error {
	d, err := python.DetectDependencies(p.read, &spec.Spec{})
	if err != nil {
		if es := spec.AsErrors(err); len(es) == 1 {
			// two lock files: the build asks for python.dependencies
			return fmt.Errorf("%s: %s; distill init does not choose between them: remove the one you no longer use and run it again, or write the spec with that key", p.dir, es[0].Msg)
		}
		return fmt.Errorf("%s: %w", p.dir, err)
	}
	if d.Source.Kind == pydeps.KindNone {
		if name, others := p.undetectedSource(); name != "" {
			named := &spec.Spec{Python: spec.Python{Dependencies: name}}
			nd, err := python.DetectDependencies(p.read, named)
			if err != nil {
				return fmt.Errorf("%s: %w", p.dir, err)
			}
			d = nd
			g.dependencies = name
			g.depsWhy = append(g.depsWhy, fmt.Sprintf("%s is the dependency source: a build finds only uv.lock, poetry.lock, pylock.toml, requirements.txt or a pyproject.toml with dependencies at the top of the context, so the spec names it.", name))
			if len(others) > 0 {
				g.depsWhy = append(g.depsWhy, "Also there, not installed: "+strings.Join(others, ", ")+".")
			}
		}
	}
	g.deps, p.deps = d, d
	if d.Field.IsZero() {
		g.depsWhy = detectedWhy(d)
	}
	p.depFile = d.Source.Path
	p.depNames, err = dependencyNames(d)
	if err != nil {
		return fmt.Errorf("%s: %w", p.dir, err)
	}
	return nil
}

// detectedWhy is the comment for a source the build detects by itself.
func detectedWhy(d *python.Source) []string {
	var why []string
	switch d.Source.Kind {
	case pydeps.KindNone:
		return []string{"No python.dependencies: the context has no uv.lock, poetry.lock, pylock.toml, requirements.txt or pyproject.toml with dependencies, so only the app is installed. Add one (or set python.dependencies) when the app needs packages."}
	case pydeps.KindUVLock, pydeps.KindPoetryLock, pydeps.KindPylock:
		why = append(why, fmt.Sprintf("No python.dependencies: a build detects %s (a lock file comes first) and installs exactly what it pins, with hashes.", d.Source.Path))
	case pydeps.KindRequirements:
		why = append(why, fmt.Sprintf("No python.dependencies: a build detects %s (there is no lock file, which would come first) and installs it as written.", d.Source.Path))
	case pydeps.KindPyproject:
		why = append(why, fmt.Sprintf("No python.dependencies: a build detects the dependencies of %s (there is no lock file or requirements.txt, which would come first); pip resolves them at build time, so lock them (uv lock, poetry lock) for pinned, hashed installs.", d.Source.Path))
	}
	var ignored []string
	for _, f := range d.Present {
		if f != d.Source.Path && f != d.Source.Pyproject {
			ignored = append(ignored, f)
		}
	}
	if len(ignored) > 0 {
		why = append(why, fmt.Sprintf("%s %s not installed from (set python.dependencies to use another).", strings.Join(ignored, " and "), isAre(len(ignored))))
	}
	return why
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// undetectedSource looks for a dependency file detection does not read:
// pylock.<name>.toml, requirements-<name>.txt or requirements/<name>.txt.
// A lock comes first; development files (dev, test, lint, docs) last.
func (p *project) undetectedSource() (string, []string) {
	files, dirs := p.entries(".")
	var found []string
	for _, f := range files {
		k, ok := pydeps.KindOf(f)
		switch {
		case !ok || f == "pylock.toml" || f == spec.DefaultRequirements:
		case k == pydeps.KindPylock, k == pydeps.KindRequirements && strings.HasPrefix(f, "requirements"):
			found = append(found, f)
		}
	}
	if slices.Contains(dirs, "requirements") {
		sub, _ := p.entries("requirements")
		for _, f := range sub {
			if k, ok := pydeps.KindOf(f); ok && k == pydeps.KindRequirements {
				found = append(found, "requirements/"+f)
			}
		}
	}
	var usable []string
	for _, f := range found {
		if _, ok := p.file(f); ok {
			usable = append(usable, f)
		}
	}
	if len(usable) == 0 {
		return "", nil
	}
	rank := func(f string) int {
		if k, _ := pydeps.KindOf(f); k == pydeps.KindPylock {
			return 0
		}
		words := strings.FieldsFunc(strings.TrimSuffix(f, ".txt"), func(r rune) bool { return strings.ContainsRune("-_./", r) })
		for _, w := range words {
			switch strings.ToLower(w) {
			case "prod", "production", "deploy", "runtime", "base", "main":
				return 1
			case "dev", "develop", "development", "test", "tests", "testing", "lint", "docs", "doc", "ci", "local", "typing":
				return 3
			}
		}
		return 2
	}
	sort.SliceStable(usable, func(i, j int) bool {
		ri, rj := rank(usable[i]), rank(usable[j])
		if ri != rj {
			return ri < rj
		}
		return usable[i] < usable[j]
	})
	return usable[0], usable[1:]
}

// dependencyNames are the normalized names the source installs (a lock's
// packages, or the requirements as written).
func dependencyNames(d *python.Source) (map[string]string, error) {
	names := map[string]string{}
	add := func(name string, extras []string) {
		n := pydeps.NormalizeName(name)
		if _, ok := names[n]; !ok {
			names[n] = ""
		}
		// FastAPI's recommended install brings uvicorn along
		if n == "fastapi" {
			for _, x := range extras {
				if x := pydeps.NormalizeName(x); x == "standard" || x == "all" {
					if _, ok := names["uvicorn"]; !ok {
						names["uvicorn"] = "fastapi[" + x + "]"
					}
				}
			}
		}
	}
	switch d.Source.Kind {
	case pydeps.KindNone:
	case pydeps.KindRequirements:
		for _, r := range requirementLines(d.Data) {
			add(r.Name, r.Extras)
		}
	case pydeps.KindPyproject:
		py, err := pydeps.ParsePyproject(d.Source.Path, d.Data)
		if err != nil {
			return nil, err
		}
		for _, dep := range py.Dependencies {
			add(dep.Name, dep.Extras)
		}
	default:
		lock, err := pydeps.ParseLock(d.Source.Kind, d.Source.Path, d.Data)
		if err != nil {
			return nil, err
		}
		for _, pkg := range lock.Packages {
			add(pkg.Name, nil)
		}
	}
	return names, nil
}

var commentRe = regexp.MustCompile(`(^|\s)#.*$`)

// requirementLines reads the requirements of a pip requirements file;
// option lines (-r, -e, --index-url) and what pydeps cannot parse (paths)
// are skipped: only names matter here.
func requirementLines(data []byte) []pydeps.Requirement {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\\\n", " ")
	var out []pydeps.Requirement
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(commentRe.ReplaceAllString(line, ""))
		if line == "" || strings.HasPrefix(line, "-") {
			continue
		}
		// per-requirement options: name==1.0 --hash=sha256:...
		if i := strings.Index(line, " -"); i >= 0 {
			line = line[:i]
		}
		if r, err := pydeps.ParseRequirement(line); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// pyproject reads the context's pyproject.toml (nil when it has none).
func (p *project) pyproject() (*pydeps.Pyproject, error) {
	data, ok := p.file("pyproject.toml")
	if !ok {
		return nil, nil
	}
	return pydeps.ParsePyproject("pyproject.toml", data)
}

var (
	nameBadRe = regexp.MustCompile(`[^a-z0-9._-]+`)
	nameSepRe = regexp.MustCompile(`[._-]{2,}`)
)

// imageName is the project's name, else the directory's, in the spec's
// name pattern [a-z0-9][a-z0-9._-]*.
func (p *project) imageName(py *pydeps.Pyproject, pyErr error) (string, []string) {
	var why []string
	from, raw := "", ""
	switch {
	case py != nil && py.Name != "":
		from, raw = "the project name in pyproject.toml", py.Name
	default:
		if pyErr != nil {
			why = append(why, "pyproject.toml could not be read ("+firstLine(pyErr.Error())+"), so the name comes from the directory.")
		}
		abs, err := filepath.Abs(p.dir)
		if err == nil {
			raw = filepath.Base(abs)
		}
		from = "the directory name"
	}
	name := normalizeImageName(raw)
	switch {
	case name == "":
		name = "app"
		why = append(why, fmt.Sprintf("%s (%s) has nothing usable as an image name: rename it.", from, quoteComment(raw)))
	case name != raw:
		why = append(why, fmt.Sprintf("From %s, %s, made lowercase [a-z0-9][a-z0-9._-]*.", from, quoteComment(raw)))
	default:
		why = append(why, fmt.Sprintf("From %s.", from))
	}
	return name, why
}

func normalizeImageName(s string) string {
	s = nameBadRe.ReplaceAllString(strings.ToLower(s), "-")
	s = nameSepRe.ReplaceAllStringFunc(s, func(m string) string { return m[:1] })
	s = strings.TrimLeft(s, "._-")
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.TrimRight(s, "._-")
}

// pythonVersion is "3.11" when requires-python rules out 3.13 but allows
// 3.11 (the two minors with a pair); otherwise the default stays.
func pythonVersion(py *pydeps.Pyproject) (string, []string) {
	if py == nil || py.RequiresPython == "" {
		return "", nil
	}
	spec, err := pydeps.ParseSpecifier(py.RequiresPython)
	if err != nil {
		return "", nil
	}
	allows := func(minor string) bool {
		for patch := 0; patch <= 30; patch++ {
			if spec.ContainsString(fmt.Sprintf("%s.%d", minor, patch)) {
				return true
			}
		}
		return false
	}
	rp := quoteComment(py.RequiresPython)
	switch {
	case allows("3.13"):
		return "", []string{fmt.Sprintf("No python.version: the default 3.13 satisfies requires-python %s.", rp)}
	case allows("3.11"):
		return "3.11", []string{
			fmt.Sprintf("requires-python %s rules out 3.13, the default, and allows 3.11.", rp),
			"3.11's pair is end of life (its distroless runtime, debian12, gets no security updates since April 2026): builds warn (EndOfLifeBase) and fail under policy.strict. Move to 3.13 when the project allows it.",
		}
	}
	return "", []string{fmt.Sprintf("requires-python %s allows neither 3.13 nor 3.11, the Python versions distill has images for: the build fails until it allows one.", rp)}
}

// entrypoint chooses how the image starts: a console script, Django, an
// ASGI app with uvicorn, a WSGI app with gunicorn, app.py/main.py/manage.py,
// or a placeholder.
func (p *project) entrypoint(g *generated, py *pydeps.Pyproject) {
	if p.consoleScript(g, py) || p.django(g) || p.asgiOrWSGI(g) {
		return
	}
	for _, f := range []string{"app.py", "main.py", "manage.py"} {
		if _, ok := p.file(f); ok {
			g.entrypoint = []string{"python", f}
			g.entrypointWhy = []string{fmt.Sprintf("%s is the app's main file (looked for, in order: a console script, Django, a FastAPI/Starlette or Flask app with its server, app.py, main.py, manage.py).", f)}
			return
		}
	}
	g.entrypoint = []string{"python", "-c", "raise SystemExit('TODO: set app.entrypoint in distill.yaml')"}
	g.entrypointWhy = []string{"TODO: no entrypoint found (a console script in pyproject.toml, Django's manage.py, a FastAPI/Starlette or Flask app, app.py or main.py); this placeholder validates but the container exits. Write the command that starts the app, e.g. [python, -m, mypkg] or [gunicorn, --bind, 0.0.0.0:8080, mypkg.wsgi]."}
}

var scriptNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (p *project) consoleScript(g *generated, py *pydeps.Pyproject) bool {
	if py == nil || len(py.Scripts) == 0 {
		return false
	}
	var names []string
	for n := range py.Scripts {
		if scriptNameRe.MatchString(n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return false
	}
	sort.Strings(names)
	table := "[project.scripts]"
	if data, _ := p.file("pyproject.toml"); py.Poetry && !bytes.Contains(data, []byte("[project.scripts]")) {
		table = "[tool.poetry.scripts]"
	}
	d := p.deps
	if d.Source.Kind == pydeps.KindRequirements || d.Source.Pyproject != "pyproject.toml" {
		p.notes = append(p.notes, fmt.Sprintf("pyproject.toml has the console script %s, but the build installs from %s, which does not install the project and its scripts; to start the app with it, set python.dependencies: pyproject.toml (or a lock of it) and entrypoint: [%s].",
			quoteComment(names[0]), sourceName(d), names[0]))
		return false
	}
	name := names[0]
	g.entrypoint = []string{name}
	why := fmt.Sprintf("The console script %s of %s in pyproject.toml (%s).", quoteComment(name), table, quoteComment(py.Scripts[name]))
	if len(names) > 1 {
		why = fmt.Sprintf("The console script %s, the first by name of %s in pyproject.toml (%s); the others: %s.", quoteComment(name), table, quoteComment(py.Scripts[name]), strings.Join(names[1:], ", "))
	}
	g.entrypointWhy = []string{why}
	switch {
	case py.Package():
		backend := ""
		if py.BuildSystem != nil && py.BuildSystem.Backend != "" {
			backend = " (" + quoteComment(py.BuildSystem.Backend) + ")"
		}
		g.entrypointWhy = append(g.entrypointWhy, fmt.Sprintf("The build installs the project, and with it the script, into the venv: python.project is auto and pyproject.toml has a [build-system]%s.", backend))
	case py.UVPackage != nil && !*py.UVPackage:
		g.entrypointWhy = append(g.entrypointWhy, "But tool.uv.package = false in pyproject.toml keeps the project, and so the script, from being installed: remove it, or start the app another way.")
	case py.PoetryPackageMode != nil && !*py.PoetryPackageMode:
		g.entrypointWhy = append(g.entrypointWhy, "But package-mode = false in [tool.poetry] keeps the project, and so the script, from being installed: remove it, or start the app another way.")
	default:
		g.entrypointWhy = append(g.entrypointWhy, "But pyproject.toml has no [build-system], and scripts are installed only with the project, which needs one, e.g. [build-system] requires = [\"hatchling\"], build-backend = \"hatchling.build\"; without it the build's start-up check fails.")
	}
	return true
}

func sourceName(d *python.Source) string {
	if d.Source.Path == "" {
		return "no dependency file"
	}
	return d.Source.Path
}

var staticRootRe = regexp.MustCompile(`(?m)^\s*STATIC_ROOT\s*[:=]`)

// django: manage.py and a <pkg>/wsgi.py.
func (p *project) django(g *generated) bool {
	if _, ok := p.file("manage.py"); !ok {
		return false
	}
	_, dirs := p.entries(".")
	var pkgs []string
	for _, d := range dirs {
		if identRe.MatchString(d) {
			if _, ok := p.file(d + "/wsgi.py"); ok {
				pkgs = append(pkgs, d)
			}
		}
	}
	if len(pkgs) == 0 {
		return false
	}
	pkg := pkgs[0]
	found := fmt.Sprintf("A Django project: manage.py and %s/wsgi.py", pkg)
	if len(pkgs) > 1 {
		found += fmt.Sprintf(" (the first by name; also %s)", strings.Join(suffixAll(pkgs[1:], "/wsgi.py"), ", "))
	}
	if p.hasDep("gunicorn") {
		g.entrypoint = []string{"gunicorn", "--bind", "0.0.0.0:8080", pkg + ".wsgi"}
		g.entrypointWhy = []string{fmt.Sprintf("%s, served by gunicorn: %s.", found, p.depWhy("gunicorn"))}
	} else {
		g.entrypoint = []string{"python", "manage.py", "runserver", "0.0.0.0:8080"}
		g.entrypointWhy = []string{
			fmt.Sprintf("%s. runserver is Django's development server, not for production: add gunicorn to %s and use [gunicorn, --bind, 0.0.0.0:8080, %s.wsgi].", found, depFileOr(p.depFile), pkg),
		}
	}
	settings := []string{pkg + "/settings.py"}
	if files, _ := p.entries(pkg + "/settings"); len(files) > 0 {
		for _, f := range files {
			if strings.HasSuffix(f, ".py") {
				settings = append(settings, pkg+"/settings/"+f)
			}
		}
	}
	for _, f := range settings {
		if data, ok := p.file(f); ok && staticRootRe.Match(data) {
			g.commands = [][]string{{"python", "manage.py", "collectstatic", "--noinput"}}
			g.commandsWhy = []string{fmt.Sprintf("%s sets STATIC_ROOT: collect the static files at build time (the app directory is read-only at run time). Build commands run without network, so the settings must load without the database or run-time secrets.", f)}
			break
		}
	}
	return true
}

func depFileOr(f string) string {
	if f == "" {
		return "requirements.txt"
	}
	return f
}

func suffixAll(s []string, suffix string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x + suffix
	}
	return out
}

var (
	identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	asgiRe  = regexp.MustCompile(`(?m)^([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[^=\n]*)?=[ \t]*(?:[A-Za-z_][A-Za-z0-9_]*\.)?(FastAPI|Starlette)\(`)
	wsgiRe  = regexp.MustCompile(`(?m)^([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[^=\n]*)?=[ \t]*(?:[A-Za-z_][A-Za-z0-9_]*\.)?(Flask)\(`)
)

// maxModules bounds the Python files read to find an app object.
const maxModules = 200

// appModules lists the files that may hold the app object, most likely
// first: main.py, app.py and the like at the top, the other top-level
// modules, then main.py, app.py, ... one directory down.
func (p *project) appModules() []string {
	preferred := []string{"main.py", "app.py", "asgi.py", "wsgi.py", "server.py", "api.py"}
	files, dirs := p.entries(".")
	var out []string
	for _, f := range preferred {
		if slices.Contains(files, f) {
			out = append(out, f)
		}
	}
	for _, f := range files {
		stem, ok := strings.CutSuffix(f, ".py")
		if !ok || !identRe.MatchString(stem) || slices.Contains(preferred, f) ||
			f == "setup.py" || f == "manage.py" || f == "conftest.py" || strings.HasPrefix(f, "test_") || strings.HasSuffix(stem, "_test") {
			continue
		}
		out = append(out, f)
	}
	for _, d := range dirs {
		if !identRe.MatchString(d) || d == "tests" || d == "test" || d == "docs" {
			continue
		}
		sub, _ := p.entries(d)
		for _, f := range append(preferred, "__init__.py") {
			if slices.Contains(sub, f) {
				out = append(out, d+"/"+f)
			}
		}
	}
	if len(out) > maxModules {
		out = out[:maxModules]
	}
	return out
}

func moduleName(file string) string {
	m := strings.TrimSuffix(file, ".py")
	m = strings.TrimSuffix(m, "/__init__")
	return strings.ReplaceAll(m, "/", ".")
}

// asgiOrWSGI finds `name = FastAPI(...)` / Starlette with uvicorn, then
// `name = Flask(...)` with gunicorn.
func (p *project) asgiOrWSGI(g *generated) bool {
	type hit struct{ file, name, kind string }
	var asgi, wsgi []hit
	for _, f := range p.appModules() {
		data, ok := p.file(f)
		if !ok {
			continue
		}
		if m := asgiRe.FindSubmatch(data); m != nil {
			asgi = append(asgi, hit{f, string(m[1]), string(m[2])})
		}
		if m := wsgiRe.FindSubmatch(data); m != nil {
			wsgi = append(wsgi, hit{f, string(m[1]), string(m[2])})
		}
	}
	if len(asgi) > 0 {
		h := asgi[0]
		found := fmt.Sprintf("%s = %s(...) in %s", h.name, h.kind, h.file)
		if p.hasDep("uvicorn") {
			g.entrypoint = []string{"uvicorn", moduleName(h.file) + ":" + h.name, "--host", "0.0.0.0", "--port", "8080"}
			g.entrypointWhy = []string{fmt.Sprintf("An ASGI app, %s, served by uvicorn: %s.", found, p.depWhy("uvicorn"))}
			return true
		}
		p.notes = append(p.notes, fmt.Sprintf("Found %s, but uvicorn is not a dependency (not in %s): add it and run distill init again, or use [uvicorn, %s:%s, --host, 0.0.0.0, --port, \"8080\"].", found, depFileOr(p.depFile), moduleName(h.file), h.name))
	}
	if len(wsgi) > 0 {
		h := wsgi[0]
		found := fmt.Sprintf("%s = %s(...) in %s", h.name, h.kind, h.file)
		if p.hasDep("gunicorn") {
			g.entrypoint = []string{"gunicorn", "--bind", "0.0.0.0:8080", moduleName(h.file) + ":" + h.name}
			g.entrypointWhy = []string{fmt.Sprintf("A WSGI app, %s, served by gunicorn: %s.", found, p.depWhy("gunicorn"))}
			return true
		}
		p.notes = append(p.notes, fmt.Sprintf("Found %s, but gunicorn is not a dependency (not in %s): add it and run distill init again, or use [gunicorn, --bind, 0.0.0.0:8080, %s:%s]; Flask's own server is for development.", found, depFileOr(p.depFile), moduleName(h.file), h.name))
	}
	return false
}

// render writes the spec: a header, then each key under a comment that
// says why it has its value.
func (g *generated) render() []byte {
	w := &yamlWriter{}
	w.raw("# syntax=ghcr.io/distill-build/distill:1")
	w.comment(0, "Written by `distill init`. Each comment says why a key has its value: check them, then run `distill validate` and `distill build`.")
	w.raw("# yaml-language-server: $schema=https://raw.githubusercontent.com/distill-build/distill/main/spec/distill.schema.json")
	w.raw("apiVersion: distill/v1")
	w.comments(0, g.nameWhy)
	w.raw("name: " + yamlScalar(g.name))
	w.raw("language: python")
	if g.version == "" {
		w.comments(0, g.versionWhy)
	}
	if g.dependencies == "" {
		w.comments(0, g.depsWhy)
	}
	if g.version != "" || g.dependencies != "" {
		w.raw("python:")
		if g.version != "" {
			w.comments(2, g.versionWhy)
			w.raw("  version: " + yamlScalar(g.version))
		}
		if g.dependencies != "" {
			w.comments(2, g.depsWhy)
			w.raw("  dependencies: " + yamlScalar(g.dependencies))
		}
	}
	if len(g.commands) > 0 {
		w.raw("build:")
		w.comments(2, g.commandsWhy)
		w.raw("  commands:")
		for _, c := range g.commands {
			w.raw("    - " + yamlFlow(c))
		}
	}
	w.raw("app:")
	w.comments(2, g.entrypointWhy)
	w.raw("  entrypoint: " + yamlFlow(g.entrypoint))
	w.comment(2, "The app listens on 8080 (an unprivileged port: the app runs as a non-root user); PORT tells it so when it reads the environment.")
	w.raw("  ports: [8080]")
	w.raw("  env:")
	w.raw(`    PORT: "8080"`)
	w.comment(2, "No healthcheck is guessed. When the app answers HTTP on a path, add one (an HTTP GET made by the runtime's Python, no shell or curl needed):")
	w.raw("  # healthcheck:")
	w.raw("  #   http: /healthz")
	return w.buf.Bytes()
}

type yamlWriter struct{ buf bytes.Buffer }

func (w *yamlWriter) raw(line string) {
	w.buf.WriteString(line)
	w.buf.WriteByte('\n')
}

func (w *yamlWriter) comments(indent int, texts []string) {
	for _, t := range texts {
		w.comment(indent, t)
	}
}

// commentWidth is where comments wrap.
const commentWidth = 100

// comment writes text as "# " lines wrapped at commentWidth; text from
// files never breaks out of the comment (control characters are spaces).
func (w *yamlWriter) comment(indent int, text string) {
	text = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, text)
	prefix := strings.Repeat(" ", indent) + "#"
	line := prefix
	for _, word := range strings.Fields(text) {
		if line != prefix && len(line)+1+len(word) > commentWidth {
			w.raw(line)
			line = prefix
		}
		line += " " + word
	}
	if line != prefix {
		w.raw(line)
	}
}

var (
	plainRe   = regexp.MustCompile(`^[A-Za-z_./-][A-Za-z0-9_./=+-]*$`)
	specialRe = regexp.MustCompile(`^(?i:y|n|yes|no|true|false|on|off|null|~|-|\.inf|-\.inf|\.nan)$`)
)

// yamlScalar writes s plain when that reads back as the same string (no
// ':', no leading digit, not a YAML 1.1 boolean or null), else quoted.
func yamlScalar(s string) string {
	if plainRe.MatchString(s) && !specialRe.MatchString(s) && !strings.HasPrefix(s, "-.") {
		return s
	}
	q, _ := json.Marshal(s) // a JSON string is a YAML double-quoted scalar
	return string(q)
}

func yamlFlow(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = yamlScalar(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// quoteComment quotes a value from a file for a comment.
func quoteComment(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
