package helper

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Report is the start-up verification's result, as the frontend reads it
// (llb.Report).
type Report struct {
	Python     string    `json:"python"`
	ELFObjects int       `json:"elf_objects"`
	Modules    int       `json:"modules"`
	Errors     []Problem `json:"errors"`
	Warnings   []Problem `json:"warnings"`
}

// Problem is one problem found; which fields are set depends on Kind
// (llb.ReportProblem).
type Problem struct {
	Kind         string   `json:"kind"`
	Program      string   `json:"program,omitempty"`
	Path         string   `json:"path,omitempty"`
	Scripts      []string `json:"scripts,omitempty"`
	File         string   `json:"file,omitempty"`
	Interpreter  string   `json:"interpreter,omitempty"`
	Builder      string   `json:"builder,omitempty"`
	Runtime      string   `json:"runtime,omitempty"`
	Object       string   `json:"object,omitempty"`
	Missing      []string `json:"missing,omitempty"`
	Distribution string   `json:"distribution,omitempty"`
	Module       string   `json:"module,omitempty"`
	Package      string   `json:"package,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// WriteReport writes r to path as the Python verification did: indented
// by one space, keys sorted, errors and warnings lists even when empty.
func WriteReport(path string, r *Report) error {
	if r.Errors == nil {
		r.Errors = []Problem{}
	}
	if r.Warnings == nil {
		r.Warnings = []Problem{}
	}
	dt, err := json.Marshal(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(dt))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(PyJSON(v, 1)), 0o666)
}

// ResolveProgram is the file the entrypoint's program prog is: a path
// with a slash (relative ones in appDir), else the first directory of
// path (a PATH value) that has it; "" when none has.
func ResolveProgram(appDir, path, prog string) string {
	if strings.Contains(prog, "/") {
		cand := prog
		if !strings.HasPrefix(prog, "/") {
			cand = Join(appDir, prog)
		}
		if Exists(cand) {
			return cand
		}
		return ""
	}
	for _, d := range strings.Split(path, ":") {
		if d != "" && Exists(Join(d, prog)) {
			return Join(d, prog)
		}
	}
	return ""
}

// executable is os.access(p, os.X_OK) for the process's user.
func executable(p string) bool {
	return syscall.Access(p, 1) == nil
}

// CheckEntrypoint checks that the entrypoint's program resolves on path
// (or as a path, relative ones in appDir) and is executable, and so is
// its #! interpreter. When it does not resolve, the problem lists the
// programs scriptsDir has (a venv's bin, less its interpreters and
// activation scripts); scriptsDir "" lists none.
func CheckEntrypoint(appDir, path string, entry []string, scriptsDir string) []Problem {
	if len(entry) == 0 || entry[0] == "" {
		return nil
	}
	prog := entry[0]
	found := ResolveProgram(appDir, path, prog)
	switch {
	case found == "":
		scripts := []string{}
		if scriptsDir != "" {
			entries, _ := os.ReadDir(scriptsDir)
			for _, e := range entries {
				n := e.Name()
				if !strings.HasPrefix(n, "python") && !strings.HasPrefix(n, "activate") && !strings.HasPrefix(n, "Activate") {
					scripts = append(scripts, n)
				}
			}
			slices.Sort(scripts)
		}
		return []Problem{{Kind: "entrypoint", Program: prog, Path: path, Scripts: scripts}}
	case !executable(found) || IsDir(found):
		return []Problem{{Kind: "entrypoint-exec", Program: prog, File: found}}
	}
	// a file the user may run but not read: its #! line cannot be checked
	f, err := os.Open(found)
	if err != nil {
		return nil
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if !bytes.HasPrefix(head, []byte("#!")) {
		return nil
	}
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	interp := bytes.Fields(line)
	if len(interp) > 0 {
		name := decodeText(interp[0])
		if !executable(name) {
			return []Problem{{Kind: "entrypoint-interpreter", Program: prog, File: found, Interpreter: name}}
		}
	}
	return nil
}

// ELFInterpreter is the program interpreter (PT_INTERP: the dynamic
// loader) an ELF file names; "" for a static one. A file that is not ELF
// is an error.
func ELFInterpreter(file string) (string, error) {
	f, err := elf.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			dt, err := io.ReadAll(p.Open())
			if err != nil {
				return "", fmt.Errorf("%s: PT_INTERP: %w", file, err)
			}
			return string(bytes.TrimRight(dt, "\x00")), nil
		}
	}
	return "", nil
}

func isELF(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && string(magic) == "\x7fELF"
}

// LoaderTimeout bounds one object's library check.
const LoaderTimeout = 30 * time.Second

// CheckLibraries asks the dynamic loader whether every ELF object under
// tops (a file with ".so" in its name or executable, not a link) finds
// its libraries, the way ldd does: the loader run as LOADER OBJECT with
// LD_TRACE_LOADED_OBJECTS=1 lists what it would load and marks every
// library (or symbol version) it cannot find, where --list would stop at
// the first. Only LD_LIBRARY_PATH of the environment is passed on. An
// object under appDir is named relative to it ("/lib/x.so"). checked is
// the number of objects asked about, flagged the ones missing something,
// sorted. An empty loader checks nothing.
func CheckLibraries(loader string, tops []string, appDir string) (checked int, problems []Problem, flagged []string) {
	if loader == "" {
		return 0, nil, nil
	}
	var objs []string
	for _, top := range tops {
		Walk(top, func(root string, dirs, files []string) {
			for _, f := range files {
				p := filepath.Join(root, f)
				fi, err := os.Lstat(p)
				if err != nil || !fi.Mode().IsRegular() {
					continue
				}
				if (strings.Contains(f, ".so") || executable(p)) && isELF(p) {
					objs = append(objs, p)
				}
			}
		})
	}
	slices.Sort(objs)
	env := []string{"LD_TRACE_LOADED_OBJECTS=1", "LD_LIBRARY_PATH=" + os.Getenv("LD_LIBRARY_PATH")}
	for _, p := range objs {
		checked++
		var out, errOut bytes.Buffer
		// a loader that fails or hangs says what it says before that
		_ = Proc{Argv: []string{loader, p}, Env: env, OnlyEnv: true, Stdout: &out, Stderr: &errOut, Timeout: LoaderTimeout}.Run()
		missing := MissingLibraries(decodeText(out.Bytes()) + decodeText(errOut.Bytes()))
		if len(missing) > 0 {
			flagged = append(flagged, p)
			shown := p
			if strings.HasPrefix(p, appDir+"/") {
				shown = p[len(appDir):]
			}
			problems = append(problems, Problem{Kind: "library", Object: shown, Missing: missing})
		}
	}
	return checked, problems, flagged
}

// MissingLibraries are the libraries and symbol versions the dynamic
// loader's trace output says it cannot find.
func MissingLibraries(output string) []string {
	var missing []string
	const loadErr = "error while loading shared libraries: "
	for _, line := range SplitLines(output) {
		line = Strip(line)
		switch {
		case strings.Contains(line, "=> not found"):
			missing = append(missing, Fields(line)[0])
		case strings.Contains(line, "version") && strings.Contains(line, "not found"):
			if _, after, ok := strings.Cut(line, ": "); ok {
				missing = append(missing, after)
			} else {
				missing = append(missing, line)
			}
		case strings.Contains(line, loadErr):
			_, after, _ := strings.Cut(line, loadErr)
			lib, _, _ := strings.Cut(after, ":")
			missing = append(missing, lib)
		}
	}
	return missing
}

const verifyUsage = "REPORT APP_DIR PATH ENTRYPOINT..."

// Verify is the start-up verification of an image whose language has no
// interpreter (a static binary):
//
//	verify REPORT APP_DIR PATH ENTRYPOINT...
//
// It checks the entrypoint (CheckEntrypoint) and, when its program is a
// dynamic ELF, the libraries of the ELF objects under APP_DIR, asked of
// that program's own loader (CheckLibraries). It writes REPORT and
// succeeds whatever it found: the frontend turns each problem into a
// message at the spec line it concerns.
func Verify(args []string, stdout, stderr io.Writer) error {
	if len(args) < 3 {
		return usage("verify", verifyUsage)
	}
	reportPath, appDir, path, entry := args[0], args[1], args[2], args[3:]
	r := &Report{}
	r.Errors = append(r.Errors, CheckEntrypoint(appDir, path, entry, "")...)
	loader := ""
	if len(entry) > 0 {
		if prog := ResolveProgram(appDir, path, entry[0]); prog != "" {
			if real, err := filepath.EvalSymlinks(prog); err == nil {
				loader, _ = ELFInterpreter(real)
			}
		}
	}
	if loader != "" && !executable(loader) {
		// a dynamic program on a runtime without its loader (no C library:
		// distroless static) fails to start with "no such file or
		// directory"; no loader can be asked about its libraries either
		r.Errors = append(r.Errors, Problem{Kind: "loader", Program: entry[0], Interpreter: loader})
		loader = ""
	}
	checked, problems, _ := CheckLibraries(loader, []string{appDir}, appDir)
	r.ELFObjects = checked
	r.Errors = append(r.Errors, problems...)
	if err := WriteReport(reportPath, r); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "verified: %d ELF objects, %d errors, %d warnings\n", checked, len(r.Errors), len(r.Warnings))
	return nil
}
