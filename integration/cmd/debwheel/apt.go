package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// A debFile is what apt's lists say about one package: the file apt would
// download, its size and its SHA256 (from the signed Release/Packages
// chain). The SHA256 is the cache key's input, so a cached run needs the
// lists only, not the .debs.
type debFile struct {
	Package string
	File    string // base name in the pool, as apt names it ("python3-django_3%3a4.2.30-0+deb13u1_all.deb")
	Size    int64
	SHA256  string
}

// apt runs apt-get with a private configuration (APT_CONFIG): the suite's
// apt directory that integration/testbed/images/lib.sh apt_setup creates,
// so the host's sources, preferences and state are never read or changed.
type apt struct {
	config string // .../apt/<suite>/apt.conf
	pool   string // where .debs are kept (.../debs/<suite>), shared with images/lib.sh debs_fetch
}

func (a apt) command(args ...string) *exec.Cmd {
	cmd := exec.Command("apt-get", args...)
	cmd.Env = append(os.Environ(), "APT_CONFIG="+a.config)
	return cmd
}

// errApt marks failures of apt itself (lists missing or stale, mirror
// unreachable): testbed.sh refreshes the lists and retries once on them.
type errApt struct{ err error }

func (e errApt) Error() string { return e.err.Error() }
func (e errApt) Unwrap() error { return e.err }

// resolve asks apt which file each package is, without downloading.
func (a apt) resolve(pkgs []string) (map[string]debFile, error) {
	if _, err := os.Stat(a.config); err != nil {
		return nil, errApt{fmt.Errorf("apt config: %w (created by images/lib.sh apt_setup; testbed.sh setup does it)", err)}
	}
	unlock, err := lockFile(filepath.Dir(a.config) + ".lock") // apt_setup rewrites the lists under this lock
	if err != nil {
		return nil, err
	}
	defer unlock()
	cmd := a.command(append([]string{"download", "--print-uris", "-q", "--"}, pkgs...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errApt{fmt.Errorf("apt-get download --print-uris: %w: %s", err, strings.TrimSpace(stderr.String()))}
	}
	return parsePrintURIs(out, pkgs)
}

// parsePrintURIs reads lines of `'URI' FILE SIZE SHA256:HEX`.
func parsePrintURIs(out []byte, pkgs []string) (map[string]debFile, error) {
	want := map[string]bool{}
	for _, p := range pkgs {
		want[p] = true
	}
	got := map[string]debFile{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || !strings.HasPrefix(f[3], "SHA256:") {
			return nil, fmt.Errorf("apt-get --print-uris: unexpected line %q (no SHA256 in the lists?)", line)
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("apt-get --print-uris: size in %q: %v", line, err)
		}
		d := debFile{File: f[1], Size: size, SHA256: strings.TrimPrefix(f[3], "SHA256:")}
		d.Package, _, _ = strings.Cut(d.File, "_")
		if strings.ContainsAny(d.File, "/\\") || !want[d.Package] {
			return nil, fmt.Errorf("apt-get --print-uris: unexpected file %q", d.File)
		}
		got[d.Package] = d
	}
	for _, p := range pkgs {
		if _, ok := got[p]; !ok {
			return nil, errApt{fmt.Errorf("apt lists no file for %s", p)}
		}
	}
	return got, nil
}

// fetch makes sure the pool has the files (apt-get download, which checks
// them against the lists) and returns their paths. The pool and its lock
// file are the ones images/lib.sh debs_fetch uses.
func (a apt) fetch(files []debFile) (map[string]string, error) {
	if err := os.MkdirAll(a.pool, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockFile(a.pool + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	var missing []string
	paths := map[string]string{}
	for _, d := range files {
		p := filepath.Join(a.pool, d.File)
		paths[d.Package] = p
		if st, err := os.Stat(p); err != nil || st.Size() != d.Size {
			missing = append(missing, d.Package)
		}
	}
	if len(missing) > 0 {
		cmd := a.command(append([]string{"download", "-q", "--"}, missing...)...)
		cmd.Dir = a.pool
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, errApt{fmt.Errorf("apt-get download %s: %w: %s", strings.Join(missing, " "), err, strings.TrimSpace(string(out)))}
		}
	}
	for _, d := range files {
		if st, err := os.Stat(paths[d.Package]); err != nil || st.Size() != d.Size {
			return nil, errApt{fmt.Errorf("%s: not in the pool after apt-get download", d.File)}
		}
	}
	return paths, nil
}

// lockFile takes an exclusive flock, as `flock FILE` in shell does.
func lockFile(name string) (func(), error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", name, err)
	}
	return func() { f.Close() }, nil
}

// fileSHA256 hashes a file.
func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
