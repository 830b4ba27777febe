// Package pyhelper holds Python's in-container steps, in Go, for
// distill's helper binary (package helper): finishing the venv, installing
// the app's own projects, the start-up verification of a Python image and
// the SBOM's inventory of a venv. The only Python they run is the
// language's own tools (pip, compileall) and, for the verification, a
// short import probe run by the runtime's interpreter, because importing
// is the check.
package pyhelper

import (
	"strings"

	"github.com/distill-build/distill/helper"
)

// Commands are Python's helper commands.
func Commands() map[string]helper.Command {
	return map[string]helper.Command{
		"python-finalize": Finalize,
		"python-project":  Project,
		"python-verify":   Verify,
	}
}

// Inventories are Python's SBOM inventories: pypi=VENV.
func Inventories() map[string]helper.Inventory {
	return map[string]helper.Inventory{
		"pypi": {Noun: "Python distributions", Comment: "installed in the venv", Read: Distributions},
	}
}

// sitePackages are a venv's site-packages directories.
func sitePackages(venv string) []string {
	return helper.Glob(venv + "/lib/python3*/site-packages")
}

// distName is the distribution name of a NAME-VERSION.dist-info directory.
func distName(distInfo string) string {
	base := strings.TrimSuffix(distInfo[strings.LastIndex(distInfo, "/")+1:], ".dist-info")
	if i := strings.LastIndex(base, "-"); i >= 0 {
		return base[:i]
	}
	return base
}

// recordPath is the path of a RECORD line as the Python programs read it:
// what precedes its last two commas (RECORD's quoting is not undone).
func recordPath(line string) string {
	for range 2 {
		i := strings.LastIndex(line, ",")
		if i < 0 {
			break
		}
		line = line[:i]
	}
	return line
}
