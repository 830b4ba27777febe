package helper

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Permissions drops group and other write bits of each DIR and everything
// under it (links are left alone), so nothing of the app is writable by
// the runtime user: the builder step that ends a language without its own
// finalize (a prebuilt binary).
//
// argv: DIR...
func Permissions(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: permissions DIR...")
	}
	for _, d := range args {
		if err := DropWriteBits(d); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "write bits dropped: %d directories\n", len(args))
	return nil
}

// DropWriteBits clears the group and other write bits of top and, for a
// directory, of everything under it, for a file of its directory too;
// links are left alone.
func DropWriteBits(top string) error {
	var errs []error
	drop := func(name string) {
		fi, err := os.Lstat(name)
		if err != nil || fi.Mode()&os.ModeSymlink != 0 {
			return
		}
		if fi.Mode().Perm()&0o022 != 0 {
			mode := fi.Mode()&os.ModePerm&^0o022 | fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky)
			if err := os.Chmod(name, mode); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if !IsDir(top) {
		// as Python's program had it: a file's directory goes with it
		drop(filepath.Dir(top))
		drop(top)
		return errors.Join(errs...)
	}
	Walk(top, func(root string, dirs, files []string) {
		drop(root)
		for _, f := range files {
			drop(filepath.Join(root, f))
		}
	})
	return errors.Join(errs...)
}
