// Package helper holds the steps distill runs inside build containers, in
// Go instead of Python: distill's own static binary is mounted read-only
// into a step's container and run as
//
//	/run/distill/helper/distill helper COMMAND ARG...
//
// so a step needs nothing of the image it runs in (a builder, a distroless
// runtime, scratch). Inputs arrive as argv, never through a shell, and
// nothing from the spec is ever code.
//
// This package has the language-neutral commands (prepare, apt,
// runtime-packages, sbom, verify) and the building blocks a language's own
// commands use (the entrypoint and shared-library checks, the report
// types, Python-compatible text handling where an output must stay byte
// for byte what the Python programs wrote). A language registers its
// commands and SBOM inventories from its own package
// (lang/python/pyhelper).
package helper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Command is one helper command: args are its arguments (without the
// command's name). An error is printed to stderr as it is and makes the
// process exit 1.
type Command func(args []string, stdout, stderr io.Writer) error

// Main runs the command args[0] of cmds with the rest of args and returns
// the process's exit status.
func Main(args []string, cmds map[string]Command, stdout, stderr io.Writer) int {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(args) == 0 {
		fmt.Fprintf(stderr, "distill helper: a command is needed, one of: %s\n", strings.Join(names, ", "))
		return 1
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "distill helper: unknown command %q; the commands are: %s\n", args[0], strings.Join(names, ", "))
		return 1
	}
	if err := cmd(args[1:], stdout, stderr); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// Commands are the language-neutral commands. Their sbom knows only the OS
// packages: a caller adds languages' inventories with SBOM.
func Commands() map[string]Command {
	return map[string]Command{
		"prepare":          Prepare,
		"apt":              Apt,
		"runtime-packages": RuntimePackages,
		"sbom":             SBOM(nil),
		"verify":           Verify,
		"permissions":      Permissions,
	}
}

// usage is the error for a command given the wrong arguments.
func usage(cmd, argv string) error {
	return fmt.Errorf("distill helper %s: usage: %s %s", cmd, cmd, argv)
}

// Proc is one program to run: argv is never given to a shell.
type Proc struct {
	Argv   []string
	Env    []string // added to the environment (later wins)
	Dir    string
	Stdin  io.Reader
	Stdout io.Writer // nil: discarded
	Stderr io.Writer // nil: discarded
	// Timeout kills the program after this long (0: none).
	Timeout time.Duration
	// OnlyEnv makes Env the whole environment.
	OnlyEnv bool
}

// Run runs p and fails, like Python's subprocess.run(check=True), when it
// does not exit 0.
func (p Proc) Run() error {
	ctx := context.Background()
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	c := exec.CommandContext(ctx, p.Argv[0], p.Argv[1:]...)
	c.Dir = p.Dir
	c.Stdin = p.Stdin
	c.Stdout, c.Stderr = p.Stdout, p.Stderr
	c.WaitDelay = time.Second
	switch {
	case p.OnlyEnv:
		c.Env = append([]string{}, p.Env...)
	case p.Env != nil:
		c.Env = append(os.Environ(), p.Env...)
	}
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("command %q timed out after %s", p.Argv, p.Timeout)
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Errorf("command %q died of signal %s", p.Argv, ws.Signal())
		}
		return fmt.Errorf("command %q returned non-zero exit status %d", p.Argv, ee.ExitCode())
	default:
		return fmt.Errorf("command %q: %w", p.Argv, err)
	}
}

// Output runs p capturing its standard output and error (Python's
// capture_output=True, text=True); err is Run's.
func (p Proc) Output() (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	p.Stdout, p.Stderr = &o, &e
	err = p.Run()
	return o.String(), e.String(), err
}
