package helper

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	for _, x := range []struct {
		p    string
		mode os.FileMode
		dir  bool
	}{
		{"app", 0o777, true},
		{"app/server", 0o775, false},
		{"app/data", 0o766, true},
		{"app/data/cfg.json", 0o666, false},
		{"app/keep", 0o755, false},
	} {
		p := filepath.Join(dir, x.p)
		if x.dir {
			if err := os.Mkdir(p, x.mode); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte("x"), x.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, x.mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	// a link is left alone (its target may be outside the app)
	outside := filepath.Join(dir, "outside")
	if err := os.WriteFile(outside, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(outside, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(app, "link")); err != nil {
		t.Fatal(err)
	}
	if err := Permissions([]string{app}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{
		"app": 0o755, "app/server": 0o755, "app/data": 0o744, "app/data/cfg.json": 0o644, "app/keep": 0o755, "outside": 0o666,
	} {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", p, got, want)
		}
	}
	if err := Permissions(nil, io.Discard, io.Discard); err == nil {
		t.Error("no DIR accepted")
	}
}
