//go:build integration

package helper

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// debPackage is one .deb to build for the local repository.
type debPackage struct {
	name, version, depends string
	files                  map[string]string // path: content
	postinst               string
}

// aptRepo builds the packages with dpkg-deb into a repository of suite
// (Release and Packages, unsigned) and returns its directory.
func aptRepo(t *testing.T, suite string, pkgs []debPackage) string {
	t.Helper()
	repo := t.TempDir()
	os.Chmod(repo, 0o755) // apt reads it as _apt
	var index strings.Builder
	for _, p := range pkgs {
		root := filepath.Join(t.TempDir(), p.name)
		control := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: t <t@example.com>\nSource: %s-src (%s)\nDescription: test package\n a test\n", p.name, p.version, p.name, p.version)
		if p.depends != "" {
			control += "Depends: " + p.depends + "\n"
		}
		writeFile(t, root+"/DEBIAN/control", control, 0o644)
		if p.postinst != "" {
			writeFile(t, root+"/DEBIAN/postinst", p.postinst, 0o755)
		}
		for f, content := range p.files {
			writeFile(t, filepath.Join(root, f), content, 0o644)
		}
		file := fmt.Sprintf("pool/%s_%s_amd64.deb", p.name, p.version)
		os.MkdirAll(repo+"/pool", 0o755)
		if out, err := exec.Command("dpkg-deb", "--build", "--root-owner-group", root, filepath.Join(repo, file)).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
		}
		deb, _ := os.ReadFile(filepath.Join(repo, file))
		sum := sha256.Sum256(deb)
		fields, _ := exec.Command("dpkg-deb", "-f", filepath.Join(repo, file)).Output()
		fmt.Fprintf(&index, "%sFilename: %s\nSize: %d\nSHA256: %s\n\n", fields, file, len(deb), hex.EncodeToString(sum[:]))
	}
	packages := "main/binary-amd64/Packages"
	writeFile(t, filepath.Join(repo, "dists", suite, packages), index.String(), 0o644)
	sum := sha256.Sum256([]byte(index.String()))
	writeFile(t, filepath.Join(repo, "dists", suite, "Release"), fmt.Sprintf("Origin: distill-test\nSuite: %s\nCodename: %s\nDate: Mon, 01 Jan 2024 00:00:00 UTC\nArchitectures: amd64\nComponents: main\nSHA256:\n %s %d %s\n", suite, suite, hex.EncodeToString(sum[:]), index.Len(), packages), 0o644)
	for d := filepath.Join(repo, "dists"); d != repo; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	filepath.Walk(repo, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	return repo
}

// TestRuntimePackagesWithApt runs runtime-packages against a local
// repository of the runtime's release (trixie) through a builder whose
// sources name its own (bookworm).
func TestRuntimePackagesWithApt(t *testing.T) {
	// behind the integration tag: make test runs it as root, with the
	// test bed's packages; anywhere else it is a failure, not a skip
	if os.Getuid() != 0 {
		t.Fatal("runtime-packages runs apt as root; run this test as root (make test does)")
	}
	repo := aptRepo(t, "trixie", []debPackage{
		{name: "libfoo1", version: "1.0-1", depends: "libc6 (>= 2.36)", files: map[string]string{
			"lib/x86_64-linux-gnu/libfoo.so.1": "foo", "usr/lib/x86_64-linux-gnu/foo/libfoo.so.3": "blas",
			"usr/share/doc/libfoo1/copyright": "c", "usr/share/doc/libfoo1/changelog.gz": "l", "usr/share/man/man1/foo.1.gz": "m",
		}, postinst: "#!/bin/sh\nset -e\nupdate-alternatives --install /usr/lib/x86_64-linux-gnu/libfoo.so.3 \\\n  libfoo.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/foo/libfoo.so.3 10\n"},
		{name: "libbar1", version: "2:2.0-1", depends: "libfoo1", files: map[string]string{"usr/lib/x86_64-linux-gnu/libbar.so.1": "bar"}},
		{name: "libc6", version: "2.36-9", files: map[string]string{"usr/lib/x86_64-linux-gnu/libc.so.6": "new libc"}},
		{name: "uses-sh", version: "1", files: map[string]string{"usr/bin/sh": "#!"}},
		{name: "wants-dash", version: "1", depends: "dash"},
		{name: "dash", version: "1", files: map[string]string{"usr/bin/dash": "#!"}},
	})
	host := t.TempDir()
	writeFile(t, host+"/etc/os-release", "ID=debian\nVERSION_CODENAME=bookworm\n", 0o644)
	writeFile(t, host+"/etc/apt/sources.list", "deb [trusted=yes] copy:"+repo+" bookworm main\n", 0o644)
	runtime := t.TempDir()
	writeFile(t, runtime+"/usr/lib/os-release", "PRETTY_NAME=\"Distroless\"\nID=debian\nVERSION_CODENAME=trixie\n", 0o644)
	os.Symlink("usr/lib", runtime+"/lib")
	// distroless's libc6, recorded in status.d: apt must not fetch it again
	writeFile(t, runtime+"/var/lib/dpkg/status.d/libc6", "Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nDepends: libgcc-s1\n", 0o644)
	cache := t.TempDir()

	run := func(args ...string) (string, string, error) {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		rp := &runtimePkgs{root: runtime, out: out, cache: cache, host: host, stdout: &stdout, stderr: &stderr}
		var err error
		if len(args) > 0 && args[0] == "--which" {
			err = rp.run(args[1:], true)
		} else {
			err = rp.run(args, false)
		}
		if err != nil {
			t.Logf("stderr: %s", stderr.String())
		}
		return out, stdout.String(), err
	}

	out, printed, err := run("libbar1")
	if err != nil {
		t.Fatal(err)
	}
	if want := "runtime packages for Debian trixie: libbar1=2:2.0-1 libfoo1=1.0-1\n"; printed != want {
		t.Errorf("printed %q, want %q", printed, want)
	}
	var files []string
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, strings.TrimPrefix(p, out))
		}
		return nil
	})
	want := []string{
		"/usr/lib/x86_64-linux-gnu/foo/libfoo.so.3", "/usr/lib/x86_64-linux-gnu/libbar.so.1", "/usr/lib/x86_64-linux-gnu/libfoo.so.1",
		"/usr/lib/x86_64-linux-gnu/libfoo.so.3", "/usr/share/doc/libfoo1/copyright", "/var/lib/dpkg/status.d/libbar1", "/var/lib/dpkg/status.d/libfoo1",
	}
	if !slices.Equal(files, want) {
		t.Errorf("out has %q\nwant %q", files, want)
	}
	if l, err := os.Readlink(out + "/usr/lib/x86_64-linux-gnu/libfoo.so.3"); err != nil || l != "foo/libfoo.so.3" {
		t.Errorf("alternative link -> %q %v", l, err)
	}
	status, _ := os.ReadFile(out + "/var/lib/dpkg/status.d/libfoo1")
	if want := "Package: libfoo1\nVersion: 1.0-1\nArchitecture: amd64\nSource: libfoo1-src (1.0-1)\nMaintainer: t <t@example.com>\nDepends: libc6 (>= 2.36)\nDescription: test package\n a test\n"; string(status) != want {
		t.Errorf("status.d/libfoo1:\n%s\nwant\n%s", status, want)
	}

	out, printed, err = run("--which", "libfoo.so.1", "libnone.so.2")
	if err != nil {
		t.Fatal(err)
	}
	which, _ := os.ReadFile(out + "/which.json")
	if string(which) != `{"libfoo.so.1": "libfoo1"}` || printed != "shared libraries in Debian trixie: {'libfoo.so.1': 'libfoo1'}\n" {
		t.Errorf("which.json %s, printed %q", which, printed)
	}

	for _, tc := range []struct {
		pkgs []string
		want string
	}{
		{[]string{"libnope"}, "app.runtimePackages: libnope is not a package of Debian trixie (the runtime's release); check the name with apt-cache search, or https://packages.debian.org/trixie"},
		{[]string{"dash"}, "app.runtimePackages: dash is a shell or package manager, which the runtime must not have"},
		{[]string{"wants-dash"}, "app.runtimePackages: wants-dash would bring dash (a shell or package manager), which the runtime must not have; the packages that need it cannot be used without one"},
		{[]string{"uses-sh"}, "app.runtimePackages: uses-sh ships /usr/bin/sh (a shell or package manager), which the runtime must not have"},
	} {
		if _, _, err := run(tc.pkgs...); err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v\nwant %s", tc.pkgs, err, tc.want)
		}
	}
}
