package main

// Reading a .deb shells out to dpkg-deb (--fsys-tarfile for the files, -f
// for control fields) instead of parsing the ar archive in Go (e.g. with
// pault.ag/go/debian): trixie's data members are xz- or zstd-compressed,
// dpkg-deb handles every compression dpkg supports without adding modules
// to go.mod for a test-bed tool, and it is on every host the test bed runs
// on already (images/lib.sh unpacks the stand-ins with it).

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
)

// A node is one entry of a .deb's data: a file, a directory or a symlink.
type node struct {
	dir  bool
	link string // symlink target as stored ("" for files and directories)
	mode int64
	data []byte
	pkg  string // the Debian package it came from (for messages)
}

// A tree is the file system of one or more .debs, keyed by clean relative
// path ("usr/lib/python3/dist-packages/flask/app.py").
type tree map[string]*node

// A deb is one read package.
type deb struct {
	Package, Version string
	SHA256           string // of the .deb file
	files            tree
}

// readDeb reads a .deb's control fields and data files into memory.
func readDeb(file string) (*deb, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return nil, err
	}
	d := &deb{SHA256: hex.EncodeToString(h.Sum(nil)), files: tree{}}
	out, err := exec.Command("dpkg-deb", "-f", file, "Package", "Version").Output()
	if err != nil {
		return nil, fmt.Errorf("dpkg-deb -f %s: %w%s", file, err, stderrOf(err))
	}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "Package":
			d.Package = strings.TrimSpace(v)
		case "Version":
			d.Version = strings.TrimSpace(v)
		}
	}
	if d.Package == "" || d.Version == "" {
		return nil, fmt.Errorf("%s: no Package/Version in its control file", file)
	}
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	rerr := d.files.readTar(stdout, d.Package)
	if rerr != nil {
		io.Copy(io.Discard, stdout) // let dpkg-deb finish writing
	}
	werr := cmd.Wait()
	if rerr != nil {
		return nil, fmt.Errorf("%s: %w", file, rerr)
	}
	if werr != nil {
		return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w: %s", file, werr, strings.TrimSpace(stderr.String()))
	}
	return d, nil
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// readTar adds a tar stream's entries (paths like "./usr/...") to t.
func (t tree) readTar(r io.Reader, pkg string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := cleanRel(h.Name)
		if p == "" {
			continue
		}
		n := &node{mode: h.Mode, pkg: pkg}
		switch h.Typeflag {
		case tar.TypeDir:
			n.dir = true
		case tar.TypeSymlink:
			n.link = h.Linkname
		case tar.TypeLink:
			// a hard link names an earlier entry: same content
			src := t[cleanRel(h.Linkname)]
			if src == nil || src.dir || src.link != "" {
				return fmt.Errorf("hard link %s -> %s: target is no earlier file", p, h.Linkname)
			}
			n.data = src.data
		case tar.TypeReg:
			if n.data, err = io.ReadAll(tr); err != nil {
				return err
			}
		default:
			continue // devices, fifos: never in a python3-* package
		}
		t[p] = n
	}
}

// cleanRel turns "./usr/lib/x" or "/usr/lib/x" into "usr/lib/x".
func cleanRel(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

// merge adds other's entries. The same module path from two packages is
// fine when both are directories or identical files; anything else there
// is a conflict. Outside the site directories (docs, /usr/share) the first
// package's entry stays: those files never reach the wheel by themselves.
func (t tree) merge(other tree) error {
	for p, n := range other {
		old, ok := t[p]
		if !ok {
			t[p] = n
			continue
		}
		switch {
		case old.dir && n.dir:
		case !old.dir && !n.dir && old.link == n.link && bytes.Equal(old.data, n.data):
		case !inSite(p):
		default:
			return fmt.Errorf("%s is in both %s and %s, differently", p, old.pkg, n.pkg)
		}
	}
	return nil
}

func inSite(p string) bool {
	_, _, ok := sitePath(p)
	return ok
}

// maxHops bounds symlink chains (Linux: 40).
const maxHops = 40

// resolve follows symlinks in every component of p and returns the path
// they lead to. The result need not exist.
func (t tree) resolve(p string) (string, error) {
	for hops := 0; ; hops++ {
		if hops > maxHops {
			return "", fmt.Errorf("%s: too many levels of symbolic links", p)
		}
		parts := strings.Split(p, "/")
		followed := false
		for i := range parts {
			prefix := strings.Join(parts[:i+1], "/")
			n := t[prefix]
			if n == nil || n.link == "" {
				continue
			}
			var target string
			if strings.HasPrefix(n.link, "/") {
				target = cleanRel(n.link)
			} else {
				// a real file system clamps ".." at the root: so does cleanRel
				target = cleanRel(path.Dir(prefix) + "/" + n.link)
			}
			p = cleanRel(target + "/" + strings.Join(parts[i+1:], "/"))
			followed = true
			break
		}
		if !followed {
			return p, nil
		}
	}
}

// isDir: a directory entry, or a path other entries live under (tarballs
// normally list directories, but need not).
func (t tree) isDir(p string) bool {
	if n := t[p]; n != nil {
		return n.dir
	}
	prefix := p + "/"
	for q := range t {
		if strings.HasPrefix(q, prefix) {
			return true
		}
	}
	return false
}

// under lists the paths below dir, sorted.
func (t tree) under(dir string) []string {
	prefix := dir + "/"
	var out []string
	for q := range t {
		if strings.HasPrefix(q, prefix) {
			out = append(out, q)
		}
	}
	sort.Strings(out)
	return out
}
