package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/distill-build/distill/pydeps"
)

// exportTarget is the target the expert's export is made for: the Python
// of the stand-in images, on the machine's architecture.
var exportTarget = pydeps.EnvFor("3.13", "amd64")

// checkExport makes sure the expert installs what distill installs: the
// hashed requirements file at export must pin exactly the packages that
// the lock in dir locks for exportTarget (the main dependencies), each at
// the locked version with the lock's hashes. It returns how many packages
// that is. The export stands for `uv export`, which cannot run on the test
// bed; a mismatch means the lock changed and the export must be made again.
func checkExport(dir, lockName, export string) (int, error) {
	if lockName == "" {
		return 0, fmt.Errorf("%s: an expert requirements export needs the app's lock", export)
	}
	kind, ok := pydeps.KindOf(lockName)
	if !ok || !kind.Locked() {
		return 0, fmt.Errorf("%s is not a lock file", lockName)
	}
	data, err := os.ReadFile(filepath.Join(dir, lockName))
	if err != nil {
		return 0, err
	}
	pyproject, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if err != nil {
		return 0, err
	}
	in := pydeps.Inputs{Source: pydeps.Source{Kind: kind, Path: lockName, Pyproject: "pyproject.toml"}, Data: data, Pyproject: pyproject}
	plan, err := pydeps.Resolve(in, exportTarget, pydeps.Options{})
	if err != nil {
		return 0, err
	}
	lock, err := pydeps.ParseLock(kind, lockName, data)
	if err != nil {
		return 0, err
	}
	want := map[string]string{} // name -> "version hashes"
	for _, pin := range plan.Packages {
		var hashes []string
		for _, p := range lock.Packages {
			if p.Name == pin.Name && p.Version == pin.Version {
				hashes = p.Hashes
			}
		}
		want[pydeps.NormalizeName(pin.Name)] = pin.Version + " " + strings.Join(hashes, ",")
	}
	exported, err := os.ReadFile(export)
	if err != nil {
		return 0, err
	}
	got, err := parseHashedRequirements(string(exported))
	if err != nil {
		return 0, fmt.Errorf("%s: %v", export, err)
	}
	var diffs []string
	for name, w := range want {
		if g, ok := got[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s %s is locked but not exported", name, w))
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: locked %s, exported %s", name, w, g))
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s %s is exported but not locked for %s", name, g, plan.Target))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		return 0, fmt.Errorf("%s does not match %s (make it again, see bench/README.md):\n  %s", export, filepath.Join(dir, lockName), strings.Join(diffs, "\n  "))
	}
	return len(want), nil
}

// parseHashedRequirements reads `name==version \ --hash=sha256:…` entries
// (pip-compile's layout, comments allowed) into name -> "version hashes",
// the hashes sorted and comma-separated.
func parseHashedRequirements(text string) (map[string]string, error) {
	// join continuation lines, drop comments
	var logical []string
	cur := ""
	for _, l := range strings.Split(text, "\n") {
		if i := strings.Index(l, "#"); i >= 0 && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t') {
			l = l[:i]
		}
		l = strings.TrimSpace(l)
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		cur += l
		if strings.TrimSpace(cur) != "" {
			logical = append(logical, strings.TrimSpace(cur))
		}
		cur = ""
	}
	out := map[string]string{}
	for _, l := range logical {
		f := strings.Fields(l)
		name, version, ok := strings.Cut(f[0], "==")
		if !ok || strings.HasPrefix(f[0], "-") {
			return nil, fmt.Errorf("%q: want name==version --hash=…", l)
		}
		var hashes []string
		for _, opt := range f[1:] {
			h, ok := strings.CutPrefix(opt, "--hash=")
			if !ok {
				return nil, fmt.Errorf("%q: unexpected %q", l, opt)
			}
			hashes = append(hashes, h)
		}
		if len(hashes) == 0 {
			return nil, fmt.Errorf("%q has no --hash", l)
		}
		sort.Strings(hashes)
		out[pydeps.NormalizeName(name)] = version + " " + strings.Join(hashes, ",")
	}
	return out, nil
}
