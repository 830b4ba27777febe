package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const site = "usr/lib/python3/dist-packages/"

// memDeb makes a read package from a path -> content table: a value
// "-> TARGET" is a symlink, a path ending in "/" a directory, a value
// starting with "#!" an executable file.
func memDeb(pkg, ver string, files map[string]string) *deb {
	d := &deb{Package: pkg, Version: ver, files: tree{}}
	for p, v := range files {
		n := &node{mode: 0o644, pkg: pkg}
		switch {
		case strings.HasSuffix(p, "/"):
			n.dir, n.mode = true, 0o755
		case strings.HasPrefix(v, "-> "):
			n.link = strings.TrimPrefix(v, "-> ")
		default:
			n.data = []byte(v)
			if strings.HasPrefix(v, "#!") {
				n.mode = 0o755
			}
		}
		d.files[cleanRel(p)] = n
	}
	return d
}

func distInfoMeta(name, version string, extra ...string) string {
	return "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n" + strings.Join(extra, "") + "\nlong description\n"
}

// elf is enough of an ELF header for the native-code check.
const elf = "\x7fELF\x02\x01\x01"

func TestRepack(t *testing.T) {
	type want struct {
		file    string            // wheel file name
		has     map[string]string // wheel path -> content ("*" = any)
		hasNot  []string
		meta    []string // lines METADATA must contain
		metaNot []string
		err     string // error substring; the rest is not checked
	}
	tests := []struct {
		name string
		spec spec
		debs []*deb
		want want
	}{{
		name: "pure dist-info: layout, tag, dropped Debian files",
		spec: spec{Name: "flask", Packages: []string{"python3-flask"}},
		debs: []*deb{memDeb("python3-flask", "3.1.1-1+deb13u1", map[string]string{
			site + "flask/__init__.py":                          "x = 1\n",
			site + "flask/__pycache__/__init__.cpython-313.pyc": "junk",
			site + "flask/cli.pyc":                              "junk",
			site + "Flask-3.1.1.dist-info/METADATA":             distInfoMeta("Flask", "3.1.1", "Requires-Dist: click>=8.1.3\n"),
			site + "Flask-3.1.1.dist-info/WHEEL":                "Wheel-Version: 1.0\nGenerator: debian\n",
			site + "Flask-3.1.1.dist-info/INSTALLER":            "debian\n",
			site + "Flask-3.1.1.dist-info/entry_points.txt":     "[console_scripts]\nflask = flask.cli:main\n",
			site + "Flask-3.1.1.dist-info/licenses/LICENSE":     "BSD\n",
			"usr/bin/flask":                                     "#!/usr/bin/python3\n",
			"usr/share/doc/python3-flask/copyright":             "c",
		})},
		want: want{
			file: "flask-3.1.1-py3-none-any.whl",
			has: map[string]string{
				"flask/__init__.py":                      "x = 1\n",
				"flask-3.1.1.dist-info/entry_points.txt": "*",
				"flask-3.1.1.dist-info/licenses/LICENSE": "BSD\n",
				"flask-3.1.1.dist-info/WHEEL":            "Wheel-Version: 1.0\nGenerator: distill-debwheel 1 (from python3-flask 3.1.1-1+deb13u1)\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
			},
			hasNot: []string{"flask/__pycache__/__init__.cpython-313.pyc", "flask/cli.pyc", "flask-3.1.1.dist-info/INSTALLER",
				"usr/bin/flask", "flask", "Flask-3.1.1.dist-info/METADATA"},
			meta: []string{"Name: Flask", "Version: 3.1.1", "Requires-Dist: click>=8.1.3", "long description"},
		},
	}, {
		name: "version from METADATA, not Debian's",
		spec: spec{Name: "click", Packages: []string{"python3-click"}},
		debs: []*deb{memDeb("python3-click", "8.2.0+0.really.8.1.8-1", map[string]string{
			site + "click/__init__.py":              "",
			site + "click-8.1.8.dist-info/METADATA": distInfoMeta("click", "8.1.8"),
		})},
		want: want{file: "click-8.1.8-py3-none-any.whl", meta: []string{"Version: 8.1.8"}},
	}, {
		name: "a .dev0 release Debian packaged loses .dev0 (mako)",
		spec: spec{Name: "mako", Packages: []string{"python3-mako"}},
		debs: []*deb{memDeb("python3-mako", "1.3.9-1", map[string]string{
			site + "mako/__init__.py":                     "",
			site + "Mako-1.3.9.dev0.egg-info/PKG-INFO":    "Metadata-Version: 2.1\nName: Mako\nVersion: 1.3.9.dev0\nRequires-Dist: MarkupSafe>=0.9.2\n",
			site + "Mako-1.3.9.dev0.egg-info/SOURCES.txt": "x",
		})},
		want: want{file: "mako-1.3.9-py3-none-any.whl", meta: []string{"Version: 1.3.9", "Requires-Dist: MarkupSafe>=0.9.2"},
			metaNot: []string{"dev0"}, hasNot: []string{"mako-1.3.9.dist-info/SOURCES.txt"}},
	}, {
		name: "egg-info: PKG-INFO + requires.txt sections become Requires-Dist",
		spec: spec{Name: "markupsafe", Packages: []string{"python3-markupsafe"}},
		debs: []*deb{memDeb("python3-markupsafe", "2.1.5-1+b3", map[string]string{
			site + "markupsafe/__init__.py":                               "",
			site + "markupsafe/_speedups.cpython-313-x86_64-linux-gnu.so": elf,
			site + "MarkupSafe-2.1.5.egg-info/PKG-INFO":                   "Metadata-Version: 1.1\nName: MarkupSafe\nVersion: 2.1.5\n\nbody\n",
			site + "MarkupSafe-2.1.5.egg-info/requires.txt":               "base>=1\n\n[:python_version < \"3.8\"]\nold\n\n[Speed_Ups]\nfast; os_name == \"posix\"\n\n[speed-ups:sys_platform == \"win32\"]\nwinfast\n",
			site + "MarkupSafe-2.1.5.egg-info/top_level.txt":              "markupsafe\n",
			site + "MarkupSafe-2.1.5.egg-info/dependency_links.txt":       "\n",
			site + "MarkupSafe-2.1.5.egg-info/entry_points.txt":           "[x]\ny = z\n",
		})},
		want: want{
			file: "markupsafe-2.1.5-cp313-cp313-linux_x86_64.whl",
			has: map[string]string{
				"markupsafe-2.1.5.dist-info/top_level.txt":    "markupsafe\n",
				"markupsafe-2.1.5.dist-info/entry_points.txt": "[x]\ny = z\n",
				"markupsafe-2.1.5.dist-info/WHEEL":            "*Root-Is-Purelib: false\nTag: cp313-cp313-linux_x86_64\n",
			},
			hasNot: []string{"markupsafe-2.1.5.dist-info/PKG-INFO", "markupsafe-2.1.5.dist-info/requires.txt", "markupsafe-2.1.5.dist-info/dependency_links.txt"},
			meta: []string{"Metadata-Version: 2.1", "Provides-Extra: speed-ups",
				"Requires-Dist: base>=1\n",
				`Requires-Dist: old; python_version < "3.8"`,
				`Requires-Dist: fast; (os_name == "posix") and extra == "speed-ups"`,
				`Requires-Dist: winfast; (sys_platform == "win32") and extra == "speed-ups"`,
				"\nbody\n"},
			metaNot: []string{"Provides-Extra: speed-ups\nProvides-Extra: speed-ups"},
		},
	}, {
		name: "symlinks out of the package: file and directory filled from fill packages, chains followed",
		spec: spec{Name: "django", Packages: []string{"python3-django"}, Fill: []string{"libjs-jquery", "python3-numpy-dev"}},
		debs: []*deb{memDeb("python3-django", "3:4.2.30-0+deb13u1", map[string]string{
			site + "django/__init__.py":                 "",
			site + "django/static/jquery/jquery.js":     "-> ../../../../../../share/javascript/jquery/jquery.js",
			site + "django/static/jquery/jquery.min.js": "-> /usr/share/javascript/jquery/jquery.min.js",
			site + "django/static/jquery/same.js":       "-> jquery.js",
			site + "django/include":                     "-> ../../../x86_64-linux-gnu/inc",
			site + "django-4.2.30.dist-info/METADATA":   distInfoMeta("Django", "4.2.30"),
		}), memDeb("libjs-jquery", "3.6.1-1", map[string]string{
			"usr/share/javascript/jquery/":              "",
			"usr/share/javascript/jquery/jquery.js":     "JQ",
			"usr/share/javascript/jquery/jquery.min.js": "-> jquery.js",
		}), memDeb("python3-numpy-dev", "1:2.2.4+ds-1", map[string]string{
			"usr/lib/x86_64-linux-gnu/inc/a.h":               "A",
			"usr/lib/x86_64-linux-gnu/inc/sub/b.h":           "B",
			"usr/lib/x86_64-linux-gnu/inc/sub/link.h":        "-> ../a.h",
			"usr/lib/x86_64-linux-gnu/inc/__pycache__/x.pyc": "junk",
		})},
		want: want{
			file: "django-4.2.30-py3-none-any.whl",
			has: map[string]string{
				"django/static/jquery/jquery.js":     "JQ",
				"django/static/jquery/jquery.min.js": "JQ",
				"django/static/jquery/same.js":       "JQ",
				"django/include/a.h":                 "A",
				"django/include/sub/b.h":             "B",
				"django/include/sub/link.h":          "A",
				"django-4.2.30.dist-info/WHEEL":      "*(from python3-django 3:4.2.30-0+deb13u1, fill libjs-jquery 3.6.1-1, fill python3-numpy-dev 1:2.2.4+ds-1)",
			},
			hasNot: []string{"django/include", "django/include/__pycache__/x.pyc"},
		},
	}, {
		name: "a dangling symlink is an error",
		spec: spec{Name: "django", Packages: []string{"python3-django"}},
		debs: []*deb{memDeb("python3-django", "4.2", map[string]string{
			site + "django/jquery.js":              "-> /usr/share/javascript/jquery/jquery.js",
			site + "django-4.2.dist-info/METADATA": distInfoMeta("Django", "4.2"),
		})},
		want: want{err: "/usr/share/javascript/jquery/jquery.js is in none of the packages read"},
	}, {
		name: "a fill package nothing needs is an error",
		spec: spec{Name: "six", Packages: []string{"python3-six"}, Fill: []string{"libjs-jquery"}},
		debs: []*deb{memDeb("python3-six", "1.16", map[string]string{
			site + "six.py":                      "",
			site + "six-1.16.dist-info/METADATA": distInfoMeta("six", "1.16"),
		}), memDeb("libjs-jquery", "3", map[string]string{"usr/share/javascript/jquery/jquery.js": "JQ"})},
		want: want{err: "fill=libjs-jquery matches nothing"},
	}, {
		name: "split packages merge (sqlalchemy + its C extensions); files outside the site may differ",
		spec: spec{Name: "SQLAlchemy", Packages: []string{"python3-sqlalchemy", "python3-sqlalchemy-ext"}},
		debs: []*deb{memDeb("python3-sqlalchemy", "2.0.40+ds1-1", map[string]string{
			site + "sqlalchemy/":                             "",
			site + "sqlalchemy/__init__.py":                  "",
			site + "SQLAlchemy-2.0.40.egg-info/PKG-INFO":     "Metadata-Version: 2.1\nName: SQLAlchemy\nVersion: 2.0.40\nRequires-Dist: greenlet>=1; python_version < \"3.14\"\n",
			site + "SQLAlchemy-2.0.40.egg-info/requires.txt": "[:python_version < \"3.14\"]\ngreenlet>=1\n",
			"usr/share/doc/python3-sqlalchemy/changelog":     "main's",
		}), memDeb("python3-sqlalchemy-ext", "2.0.40+ds1-1", map[string]string{
			site + "sqlalchemy/": "",
			site + "sqlalchemy/cyextension/processors.cpython-313-x86_64-linux-gnu.so": elf,
			"usr/share/doc/python3-sqlalchemy/changelog":                               "ext's", // outside the site: no conflict
		})},
		want: want{
			file: "sqlalchemy-2.0.40-cp313-cp313-linux_x86_64.whl",
			has:  map[string]string{"sqlalchemy/cyextension/processors.cpython-313-x86_64-linux-gnu.so": elf, "sqlalchemy/__init__.py": ""},
			// PKG-INFO already had its Requires-Dist: requires.txt adds nothing twice
			meta:    []string{"Requires-Dist: greenlet>=1; python_version < \"3.14\"\n"},
			metaNot: []string{"\"3.14\"\nRequires-Dist"},
		},
	}, {
		name: "merged packages may not disagree about a file",
		spec: spec{Name: "a", Packages: []string{"python3-a", "python3-a-ext"}},
		debs: []*deb{memDeb("python3-a", "1", map[string]string{site + "a/x.py": "1", site + "a-1.dist-info/METADATA": distInfoMeta("a", "1")}),
			memDeb("python3-a-ext", "1", map[string]string{site + "a/x.py": "2"})},
		want: want{err: "is in both python3-a and python3-a-ext, differently"},
	}, {
		name: "top= takes one project out of a .deb holding two (flit_core from flit)",
		spec: spec{Name: "flit-core", Packages: []string{"flit"}, Top: []string{"flit_core"}},
		debs: []*deb{memDeb("flit", "3.12.0-1", map[string]string{
			site + "flit/__init__.py":                    "",
			site + "flit-3.12.0.dist-info/METADATA":      distInfoMeta("flit", "3.12.0", "Requires-Dist: flit_core >=3.12.0\n"),
			site + "flit_core/__init__.py":               "",
			site + "flit_core/buildapi.py":               "",
			site + "flit_core-3.12.0.dist-info/METADATA": distInfoMeta("flit_core", "3.12.0"),
			"usr/bin/flit":                               "#!/usr/bin/python3\n",
		})},
		want: want{file: "flit_core-3.12.0-py3-none-any.whl",
			has:    map[string]string{"flit_core/buildapi.py": "", "flit_core-3.12.0.dist-info/METADATA": "*Name: flit_core"},
			hasNot: []string{"flit/__init__.py", "flit-3.12.0.dist-info/METADATA", "flit_core-3.12.0.dist-info/entry_points.txt"}},
	}, {
		name: "two projects in one .deb without top= is an error",
		spec: spec{Name: "flit-core", Packages: []string{"flit"}},
		debs: []*deb{memDeb("flit", "3.12.0-1", map[string]string{
			site + "flit/__init__.py":                    "",
			site + "flit-3.12.0.dist-info/METADATA":      distInfoMeta("flit", "3.12.0"),
			site + "flit_core-3.12.0.dist-info/METADATA": distInfoMeta("flit_core", "3.12.0"),
		})},
		want: want{err: "also hold flit: list the top-level names of flit-core with top="},
	}, {
		name: "no metadata for the named distribution",
		spec: spec{Name: "requests", Packages: []string{"python3-urllib3"}},
		debs: []*deb{memDeb("python3-urllib3", "2", map[string]string{site + "urllib3/__init__.py": "", site + "urllib3-2.dist-info/METADATA": distInfoMeta("urllib3", "2")})},
		want: want{err: "no .dist-info or .egg-info for requests"},
	}, {
		name: "drop= and a URL requirement made plain",
		spec: spec{Name: "markdown-it-py", Packages: []string{"python3-markdown-it"}, Drop: []string{"ast.pickle"}},
		debs: []*deb{memDeb("python3-markdown-it", "3.0.0-3", map[string]string{
			site + "markdown_it/__init__.py": "",
			site + "ast.pickle":              "leftover",
			site + "markdown_it_py-3.0.0.dist-info/METADATA": distInfoMeta("markdown-it-py", "3.0.0",
				"Requires-Dist: mdurl~=0.1\n",
				"Requires-Dist: mdit-py-plugins @ git+https://example.invalid/x.git@master ; extra == \"rtd\"\n"),
		})},
		want: want{file: "markdown_it_py-3.0.0-py3-none-any.whl", hasNot: []string{"ast.pickle"},
			meta:    []string{"Requires-Dist: mdurl~=0.1\n", "Requires-Dist: mdit-py-plugins; extra == \"rtd\"\n"},
			metaNot: []string{"git+https"}},
	}, {
		name: "requires= restores a lost requirement; abi3 extension tag",
		spec: spec{Name: "cryptography", Packages: []string{"python3-cryptography"}, Requires: []string{`cffi>=1.12; platform_python_implementation != "PyPy"`}},
		debs: []*deb{memDeb("python3-cryptography", "43.0.0-3", map[string]string{
			site + "cryptography/__init__.py":                   "",
			site + "cryptography/hazmat/bindings/_rust.abi3.so": elf,
			site + "cryptography-43.0.0.dist-info/METADATA":     distInfoMeta("cryptography", "43.0.0"),
		})},
		want: want{file: "cryptography-43.0.0-cp313-abi3-linux_x86_64.whl",
			meta: []string{`Requires-Dist: cffi>=1.12; platform_python_implementation != "PyPy"` + "\n\nlong description"}},
	}, {
		name: "requires= for something METADATA has is an error",
		spec: spec{Name: "a", Packages: []string{"python3-a"}, Requires: []string{"b>=1"}},
		debs: []*deb{memDeb("python3-a", "1", map[string]string{site + "a.py": "", site + "a-1.dist-info/METADATA": distInfoMeta("a", "1", "Requires-Dist: B\n")})},
		want: want{err: "METADATA already requires b"},
	}, {
		name: "native code without an extension name is an error",
		spec: spec{Name: "a", Packages: []string{"python3-a"}},
		debs: []*deb{memDeb("python3-a", "1", map[string]string{site + "a/helper": elf, site + "a-1.dist-info/METADATA": distInfoMeta("a", "1")})},
		want: want{err: "native code without an extension-module name: a/helper"},
	}, {
		name: "an extension for another Python is an error",
		spec: spec{Name: "a", Packages: []string{"python3-a"}},
		debs: []*deb{memDeb("python3-a", "1", map[string]string{site + "a/_x.cpython-312-x86_64-linux-gnu.so": elf, site + "a-1.dist-info/METADATA": distInfoMeta("a", "1")})},
		want: want{err: "an extension for CPython 312"},
	}, {
		name: "python3.13 dist-packages maps to the root too; executables keep their bit",
		spec: spec{Name: "a", Packages: []string{"python3-a"}},
		debs: []*deb{memDeb("python3-a", "1", map[string]string{
			"usr/lib/python3.13/dist-packages/a/run.sh": "#!/bin/sh\n",
			site + "a-1.dist-info/METADATA":             distInfoMeta("a", "1"),
		})},
		want: want{file: "a-1-py3-none-any.whl", has: map[string]string{"a/run.sh": "#!/bin/sh\n"}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			debs := map[string]*deb{}
			for _, d := range tc.debs {
				debs[d.Package] = d
			}
			w, err := repack(tc.spec, debs)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.want.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.FileName() != tc.want.file {
				t.Errorf("file name %s, want %s", w.FileName(), tc.want.file)
			}
			z, err := w.Zip()
			if err != nil {
				t.Fatal(err)
			}
			members := checkWheel(t, z)
			for p, want := range tc.want.has {
				got, ok := members[p]
				switch {
				case !ok:
					t.Errorf("%s missing; wheel has %v", p, sortedKeys(members))
				case strings.HasPrefix(want, "*"):
					if !strings.Contains(got, want[1:]) {
						t.Errorf("%s = %q, want it to contain %q", p, got, want[1:])
					}
				case got != want:
					t.Errorf("%s = %q, want %q", p, got, want)
				}
			}
			for _, p := range tc.want.hasNot {
				if _, ok := members[p]; ok {
					t.Errorf("%s should not be in the wheel", p)
				}
			}
			meta := members[w.DistInfo+"/METADATA"]
			for _, s := range tc.want.meta {
				if !strings.Contains(meta, s) {
					t.Errorf("METADATA lacks %q:\n%s", s, meta)
				}
			}
			for _, s := range tc.want.metaNot {
				if strings.Contains(meta, s) {
					t.Errorf("METADATA has %q:\n%s", s, meta)
				}
			}
		})
	}
}

// checkWheel verifies what pip and installer rely on and returns the
// members: every member (but RECORD) in RECORD with its urlsafe-base64
// sha256 and size, RECORD's own line "…/RECORD,,", RECORD last, the
// .dist-info after the modules, one .dist-info with METADATA and WHEEL,
// fixed timestamps, regular files only.
func checkWheel(t *testing.T, z []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]string{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		members[f.Name] = string(b)
		names = append(names, f.Name)
		if !f.Modified.Equal(zipTime) {
			t.Errorf("%s: time %v", f.Name, f.Modified)
		}
		if m := f.Mode(); !m.IsRegular() || (m.Perm() != 0o644 && m.Perm() != 0o755) {
			t.Errorf("%s: mode %v", f.Name, m)
		}
	}
	last := names[len(names)-1]
	info, _, _ := strings.Cut(last, "/")
	if !strings.HasSuffix(last, ".dist-info/RECORD") || !strings.HasSuffix(info, ".dist-info") {
		t.Fatalf("last member %s, want the .dist-info/RECORD", last)
	}
	inInfo := false
	for _, n := range names {
		if strings.HasPrefix(n, info+"/") {
			inInfo = true
		} else if inInfo {
			t.Errorf("%s comes after .dist-info members", n)
		}
	}
	if !sort.SliceIsSorted(names[:len(names)-1], func(i, j int) bool {
		a, b := strings.HasPrefix(names[i], info+"/"), strings.HasPrefix(names[j], info+"/")
		if a != b {
			return b
		}
		return names[i] < names[j]
	}) {
		t.Errorf("members not sorted: %v", names)
	}
	for _, need := range []string{"METADATA", "WHEEL"} {
		if _, ok := members[info+"/"+need]; !ok {
			t.Errorf("no %s/%s", info, need)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(members[last])).ReadAll()
	if err != nil {
		t.Fatalf("RECORD: %v", err)
	}
	listed := map[string]bool{}
	for _, r := range rows {
		listed[r[0]] = true
		if r[0] == last {
			if r[1] != "" || r[2] != "" {
				t.Errorf("RECORD's own line %v, want %s,,", r, last)
			}
			continue
		}
		data, ok := members[r[0]]
		if !ok {
			t.Errorf("RECORD lists %s, not in the wheel", r[0])
			continue
		}
		sum := sha256.Sum256([]byte(data))
		if want := "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]); r[1] != want {
			t.Errorf("RECORD %s: hash %s, want %s", r[0], r[1], want)
		}
		if r[2] != strconv.Itoa(len(data)) {
			t.Errorf("RECORD %s: size %s, want %d", r[0], r[2], len(data))
		}
	}
	for _, n := range names {
		if !listed[n] {
			t.Errorf("%s not in RECORD", n)
		}
	}
	if !strings.HasSuffix(members[last], last+",,\n") {
		t.Errorf("RECORD does not end with its own line:\n%s", members[last])
	}
	return members
}

// TestZipDeterministic: the same files give the same bytes whatever the
// map order (Go randomizes it per run), a changed byte changes them, and a
// path with a comma is quoted in RECORD.
func TestZipDeterministic(t *testing.T) {
	mk := func() *wheel {
		w := &wheel{Name: "a", Version: "1", Tag: "py3-none-any", DistInfo: "a-1.dist-info", Files: map[string]wfile{}}
		for i := 0; i < 50; i++ {
			w.Files["a/m"+strconv.Itoa(i)+".py"] = wfile{data: []byte(strings.Repeat("x", i))}
		}
		w.Files["a/odd,name.txt"] = wfile{data: []byte("comma")}
		w.Files["a/tool"] = wfile{data: []byte("#!"), exec: true}
		w.Files["a-1.dist-info/METADATA"] = wfile{data: []byte("Metadata-Version: 2.1\nName: a\nVersion: 1\n")}
		w.Files["a-1.dist-info/WHEEL"] = wfile{data: []byte("Wheel-Version: 1.0\n")}
		return w
	}
	a, err := mk().Zip()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		b, _ := mk().Zip()
		if !bytes.Equal(a, b) {
			t.Fatal("two zips of the same files differ")
		}
	}
	w := mk()
	w.Files["a/m3.py"] = wfile{data: []byte("xxy")}
	if c, _ := w.Zip(); bytes.Equal(a, c) {
		t.Fatal("a changed file did not change the wheel")
	}
	members := checkWheel(t, a)
	if !strings.Contains(members["a-1.dist-info/RECORD"], "\"a/odd,name.txt\",sha256=") {
		t.Errorf("comma path not quoted:\n%s", members["a-1.dist-info/RECORD"])
	}
	zr, _ := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	for _, f := range zr.File {
		if f.Name == "a/tool" && f.Mode().Perm() != 0o755 {
			t.Errorf("a/tool mode %v, want 0755", f.Mode())
		}
	}
}

// TestRepackDeterministic: repacking the same packages twice gives the same wheel.
func TestRepackDeterministic(t *testing.T) {
	mk := func() map[string]*deb {
		files := map[string]string{site + "p-1.dist-info/METADATA": distInfoMeta("p", "1"), site + "p/link.h": "-> ../../../../share/p/x.h"}
		for i := 0; i < 30; i++ {
			files[site+"p/f"+strconv.Itoa(i)+".py"] = strconv.Itoa(i)
		}
		return map[string]*deb{
			"python3-p": memDeb("python3-p", "1-1", files),
			"p-dev":     memDeb("p-dev", "1-1", map[string]string{"usr/share/p/x.h": "H"}),
		}
	}
	s := spec{Name: "p", Packages: []string{"python3-p"}, Fill: []string{"p-dev"}}
	var first []byte
	for i := 0; i < 3; i++ {
		w, err := repack(s, mk())
		if err != nil {
			t.Fatal(err)
		}
		z, err := w.Zip()
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = z
		} else if !bytes.Equal(first, z) {
			t.Fatal("repacking twice gave different wheels")
		}
	}
}

func TestEscapeName(t *testing.T) {
	for in, want := range map[string]string{
		"Flask": "flask", "typing_extensions": "typing_extensions", "flit-core": "flit_core", "zope.interface": "zope_interface", "A__b-.c": "a_b_c",
	} {
		if got := escapeName(in); got != want {
			t.Errorf("escapeName(%s) = %s, want %s", in, got, want)
		}
	}
}
