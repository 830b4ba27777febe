// Package bedenv is the format of the test bed's environment file,
// $DISTILL_WORK/testbed.json: the one description of a running test bed
// that the demo, the end-to-end tests, the benchmarks and a person's shell
// all share. The test bed (integration/cmd/testbed) writes it on `up`;
// readers take the variables from it without running anything.
package bedenv

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FileName is the environment file's name inside $DISTILL_WORK.
const FileName = "testbed.json"

// Path is the environment file of the work directory work.
func Path(work string) string { return filepath.Join(work, FileName) }

// Env is the content of the environment file.
type Env struct {
	// Vars are the variables to export, without PATH (BUILDKIT_HOST,
	// DOCKER_CONFIG, DISTILL_WORK, DISTILL_REGISTRY, DISTILL_INDEX_URL ...).
	Vars map[string]string `json:"env"`
	// Path lists directories to put in front of the caller's PATH (the test
	// bed's tools: buildkitd, buildctl, crane, buildx).
	Path []string `json:"path,omitempty"`
	// Services are the test bed's daemons when the file was written: a
	// record for people and tools, not a liveness guarantee.
	Services []Service `json:"services,omitempty"`
}

// Service describes one daemon of the test bed.
type Service struct {
	Name string `json:"name"`
	// Addr is what clients connect to (host:port or unix://path).
	Addr string `json:"addr"`
	PID  int    `json:"pid,omitempty"`
	Log  string `json:"log,omitempty"`
}

// Read reads and checks an environment file.
func Read(path string) (*Env, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var e Env
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for k := range e.Vars {
		if !isName(k) || k == "PATH" {
			return nil, fmt.Errorf("%s: %q is not a variable the test bed exports", path, k)
		}
	}
	return &e, nil
}

// Write writes e to path atomically (a reader never sees half a file).
func Write(path string, e *Env) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Get returns one variable; for PATH, the test bed's directories in front
// of getenv("PATH").
func (e *Env) Get(key string, getenv func(string) string) string {
	if key == "PATH" {
		return e.pathValue(getenv("PATH"))
	}
	return e.Vars[key]
}

func (e *Env) pathValue(old string) string {
	p := strings.Join(e.Path, string(os.PathListSeparator))
	switch {
	case p == "":
		return old
	case old == "":
		return p
	}
	return p + string(os.PathListSeparator) + old
}

// Environ is the variables as KEY=VALUE, sorted, PATH last (computed from
// getenv("PATH")).
func (e *Env) Environ(getenv func(string) string) []string {
	var out []string
	for _, k := range e.keys() {
		out = append(out, k+"="+e.Vars[k])
	}
	if len(e.Path) > 0 {
		out = append(out, "PATH="+e.pathValue(getenv("PATH")))
	}
	return out
}

// Setenv exports the variables into this process (PATH prefixed).
func (e *Env) Setenv() error {
	for _, kv := range e.Environ(os.Getenv) {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Shell renders the variables as `export KEY=VALUE` lines for a POSIX
// shell (eval "$(testbed env)"); PATH last, in front of the shell's own.
func (e *Env) Shell() string {
	var b strings.Builder
	for _, k := range e.keys() {
		fmt.Fprintf(&b, "export %s=%s\n", k, ShellQuote(e.Vars[k]))
	}
	if len(e.Path) > 0 {
		fmt.Fprintf(&b, "export PATH=%s:\"$PATH\"\n", ShellQuote(strings.Join(e.Path, ":")))
	}
	return b.String()
}

func (e *Env) keys() []string {
	keys := make([]string, 0, len(e.Vars))
	for k := range e.Vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ShellQuote quotes s as one word for a POSIX shell: as is when it holds
// only characters no shell treats specially, else in single quotes, each
// ' written as '\” (close, escaped quote, reopen). Inside single quotes
// nothing is special, newlines included, so every string without a NUL
// byte comes back unchanged.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,/:@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
