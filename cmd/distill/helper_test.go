package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelperCommand(t *testing.T) {
	out, err := run(t, "helper", "nope")
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("helper nope: %v, want exit status 1", err)
	}
	if want := "distill helper: unknown command \"nope\"; the commands are: apt, permissions, prepare, python-finalize, python-project, python-verify, runtime-packages, sbom, verify\n"; out != want {
		t.Errorf("helper nope printed %q, want %q", out, want)
	}

	// flags are the command's own; the SBOM knows Python's inventory
	dir := t.TempDir()
	venv := filepath.Join(dir, "venv")
	meta := filepath.Join(venv, "lib/python3.13/site-packages/flask-3.0.3.dist-info/METADATA")
	os.MkdirAll(filepath.Dir(meta), 0o755)
	os.WriteFile(meta, []byte("Name: Flask\nVersion: 3.0.3\n"), 0o644)
	sbom := filepath.Join(dir, "sbom.json")
	out, err = run(t, "helper", "sbom", dir, sbom, "app", "python:3.13-slim", "1", "pypi="+venv)
	if err != nil || out != "sbom: 0 OS packages, 1 Python distributions\n" {
		t.Errorf("helper sbom: %v, printed %q", err, out)
	}
	if dt, _ := os.ReadFile(sbom); !strings.Contains(string(dt), `"referenceLocator": "pkg:pypi/flask@3.0.3"`) {
		t.Errorf("sbom document: %s", dt)
	}
	if _, err := run(t, "helper", "prepare", "--link"); err == nil {
		t.Error("helper prepare --link succeeded")
	}
}
