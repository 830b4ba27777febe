package main

import (
	"context"
	"fmt"
	"io"
	gofs "io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/frontend"
	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"
)

// selfLocal is the session local through which `distill build` sends its
// own executable to the engine: the helper steps run it, as the frontend
// image runs itself in a `# syntax=` build.
const selfLocal = "distill-helper"

// selfName is the executable's name in the helper state, whatever the
// file is called on disk, so the LLB is the same wherever and however the
// CLI is installed.
const selfName = frontend.HelperLocalFile

// selfHelper is the CLI's own executable as the helper of an offline
// description (distill llb), and selfFS, which serves it to a build's
// session (frontend.Options.HelperLocal).
func selfHelper() (*assemble.Helper, fsutil.FS, error) {
	if runtime.GOOS != "linux" {
		return nil, nil, fmt.Errorf("distill build runs its own executable inside the build, which needs a Linux build of distill (this one is for %s/%s); build with `docker buildx build` and `# syntax=` instead", runtime.GOOS, runtime.GOARCH)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	st := llb.Local(selfLocal, llb.SharedKeyHint(selfLocal), llb.WithCustomName("[internal] distill's helper (this executable)"))
	return &assemble.Helper{State: st, Path: "/" + selfName}, selfFS{path: exe}, nil
}

// selfFS is a session file system of one file: the executable at path,
// named selfName.
type selfFS struct{ path string }

func (f selfFS) Walk(ctx context.Context, _ string, fn gofs.WalkDirFunc) error {
	st, err := fsutil.Stat(f.path)
	if err != nil {
		return err
	}
	st.Path = selfName
	return fn(selfName, &fsutil.DirEntryInfo{Stat: st}, nil)
}

func (f selfFS) Open(p string) (io.ReadCloser, error) {
	if filepath.Clean(p) != selfName {
		return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
	}
	return os.Open(f.path)
}
