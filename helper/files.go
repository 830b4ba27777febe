package helper

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// CopyTree is Python's shutil.copytree(src, dst, symlinks=True,
// dirs_exist_ok=existOK): links are copied as links, files with their
// permission bits and times (extended attributes are not copied), each
// directory's own permissions and times set after its contents. Like
// Python it copies what it can and then reports every failure.
func CopyTree(src, dst string, existOK bool) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if existOK {
		err = os.MkdirAll(dst, 0o777)
	} else if err = os.MkdirAll(filepath.Dir(dst), 0o777); err == nil {
		err = os.Mkdir(dst, 0o777)
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		fi, err := os.Lstat(s)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			var target string
			if target, err = os.Readlink(s); err == nil {
				err = os.Symlink(target, d)
			}
		case fi.IsDir():
			err = CopyTree(s, d, existOK)
		default:
			err = CopyFile(s, d)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := copyStat(src, dst); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// CopyFile is Python's shutil.copy2 of a regular file to a file path.
func CopyFile(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return copyStat(src, dst)
}

// copyStat is shutil.copystat: permission bits (with setuid, setgid and
// sticky) and access and modification times.
func copyStat(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if err := os.Chmod(dst, goMode(fi)); err != nil {
		return err
	}
	atime := fi.ModTime()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		atime = time.Unix(st.Atim.Sec, st.Atim.Nsec)
	}
	return os.Chtimes(dst, atime, fi.ModTime())
}

// goMode is a file's permission bits as os.Chmod takes them.
func goMode(fi os.FileInfo) os.FileMode {
	m := fi.Mode()
	return m&os.ModePerm | m&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky)
}

// unixMode is a file's mode bits as st_mode & 0o7777.
func unixMode(fi os.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Mode & 0o7777
	}
	m := fi.Mode()
	u := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// RemoveTree is shutil.rmtree(p, ignore_errors=True): a link is not
// removed (rmtree refuses links).
func RemoveTree(p string) {
	if IsLink(p) {
		return
	}
	os.RemoveAll(p)
}
