//go:build integration

package imagetest

// Tests that need root: Unpack keeps the layers' owners. They run under
// `make test` / `make integration` (go test -tags integration
// ./integration/...), not in the unit suite, which runs without root.

import (
	"archive/tar"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestUnpack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("Unpack keeps owners and needs root; this project's machines run the tests as root")
	}
	o := ociTar{config: cleanConfig(), layers: [][]file{
		{
			dir("a", 0o755), reg("a/x", 0o644, "x"), reg("a/y", 0o600, "y"),
			dir("d", 0o755), reg("d/old", 0o644, "old"), dir("d/sub", 0o755), reg("d/sub/f", 0o644, "f"),
			symlink("abs", "/a"), // an absolute symlink, resolved inside the root
			{name: "owned", mode: 0o640, uid: 1234, gid: 4321, body: "o"},
			{name: "suid", mode: 0o4755, body: "s"},
			{name: "hl", typ: tar.TypeLink, link: "a/y", mode: 0o600},
			dir("gone", 0o755), reg("gone/f", 0o644, "f"),
			symlink("out", "../../../outside"),
		},
		{
			reg("a/.wh.x", 0o644, ""),
			reg("d/new", 0o644, "new"), // this layer's own file survives the opaque marker
			reg("d/.wh..wh..opq", 0o644, ""),
			reg("abs/z", 0o644, "through /abs"),
			reg(".wh.gone", 0o644, ""),
			reg("out/escaped", 0o644, "must land inside the root"),
			{name: "tmp", typ: tar.TypeDir, mode: 0o1777},
		},
	}}
	img := o.load(t)
	parent := t.TempDir()
	root := filepath.Join(parent, "rootfs")
	if err := Unpack(img, root); err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool { _, err := os.Lstat(filepath.Join(root, p)); return err == nil }
	for _, p := range []string{"a/x", "d/old", "d/sub", "gone"} {
		if exists(p) {
			t.Errorf("%s survived its whiteout", p)
		}
	}
	for _, p := range []string{"a/y", "d/new", "a/z", "outside/escaped"} {
		if !exists(p) {
			t.Errorf("%s missing", p)
		}
	}
	if _, err := os.Stat(filepath.Join(parent, "outside")); err == nil {
		t.Error("an entry escaped the root through a symlink")
	}
	st := func(p string) *syscall.Stat_t {
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t)
	}
	if s := st("owned"); s.Uid != 1234 || s.Gid != 4321 || s.Mode&0o7777 != 0o640 {
		t.Errorf("owned: uid %d gid %d mode %o", s.Uid, s.Gid, s.Mode&0o7777)
	}
	if s := st("suid"); s.Mode&0o7777 != 0o4755 {
		t.Errorf("suid mode %o", s.Mode&0o7777)
	}
	if s := st("tmp"); s.Mode&0o7777 != 0o1777 {
		t.Errorf("tmp mode %o", s.Mode&0o7777)
	}
	if st("hl").Ino != st("a/y").Ino {
		t.Error("hard link not recreated as a link")
	}
	if l, err := os.Readlink(filepath.Join(root, "abs")); err != nil || l != "/a" {
		t.Errorf("symlink: %q %v", l, err)
	}
	if fi, _ := os.Stat(filepath.Join(root, "a/y")); fi == nil || !fi.ModTime().Equal(img.Layers[0].Entries[2].ModTime) {
		t.Error("mtime not kept")
	}

	// The merged view agrees with the unpacked tree.
	files := img.Files()
	for _, p := range []string{"/a/x", "/d/old", "/d/sub/f", "/gone"} {
		if _, ok := files[p]; ok {
			t.Errorf("Files() still has %s", p)
		}
	}
	if _, ok := files["/d/new"]; !ok {
		t.Error("Files() lost /d/new")
	}
}
