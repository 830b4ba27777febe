package pyhelper

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distill-build/distill/helper"
)

// pycFlags is the flags word of a .pyc header (PEP 552): 1 is an
// unchecked hash-based .pyc.
func pycFlags(t *testing.T, pyc string) uint32 {
	t.Helper()
	dt, err := os.ReadFile(pyc)
	if err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint32(dt[4:8])
}

func TestFinalizeVenv(t *testing.T) {
	venv, site := makeVenv(t)
	dist := func(name string, record []string, extra ...string) {
		t.Helper()
		for _, f := range append(slices.Clone(record), extra...) {
			if strings.Contains(f, ".dist-info/") {
				continue
			}
			writeFile(t, filepath.Join(site, f), "# "+f+"\n", 0o644)
		}
		var lines []string
		for _, f := range record {
			lines = append(lines, f+",sha256=abc,12")
		}
		writeFile(t, site+"/"+name+".dist-info/METADATA", "Name: x\n", 0o644)
		writeFile(t, site+"/"+name+".dist-info/RECORD", strings.Join(append(lines, name+".dist-info/RECORD,,"), "\n")+"\n", 0o644)
	}
	dist("pip-23.2.1", []string{"../../../bin/pip", "../../../bin/pip3", "../../../bin/pip3.11", "pip/__init__.py", "pip/_internal/__init__.py", "pip/_internal/cli/main.py", "pip/__pycache__/__init__.cpython-311.pyc"},
		"pip/_internal/__pycache__/__init__.cpython-311.pyc") // not recorded: removed with its source
	dist("setuptools-65.5.0", []string{"distutils-precedence.pth", "_distutils_hack/__init__.py", "setuptools/__init__.py", "setuptools/_vendor/x/y.py", "pkg_resources/__init__.py"})
	dist("wheel-0.41.2", []string{"../../../bin/wheel", "wheel/__init__.py"})
	dist("pip_audit-2.6.1", []string{"pip_audit/__init__.py"})
	dist("requests-2.31.0", []string{"requests/__init__.py", "requests/py2.py"})
	writeFile(t, site+"/requests/__init__.py", "VERSION = 1\n", 0o666)
	writeFile(t, site+"/requests/py2.py", "print 'py2'\n", 0o644) // does not compile: tolerated
	writeFile(t, venv+"/bin/easy_install-3.11", "", 0o755)
	// a RECORD pointing outside the venv is not followed there
	outside := filepath.Join(t.TempDir(), "keep.txt")
	writeFile(t, outside, "", 0o644)
	rec, _ := os.ReadFile(site + "/wheel-0.41.2.dist-info/RECORD")
	writeFile(t, site+"/wheel-0.41.2.dist-info/RECORD", string(rec)+outside+",,\n", 0o644)

	if err := Finalize([]string{venv, "venv"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var left []string
	filepath.Walk(venv, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p, venv)
		if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s keeps write bits: %v", rel, fi.Mode())
		}
		if !fi.IsDir() {
			left = append(left, strings.Replace(rel, site, "/SITE", 1))
		}
		return nil
	})
	sitePrefix := strings.TrimPrefix(site, venv)
	for i, p := range left {
		left[i] = strings.Replace(p, sitePrefix, "/SITE", 1)
	}
	want := []string{
		"/SITE/pip_audit-2.6.1.dist-info/METADATA", "/SITE/pip_audit-2.6.1.dist-info/RECORD",
		"/SITE/pip_audit/__init__.py", "/SITE/pip_audit/__pycache__/__init__.cpython-311.pyc",
		"/SITE/requests-2.31.0.dist-info/METADATA", "/SITE/requests-2.31.0.dist-info/RECORD",
		"/SITE/requests/__init__.py", "/SITE/requests/__pycache__/__init__.cpython-311.pyc", "/SITE/requests/py2.py",
	}
	var got []string
	for _, p := range left {
		if strings.HasPrefix(p, "/SITE/") {
			got = append(got, p)
		} else if strings.HasPrefix(p, "/bin/") && !slices.Contains([]string{"python", "python3", "python3.11"}, filepath.Base(p)) && !strings.HasPrefix(filepath.Base(p), "activate") && !strings.HasPrefix(filepath.Base(p), "Activate") {
			t.Errorf("left in bin: %s", p)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("site-packages has\n%q\nwant\n%q", got, want)
	}
	for _, d := range []string{"pip", "setuptools", "_distutils_hack", "pkg_resources", "wheel"} {
		if helper.Lexists(filepath.Join(site, d)) {
			t.Errorf("%s left", d)
		}
	}
	if !helper.Exists(venv+"/bin/python") || !helper.Exists(outside) {
		t.Error("removed what is not the tools'")
	}
	if f := pycFlags(t, site+"/requests/__pycache__/__init__.cpython-311.pyc"); f != 1 {
		t.Errorf("pyc flags %d, want 1 (unchecked-hash)", f)
	}
	if fi, _ := os.Stat(site + "/requests/__init__.py"); fi.Mode().Perm() != 0o644 {
		t.Errorf("requests/__init__.py mode %v", fi.Mode())
	}
}

func TestFinalizeAppAndProject(t *testing.T) {
	venv, site := makeVenv(t)
	app := t.TempDir()
	writeFile(t, app+"/main.py", "print('hi')\n", 0o664)
	writeFile(t, app+"/pkg/mod.py", "X = 1\n", 0o666)
	os.Chmod(app+"/pkg", 0o777)
	writeFile(t, site+"/my_project-1.0.dist-info/RECORD", "myproject/__init__.py,sha256=x,1\nmyproject/data.txt,,\n../../../bin/myproject,,\nmy_project-1.0.dist-info/RECORD,,\n", 0o664)
	writeFile(t, site+"/myproject/__init__.py", "A = 1\n", 0o664)
	writeFile(t, site+"/myproject/data.txt", "", 0o666)
	writeFile(t, venv+"/bin/myproject", "#!/x\n", 0o775)
	writeFile(t, site+"/other/__init__.py", "", 0o664)

	if err := Finalize([]string{venv, "project=My.Project", app}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{
		app + "/main.py": 0o644, app + "/pkg/mod.py": 0o644, app + "/pkg": 0o755,
		site + "/myproject/__init__.py": 0o644, site + "/myproject/data.txt": 0o644, venv + "/bin/myproject": 0o755,
		site + "/myproject/__pycache__/__init__.cpython-311.pyc": 0o644,
		site + "/other/__init__.py":                              0o664, // not the project's
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&^0o200 != mode&^0o200 || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), mode)
		}
	}
	for _, pyc := range []string{app + "/__pycache__/main.cpython-311.pyc", app + "/pkg/__pycache__/mod.cpython-311.pyc", site + "/myproject/__pycache__/__init__.cpython-311.pyc"} {
		if f := pycFlags(t, pyc); f != 1 {
			t.Errorf("%s: flags %d, want 1 (unchecked-hash)", pyc, f)
		}
	}
	if helper.Exists(site + "/other/__pycache__") {
		t.Error("compiled what is not the project's")
	}

	// the app's sources must compile; a project must be installed
	bad := t.TempDir()
	writeFile(t, bad+"/broken.py", "def (:\n", 0o644)
	if err := Finalize([]string{venv, bad}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "returned non-zero exit status 1") {
		t.Errorf("an app that does not compile: %v", err)
	}
	err := Finalize([]string{venv, "project=absent"}, io.Discard, io.Discard)
	if want := "project absent is not installed in " + venv + " (no dist-info RECORD)"; err == nil || err.Error() != want {
		t.Errorf("absent project: %v, want %s", err, want)
	}
}

func TestProjectFiles(t *testing.T) {
	venv := t.TempDir()
	site := venv + "/lib/python3.12/site-packages"
	writeFile(t, site+"/My_Project-1.0.dist-info/RECORD", "my_project/__init__.py,sha256=abc,10\nmy_project/a,b.py,sha256=abc,10\n\n../../../bin/serve,,\n/abs/file.py,,\nnocomma.py\n", 0o644)
	writeFile(t, site+"/my_project_extra-2.0.dist-info/RECORD", "extra.py,,\n", 0o644)
	want := []string{site + "/my_project/__init__.py", site + "/my_project/a,b.py", venv + "/bin/serve", "/abs/file.py", site + "/nocomma.py"}
	for _, name := range []string{"my-project", "My.Project", "MY_PROJECT", "my_project"} {
		got, err := projectFiles(venv, name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("projectFiles(%s) = %q, %v\nwant %q", name, got, err, want)
		}
	}
	if got, err := projectFiles(venv, "my-project-extra"); err != nil || !slices.Equal(got, []string{site + "/extra.py"}) {
		t.Errorf("projectFiles(my-project-extra) = %q, %v", got, err)
	}
	for _, name := range []string{"myproject", "my-project-1.0", "extra"} {
		if _, err := projectFiles(venv, name); err == nil {
			t.Errorf("projectFiles(%s) found one", name)
		}
	}
}
