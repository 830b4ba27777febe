package helper

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// elfFixtures builds, with gcc, a program and a shared object that both
// need libdistillgone.so, which is then removed, and a static program.
func elfFixtures(t *testing.T) (missingProg, missingSO, static string) {
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
	writeFile(t, dir+"/start.c", "void _start(void) { for (;;) ; }\n", 0o644)
	gcc("-shared", "-fPIC", "-o", dir+"/libdistillgone.so", dir+"/gone.c")
	gcc("-o", dir+"/prog", dir+"/main.c", "-L"+dir, "-ldistillgone")
	gcc("-shared", "-fPIC", "-o", dir+"/ext.so", dir+"/ext.c", "-L"+dir, "-ldistillgone")
	gcc("-nostdlib", "-static", "-o", dir+"/static", dir+"/start.c")
	if err := os.Remove(dir + "/libdistillgone.so"); err != nil {
		t.Fatal(err)
	}
	return dir + "/prog", dir + "/ext.so", dir + "/static"
}

func TestELFInterpreter(t *testing.T) {
	_, _, static := elfFixtures(t)
	loader, err := ELFInterpreter("/bin/ls")
	if err != nil || !strings.HasPrefix(loader, "/") || strings.Contains(loader, "\x00") || !Exists(loader) {
		t.Errorf("ELFInterpreter(/bin/ls) = %q, %v; want the dynamic loader's path", loader, err)
	}
	if got, err := ELFInterpreter(static); got != "" || err != nil {
		t.Errorf("ELFInterpreter(static) = %q, %v; want none", got, err)
	}
	text := filepath.Join(t.TempDir(), "script")
	writeFile(t, text, "#!/bin/sh\n", 0o755)
	if _, err := ELFInterpreter(text); err == nil {
		t.Error("ELFInterpreter of a script did not fail")
	}
}

func TestCheckLibraries(t *testing.T) {
	prog, so, static := elfFixtures(t)
	loader, err := ELFInterpreter("/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	app, venv := t.TempDir(), t.TempDir()
	copyTo := func(src, dst string, mode os.FileMode) {
		t.Helper()
		dt, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dst, string(dt), mode)
	}
	copyTo("/bin/ls", app+"/bin/ls", 0o755)
	copyTo(prog, app+"/bin/prog", 0o755)
	copyTo(static, app+"/bin/static", 0o755)
	copyTo(so, venv+"/lib/python3.11/site-packages/pkg/_ext.cpython-311-x86_64-linux-gnu.so", 0o644)
	copyTo(so, app+"/lib/notes.txt", 0o644)              // neither .so nor executable: not an object
	writeFile(t, app+"/lib/fake.so", "not ELF", 0o644)   // not ELF
	writeFile(t, app+"/run.sh", "#!/bin/sh\n", 0o755)    // not ELF
	os.Symlink(app+"/bin/prog", app+"/bin/link-to-prog") // links are not objects

	checked, problems, flagged := CheckLibraries(loader, []string{venv, app}, app)
	wantProblems := []Problem{
		{Kind: "library", Object: "/bin/prog", Missing: []string{"libdistillgone.so"}},
		{Kind: "library", Object: venv + "/lib/python3.11/site-packages/pkg/_ext.cpython-311-x86_64-linux-gnu.so", Missing: []string{"libdistillgone.so"}},
	}
	if app > venv {
		wantProblems[0], wantProblems[1] = wantProblems[1], wantProblems[0]
	}
	wantFlagged := []string{app + "/bin/prog", venv + "/lib/python3.11/site-packages/pkg/_ext.cpython-311-x86_64-linux-gnu.so"}
	if app > venv {
		wantFlagged[0], wantFlagged[1] = wantFlagged[1], wantFlagged[0]
	}
	// ls, prog, static and the extension
	if checked != 4 || !reflect.DeepEqual(problems, wantProblems) || !reflect.DeepEqual(flagged, wantFlagged) {
		t.Errorf("CheckLibraries = %d, %+v, %q\nwant 4, %+v, %q", checked, problems, flagged, wantProblems, wantFlagged)
	}
	if checked, problems, _ := CheckLibraries("", []string{app}, app); checked != 0 || problems != nil {
		t.Errorf("no loader: %d %v", checked, problems)
	}
}

func TestMissingLibraries(t *testing.T) {
	out := "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibpq.so.5 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n" +
		"/opt/venv/x.so: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /opt/venv/x.so)\n" +
		"python: error while loading shared libraries: libz.so.1: cannot open shared object file: No such file or directory\n"
	want := []string{"libpq.so.5", "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /opt/venv/x.so)", "libz.so.1"}
	if got := MissingLibraries(out); !reflect.DeepEqual(got, want) {
		t.Errorf("MissingLibraries = %q, want %q", got, want)
	}
}

func TestCheckEntrypoint(t *testing.T) {
	dir := t.TempDir()
	app, bin, venvBin := dir+"/app", dir+"/bin", dir+"/venv/bin"
	writeFile(t, bin+"/gunicorn", "#!"+dir+"/venv/bin/python\n", 0o755)
	writeFile(t, dir+"/venv/bin/python", "", 0o755)
	writeFile(t, bin+"/noexec", "", 0o644)
	writeFile(t, bin+"/shell", "#!/bin/distill-no-such-shell -e\nexit 0\n", 0o755)
	writeFile(t, bin+"/crlf", "#!"+dir+"/venv/bin/python\r\n", 0o755)
	writeFile(t, app+"/serve.py", "print()\n", 0o644)
	writeFile(t, app+"/run", "\x7fELF", 0o755)
	os.MkdirAll(bin+"/adir", 0o755)
	for _, f := range []string{"python", "python3", "activate", "Activate.ps1", "uvicorn", "flask"} {
		writeFile(t, venvBin+"/"+f, "", 0o755)
	}
	path := "/nonexistent:" + bin
	for _, tc := range []struct {
		entry []string
		want  []Problem
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{"gunicorn", "app:app"}, nil},
		{[]string{"./run"}, nil},
		{[]string{"uvicorn"}, []Problem{{Kind: "entrypoint", Program: "uvicorn", Path: path, Scripts: []string{"flask", "uvicorn"}}}},
		{[]string{"./missing.py"}, []Problem{{Kind: "entrypoint", Program: "./missing.py", Path: path, Scripts: []string{"flask", "uvicorn"}}}},
		{[]string{"/usr/bin/distill-absent"}, []Problem{{Kind: "entrypoint", Program: "/usr/bin/distill-absent", Path: path, Scripts: []string{"flask", "uvicorn"}}}},
		{[]string{"noexec"}, []Problem{{Kind: "entrypoint-exec", Program: "noexec", File: bin + "/noexec"}}},
		{[]string{"serve.py"}, []Problem{{Kind: "entrypoint", Program: "serve.py", Path: path, Scripts: []string{"flask", "uvicorn"}}}},
		{[]string{"./serve.py"}, []Problem{{Kind: "entrypoint-exec", Program: "./serve.py", File: app + "/./serve.py"}}}, // os.path.join keeps the ./
		{[]string{"adir"}, []Problem{{Kind: "entrypoint-exec", Program: "adir", File: bin + "/adir"}}},
		{[]string{"shell"}, []Problem{{Kind: "entrypoint-interpreter", Program: "shell", File: bin + "/shell", Interpreter: "/bin/distill-no-such-shell"}}},
		{[]string{"crlf"}, nil},
	} {
		got := CheckEntrypoint(app, path, tc.entry, venvBin)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CheckEntrypoint(%q) = %+v\nwant %+v", tc.entry, got, tc.want)
		}
	}
	// without a scripts directory the list is empty
	if got := CheckEntrypoint(app, path, []string{"nope"}, ""); len(got) != 1 || len(got[0].Scripts) != 0 {
		t.Errorf("no scripts dir: %+v", got)
	}
}

func TestVerify(t *testing.T) {
	prog, _, static := elfFixtures(t)
	for _, tc := range []struct {
		name   string
		binary string
		want   Report
		line   string
	}{
		{"dynamic", prog, Report{ELFObjects: 1, Errors: []Problem{{Kind: "library", Object: "/server", Missing: []string{"libdistillgone.so"}}}, Warnings: []Problem{}}, "verified: 1 ELF objects, 1 errors, 0 warnings\n"},
		{"static", static, Report{Errors: []Problem{}, Warnings: []Problem{}}, "verified: 0 ELF objects, 0 errors, 0 warnings\n"},
		{"no loader", noLoader(t), Report{Errors: []Problem{{Kind: "loader", Program: "./server", Interpreter: "/nonexistent/ld-distill.so.2"}}, Warnings: []Problem{}}, "verified: 0 ELF objects, 1 errors, 0 warnings\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := t.TempDir()
			dt, _ := os.ReadFile(tc.binary)
			writeFile(t, app+"/server", string(dt), 0o755)
			report := filepath.Join(t.TempDir(), "report.json")
			var stdout bytes.Buffer
			if err := Verify([]string{report, app, "/usr/bin", "./server", "--port", "80"}, &stdout, io.Discard); err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(report)
			var got Report
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) || stdout.String() != tc.line {
				t.Errorf("report %s (%+v), printed %q\nwant %+v, %q", raw, got, stdout.String(), tc.want, tc.line)
			}
		})
	}
	// a missing entrypoint is a problem in the report, not a failure
	report := filepath.Join(t.TempDir(), "report.json")
	if err := Verify([]string{report, t.TempDir(), "/nonexistent", "server"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(report)
	want := "{\n \"elf_objects\": 0,\n \"errors\": [\n  {\n   \"kind\": \"entrypoint\",\n   \"path\": \"/nonexistent\",\n   \"program\": \"server\"\n  }\n ],\n \"modules\": 0,\n \"python\": \"\",\n \"warnings\": []\n}"
	if string(raw) != want {
		t.Errorf("report:\n%s\nwant\n%s", raw, want)
	}
}

// noLoader builds, with gcc, a dynamic program whose loader (PT_INTERP) does
// not exist: a dynamic binary on a runtime without a C library.
func noLoader(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir+"/main.c", "int main(void) { return 0; }\n", 0o644)
	if out, err := exec.Command("gcc", "-Wl,--dynamic-linker=/nonexistent/ld-distill.so.2", "-o", dir+"/prog", dir+"/main.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return dir + "/prog"
}
