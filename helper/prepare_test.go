package helper

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func TestPrepare(t *testing.T) {
	dir := t.TempDir()
	// python3 on PATH is a link to the real interpreter file, as in the
	// official images (python3 -> python3.13)
	real := filepath.Join(dir, "opt/python/bin/python3.13")
	writeFile(t, real, "#!/bin/true\n", 0o755)
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	existing := filepath.Join(dir, "usr/local/bin/python3.13")
	writeFile(t, existing, "mine", 0o755)

	uid, gid := 1234, 5678
	if os.Getuid() != 0 {
		uid, gid = os.Getuid(), os.Getgid()
	}
	made := filepath.Join(dir, "usr/bin/python3.13")
	owned := []string{filepath.Join(dir, "home/build/.cache"), filepath.Join(dir, "opt/venv")}
	args := []string{"--link", made + "=python3", "--link=" + existing + "=python3", itoa(uid), itoa(gid)}
	if err := Prepare(append(args, owned...), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(made); err != nil || got != real {
		t.Errorf("link %s -> %q (%v), want -> %s", made, got, err, real)
	}
	if dt, err := os.ReadFile(existing); err != nil || string(dt) != "mine" || IsLink(existing) {
		t.Errorf("an existing path was replaced: %q %v", dt, err)
	}
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	for _, d := range owned {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if want := os.FileMode(0o755 &^ umask); fi.Mode().Perm() != want || !fi.IsDir() {
			t.Errorf("%s: mode %v, want a directory %v", d, fi.Mode(), want)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != uid || int(st.Gid) != gid {
			t.Errorf("%s: owned by %d:%d, want %d:%d", d, st.Uid, st.Gid, uid, gid)
		}
	}
	// again: nothing to do, and an existing directory is owned again
	if err := Prepare(append(args, owned...), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}

	for _, bad := range [][]string{{}, {"1"}, {"--link"}, {"--link", "relative=python3", "1", "1"}, {"--link", "/x", "1", "1"}, {"x", "1"}} {
		if err := Prepare(bad, io.Discard, io.Discard); err == nil {
			t.Errorf("Prepare(%q) did not fail", bad)
		}
	}
	t.Setenv("PATH", t.TempDir())
	if err := Prepare([]string{"--link", filepath.Join(dir, "absent") + "=python3", "0", "0"}, io.Discard, io.Discard); err == nil {
		t.Error("a program not on PATH did not fail")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
