package pyhelper

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/distill-build/distill/helper"
)

// packagingTools are the distributions a requirement may have pulled into
// the venv that the runtime has no use for.
var packagingTools = []string{"pip", "setuptools", "wheel"}

// Finalize runs as the build user with no network:
//
//	python-finalize VENV TARGET...
//
// For each target: "venv" removes the packaging tools (pip, setuptools,
// wheel) from the venv and compiles the venv's bytecode; "project=NAME"
// compiles only the files pip recorded for the installed project NAME
// (recompiling the whole venv would cost every code change); a directory
// compiles that app directory, whose sources must compile. Bytecode is
// compiled with the runtime interpreter in unchecked-hash mode (no source
// mtime inside, so it is reproducible and the read-only runtime never
// tries to rewrite it); group/other write bits are dropped so nothing is
// writable by the runtime user.
//
// The tools are removed without running pip: the files each one's RECORD
// lists, its dist-info and the directories left empty.
func Finalize(args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 {
		return fmt.Errorf("distill helper python-finalize: usage: python-finalize VENV TARGET...")
	}
	venv, targets := args[0], args[1:]
	compile := []string{venv + "/bin/python", "-m", "compileall", "-q", "-f", "--invalidation-mode", "unchecked-hash"}
	run := func(paths []string) error {
		return helper.Proc{Argv: append(slices.Clone(compile), paths...), Stdout: stdout, Stderr: stderr}.Run()
	}
	for _, target := range targets {
		switch {
		case strings.HasPrefix(target, "project="):
			files, err := projectFiles(venv, strings.TrimPrefix(target, "project="))
			if err != nil {
				return err
			}
			var sources []string
			for _, f := range files {
				if strings.HasSuffix(f, ".py") && helper.IsFile(f) {
					sources = append(sources, f)
				}
			}
			if len(sources) > 0 {
				_ = run(sources) // like pip, tolerate what does not compile
			}
			for _, f := range sources {
				files = append(files, helper.Glob(filepath.Join(filepath.Dir(f), "__pycache__", strings.TrimSuffix(filepath.Base(f), ".py")+".*.pyc"))...)
			}
			for _, f := range files {
				if helper.Lexists(f) {
					if err := helper.DropWriteBits(f); err != nil {
						return err
					}
				}
			}
		case target == "venv":
			if err := removeTools(venv); err != nil {
				return err
			}
			for _, f := range append(helper.Glob(venv+"/bin/pip*"), helper.Glob(venv+"/bin/easy_install*")...) {
				if err := os.Remove(f); err != nil {
					return err
				}
			}
			// like pip, tolerate files in installed packages that do not
			// compile (test data, py2 leftovers)
			_ = run([]string{venv + "/lib"})
			if err := helper.DropWriteBits(venv); err != nil {
				return err
			}
		default:
			// the app's own sources must compile
			if err := run([]string{target}); err != nil {
				return err
			}
			if err := helper.DropWriteBits(target); err != nil {
				return err
			}
		}
	}
	return nil
}

// projectFiles are the files pip recorded (RECORD) for the installed
// project name, as paths.
func projectFiles(venv, name string) ([]string, error) {
	norm := func(n string) string {
		return strings.ToLower(strings.NewReplacer("-", "_", ".", "_").Replace(n))
	}
	for _, rec := range helper.Glob(venv + "/lib/python3*/site-packages/*.dist-info/RECORD") {
		if norm(distName(filepath.Dir(rec))) != norm(name) {
			continue
		}
		site := filepath.Dir(filepath.Dir(rec))
		text, err := os.ReadFile(rec)
		if err != nil {
			return nil, err
		}
		var files []string
		for _, line := range helper.SplitLines(string(text)) {
			if line != "" {
				files = append(files, filepath.Clean(helper.Join(site, recordPath(line))))
			}
		}
		return files, nil
	}
	return nil, fmt.Errorf("project %s is not installed in %s (no dist-info RECORD)", name, venv)
}

// removeTools removes the packaging tools installed in the venv.
func removeTools(venv string) error {
	for _, site := range sitePackages(venv) {
		for _, dist := range helper.Glob(site + "/*.dist-info") {
			name := strings.ToLower(nameRuns.ReplaceAllString(distName(dist), "-"))
			if slices.Contains(packagingTools, name) {
				if err := removeDist(venv, site, dist); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// removeDist uninstalls the distribution of the dist-info directory dist
// as pip would: the files its RECORD lists (with the bytecode of its
// sources), the dist-info, and the directories of site-packages that
// leaves empty. Nothing outside the venv is touched.
func removeDist(venv, site, dist string) error {
	f, err := os.Open(filepath.Join(dist, "RECORD"))
	if err != nil {
		return fmt.Errorf("cannot remove %s from the venv: %w", filepath.Base(dist), err)
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord, r.LazyQuotes = -1, true
	records, err := r.ReadAll()
	f.Close()
	if err != nil {
		return fmt.Errorf("cannot remove %s from the venv: its RECORD: %w", filepath.Base(dist), err)
	}
	inVenv := func(p string) bool { return strings.HasPrefix(p, filepath.Clean(venv)+"/") }
	dirs := map[string]bool{}
	remove := func(p string) error {
		if fi, err := os.Lstat(p); err != nil || fi.IsDir() {
			return nil
		}
		dirs[filepath.Dir(p)] = true
		return os.Remove(p)
	}
	for _, rec := range records {
		if len(rec) == 0 || rec[0] == "" {
			continue
		}
		p := filepath.Clean(helper.Join(site, rec[0]))
		if !inVenv(p) {
			continue
		}
		if err := remove(p); err != nil {
			return err
		}
		if stem, ok := strings.CutSuffix(filepath.Base(p), ".py"); ok {
			for _, pyc := range helper.Glob(filepath.Join(filepath.Dir(p), "__pycache__", stem+".*.pyc")) {
				if err := remove(pyc); err != nil {
					return err
				}
			}
		}
	}
	if err := os.RemoveAll(dist); err != nil {
		return err
	}
	// the deepest first, each up to site-packages while it is empty
	left := make([]string, 0, len(dirs))
	for d := range dirs {
		left = append(left, d)
	}
	slices.SortFunc(left, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range left {
		for strings.HasPrefix(d, site+"/") && os.Remove(d) == nil {
			d = filepath.Dir(d)
		}
	}
	return nil
}
