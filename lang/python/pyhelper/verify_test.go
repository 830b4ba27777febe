package pyhelper

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/distill-build/distill/helper"
)

// verifyFixture is a real venv with distributions that import, fail to
// import, fall back, miss a library or are not there, and an app
// directory with an ELF program missing a library.
func verifyFixture(t *testing.T) (venv, site, app string) {
	venv, site = makeVenv(t)
	prog, so := missingLibObjects(t)
	files := map[string]string{
		// imports, and its extension module does not (a fallback)
		"goodpkg-1.0.dist-info/top_level.txt":                  "goodpkg\nghost\n_distutils_hack\n",
		"goodpkg/__init__.py":                                  "try:\n    from . import _speed\nexcept ImportError:\n    _speed = None\n",
		"goodpkg/_speed.cpython-311-x86_64-linux-gnu.so":       "not an ELF object",
		"goodpkg/sub/_inner.cpython-311-x86_64-linux-gnu.so":   "not an ELF object",
		"goodpkg/not-ident/_x.cpython-311-x86_64-linux-gnu.so": "skipped: not a module path",
		// no top_level.txt: the names come from RECORD
		"badpkg-2.0.dist-info/RECORD":                  "badpkg/__init__.py,sha256=x,1\nbadpkg/data/x.txt,,\nbadpkg-2.0.dist-info/RECORD,,\n../../../bin/badtool,,\n__pycache__/x.pyc,,\n",
		"badpkg/__init__.py":                           "raise RuntimeError('boom ' + 'x' * 500)\n",
		"badpkg/_fast.cpython-311-x86_64-linux-gnu.so": "not tried: badpkg does not import",
		"onemod-1.0.dist-info/RECORD":                  "onemod.py,,\nnative.cpython-311-x86_64-linux-gnu.so,,\n",
		"onemod.py":                                    "print('noise on stdout')\nimport sys\nsys.stdout.write('{')\n",
		"native.cpython-311-x86_64-linux-gnu.so":       "not ELF",
		"exits-1.0.dist-info/top_level.txt":            "exits\n",
		"exits.py":                                     "import sys\nsys.exit(3)\n",
		// its extension misses a library: reported as that, not as a fallback
		"needslib-1.0.dist-info/top_level.txt": "needslib\n",
		"needslib/__init__.py":                 "try:\n    from . import _ext\nexcept ImportError:\n    pass\n",
		// a second distribution naming a module already tried
		"goodpkg_plugin-1.0.dist-info/top_level.txt": "goodpkg\n",
	}
	for f, content := range files {
		writeFile(t, filepath.Join(site, f), content, 0o644)
	}
	copyFile(t, so, site+"/needslib/_ext.cpython-311-x86_64-linux-gnu.so", 0o755)
	writeFile(t, venv+"/bin/flask", "#!"+venv+"/bin/python\n", 0o755)
	app = t.TempDir()
	copyFile(t, prog, app+"/bin/prog", 0o755)
	writeFile(t, app+"/main.py", "", 0o644)
	return venv, site, app
}

// TestVerifyParity runs python-verify and the Python program it replaced
// (testdata/verify_script.py, run by the venv's interpreter as the build
// ran it) on the same image: the reports must be the same bytes.
func TestVerifyParity(t *testing.T) {
	venv, site, app := verifyFixture(t)
	path := "/nonexistent:" + venv + "/bin"
	for _, tc := range []struct {
		name  string
		cfg   string // pyvenv.cfg's version line, "" to leave it
		entry []string
	}{
		{"not on PATH", "", []string{"uvicorn", "app:app"}},
		{"on PATH", "", []string{"flask", "run"}},
		{"other minor", "version_info = 3.10.14\n", []string{"./bin/prog"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg != "" {
				cfg, _ := os.ReadFile(venv + "/pyvenv.cfg")
				defer os.WriteFile(venv+"/pyvenv.cfg", cfg, 0o644)
				os.WriteFile(venv+"/pyvenv.cfg", append(cfg, tc.cfg...), 0o644)
			}
			out := t.TempDir()
			args := append([]string{out + "/go.json", venv, app, path}, tc.entry...)
			var stdout bytes.Buffer
			if err := Verify(args, &stdout, io.Discard); err != nil {
				t.Fatal(err)
			}
			printed := runPython(t, venv+"/bin/python", "verify_script.py", append([]string{out + "/py.json", venv, app, path}, tc.entry...)...)
			got, _ := os.ReadFile(out + "/go.json")
			want, _ := os.ReadFile(out + "/py.json")
			if !bytes.Equal(got, want) {
				t.Errorf("report:\n%s\nPython wrote\n%s", got, want)
			}
			// the Python program's own print follows what the modules printed
			if !strings.HasSuffix(printed, stdout.String()) {
				t.Errorf("printed %q, Python %q", stdout.String(), printed)
			}
		})
	}
	_ = site
}

// TestVerify checks python-verify's report field by field.
func TestVerify(t *testing.T) {
	venv, site, app := verifyFixture(t)
	report := filepath.Join(t.TempDir(), "report.json")
	var stdout bytes.Buffer
	if err := Verify([]string{report, venv, app, "/usr/bin", "uvicorn"}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(report)
	var r helper.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	ext := func(p string) string { return site + "/" + p }
	want := helper.Report{
		Python:     pythonVersion(t, venv),
		ELFObjects: 2,
		Modules:    6, // badpkg, exits, goodpkg, native, needslib, onemod
		Errors: []helper.Problem{
			{Kind: "entrypoint", Program: "uvicorn", Path: "/usr/bin", Scripts: []string{"flask"}},
			{Kind: "library", Object: "/bin/prog", Missing: []string{"libdistillgone.so"}},
			{Kind: "library", Object: ext("needslib/_ext.cpython-311-x86_64-linux-gnu.so"), Missing: []string{"libdistillgone.so"}},
			{Kind: "import", Distribution: "badpkg", Module: "badpkg", Error: "RuntimeError: boom " + strings.Repeat("x", 395)},
			{Kind: "import", Distribution: "exits", Module: "exits", Error: "SystemExit: 3"},
			{Kind: "import", Distribution: "onemod", Module: "native", Error: "ImportError: " + elfError(ext("native.cpython-311-x86_64-linux-gnu.so"))},
		},
		Warnings: []helper.Problem{
			{Kind: "fallback", Module: "goodpkg._speed", Package: "goodpkg", Error: elfError(ext("goodpkg/_speed.cpython-311-x86_64-linux-gnu.so"))},
			// goodpkg/sub is a namespace package: it imports
			{Kind: "fallback", Module: "goodpkg.sub._inner", Package: "goodpkg", Error: elfError(ext("goodpkg/sub/_inner.cpython-311-x86_64-linux-gnu.so"))},
		},
	}
	if app > venv {
		want.Errors[1], want.Errors[2] = want.Errors[2], want.Errors[1]
	}
	if r.Python == "" || !reflect.DeepEqual(r, want) {
		t.Errorf("report %+v\nwant   %+v", r, want)
	}
	if line := "verified: 6 modules, 2 ELF objects, 6 errors, 2 warnings\n"; stdout.String() != line {
		t.Errorf("printed %q, want %q", stdout.String(), line)
	}
}

// TestVerifyProbeDies: an import that kills the interpreter is reported
// on the module that did it, where the Python program wrote no report.
func TestVerifyProbeDies(t *testing.T) {
	venv, site := makeVenv(t)
	writeFile(t, site+"/a_ok-1.0.dist-info/top_level.txt", "a_ok\n", 0o644)
	writeFile(t, site+"/a_ok.py", "", 0o644)
	writeFile(t, site+"/b_dies-1.0.dist-info/top_level.txt", "b_dies\n", 0o644)
	writeFile(t, site+"/b_dies.py", "import os\nos._exit(9)\n", 0o644)
	writeFile(t, site+"/c_later-1.0.dist-info/top_level.txt", "c_later\n", 0o644)
	writeFile(t, site+"/c_later.py", "", 0o644)
	report := filepath.Join(t.TempDir(), "report.json")
	if err := Verify([]string{report, venv, t.TempDir(), "/usr/bin"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(report)
	var r helper.Report
	json.Unmarshal(raw, &r)
	want := []helper.Problem{{Kind: "import", Distribution: "b_dies", Module: "b_dies", Error: "the interpreter died importing it (command [\"" + venv + "/bin/python\" \"-I\" \"-c\" ...] returned non-zero exit status 9); the 1 imports after it were not tried"}}
	if len(r.Errors) != 1 || r.Errors[0].Module != "b_dies" || !strings.Contains(r.Errors[0].Error, "exit status 9") || !strings.HasSuffix(r.Errors[0].Error, "; the 1 imports after it were not tried") || r.Modules != 3 || r.Python == "" {
		t.Errorf("report %s\nwant errors like %+v", raw, want)
	}

	// an interpreter that does not run at all
	os.Remove(venv + "/bin/python")
	writeFile(t, venv+"/bin/python", "#!/bin/sh\nexit 1\n", 0o755)
	if err := Verify([]string{report, venv, t.TempDir(), "/usr/bin"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(report)
	r = helper.Report{}
	json.Unmarshal(raw, &r)
	if len(r.Errors) != 1 || r.Errors[0].Kind != "import-probe" || !strings.Contains(r.Errors[0].Error, "exit status 1") {
		t.Errorf("report %s", raw)
	}
}

func pythonVersion(t *testing.T, venv string) string {
	t.Helper()
	return strings.TrimSpace(runPythonCode(t, venv+"/bin/python", `import sys; print("%d.%d.%d" % sys.version_info[:3])`))
}

// elfError is the interpreter's ImportError text for a short file that
// is not ELF.
func elfError(p string) string {
	return p + ": file too short"
}
