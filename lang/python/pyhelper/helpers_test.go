package pyhelper

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeVenv makes a real venv (without pip) with the host's python3.
func makeVenv(t *testing.T) (venv, site string) {
	t.Helper()
	venv = filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command("python3", "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("python3 -m venv: %v\n%s", err, out)
	}
	sites, _ := filepath.Glob(venv + "/lib/python3*/site-packages")
	if len(sites) != 1 {
		t.Fatalf("venv site-packages: %q", sites)
	}
	return venv, sites[0]
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	dt, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, string(dt), mode)
}

// missingLibObjects builds with gcc a program and a shared object that
// both need libdistillgone.so, which is then removed.
func missingLibObjects(t *testing.T) (prog, so string) {
	t.Helper()
	dir := t.TempDir()
	gcc := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	writeFile(t, dir+"/gone.c", "int gone(void) { return 1; }\n", 0o644)
	writeFile(t, dir+"/main.c", "int gone(void);\nint main(void) { return gone(); }\n", 0o644)
	writeFile(t, dir+"/ext.c", "int gone(void);\nint ext(void) { return gone(); }\n", 0o644)
	gcc("-shared", "-fPIC", "-o", dir+"/libdistillgone.so", dir+"/gone.c")
	gcc("-o", dir+"/prog", dir+"/main.c", "-L"+dir, "-ldistillgone")
	gcc("-shared", "-fPIC", "-o", dir+"/ext.so", dir+"/ext.c", "-L"+dir, "-ldistillgone")
	if err := os.Remove(dir + "/libdistillgone.so"); err != nil {
		t.Fatal(err)
	}
	return dir + "/prog", dir + "/ext.so"
}

// runPython runs a Python program of testdata (the script the Go command
// replaced) with python.
func runPython(t *testing.T, python, script string, args ...string) string {
	t.Helper()
	code, err := os.ReadFile(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, append([]string{"-I", "-c", string(code)}, args...)...).Output()
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return string(out)
}

func runPythonCode(t *testing.T, python, code string) string {
	t.Helper()
	out, err := exec.Command(python, "-I", "-c", code).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
