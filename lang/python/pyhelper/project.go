package pyhelper

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/distill-build/distill/helper"
)

const projectUsage = "VENV SCRATCH N PROJECT_DIR×N [PIP_ARG...]"

// Project runs as the build user with the network on (pip's build
// isolation fetches the project's build backend from the index):
//
//	python-project VENV SCRATCH N PROJECT_DIR×N [PIP_ARG...]
//
// It copies each project directory to SCRATCH/srcI (a tmpfs), so an
// in-tree build (setuptools' build/, *.egg-info) never lands in the app,
// and installs them into the venv with the builder's pip (python3 on
// PATH), non-editable and without dependencies: those came from the
// dependency step, pinned.
func Project(args []string, stdout, stderr io.Writer) error {
	if len(args) < 3 {
		return fmt.Errorf("distill helper python-project: usage: python-project %s", projectUsage)
	}
	venv, scratch := args[0], args[1]
	n, err := strconv.Atoi(args[2])
	if err != nil || n < 0 || len(args) < 3+n {
		return fmt.Errorf("distill helper python-project: usage: python-project %s", projectUsage)
	}
	dirs, pipArgs := args[3:3+n], args[3+n:]
	var srcs []string
	for i, d := range dirs {
		if !helper.IsFile(filepath.Join(d, "pyproject.toml")) {
			return fmt.Errorf("python.project: %s has no pyproject.toml in the image's app directory (is it left out by app.include or app.exclude?)", d)
		}
		src := filepath.Join(scratch, "src"+strconv.Itoa(i))
		if err := helper.CopyTree(d, src, false); err != nil {
			return err
		}
		srcs = append(srcs, src)
	}
	argv := []string{"python3", "-m", "pip", "--python", venv + "/bin/python", "install",
		"--no-deps", "--no-compile", "--no-warn-script-location", "--progress-bar", "off"}
	argv = append(append(argv, pipArgs...), srcs...)
	return helper.Proc{Argv: argv, Env: []string{"TMPDIR=" + scratch}, Stdout: stdout, Stderr: stderr}.Run()
}
