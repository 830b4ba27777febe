package pydeps

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"
)

// DefaultContextMount is where Options.ContextMount defaults to: the
// directory at which the caller mounts the build context for pip, so that
// packages from paths in the context install as file:// URLs.
const DefaultContextMount = "/run/distill/context"

// Inputs are the files Resolve reads.
type Inputs struct {
	Source Source
	// Data is the content of Source.Path.
	Data []byte
	// Pyproject is the content of Source.Pyproject (nil when there is
	// none). For KindPyproject, Data is used when Pyproject is nil.
	Pyproject []byte
}

// Options select what to install beyond the main dependencies.
type Options struct {
	// Extras are the project's optional-dependency extras to install
	// (spec key python.extras).
	Extras []string
	// Groups are the dependency groups to install (PEP 735, Poetry
	// groups, uv dev-dependencies). None are installed unless named.
	Groups []string
	// ContextMount is the absolute directory where the build context is
	// mounted when pip runs; local packages are written as
	// file://<ContextMount>/<path>. "" means DefaultContextMount.
	ContextMount string
}

// Pin is an installed distribution.
type Pin struct {
	Name    string
	Version string
}

// Member is a workspace package the project depends on (uv workspace
// members, reached from the project): like the project, it is installed
// from the context after the app copy, not by the dependency step.
type Member struct {
	Name    string
	Version string
	// Path is the member's directory, relative to the context root.
	Path string
}

// Plan is what to install for one target.
type Plan struct {
	Source Source
	// Locked reports that Requirements pin every distribution with its
	// hashes (a lock file); false for an unlocked pyproject.toml.
	Locked bool
	// Requirements is a pip requirements file, sorted by name for a lock,
	// in declaration order for an unlocked pyproject. Empty for the
	// requirements kind: the caller installs that file as it is.
	Requirements []byte
	// PipArgs are the flags pip needs for Requirements:
	// --require-hashes --no-deps for a lock.
	PipArgs []string
	// LocalRequirements are locked packages from directories in the
	// context, one "name @ file://<mount>/<path>" line each: pip cannot
	// check hashes of a directory, so they are installed by a second pip
	// run with --no-deps and without --require-hashes, after
	// Requirements.
	LocalRequirements []byte
	// LocalPaths are the context-relative paths (cleaned, never outside
	// the context) that Requirements and LocalRequirements read through
	// the context mount.
	LocalPaths []string
	// Packages are the distributions installed from a lock, sorted.
	Packages []Pin
	// Skipped counts locked packages that markers exclude on the target.
	Skipped int
	// Project is the pyproject when the project itself is to be
	// installed (Pyproject.Package), nil otherwise.
	Project *Pyproject
	// Members are workspace members to install with the project.
	Members []Member
	// Target describes the environment: "CPython 3.13 linux/x86_64".
	Target string
	// Requirements lines of an unlocked pyproject (for the summary).
	unlocked int
}

// Summary is one line for users, such as
// `uv.lock: 14 packages for CPython 3.13 linux/x86_64, hashes enforced (2
// skipped by markers); project "app" installed after the app copy`.
func (p *Plan) Summary() string {
	var b strings.Builder
	switch {
	case p.Source.Kind == KindNone:
		b.WriteString("no dependency file: no dependencies installed")
	case p.Source.Kind == KindRequirements:
		fmt.Fprintf(&b, "%s: installed as written, for %s", p.Source.Path, p.Target)
	case !p.Locked:
		fmt.Fprintf(&b, "%s: %d requirements for %s, resolved by pip at build time (no lock file, no hashes)", p.Source.Path, p.unlocked, p.Target)
	default:
		fmt.Fprintf(&b, "%s: %d %s for %s, hashes enforced", p.Source.Path, len(p.Packages), plural(len(p.Packages), "package", "packages"), p.Target)
		var notes []string
		if n := bytes.Count(p.LocalRequirements, []byte("\n")); n > 0 {
			notes = append(notes, fmt.Sprintf("%d from context %s without hashes", n, plural(n, "directory", "directories")))
		}
		if p.Skipped > 0 {
			notes = append(notes, fmt.Sprintf("%d skipped by markers", p.Skipped))
		}
		if len(notes) > 0 {
			b.WriteString(" (" + strings.Join(notes, "; ") + ")")
		}
	}
	if p.Project != nil {
		fmt.Fprintf(&b, "; project %q installed after the app copy", p.Project.Name)
	}
	if len(p.Members) > 0 {
		names := make([]string, len(p.Members))
		for i, m := range p.Members {
			names[i] = fmt.Sprintf("%q", m.Name)
		}
		fmt.Fprintf(&b, "; workspace %s %s installed with it", plural(len(names), "member", "members"), strings.Join(names, ", "))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// lockCommand is what the user runs to bring a lock up to date.
func lockCommand(k Kind, file string) string {
	switch k {
	case KindUVLock:
		return fmt.Sprintf("run \"uv lock\" and commit %s", file)
	case KindPoetryLock:
		return fmt.Sprintf("run \"poetry lock\" and commit %s", file)
	}
	return fmt.Sprintf("regenerate %s (for example with \"pip lock\" or \"uv export --format pylock.toml\") and commit it", file)
}

// Resolve makes the install plan of in for env. It never resolves
// versions: a lock is followed as it is, and checked against
// pyproject.toml the way "uv sync --locked" does.
func Resolve(in Inputs, env Env, opts Options) (plan *Plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			plan, err = nil, &Error{File: in.Source.Path, Msg: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	plan = &Plan{Source: in.Source, Target: env.String()}
	if in.Source.Kind == KindNone || in.Source.Kind == KindRequirements {
		return plan, nil
	}
	pyVersion, verr := ParseVersion(env.PythonFullVersion)
	if verr != nil {
		return nil, &Error{Msg: fmt.Sprintf("target Python version: %v", verr)}
	}
	if opts.ContextMount == "" {
		opts.ContextMount = DefaultContextMount
	}
	opts.ContextMount = "/" + strings.Trim(path.Clean("/"+opts.ContextMount), "/")

	var py *Pyproject
	pyData, pyFile := in.Pyproject, in.Source.Pyproject
	if in.Source.Kind == KindPyproject && pyData == nil {
		pyData, pyFile = in.Data, in.Source.Path
	}
	if pyData != nil {
		if pyFile == "" {
			pyFile = "pyproject.toml"
		}
		if py, err = ParsePyproject(pyFile, pyData); err != nil {
			return nil, err
		}
		if py.RequiresPython != "" {
			if err := checkPython(py.File, py.RequiresPythonPos, py.RequiresPython, pyVersion, env); err != nil {
				return nil, err
			}
		}
	}
	if py.Package() {
		plan.Project = py
	}
	if in.Source.Kind == KindPyproject {
		if py == nil {
			return nil, &Error{File: in.Source.Path, Msg: "no pyproject.toml content"}
		}
		return plan, resolveUnlocked(plan, py, opts)
	}
	lock, err := ParseLock(in.Source.Kind, in.Source.Path, in.Data)
	if err != nil {
		return nil, err
	}
	if lock.RequiresPython != "" {
		if err := checkPython(lock.File, lock.RequiresPythonPos, lock.RequiresPython, pyVersion, env); err != nil {
			return nil, err
		}
	}
	r := &resolver{plan: plan, lock: lock, py: py, env: env, opts: opts}
	return plan, r.run()
}

func checkPython(file string, pos Pos, spec string, v Version, env Env) error {
	s, err := ParseSpecifier(spec)
	if err != nil {
		return errAt(file, pos, "requires-python: %v", err)
	}
	if !s.Contains(v) {
		return errAt(file, pos, "requires-python %q does not allow Python %s of the target image; choose a Python version that satisfies %q or change requires-python", spec, env.PythonFullVersion, spec)
	}
	return nil
}

// selected returns the dependencies of py to install: main, then the
// chosen extras and groups, each in sorted name order.
func selected(py *Pyproject, opts Options) ([]Dependency, error) {
	deps := append([]Dependency(nil), py.Dependencies...)
	extras, err := pick(py.File, "extra", opts.Extras, keys(py.OptionalDependencies), "python.extras")
	if err != nil {
		return nil, err
	}
	for _, x := range extras {
		deps = append(deps, py.OptionalDependencies[x]...)
	}
	groups, err := pick(py.File, "dependency group", opts.Groups, keys(py.DependencyGroups), "the groups option")
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		deps = append(deps, py.DependencyGroups[g]...)
	}
	return deps, nil
}

// pick normalizes the chosen names, checks each is available, and returns
// them sorted and unique.
func pick(file, what string, chosen, available []string, key string) ([]string, error) {
	have := map[string]bool{}
	for _, a := range available {
		have[a] = true
	}
	var out []string
	for _, c := range chosen {
		n := NormalizeName(c)
		if !have[n] {
			list := "none"
			if len(available) > 0 {
				list = strings.Join(available, ", ")
			}
			return nil, &Error{File: file, Msg: fmt.Sprintf("%s %q (from %s) is not declared; declared: %s", what, c, key, list)}
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return compactStrings(out), nil
}

func resolveUnlocked(plan *Plan, py *Pyproject, opts Options) error {
	deps, err := selected(py, opts)
	if err != nil {
		return err
	}
	errs := &errorList{file: py.File}
	var lines []string
	seen := map[string]bool{}
	local := map[string]bool{}
	for _, d := range deps {
		line := d.Requirement
		switch {
		case d.Path != "":
			ctx, ok := contextPath(path.Dir(py.File), d.Path)
			if !ok {
				errs.add(d.Pos, "dependency %q comes from %s, outside the build context; move it into the context or publish it to your index", d.Name, d.Path)
				continue
			}
			local[ctx] = true
			req := Requirement{Name: d.Name, Extras: d.Extras, URL: "file://" + path.Join(opts.ContextMount, ctx), Marker: d.Marker}
			line = req.String()
		case len(d.Alternatives) > 0:
			errs.add(d.Pos, "dependency %q: a Poetry constraint with || cannot be written for pip; use one range, or lock the project (poetry lock) and build from poetry.lock", d.Name)
			continue
		case strings.HasPrefix(d.URL, "file:"):
			errs.add(d.Pos, "dependency %q is a file URL (%s); a build can only read the context: use a path inside it", d.Name, d.URL)
			continue
		case strings.HasPrefix(d.URL, "http://") || strings.HasPrefix(d.URL, "git+http://"):
			errs.add(d.Pos, "dependency %q uses plain http (%s); use https", d.Name, d.URL)
			continue
		}
		if !seen[line] {
			seen[line] = true
			lines = append(lines, line)
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	plan.Locked = false
	plan.unlocked = len(lines)
	if len(lines) > 0 {
		plan.Requirements = []byte(strings.Join(lines, "\n") + "\n")
	}
	plan.LocalPaths = keys(local)
	return nil
}

// contextPath joins a lock- or pyproject-relative path to its directory
// and checks that it stays inside the context.
func contextPath(dir, p string) (string, bool) {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "\\") || strings.Contains(p, ":") {
		return "", false
	}
	c := path.Clean(path.Join(dir, strings.ReplaceAll(p, "\\", "/")))
	if c == ".." || strings.HasPrefix(c, "../") || strings.HasPrefix(c, "/") {
		return "", false
	}
	return c, true
}
