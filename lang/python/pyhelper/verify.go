package pyhelper

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/distill-build/distill/helper"
)

const verifyUsage = "REPORT VENV APP_DIR PATH ENTRYPOINT..."

// Verify is the start-up verification of a Python image. It runs in the
// assembled runtime image (its base, runtime packages, venv and project,
// not the app's code), as the runtime user with no network:
//
//	python-verify REPORT VENV APP_DIR PATH ENTRYPOINT...
//
// It writes a JSON report (helper.Report) and succeeds whatever it found,
// so the frontend can turn each problem into a message at the spec line
// it concerns:
//   - the entrypoint's program resolves on PATH (or as a path) and is
//     executable, and so is its #! interpreter;
//   - the venv was made for this interpreter's minor version;
//   - every ELF object of the venv and the app finds its libraries,
//     asked of the runtime's own dynamic loader (PT_INTERP of the venv's
//     python);
//   - every top-level module of every installed distribution imports,
//     and an extension module that fails while its package imports (a
//     silent pure-Python fallback) is reported as a warning.
//
// The imports are tried by one run of the venv's interpreter (the
// runtime's) with a short probe, because importing is the check.
func Verify(args []string, stdout, stderr io.Writer) error {
	if len(args) < 4 {
		return fmt.Errorf("distill helper python-verify: usage: python-verify %s", verifyUsage)
	}
	reportPath, venv, appDir, path, entry := args[0], args[1], args[2], args[3], args[4:]
	report := &helper.Report{}
	entryProblems := helper.CheckEntrypoint(appDir, path, entry, venv+"/bin")

	loader := ""
	if real, err := filepath.EvalSymlinks(venv + "/bin/python"); err == nil {
		loader, _ = helper.ELFInterpreter(real)
	}
	checked, libProblems, flagged := helper.CheckLibraries(loader, []string{venv, appDir}, appDir)
	report.ELFObjects = checked

	sites := sitePackages(venv)
	// packages with a missing library are reported as such, not again as fallbacks
	flaggedPkgs := map[string]bool{}
	for _, f := range flagged {
		for _, sp := range sites {
			if rel, ok := strings.CutPrefix(f, sp+"/"); ok {
				first, _, _ := strings.Cut(rel, "/")
				flaggedPkgs[first] = true
			}
		}
	}
	steps := importSteps(sites, flaggedPkgs)
	python, results, probeErr := probe(venv, steps, stderr)
	report.Python = python

	report.Errors = append(report.Errors, entryProblems...)
	if built := venvVersion(venv); built != "" && python != "" && !sameMinor(built, python) {
		report.Errors = append(report.Errors, helper.Problem{Kind: "python-minor", Builder: built, Runtime: python})
	}
	report.Errors = append(report.Errors, libProblems...)
	for i, s := range steps {
		if s.kind == "m" {
			report.Modules++
		}
		switch {
		case i >= len(results):
		case s.kind == "m" && results[i] != nil:
			report.Errors = append(report.Errors, helper.Problem{Kind: "import", Distribution: s.owner, Module: s.name, Error: *results[i]})
		case s.kind == "x" && results[i] != nil:
			report.Warnings = append(report.Warnings, helper.Problem{Kind: "fallback", Module: s.name, Package: s.owner, Error: *results[i]})
		}
	}
	if probeErr != nil {
		if len(results) < len(steps) && python != "" {
			// the interpreter died importing steps[len(results)]
			s := steps[len(results)]
			msg := fmt.Sprintf("the interpreter died importing it (%v)", probeErr)
			if rest := len(steps) - len(results) - 1; rest > 0 {
				msg += fmt.Sprintf("; the %d imports after it were not tried", rest)
			}
			report.Errors = append(report.Errors, helper.Problem{Kind: "import", Distribution: s.owner, Module: s.name, Error: msg})
		} else {
			report.Errors = append(report.Errors, helper.Problem{Kind: "import-probe", Error: fmt.Sprintf("the venv's interpreter could not try the imports: %v", probeErr)})
		}
	}
	if err := helper.WriteReport(reportPath, report); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "verified: %d modules, %d ELF objects, %d errors, %d warnings\n", report.Modules, checked, len(report.Errors), len(report.Warnings))
	return nil
}

// venvVersion is the Python version pyvenv.cfg records (version_info, as
// uv writes it, else version), "" when none.
func venvVersion(venv string) string {
	text, err := helper.ReadText(venv + "/pyvenv.cfg")
	if err != nil {
		return ""
	}
	cfg := map[string]string{}
	for _, line := range helper.Lines(text) {
		if k, v, ok := strings.Cut(line, "="); ok {
			cfg[helper.Strip(k)] = helper.Strip(v)
		}
	}
	if v := cfg["version_info"]; v != "" {
		return v
	}
	return cfg["version"]
}

// sameMinor compares two versions' first two components.
func sameMinor(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	return slices.Equal(pa[:min(2, len(pa))], pb[:min(2, len(pb))])
}

// importStep is one import the probe tries: kind "m" a top-level module
// of the distribution owner, kind "x" an extension module of the package
// owner, tried only when owner imported.
type importStep struct {
	kind, name, owner string
}

// importSteps are the imports to try, in order: per site-packages, each
// distribution's top-level modules (each once, only those it ships), then
// the extension modules below a package, but for packages whose objects
// miss a library.
func importSteps(sites []string, flaggedPkgs map[string]bool) []importStep {
	var steps []importStep
	seen := map[string]bool{}
	for _, sp := range sites {
		for _, dist := range helper.Glob(sp + "/*.dist-info") {
			dname := distName(dist)
			for _, mod := range topLevels(dist) {
				if seen[mod] {
					continue
				}
				// top_level.txt may name modules the distribution does not
				// ship (a build-time shim); only what is there is meant to import
				if !helper.Exists(filepath.Join(sp, mod)) && !helper.Exists(filepath.Join(sp, mod+".py")) && len(helper.Glob(filepath.Join(sp, mod+".*.so"))) == 0 {
					continue
				}
				seen[mod] = true
				steps = append(steps, importStep{"m", mod, dname})
			}
		}
		// extension modules that fail although their package imported: a fallback hides them
		for _, so := range extensionFiles(sp) {
			rel, _ := filepath.Rel(sp, so)
			parts := strings.Split(rel, "/")
			if !all(parts[:len(parts)-1], helper.IsIdentifier) {
				continue
			}
			last, _, _ := strings.Cut(parts[len(parts)-1], ".")
			name := strings.Join(append(slices.Clone(parts[:len(parts)-1]), last), ".")
			if name == parts[0] || flaggedPkgs[parts[0]] {
				continue
			}
			steps = append(steps, importStep{"x", name, parts[0]})
		}
	}
	return steps
}

func all(xs []string, f func(string) bool) bool {
	for _, x := range xs {
		if !f(x) {
			return false
		}
	}
	return true
}

// extensionFiles are the *.so entries under sp, sorted, as Python's
// glob(sp + "/**/*.so", recursive=True) finds them (no dot names), except
// that links to directories are not followed.
func extensionFiles(sp string) []string {
	var out []string
	var walk func(dir string)
	walk = func(dir string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if strings.HasSuffix(e.Name(), ".so") {
				out = append(out, p)
			}
			if e.IsDir() {
				walk(p)
			}
		}
	}
	walk(sp)
	slices.Sort(out)
	return out
}

// topLevels are the importable top-level names a distribution ships:
// from top_level.txt, else its RECORD's packages, modules and extension
// modules.
func topLevels(dist string) []string {
	names := map[string]bool{}
	if tl := filepath.Join(dist, "top_level.txt"); helper.IsFile(tl) {
		text, _ := helper.ReadText(tl)
		for _, l := range helper.Lines(text) {
			if s := helper.Strip(l); s != "" {
				names[strings.ReplaceAll(s, "/", ".")] = true
			}
		}
	} else if rec := filepath.Join(dist, "RECORD"); helper.IsFile(rec) {
		text, _ := helper.ReadText(rec)
		for _, line := range helper.Lines(text) {
			p := recordPath(line)
			segs := strings.Split(p, "/")
			first := segs[0]
			if strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") || strings.HasSuffix(first, ".dist-info") || strings.HasSuffix(first, ".data") || first == "__pycache__" {
				continue
			}
			switch {
			case len(segs) > 1:
				if segs[1] == "__init__.py" || strings.HasSuffix(p, ".py") || strings.Contains(p, ".so") {
					names[first] = true
				}
			case strings.HasSuffix(p, ".py"):
				names[strings.TrimSuffix(p, ".py")] = true
			case strings.Contains(p, ".so"):
				stem, _, _ := strings.Cut(p, ".")
				names[stem] = true
			}
		}
	}
	var out []string
	for n := range names {
		if n != "" && helper.IsIdentifier(n) && !strings.HasPrefix(n, "_distutils") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// probeScript tries the imports it reads from stdin as JSON [[kind, name,
// owner]...] (importStep) in order and writes, one JSON value a line, the
// interpreter's version and then each import's result: null when it
// imported (or was not tried), else the error. What the imported modules
// print goes to stderr.
const probeScript = `import importlib, json, os, sys
out = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
out.write(json.dumps("%d.%d.%d" % sys.version_info[:3]) + "\n")
ok = {}
for kind, name, owner in json.load(sys.stdin):
    r = None
    if kind == "m":
        try:
            importlib.import_module(name)
            ok[name] = True
        except BaseException as e:
            r = "%s: %s" % (type(e).__name__, str(e)[:400])
    elif ok.get(owner):
        try:
            importlib.import_module(name)
        except ImportError as e:
            r = str(e)[:400]
        except BaseException:
            pass
    out.write(json.dumps(r) + "\n")
`

// probe runs probeScript with the venv's interpreter on steps: the
// interpreter's version and the results it gave (fewer than steps when
// it died, with err saying how).
func probe(venv string, steps []importStep, stderr io.Writer) (python string, results []*string, err error) {
	in := make([][3]string, len(steps))
	for i, s := range steps {
		in[i] = [3]string{s.kind, s.name, s.owner}
	}
	input, _ := json.Marshal(in)
	var out bytes.Buffer
	runErr := helper.Proc{Argv: []string{venv + "/bin/python", "-I", "-c", probeScript}, Stdin: bytes.NewReader(input), Stdout: &out, Stderr: stderr}.Run()
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for first := true; sc.Scan(); first = false {
		var v *string
		if json.Unmarshal(sc.Bytes(), &v) != nil || (first && v == nil) {
			return python, results, fmt.Errorf("unreadable output %q", sc.Text())
		}
		if first {
			python = *v
			continue
		}
		results = append(results, v)
	}
	switch {
	case runErr != nil:
		return python, results, runErr
	case python == "" || len(results) != len(steps):
		return python, results, fmt.Errorf("it exited after %d of %d imports", len(results), len(steps))
	}
	return python, results, nil
}
