package imagetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// CheckOptions tunes CheckInvariants.
type CheckOptions struct {
	// AppPaths are directories whose files the runtime user must not be able
	// to write (DESIGN.md: "app and venv files not writable by uid 65532"),
	// e.g. "/app", "/opt/venv".
	AppPaths []string
	// RuntimeUID and RuntimeGID are the user the app runs as; zero means the
	// numeric user of the image config, or 65532:65532 when it has none.
	RuntimeUID, RuntimeGID int
}

// Forbidden tools, matched on the basename of every non-directory entry
// of the merged view: a shell, a package manager or pip gives an attacker
// who reaches the app a way to install or run anything.
var forbiddenTool = regexp.MustCompile(`^(sh|bash|dash|ash|zsh|ksh|mksh|busybox|apk|apt|apt-get|apt-cache|dpkg|dpkg-deb|dpkg-query|pip|pip3|pip[0-9]+(\.[0-9]+)*|pip-[0-9]+(\.[0-9]+)*)$`)

// Secret-bearing files that must never be shipped, matched on paths.
var secretFiles = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`(^|/)\.git(/|$)`), "a .git directory or file"},
	{regexp.MustCompile(`(^|/)\.env[^/]*$`), "a .env file"},
	{regexp.MustCompile(`(^|/)id_(rsa|dsa|ecdsa|ed25519)[^/]*$`), "an SSH key file"},
	{regexp.MustCompile(`(^|/)\.(npmrc|pypirc|netrc|git-credentials)$`), "a credentials file"},
	{regexp.MustCompile(`(^|/)\.aws/(credentials|config)$`), "cloud credentials"},
	{regexp.MustCompile(`(^|/)\.docker/config\.json$`), "registry credentials"},
	{regexp.MustCompile(`(^|/)\.config/gcloud(/|$)`), "cloud credentials"},
}

// Build caches that must stay in BuildKit cache mounts, never in a layer.
var cacheDirs = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`(^|/)\.cache/pip(/|$)`), "a pip cache"},
	{regexp.MustCompile(`^/root/\.cache(/|$)`), "root's cache directory"},
	{regexp.MustCompile(`^/var/cache/apt/archives/[^/]+\.deb$`), "a cached .deb"},
	{regexp.MustCompile(`^/var/cache/apt/[^/]+\.bin$`), "an apt package cache"},
}

// pipPackage matches pip's own package inside a site-packages directory
// (the venv must have had pip removed).
var pipPackage = regexp.MustCompile(`/(site|dist)-packages/pip(-[^/]*\.dist-info)?$`)

// privateKey matches a PEM private-key block header of any key type.
var privateKey = regexp.MustCompile(`-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----`)

// CheckInvariants checks every invariant DESIGN.md states for a built image
// on its real layers and config, and returns one error per violation, each
// a sentence naming the path. base, when not nil, is the runtime base image:
// setuid/setgid files and file capabilities it already has are allowed.
// Filesystem checks use the merged view, as the running container sees it;
// secret, key and cache checks also look at files a later layer deletes,
// because those are still shipped in the image.
func CheckInvariants(img *Image, base *Image, opts CheckOptions) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	cfg := img.Config.Config

	uid, gid, hasGID, err := ParseUser(cfg.User)
	switch {
	case cfg.User == "":
		bad("the image config has no User, so the container runs as root; it must be numeric and not 0 (e.g. 65532:65532)")
	case err != nil:
		bad("the image config User %q is not numeric uid[:gid]; a name needs /etc/passwd and can resolve to root: %v", cfg.User, err)
	case uid == 0:
		bad("the image config User %q is root (uid 0)", cfg.User)
	case hasGID && gid == 0:
		bad("the image config User %q has the root group (gid 0)", cfg.User)
	}
	if opts.RuntimeUID == 0 {
		opts.RuntimeUID, opts.RuntimeGID = 65532, 65532
		if err == nil && uid != 0 {
			opts.RuntimeUID = uid
			if hasGID {
				opts.RuntimeGID = gid
			}
		}
	}

	switch {
	case len(cfg.Entrypoint) == 0:
		bad("the image config has no Entrypoint (Cmd: %q)", cfg.Cmd)
	case isShellCommand(cfg.Entrypoint):
		bad("the Entrypoint %q runs a shell; it must exec the app directly", cfg.Entrypoint)
	}

	baseSpecial := map[string]bool{}
	if base != nil {
		for p, e := range base.Files() {
			if special(e) != "" {
				baseSpecial[p] = true
			}
		}
	}

	files := img.SortedFiles()
	for _, e := range files {
		p := e.Path
		if !e.IsDir() && forbiddenTool.MatchString(path.Base(p)) {
			bad("%s is in the image: no shell, package manager or pip may ship", p)
		}
		if e.IsDir() && pipPackage.MatchString(p) {
			bad("%s is in the image: pip must be removed from the venv", p)
		}
		if s := special(e); s != "" && !baseSpecial[p] {
			bad("%s is %s and the base image does not have it so", p, s)
		}
		if worldWritable(e) && p != "/tmp" && !strings.HasPrefix(p, "/tmp/") {
			bad("%s is world-writable (mode %s)", p, e.Mode)
		}
		if under(p, opts.AppPaths) && !e.IsSymlink() {
			if why := writableBy(e, opts.RuntimeUID, opts.RuntimeGID); why != "" {
				bad("%s is writable by the runtime user %d:%d (%s, owner %d:%d, mode %s)",
					p, opts.RuntimeUID, opts.RuntimeGID, why, e.UID, e.GID, e.Mode)
			}
		}
		if strings.HasPrefix(p, "/var/lib/apt/lists/") && e.IsRegular() && e.Size > 0 {
			bad("%s is in the image: apt package lists must not ship", p)
		}
	}

	// Secret files, caches and private keys: every entry of every layer,
	// since a file deleted by a later layer is still in the image.
	merged := img.Files()
	seen := map[string]bool{}
	for _, l := range img.Layers {
		for _, e := range l.Entries {
			if e.IsWhiteout() {
				continue
			}
			where := ""
			if m, ok := merged[e.Path]; !ok || m.Layer != e.Layer {
				where = fmt.Sprintf(" (in layer %d, hidden by a later layer but still shipped)", e.Layer)
			}
			for _, s := range secretFiles {
				if s.re.MatchString(e.Path) && !seen[e.Path+s.what] {
					seen[e.Path+s.what] = true
					bad("%s is in the image%s: %s must never ship", e.Path, where, s.what)
				}
			}
			for _, c := range cacheDirs {
				if c.re.MatchString(e.Path) && !seen[e.Path+c.what] {
					seen[e.Path+c.what] = true
					bad("%s is in the image%s: %s must stay in a build cache mount", e.Path, where, c.what)
				}
			}
		}
		keys, err := privateKeys(img.layerBlob(l.Index))
		if err != nil {
			bad("layer %d (%s) cannot be read to look for private keys: %v", l.Index, l.Digest, err)
		}
		for _, p := range keys {
			where := ""
			if m, ok := merged[p]; !ok || m.Layer != l.Index {
				where = fmt.Sprintf(" (in layer %d, hidden by a later layer but still shipped)", l.Index)
			}
			bad("%s holds a PEM private key%s", p, where)
		}
	}
	return errs
}

// ParseUser parses a numeric "uid" or "uid:gid" image User.
func ParseUser(u string) (uid, gid int, hasGID bool, err error) {
	us, gs, hasGID := strings.Cut(u, ":")
	if uid, err = strconv.Atoi(us); err != nil || uid < 0 {
		return 0, 0, false, fmt.Errorf("user %q is not a number", us)
	}
	if hasGID {
		if gid, err = strconv.Atoi(gs); err != nil || gid < 0 {
			return 0, 0, false, fmt.Errorf("group %q is not a number", gs)
		}
	}
	return uid, gid, hasGID, nil
}

// isShellCommand reports whether an argv starts a shell (`sh -c ...`,
// `/bin/bash`, `busybox sh`).
func isShellCommand(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	switch path.Base(argv[0]) {
	case "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox":
		return true
	}
	return false
}

// special says whether a file grants privileges beyond its owner's: setuid,
// setgid or file capabilities. Directories are left out: setgid on a
// directory only makes new files inherit its group.
func special(e Entry) string {
	if e.IsDir() || e.IsSymlink() {
		return ""
	}
	var s []string
	if e.Mode&fs.ModeSetuid != 0 {
		s = append(s, "setuid")
	}
	if e.Mode&fs.ModeSetgid != 0 {
		s = append(s, "setgid")
	}
	if _, ok := e.Xattrs["security.capability"]; ok {
		s = append(s, "given file capabilities")
	}
	return strings.Join(s, " and ")
}

// worldWritable reports a file or directory anyone may write. Symlinks
// always carry mode 0777 and mean nothing; a world-writable directory with
// the sticky bit (like /var/tmp) only lets users create their own files.
func worldWritable(e Entry) bool {
	if e.Mode.Perm()&0o002 == 0 {
		return false
	}
	switch {
	case e.IsSymlink():
		return false
	case e.IsDir():
		return e.Mode&fs.ModeSticky == 0
	}
	return e.IsRegular()
}

// writableBy says why uid:gid may write e, or "" when it may not.
func writableBy(e Entry, uid, gid int) string {
	m := e.Mode.Perm()
	switch {
	case e.UID == uid && m&0o200 != 0:
		return "owned by it and user-writable"
	case e.GID == gid && m&0o020 != 0:
		return "its group and group-writable"
	case m&0o002 != 0:
		return "world-writable"
	}
	return ""
}

// under reports whether p is one of dirs or below one.
func under(p string, dirs []string) bool {
	for _, d := range dirs {
		d = path.Clean("/" + d)
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// privateKeys returns the paths of the layer's regular files, other than
// ELF objects, that contain a PEM private key.
func privateKeys(blob []byte) ([]string, error) {
	var out []string
	marker := []byte("PRIVATE KEY-----")
	err := walkLayer(blob, func(h *tar.Header, r io.Reader) error {
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			return nil
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		// compiled code is skipped: libraries quote PEM markers in their
		// parsers and messages (glib's libgio does), while a key leaked
		// from a build context is a text file
		if bytes.Contains(b, marker) && !bytes.HasPrefix(b, []byte("\x7fELF")) && privateKey.Match(b) {
			p, err := cleanPath(h.Name)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	}, nil)
	sort.Strings(out)
	return out, err
}
