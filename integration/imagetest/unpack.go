package imagetest

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// Unpack applies the image's layers in order into dir (created if needed),
// as a container runtime's snapshotter would: whiteouts delete what lower
// layers hold, owners, modes (setuid/setgid/sticky included) and mtimes are
// kept (Python checks bytecode against source mtimes), symlinks and hard
// links are recreated. Every path is resolved inside dir, following symlinks
// as they would resolve in a chroot, so no entry can write outside it.
// Device nodes and FIFOs are skipped: the runtime mounts its own /dev.
// Keeping owners needs root.
func Unpack(img *Image, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, l := range img.Layers {
		u := unpacker{root: root, written: map[string]bool{}}
		if err := walkLayer(img.layerBlob(l.Index), u.entry, nil); err != nil {
			return fmt.Errorf("unpacking layer %d (%s): %w", l.Index, l.Digest, err)
		}
		// Directory mtimes last: creating their children changed them.
		for i := len(u.dirTimes) - 1; i >= 0; i-- {
			d := u.dirTimes[i]
			if err := root.Chtimes(d.rel, d.t, d.t); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("unpacking layer %d: %s: %w", l.Index, d.rel, err)
			}
		}
	}
	return nil
}

type unpacker struct {
	root *os.Root
	// written holds the image paths this layer created: an opaque whiteout
	// only hides what lower layers put in the directory.
	written  map[string]bool
	dirTimes []struct {
		rel string
		t   time.Time
	}
}

func (u *unpacker) entry(h *tar.Header, r io.Reader) error {
	p, err := cleanPath(h.Name)
	if err != nil {
		return err
	}
	dir, base := path.Split(p)
	if base == whiteoutOpaque {
		return u.opaque(path.Clean(dir))
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		rel, err := u.resolveParent(path.Join(dir, name))
		if err != nil {
			return err
		}
		return u.root.RemoveAll(rel)
	}
	rel, err := u.resolveParent(p)
	if err != nil {
		return err
	}
	u.written[p] = true
	if rel != "." {
		if err := u.root.MkdirAll(path.Dir(rel), 0o755); err != nil {
			return err
		}
		// Replace what is there, as tar does, unless both are directories
		// (a directory entry only updates its metadata).
		if fi, err := u.root.Lstat(rel); err == nil && !(fi.IsDir() && h.Typeflag == tar.TypeDir) {
			if err := u.root.RemoveAll(rel); err != nil {
				return err
			}
		}
	}
	mode := h.FileInfo().Mode()
	switch h.Typeflag {
	case tar.TypeDir:
		if err := u.root.Mkdir(rel, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		u.dirTimes = append(u.dirTimes, struct {
			rel string
			t   time.Time
		}{rel, h.ModTime})
	case tar.TypeReg, tar.TypeRegA:
		// O_EXCL: never write through a link planted at this name.
		f, err := u.root.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	case tar.TypeSymlink:
		// The target is stored as is: it is resolved by the kernel inside
		// the container's root, never by this process.
		if err := u.root.Symlink(h.Linkname, rel); err != nil {
			return err
		}
		return u.root.Lchown(rel, h.Uid, h.Gid)
	case tar.TypeLink:
		lp, err := cleanPath(h.Linkname)
		if err != nil {
			return err
		}
		target, err := u.resolveParent(lp)
		if err != nil {
			return err
		}
		// A hard link shares its target's inode, owner and mode.
		return u.root.Link(target, rel)
	default:
		// Devices, FIFOs and global headers: nothing to create.
		delete(u.written, p)
		return nil
	}
	// Chown before chmod: chown clears the setuid and setgid bits.
	if err := u.root.Chown(rel, h.Uid, h.Gid); err != nil {
		return err
	}
	if err := u.root.Chmod(rel, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	if h.Typeflag != tar.TypeDir {
		return u.root.Chtimes(rel, h.AccessTime, h.ModTime)
	}
	return nil
}

// opaque empties directory dir of everything lower layers put there.
func (u *unpacker) opaque(dir string) error {
	rel, err := u.resolve(dir)
	if err != nil {
		return err
	}
	f, err := u.root.Open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, n := range names {
		if !u.written[path.Join(dir, n)] {
			if err := u.root.RemoveAll(path.Join(rel, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveParent resolves the directory part of image path p inside the
// root and returns the root-relative path of p, whose last element is left
// alone (it is the entry being created or removed, never followed).
func (u *unpacker) resolveParent(p string) (string, error) {
	dir, base := path.Split(p)
	if base == "" {
		return ".", nil
	}
	d, err := u.resolve(dir)
	if err != nil {
		return "", err
	}
	return path.Join(d, base), nil
}

// resolve follows every symlink of image path p as it resolves inside a
// chroot (absolute targets start at the root, ".." stops at the root) and
// returns the root-relative result. os.Root refuses absolute symlinks and
// ones that climb out, so resolving them here first keeps valid images
// unpackable while os.Root still guarantees nothing lands outside.
func (u *unpacker) resolve(p string) (string, error) {
	todo := components(p)
	cur := "/"
	for links := 0; len(todo) > 0; {
		next := path.Join(cur, todo[0])
		todo = todo[1:]
		fi, err := u.root.Lstat(rootRel(next))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			cur = next
			continue
		case err != nil:
			return "", err
		case fi.Mode()&fs.ModeSymlink != 0:
			if links++; links > 255 {
				return "", fmt.Errorf("%s: too many levels of symbolic links", p)
			}
			t, err := u.root.Readlink(rootRel(next))
			if err != nil {
				return "", err
			}
			if !path.IsAbs(t) {
				t = path.Join(cur, t)
			}
			todo = append(components(t), todo...)
			cur = "/"
		case !fi.IsDir():
			return "", fmt.Errorf("%s: %s is not a directory", p, next)
		default:
			cur = next
		}
	}
	return rootRel(cur), nil
}

// components splits a path into its names after a lexical clean at "/".
func components(p string) []string {
	c := path.Clean("/" + p)
	if c == "/" {
		return nil
	}
	return strings.Split(c[1:], "/")
}

// rootRel turns an absolute image path into a path relative to the root.
func rootRel(p string) string {
	if r := strings.TrimPrefix(path.Clean(p), "/"); r != "" {
		return r
	}
	return "."
}
