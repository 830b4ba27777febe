package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildDeb makes a real .deb with dpkg-deb --build in dir and returns its
// path. files: path -> content; "-> TARGET" makes a symlink, "=> PATH" a
// hard link to an earlier path, "#!" content an executable.
func buildDeb(t *testing.T, dir, pkg, version string, files map[string]string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: " + pkg + "\nVersion: " + version + "\nArchitecture: all\nMaintainer: test <t@example.invalid>\nDescription: test package\n"
	if err := os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	var links [][2]string
	for p, v := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(v, "-> "):
			if err := os.Symlink(strings.TrimPrefix(v, "-> "), full); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(v, "=> "):
			links = append(links, [2]string{filepath.Join(root, strings.TrimPrefix(v, "=> ")), full})
		default:
			mode := os.FileMode(0o644)
			if strings.HasPrefix(v, "#!") {
				mode = 0o755
			}
			if err := os.WriteFile(full, []byte(v), mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(full, mode) // umask
		}
	}
	for _, l := range links {
		if err := os.Link(l[0], l[1]); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, pkg+"_"+strings.ReplaceAll(version, ":", "%3a")+"_all.deb")
	if b, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, out).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, b)
	}
	return out
}

func needDpkgDeb(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Fatal("dpkg-deb not found: the repack reads .debs with it (Debian's dpkg package)")
	}
}

func TestReadDeb(t *testing.T) {
	needDpkgDeb(t)
	p := buildDeb(t, t.TempDir(), "python3-x", "1:2.0-1", map[string]string{
		site + "x/__init__.py": "X",
		site + "x/copy.py":     "=> " + site + "x/__init__.py",
		site + "x/link.py":     "-> __init__.py",
		site + "x/tool":        "#!/bin/sh\n",
	})
	d, err := readDeb(p)
	if err != nil {
		t.Fatal(err)
	}
	if d.Package != "python3-x" || d.Version != "1:2.0-1" {
		t.Errorf("control: %s %s", d.Package, d.Version)
	}
	if sum, _ := fileSHA256(p); d.SHA256 != sum {
		t.Errorf("sha256 %s, want %s", d.SHA256, sum)
	}
	for p, want := range map[string]string{site + "x/__init__.py": "X", site + "x/copy.py": "X"} {
		if n := d.files[p]; n == nil || string(n.data) != want {
			t.Errorf("%s: %+v", p, n)
		}
	}
	if n := d.files[site+"x/link.py"]; n == nil || n.link != "__init__.py" {
		t.Errorf("symlink: %+v", n)
	}
	if n := d.files[site+"x/tool"]; n == nil || n.mode&0o111 == 0 {
		t.Errorf("executable: %+v", n)
	}
	if !d.files.isDir("usr/lib/python3") {
		t.Error("directories missing")
	}
}

// fakeAptGet stands in for apt-get: `download --print-uris` lists the
// .debs of $FAKE_APT_POOL as apt does, `download` copies them to the
// working directory.
const fakeAptGet = `#!/bin/sh
set -e
[ -n "$APT_CONFIG" ] || { echo "no APT_CONFIG" >&2; exit 100; }
[ "$1" = download ] || exit 100
shift
mode=get
if [ "$1" = --print-uris ]; then mode=uris; shift; fi
[ "$1" = -q ] && shift
[ "$1" = -- ] && shift
for p in "$@"; do
  f=$(ls "$FAKE_APT_POOL"/"$p"_*.deb 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "E: Unable to locate package $p" >&2; exit 100; }
  if [ $mode = uris ]; then
    echo "'file://$f' $(basename "$f") $(stat -c %s "$f") SHA256:$(sha256sum "$f" | cut -d' ' -f1)"
  else
    cp "$f" .
    echo "$p" >> "$FAKE_APT_LOG"
  fi
done
`

// TestRunCache drives whole runs against real .debs and a fake apt-get:
// the first run builds, the second builds nothing and needs no .debs, a
// new .deb rebuilds only its wheel and removes the old one, other wheels
// in the directory are left alone and clashes with them are refused, a
// second work dir gets byte-identical wheels, and a set that does not
// install from itself fails.
func TestRunCache(t *testing.T) {
	needDpkgDeb(t)
	w := t.TempDir()
	archive := filepath.Join(w, "archive")
	bin := filepath.Join(w, "bin")
	for _, d := range []string{archive, bin} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(bin, "apt-get"), []byte(fakeAptGet), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	t.Setenv("FAKE_APT_POOL", archive)
	t.Setenv("FAKE_APT_LOG", filepath.Join(w, "downloads"))
	aptConf := filepath.Join(w, "apt", "trixie", "apt.conf")
	os.MkdirAll(filepath.Dir(aptConf), 0o755)
	os.WriteFile(aptConf, nil, 0o644)

	debA := buildDeb(t, archive, "python3-a", "1.0-1", map[string]string{
		site + "a/__init__.py":            "A = 1\n",
		site + "a-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nRequires-Dist: b>=2\n",
	})
	buildDeb(t, archive, "python3-b", "2.0-1", map[string]string{
		site + "b/__init__.py":            "",
		site + "b/data.txt":               "-> ../../../../share/b/data.txt",
		site + "b-2.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: b\nVersion: 2.0\n",
	})
	buildDeb(t, archive, "b-data", "2.0-1", map[string]string{"usr/share/b/data.txt": "DATA"})

	list := filepath.Join(w, "list.txt")
	writeList := func(s string) { os.WriteFile(list, []byte(s), 0o644) }
	writeList("a python3-a\nb python3-b fill=b-data\n")
	opts := func(out, state, pool string) options {
		return options{list: list, out: out, state: state, apt: apt{config: aptConf, pool: pool}, jobs: 2}
	}
	out, state, pool := filepath.Join(w, "wheels"), filepath.Join(w, "state"), filepath.Join(w, "debs", "trixie")
	os.MkdirAll(out, 0o755)
	toy := filepath.Join(out, "greeting-1.0-py3-none-any.whl")
	os.WriteFile(toy, []byte("someone else's"), 0o644)

	mustRun := func(o options, built, cached int) {
		t.Helper()
		res, err := run(o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Built != built || res.Cached != cached {
			t.Fatalf("built %d, cached %d; want %d, %d", res.Built, res.Cached, built, cached)
		}
	}
	wheels := func(dir string) map[string][]byte {
		m := map[string][]byte{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			m[e.Name()] = b
		}
		return m
	}

	mustRun(opts(out, state, pool), 2, 0)
	first := wheels(out)
	for _, f := range []string{"a-1.0-py3-none-any.whl", "b-2.0-py3-none-any.whl", "greeting-1.0-py3-none-any.whl"} {
		if _, ok := first[f]; !ok {
			t.Fatalf("%s missing: %v", f, sortedKeys(first))
		}
	}
	if m := checkWheel(t, first["b-2.0-py3-none-any.whl"]); m["b/data.txt"] != "DATA" {
		t.Errorf("b/data.txt = %q", m["b/data.txt"])
	}

	// cached: nothing built, nothing downloaded, even with the pool gone
	os.RemoveAll(pool)
	os.Remove(filepath.Join(w, "downloads"))
	mustRun(opts(out, state, pool), 0, 2)
	if _, err := os.Stat(filepath.Join(w, "downloads")); err == nil {
		t.Error("a cached run downloaded .debs")
	}
	// a changed line rebuilds that wheel only
	writeList("a python3-a\nb python3-b fill=b-data requires='a'\n")
	mustRun(opts(out, state, pool), 1, 1)
	// an option that matches nothing fails the build
	writeList("a python3-a\nb python3-b fill=b-data drop=nothing-here\n")
	if _, err := run(opts(out, state, pool)); err == nil || !strings.Contains(err.Error(), "drop=nothing-here matches nothing") {
		t.Fatalf("error %v", err)
	}
	writeList("a python3-a\nb python3-b fill=b-data\n")
	mustRun(opts(out, state, pool), 1, 1)

	// a new version of python3-a: a rebuilt, its old wheel removed, b cached
	os.Remove(debA)
	buildDeb(t, archive, "python3-a", "1.1-1", map[string]string{
		site + "a/__init__.py":            "A = 2\n",
		site + "a-1.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: a\nVersion: 1.1\nRequires-Dist: b>=2\n",
	})
	mustRun(opts(out, state, pool), 1, 1)
	now := wheels(out)
	if _, ok := now["a-1.0-py3-none-any.whl"]; ok {
		t.Error("the old a wheel was not removed")
	}
	if _, ok := now["a-1.1-py3-none-any.whl"]; !ok {
		t.Error("no a-1.1 wheel")
	}
	if !bytes.Equal(now["b-2.0-py3-none-any.whl"], first["b-2.0-py3-none-any.whl"]) || string(now["greeting-1.0-py3-none-any.whl"]) != "someone else's" {
		t.Error("b or the toy wheel changed")
	}

	// a fresh work dir makes the same bytes
	out2 := filepath.Join(w, "wheels2")
	mustRun(opts(out2, filepath.Join(w, "state2"), pool), 2, 0)
	again := wheels(out2)
	for name, b := range again {
		if !bytes.Equal(b, now[name]) {
			t.Errorf("%s differs between two work dirs", name)
		}
	}

	// someone else's wheel of a distribution debwheel makes is a clash
	os.WriteFile(filepath.Join(out, "b-1.0-py3-none-any.whl"), []byte("other"), 0o644)
	if _, err := run(opts(out, state, pool)); err == nil || !strings.Contains(err.Error(), "not written by it: b-1.0-py3-none-any.whl") {
		t.Fatalf("clash: error %v", err)
	}
	os.Remove(filepath.Join(out, "b-1.0-py3-none-any.whl"))

	// a line taken off the list: its wheel goes; the set must still be closed
	writeList("b python3-b fill=b-data\n")
	mustRun(opts(out, state, pool), 0, 1)
	if _, err := os.Stat(filepath.Join(out, "a-1.1-py3-none-any.whl")); err == nil {
		t.Error("a's wheel stayed after its line went")
	}
	writeList("a python3-a\n")
	if _, err := run(opts(out, state, pool)); err == nil || !strings.Contains(err.Error(), "a -> b>=2: b is not in the set") {
		t.Fatalf("closure: error %v", err)
	}

	// apt failures are marked, so testbed.sh can refresh the lists and retry
	writeList("a python3-a\nz python3-missing\n")
	_, err := run(opts(out, state, pool))
	if err == nil || !errors.As(err, new(errApt)) {
		t.Fatalf("missing package: error %v (%T), want errApt", err, err)
	}
}

func TestCacheKey(t *testing.T) {
	s := spec{Name: "b", Packages: []string{"python3-b"}, Fill: []string{"b-data"}}
	files := map[string]debFile{
		"python3-b": {Package: "python3-b", File: "python3-b_2.0-1_all.deb", SHA256: "11"},
		"b-data":    {Package: "b-data", File: "b-data_2.0-1_all.deb", SHA256: "22"},
	}
	k := cacheKey(s, files)
	if cacheKey(s, files) != k {
		t.Fatal("key not stable")
	}
	changed := map[string]debFile{"python3-b": files["python3-b"], "b-data": {Package: "b-data", File: "b-data_2.0-1_all.deb", SHA256: "23"}}
	if cacheKey(s, changed) == k {
		t.Error("a fill .deb's sha256 is not in the key")
	}
	s2 := s
	s2.Drop = []string{"x"}
	if cacheKey(s2, files) == k {
		t.Error("the line's options are not in the key")
	}
}
