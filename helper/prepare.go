package helper

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

const prepareUsage = "[--link PATH=PROGRAM]... UID GID DIR..."

// Prepare runs as root with no network, in the builder:
//
//	prepare [--link PATH=PROGRAM]... UID GID DIR...
//
// Each --link makes PATH exist when it does not, as a link to the real
// file of PROGRAM looked up on $PATH: the runtime's interpreter path made
// to exist in the builder (the official python images keep Python under
// /usr/local, distroless under /usr/bin), so a venv created through it
// records that path and works unchanged in the runtime image. Then it
// creates each DIR (mode 0755) owned by UID:GID, for the build user.
func Prepare(args []string, stdout, stderr io.Writer) error {
	type link struct{ path, program string }
	var links []link
	for len(args) > 0 && (args[0] == "--link" || strings.HasPrefix(args[0], "--link=")) {
		v, rest := strings.TrimPrefix(args[0], "--link="), args[1:]
		if args[0] == "--link" {
			if len(rest) == 0 {
				return usage("prepare", prepareUsage)
			}
			v, rest = rest[0], rest[1:]
		}
		p, prog, ok := strings.Cut(v, "=")
		if !ok || !strings.HasPrefix(p, "/") || prog == "" {
			return fmt.Errorf("distill helper prepare: --link %s: want an absolute PATH=PROGRAM", v)
		}
		links = append(links, link{p, prog})
		args = rest
	}
	if len(args) < 2 {
		return usage("prepare", prepareUsage)
	}
	uid, err := strconv.Atoi(args[0])
	if err != nil {
		return fmt.Errorf("distill helper prepare: UID %q: %w", args[0], err)
	}
	gid, err := strconv.Atoi(args[1])
	if err != nil {
		return fmt.Errorf("distill helper prepare: GID %q: %w", args[1], err)
	}
	for _, l := range links {
		if Lexists(l.path) {
			continue
		}
		target, err := realProgram(l.program)
		if err != nil {
			return fmt.Errorf("distill helper prepare: --link %s=%s: %w", l.path, l.program, err)
		}
		if err := os.MkdirAll(filepath.Dir(l.path), 0o777); err != nil {
			return err
		}
		if err := os.Symlink(target, l.path); err != nil {
			return err
		}
	}
	for _, d := range args[2:] {
		if err := makeDir(d, 0o755); err != nil {
			return err
		}
		if err := os.Chown(d, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// realProgram is the real path of program as $PATH finds it.
func realProgram(program string) (string, error) {
	p, err := exec.LookPath(program)
	if err != nil {
		return "", err
	}
	if p, err = filepath.Abs(p); err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(p)
}

// makeDir is os.makedirs(d, mode=mode, exist_ok=True): the parents get the
// default mode, d itself mode (both less the umask).
func makeDir(d string, mode os.FileMode) error {
	if IsDir(d) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(d), 0o777); err != nil {
		return err
	}
	if err := os.Mkdir(d, mode); err != nil && !IsDir(d) {
		return err
	}
	return nil
}
