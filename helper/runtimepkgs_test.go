package helper

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The expected values below are what runtimePackagesScript computed from
// the same inputs (Python 3.11).

func TestDpkgStatus(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root+"/var/lib/dpkg/status", "Package: base-files\nStatus: install ok installed\nVersion: 12.4\nDepends: libc6 (>= 2.3),\n libfoo\nDescription: base\n two lines\n\nPackage: tzdata\nVersion: 2024a\nPre-Depends: debconf\nBreaks: old\n\nNotAPackage: x\n", 0o644)
	writeFile(t, root+"/var/lib/dpkg/status.d/libssl3", "Package: libssl3\nVersion: 3.0\nDepends: libc6\nArchitecture: amd64\n", 0o644)
	writeFile(t, root+"/var/lib/dpkg/status.d/libssl3.md5sums", "abc  /usr/lib/x\n", 0o644)
	want := "Package: libssl3\nStatus: install ok installed\nVersion: 3.0\nArchitecture: amd64\n\nPackage: base-files\nStatus: install ok installed\nVersion: 12.4\nDescription: base\n two lines\n\nPackage: tzdata\nStatus: install ok installed\nVersion: 2024a\n"
	if got := dpkgStatus(root); got != want {
		t.Errorf("dpkgStatus:\n got %q\nwant %q", got, want)
	}
	if got := dpkgStatus(t.TempDir()); got != "\n" {
		t.Errorf("no database: %q", got)
	}
}

func TestRewriteSources(t *testing.T) {
	in := "deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian bookworm-updates main\n# deb http://x bookworm main\nTypes: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nX-Bookworm: bookworm\ndeb http://x/bookwormish bookworm2 main\n"
	want := "deb http://deb.debian.org/debian trixie main\ndeb http://deb.debian.org/debian trixie-updates main\n# deb http://x bookworm main\nTypes: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie trixie-updates\nComponents: main\nX-Bookworm: bookworm\ndeb http://x/bookwormish bookworm2 main\n"
	if got := rewriteSources(in, "bookworm", "trixie"); got != want {
		t.Errorf("rewriteSources:\n got %q\nwant %q", got, want)
	}
	for f, want := range map[string]string{"/etc/apt/sources.list": "sources.list", "/etc/apt/other": "main.list", "/etc/apt/sources.list.d/debian.sources": "debian.sources", "/etc/apt/sources.list.d/x.list": "x.list"} {
		if got := sourcesName(f); got != want {
			t.Errorf("sourcesName(%s) = %s, want %s", f, got, want)
		}
	}
}

func TestPostinstAlternatives(t *testing.T) {
	script := "set -e\nif [ \"$1\" = configure ]; then\n  update-alternatives --install /usr/lib/x86_64-linux-gnu/libblas.so.3 \\\n    libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 10\n  update-alternatives --quiet --install /usr/lib/x86_64-linux-gnu/libblas.so.3 libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas/libblas.so.3 100\n  update-alternatives --install /usr/lib/x86_64-linux-gnu/libblas.so.3 libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/other/libblas.so.3 100\n  update-alternatives --install /usr/bin/$NAME name /usr/lib/$NAME 5\n  update-alternatives --install /usr/bin/x x /usr/lib/x 5 --slave /usr/bin/y y /usr/lib/y\nfi\n"
	links := map[string]alternative{}
	postinstAlternatives(script, links)
	want := map[string]alternative{
		"/usr/lib/x86_64-linux-gnu/libblas.so.3": {"/usr/lib/x86_64-linux-gnu/openblas/libblas.so.3", 100},
		"/usr/bin/x":                             {"/usr/lib/x", 5},
	}
	if !reflect.DeepEqual(links, want) {
		t.Fatalf("postinstAlternatives = %v, want %v", links, want)
	}
	// made relative, unless the packages or the runtime have the path
	root, out := t.TempDir(), t.TempDir()
	rp := &runtimePkgs{root: root, out: out}
	links["/usr/lib/present"] = alternative{"/usr/lib/elsewhere", 1}
	writeFile(t, root+"/usr/lib/present", "", 0o644)
	if err := rp.makeAlternatives(links); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"/usr/bin/x": "../lib/x", "/usr/lib/x86_64-linux-gnu/libblas.so.3": "openblas/libblas.so.3"} {
		if got, err := os.Readlink(out + link); err != nil || got != target {
			t.Errorf("%s -> %q (%v), want %s", link, got, err, target)
		}
	}
	if Lexists(out + "/usr/lib/present") {
		t.Error("a link was made where the runtime has a file")
	}
}

func TestAptOutput(t *testing.T) {
	sim := "NOTE: This is only a simulation!\nInst libgfortran5 (12.2.0-14 Debian:12.5/stable [amd64])\nInst libblas3 [3.10.0-1] (3.11.1-2 Debian:12.5/stable [amd64])\nInst libc6:amd64 (2.36-9+deb12u4 Debian-Security:12/stable-security [amd64])\nConf libblas3 (3.11.1-2 Debian:12.5/stable [amd64])\n"
	want := [][2]string{{"libgfortran5", "12.2.0-14"}, {"libblas3", "3.11.1-2"}, {"libc6:amd64", "2.36-9+deb12u4"}}
	if got := aptPlan(sim); !reflect.DeepEqual(got, want) {
		t.Errorf("aptPlan = %q, want %q", got, want)
	}
	names := strings.Fields("libpq5 libpq-dev libpq-oid2name libpq5-dbgsym libpqxx-6.4 libpq libpq-fe-doc libpq10 libpq-tools")
	if got, want := whichCandidates("libpq", names), []string{"libpq5", "libpq10", "libpq", "libpqxx-6.4", "libpq-oid2name"}; !slices.Equal(got, want) {
		t.Errorf("whichCandidates = %q, want %q", got, want)
	}
	if got := pyDictRepr(map[string]string{"libz.so.1": "zlib1g", "libpq.so.5": "libpq5"}); got != "{'libpq.so.5': 'libpq5', 'libz.so.1': 'zlib1g'}" {
		t.Errorf("pyDictRepr = %s", got)
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		wanted []string
		plan   [][2]string
		want   string
	}{
		{[]string{"libpq5"}, [][2]string{{"libpq5", "1"}}, ""},
		{[]string{"bash"}, nil, "app.runtimePackages: bash is a shell or package manager, which the runtime must not have"},
		{[]string{"x", "y"}, [][2]string{{"x", "1"}, {"dash:amd64", "2"}}, "app.runtimePackages: x y would bring dash:amd64 (a shell or package manager), which the runtime must not have; the packages that need it cannot be used without one"},
	} {
		err := refusePlan(tc.wanted, tc.plan)
		if (err == nil) != (tc.want == "") || (err != nil && err.Error() != tc.want) {
			t.Errorf("refusePlan(%q, %q) = %v, want %q", tc.wanted, tc.plan, err, tc.want)
		}
	}
	for _, tc := range []struct {
		files map[string]os.FileMode
		link  string
		want  string
	}{
		{map[string]os.FileMode{"usr/lib/libx.so.1": 0o644, "usr/share/doc/x/sh": 0o644, "usr/bin/shx": 0o755}, "", ""},
		{map[string]os.FileMode{"usr/bin/sh": 0o755}, "", "app.runtimePackages: pkg ships /usr/bin/sh (a shell or package manager), which the runtime must not have"},
		{nil, "sbin/su", "app.runtimePackages: pkg ships /sbin/su (a shell or package manager), which the runtime must not have"},
		{map[string]os.FileMode{"usr/lib/helper": os.ModeSetgid | 0o755}, "", "app.runtimePackages: pkg ships the setuid/setgid file /usr/lib/helper, which the runtime must not have"},
		{map[string]os.FileMode{"usr/lib/dir/f": 0o644}, "", ""},
	} {
		dir := t.TempDir()
		for f, mode := range tc.files {
			writeFile(t, filepath.Join(dir, f), "x", mode)
		}
		if tc.link != "" {
			os.MkdirAll(filepath.Join(dir, filepath.Dir(tc.link)), 0o755)
			if err := os.Symlink("../usr/bin/x", filepath.Join(dir, tc.link)); err != nil {
				t.Fatal(err)
			}
		}
		err := checkUnpacked("pkg", dir)
		if (err == nil) != (tc.want == "") || (err != nil && err.Error() != tc.want) {
			t.Errorf("checkUnpacked(%v %s) = %v, want %q", tc.files, tc.link, err, tc.want)
		}
	}
}

func TestTrimUnpacked(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"usr/share/doc/x/copyright", "usr/share/doc/x/changelog.gz", "usr/share/doc/x/examples/a", "usr/share/man/man1/x.1.gz", "usr/share/locale/de/x.mo", "usr/lib/x.so"} {
		writeFile(t, filepath.Join(dir, f), "x", 0o644)
	}
	os.Symlink("x", dir+"/usr/share/doc/y")
	if err := trimUnpacked(dir); err != nil {
		t.Fatal(err)
	}
	var left []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if !fi.IsDir() {
			left = append(left, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	if want := []string{"usr/lib/x.so", "usr/share/doc/x/copyright", "usr/share/doc/y"}; !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
}

func TestOSRelease(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root+"/usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_CODENAME=bookworm\n  ID_LIKE = \"x\"  \nBROKEN\n", 0o644)
	os.MkdirAll(root+"/etc", 0o755)
	os.Symlink("../usr/lib/os-release", root+"/etc/os-release")
	want := map[string]string{"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "ID": "debian", "VERSION_CODENAME": "bookworm", "ID_LIKE ": "x"}
	if got := osRelease(root); !reflect.DeepEqual(got, want) {
		t.Errorf("osRelease = %q, want %q", got, want)
	}
	// a link to an absolute path would read the builder's: not followed
	abs := t.TempDir()
	os.MkdirAll(abs+"/etc", 0o755)
	os.Symlink("/usr/lib/os-release", abs+"/etc/os-release")
	if got := osRelease(abs); len(got) != 0 {
		t.Errorf("osRelease through an absolute link = %q", got)
	}

	for _, tc := range []struct{ release, want string }{
		{"", "app.runtimePackages: the runtime image is of unknown origin (no /etc/os-release), not Debian: runtime packages are Debian packages unpacked from the runtime's release"},
		{"PRETTY_NAME=\"Wolfi\"\nID=wolfi\n", "app.runtimePackages: the runtime image is Wolfi, not Debian: runtime packages are Debian packages unpacked from the runtime's release"},
		{"ID=ubuntu\nID_LIKE=debian\n", "app.runtimePackages: the runtime's /etc/os-release names no VERSION_CODENAME, so its Debian release is unknown"},
	} {
		root := t.TempDir()
		if tc.release != "" {
			writeFile(t, root+"/etc/os-release", tc.release, 0o644)
		}
		err := RuntimePackages([]string{root, t.TempDir(), t.TempDir(), "libpq5"}, io.Discard, io.Discard)
		if err == nil || err.Error() != tc.want {
			t.Errorf("RuntimePackages on %q: %v, want %s", tc.release, err, tc.want)
		}
	}
}
