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
}

var apps = []app{
	{Name: "python-http", Src: "examples/python-http", FiguresOnly: true},
	{
		Name: "python-deps", Src: "examples/python-deps",
		EditFile: "src/depsapp/__init__.py",
		AddDeps:  []string{"dep04", "dep07", "dep09", "dep11", "dep13"},
	},
	{
		Name: "large", Src: "bench/apps/large", Modules: 300,
		EditFile: "src/largeapp/mods/m150.py",
		AddDeps:  []string{"dep18", "dep17", "dep16", "dep20", "dep19"},
	},
}

// system is a way of building the same app.
type system string

const (
	distill system = "distill"
	expert  system = "expert"
	naive   system = "naive"
)

var systems = []system{distill, expert, naive}

// rotate gives the systems in a different order each run, so no system is
// always the first to run after another system's build.
func rotate(i int) []system {
	out := make([]system, len(systems))
	for j := range systems {
		out[j] = systems[(i+j)%len(systems)]
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
		return writeSpec(filepath.Join(dir, "distill.yaml"), "", cfg.indexURL, cfg.builderTag, cfg.runtimeTag)
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
		for _, f := range []string{"Dockerfile", ".dockerignore"} {
			if err := copyFile(filepath.Join(cfg.repo, "bench", "expert", f), filepath.Join(dir, f)); err != nil {
				return err
			}
		}
	case naive:
		os.Remove(filepath.Join(dir, "distill.yaml"))
		return copyFile(filepath.Join(cfg.repo, "bench", "naive", "Dockerfile"), filepath.Join(dir, "Dockerfile"))
	}
	return nil
}

// writeSpec points the app's spec at the test bed's index and the bench-only
// builder and runtime tags (the test bed has no PyPI; the base-image scenario
// moves the runtime tag, and a private builder tag keeps a re-push of the
// shared stand-in from invalidating a run), optionally with a `# syntax=` first line, and checks the result
// parses to what was meant.
func writeSpec(path, syntax, indexURL, builder, runtime string) error {
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
		if strings.HasPrefix(l, "indexUrl:") || strings.HasPrefix(l, "base:") {
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
	out = append(out, "base:", "  builder: "+builder, "  runtime: "+runtime)
	text := strings.Join(out, "\n") + "\n"
	s, err := spec.Parse(path, []byte(text))
	if err != nil {
		return fmt.Errorf("rewritten spec: %w", err)
	}
	if s.Python.IndexURL != indexURL || s.Base.Runtime != runtime || s.Base.Builder != builder {
		return fmt.Errorf("rewritten spec %s: indexUrl %q, base.runtime %q", path, s.Python.IndexURL, s.Base.Runtime)
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
