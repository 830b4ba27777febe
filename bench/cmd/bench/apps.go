package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/distill-build/distill/spec"
)

// app is one benchmarked application.
type app struct {
	Name string
	// Src is the app's directory in the repository.
	Src string
	// Modules, when > 0, is how many modules to generate under
	// src/largeapp/mods (kept out of the repository).
	Modules int
	// EditFile is the source file the one-file-change scenario edits.
	EditFile string
	// AddDeps are added to requirements.txt one per run of the
	// add-a-dependency scenario (cumulatively). Each brings exactly one new
	// distribution: the others it depends on are already installed.
	AddDeps []string
	// FiguresOnly apps are built once per system, for the image figures
	// (python-http: the app without dependencies).
	FiguresOnly bool
	// Systems are the ways the app is built and compared (default: distill,
	// expert, naive).
	Systems []system
	// Expert is the expert Dockerfile under bench/expert (default
	// "Dockerfile"); its ignore file is Expert+".dockerignore", or
	// bench/expert/.dockerignore for the default.
	Expert string
	// ExpertRequirements, when set, is a file under bench/expert that the
	// expert's copy gets as requirements.txt: the hashed export of the
	// app's lock, which bench checks against Lock before building.
	ExpertRequirements string
	// Lock is the app's lock file (the dependency source distill detects),
	// "" for a requirements.txt app.
	Lock string
	// VerifyOff adds distillVerifyOff: the same spec with
	// policy.verify: off, to measure the start-up verification's cost.
	VerifyOff bool
}

var apps = []app{
	{Name: "python-http", Src: "examples/python-http", FiguresOnly: true},
	{
		Name: "python-deps", Src: "examples/python-deps",
		EditFile:  "src/depsapp/__init__.py",
		AddDeps:   []string{"dep04", "dep07", "dep09", "dep11", "dep13"},
		VerifyOff: true,
	},
	{
		Name: "large", Src: "bench/apps/large", Modules: 300,
		EditFile:  "src/largeapp/mods/m150.py",
		AddDeps:   []string{"dep18", "dep17", "dep16", "dep20", "dep19"},
		VerifyOff: true,
	},
	{
		// FastAPI + pydantic (a compiled extension) under uvicorn, from
		// uv.lock. No add-a-dependency scenario: that needs a relock (uv
		// is not on the test bed), and no naive baseline: the comparison
		// is with the expert's locked install.
		Name: "fastapi-uv", Src: "examples/fastapi-uv",
		EditFile:           "app/main.py",
		Systems:            []system{distill, expert},
		Expert:             "fastapi-uv.Dockerfile",
		ExpertRequirements: "fastapi-uv.requirements.txt",
		Lock:               "uv.lock",
		VerifyOff:          true,
	},
}

// system is a way of building the same app.
type system string

const (
	distill system = "distill"
	expert  system = "expert"
	naive   system = "naive"
	// distillVerifyOff is distill with policy.verify: off. It shares every
	// other step with distill, so on a shared engine whichever of the two
	// builds second would find the other's steps cached: it gets a warm
	// engine of its own.
	distillVerifyOff system = "distill-verify-off"
)

// systems are the compared systems, in table order.
var systems = []system{distill, expert, naive}

// allSystems are every system the harness knows (for -systems).
var allSystems = []system{distill, expert, naive, distillVerifyOff}

// systemsOf gives the systems an app is built with, in table order.
func (a app) systemsOf() []system {
	out := append([]system{}, systems...)
	if len(a.Systems) > 0 {
		out = append([]system{}, a.Systems...)
	}
	if a.VerifyOff {
		out = append(out, distillVerifyOff)
	}
	return out
}

// rotate gives the systems in a different order each run, so no system is
// always the first to run after another system's build.
func rotate(syss []system, i int) []system {
	out := make([]system, len(syss))
	for j := range syss {
		out[j] = syss[(i+j)%len(syss)]
	}
	return out
}

// prepare copies the app into dir and adds what the system builds it with.
func prepare(cfg *config, a app, sys system, dir string) error {
	if err := copyTree(filepath.Join(cfg.repo, a.Src), dir); err != nil {
		return err
	}
	if a.Modules > 0 {
		if err := generateModules(filepath.Join(dir, "src", "largeapp", "mods"), a.Modules); err != nil {
			return err
		}
	}
	switch sys {
	case distill:
		return writeSpec(filepath.Join(dir, "distill.yaml"), "", cfg.indexURL, "")
	case distillVerifyOff:
		return writeSpec(filepath.Join(dir, "distill.yaml"), "", cfg.indexURL, "off")
	case expert:
		if a.ExpertRequirements == "" {
			break
		}
		// the expert installs the hashed export of the lock
		export := filepath.Join(cfg.repo, "bench", "expert", a.ExpertRequirements)
		if _, err := checkExport(dir, a.Lock, export); err != nil {
			return err
		}
		if err := copyFile(export, filepath.Join(dir, "requirements.txt")); err != nil {
			return err
		}
	}
	switch sys {
	case expert, naive:
		// the Dockerfiles expect requirements.txt (and the expert src/): an
		// app without dependencies gets a comment-only file, which pip
		// accepts, and an empty src/
		if err := ensureFile(filepath.Join(dir, "requirements.txt"), "# no dependencies\n"); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
			return err
		}
	}
	switch sys {
	case expert:
		os.Remove(filepath.Join(dir, "distill.yaml"))
		df, ignore := "Dockerfile", ".dockerignore"
		if a.Expert != "" {
			df, ignore = a.Expert, a.Expert+".dockerignore"
		}
		for src, dst := range map[string]string{df: "Dockerfile", ignore: ".dockerignore"} {
			if err := copyFile(filepath.Join(cfg.repo, "bench", "expert", src), filepath.Join(dir, dst)); err != nil {
				return err
			}
		}
	case naive:
		os.Remove(filepath.Join(dir, "distill.yaml"))
		return copyFile(filepath.Join(cfg.repo, "bench", "naive", "Dockerfile"), filepath.Join(dir, "Dockerfile"))
	}
	return nil
}

// writeSpec points the app's spec at the test bed's index (the test bed has
// no PyPI), optionally with a `# syntax=` first line and a policy.verify,
// and checks the result parses to what was meant. The bases stay distill's
// default pair: the engines' mirrors resolve it to the bench-only copies.
func writeSpec(path, syntax, indexURL, verify string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out []string
	if syntax != "" {
		out = append(out, "# syntax="+syntax)
	}
	seenPython := false
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.HasPrefix(l, "# syntax=") {
			continue
		}
		if strings.HasPrefix(l, "indexUrl:") || strings.HasPrefix(l, "base:") || verify != "" && strings.HasPrefix(l, "policy:") {
			return fmt.Errorf("%s already sets %s", path, l)
		}
		out = append(out, l)
		if l == "python:" {
			seenPython = true
			out = append(out, "  indexUrl: "+indexURL)
		}
	}
	if !seenPython {
		return fmt.Errorf("%s has no top-level python: block", path)
	}
	if verify != "" {
		out = append(out, "policy:", fmt.Sprintf("  verify: %q", verify))
	}
	text := strings.Join(out, "\n") + "\n"
	s, err := spec.Parse(path, []byte(text))
	if err != nil {
		return fmt.Errorf("rewritten spec: %w", err)
	}
	if s.Python.IndexURL != indexURL || s.Base.Runtime != "" || s.Base.Builder != "" {
		return fmt.Errorf("rewritten spec %s: indexUrl %q, base.runtime %q", path, s.Python.IndexURL, s.Base.Runtime)
	}
	if verify != "" && s.Policy.Verify != verify {
		return fmt.Errorf("rewritten spec %s: policy.verify %q, want %q", path, s.Policy.Verify, verify)
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// generateModules writes n deterministic modules of a few functions, a class
// and a table each (about 2 KB), the bulk of a service's own code.
func generateModules(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "__init__.py"), []byte("\"\"\"Generated modules of the large benchmark app.\"\"\"\n"), 0o644); err != nil {
		return err
	}
	for i := range n {
		var b strings.Builder
		fmt.Fprintf(&b, "\"\"\"Generated module %03d of the large benchmark app.\"\"\"\n\n", i)
		fmt.Fprintf(&b, "import textutil\n\nNUMBER = %d\nTABLE = {\n", i)
		for k := range 12 {
			fmt.Fprintf(&b, "    \"key_%03d_%02d\": %d,\n", i, k, (i*31+k*7)%97)
		}
		b.WriteString("}\n\n\n")
		fmt.Fprintf(&b, "class Handler%03d:\n    \"\"\"Handles the requests of area %d.\"\"\"\n\n", i, i)
		b.WriteString("    def __init__(self, prefix=\"item\"):\n        self.prefix = prefix\n        self.seen = []\n\n")
		b.WriteString("    def handle(self, name):\n        title = textutil.title(name)\n        self.seen.append(title)\n        return f\"{self.prefix}:{title}:{NUMBER}\"\n\n")
		b.WriteString("    def summary(self):\n        return {\"count\": len(self.seen), \"last\": self.seen[-1] if self.seen else None}\n\n\n")
		b.WriteString("def lookup(key, default=0):\n    return TABLE.get(key, default)\n\n\n")
		b.WriteString("def checksum():\n    total = 0\n    for k, v in sorted(TABLE.items()):\n        total = (total * 31 + v + len(k)) % 1000003\n    return total\n\n\n")
		b.WriteString("def value():\n    return NUMBER\n")
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%03d.py", i)), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// editSource changes one source file of the app (a new constant), the
// smallest real code change.
func editSource(dir string, a app, run int) error {
	f, err := os.OpenFile(filepath.Join(dir, a.EditFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "\nBENCH_EDIT_%d = %d\n", run, run)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// addDependency appends one requirement.
func addDependency(dir string, dep string) error {
	f, err := os.OpenFile(filepath.Join(dir, "requirements.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s==1.0\n", dep)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func ensureFile(p, content string) error {
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.Name() == "__pycache__" || strings.HasSuffix(d.Name(), ".pyc") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, target)
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
