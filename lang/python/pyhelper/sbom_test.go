package pyhelper

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/distill-build/distill/helper"
)

// TestSBOMParity runs the sbom command with the pypi inventory and the
// Python program it replaced (testdata/sbom_script.py) on the same runtime
// roots and venv: the documents must be the same bytes.
func TestSBOMParity(t *testing.T) {
	venv, site := makeVenv(t)
	metadata := map[string]string{
		"Flask-3.0.3.dist-info":            "Metadata-Version: 2.1\nName: Flask\nVersion: 3.0.3\nSummary: A simple framework\nLicense: BSD-3-Clause\nRequires-Dist: Werkzeug>=3.0.0\n\nFlask\n=====\nName: not-a-header\n",
		"zope.interface-6.4.dist-info":     "Metadata-Version: 2.1\nName: zope.interface\nVersion: 6.4\nLicense: ZPL 2.1\n  continued license text\n",
		"typing_extensions-4.12.dist-info": "Metadata-Version: 2.1\nname: typing_extensions\nversion:4.12.2  \nName: second-name\n",
		"caf\u00e9-1.0.dist-info":          "Name: caf\u00e9_Lib\nVersion: 1.0+local.\u00e9\n",
		"broken-1.0.dist-info":             "Name: broken\nSummary: no version\n",
		"From-1.0.dist-info":               "From someone\nName: from-line\nVersion: 1\n",
		"Flask-copy-3.0.3.dist-info":       "Name: Flask\nVersion: 3.0.3\nLicense: BSD-3-Clause\n",
		"weird-1.0.dist-info":              "Name: we/ird pkg\xff\nVersion: 1.0 beta\n",
		".hidden-1.0.dist-info":            "Name: hidden\nVersion: 1\n",
		"nometa-1.0.dist-info/placeholder": "",
	}
	for d, m := range metadata {
		if filepath.Ext(d) == "" {
			writeFile(t, filepath.Join(site, d), m, 0o644)
			continue
		}
		writeFile(t, filepath.Join(site, d, "METADATA"), m, 0o644)
	}

	debian := t.TempDir()
	writeFile(t, debian+"/var/lib/dpkg/status", "Package: base-files\nStatus: install ok installed\nVersion: 12.4+deb12u5\nArchitecture: amd64\nDescription: Debian base system\n This package contains the basic filesystem hierarchy\n Package: fake\n\nPackage: removed\nStatus: deinstall ok config-files not-installed\nVersion: 1.0\n\nPackage: libgcc-s1\nVersion: 12.2.0-14\nArchitecture: amd64\nSource: gcc-12 (12.2.0-14)\nDescription: caf\xe9 \xff\n\n\n\nPackage: no-version\n", 0o644)
	writeFile(t, debian+"/var/lib/dpkg/status.d/libssl3", "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl\n", 0o644)
	writeFile(t, debian+"/var/lib/dpkg/status.d/libssl3.md5sums", "Package: md5\nVersion: 1\n", 0o644)
	writeFile(t, debian+"/var/lib/dpkg/status.d/libgcc", "Package: libgcc-s1\nVersion: 12.2.0-14\nArchitecture: amd64\nSource: gcc-12 (12.2.0-14)\n", 0o644)
	writeFile(t, debian+"/var/lib/dpkg/status.d/tzdata", "Package: tzdata\r\nVersion: 2024a-0+deb12u1\r\nArchitecture: all\r\n", 0o644)

	wolfi := t.TempDir()
	writeFile(t, wolfi+"/lib/apk/db/installed", "C:Q1lY8lW6f6pfCk7aXQyAp6i4Wx2C8=\nP:glibc\nV:2.39-r5\nA:x86_64\nS:1966080\nI:5611520\nT:the GNU C library\nU:https://www.gnu.org/software/libc\nL:LGPL-2.1-or-later\no:glibc\nm:Wolfi\nt:1717000000\nc:abc\nF:lib\nR:libc.so.6\na:0:0:755\nZ:Q1xyz=\n\nP:ca-certificates-bundle\nV:20240315-r0\nA:x86_64\n\nP:no-version\n\nP:glibc\nV:2.39-r5\nA:x86_64\no:glibc\n", 0o644)

	sbom := helper.SBOM(Inventories())
	for _, tc := range []struct{ name, root, epoch string }{
		{"debian", debian, "1704164645"},
		{"wolfi", wolfi, "0"},
		{"empty", t.TempDir(), "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			base := "cgr.dev/chainguard/python@sha256:0123"
			var stdout bytes.Buffer
			if err := sbom([]string{tc.root, out + "/go.json", "my-app", base, tc.epoch, "pypi=" + venv}, &stdout, io.Discard); err != nil {
				t.Fatal(err)
			}
			printed := runPython(t, "python3", "sbom_script.py", tc.root, venv, out+"/py.json", "my-app", base, tc.epoch)
			got, _ := os.ReadFile(out + "/go.json")
			want, _ := os.ReadFile(out + "/py.json")
			if !bytes.Equal(got, want) {
				t.Errorf("document:\n%s\nPython wrote\n%s", got, want)
			}
			if stdout.String() != printed {
				t.Errorf("printed %q, Python %q", stdout.String(), printed)
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want headers
	}{
		{"Name: a\nVersion:  1.0 \n\nName: body\n", headers{{"Name", "a"}, {"Version", "1.0 "}}},
		{"From x\nName: a\nFrom y\nSummary: s\n  more\n\tand more\n", headers{{"Name", "a"}, {"Summary", "s\n  more\n\tand more"}}},
		{" leading continuation\n: no name\nName: a\nbad line\nVersion: 2\n", headers{{"Name", "a"}}},
	} {
		if got := parseHeaders(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseHeaders(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
