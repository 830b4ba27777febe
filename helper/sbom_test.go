package helper

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sbomHashed is json.dumps([base, packages], sort_keys=True) of Python for
// the packages of TestSBOM: the SBOM's namespace is its SHA-256.
const sbomHashed = `["gcr.io/distroless/cc-debian12@sha256:abc", [{"SPDXID": "SPDXRef-deb-base-files-12.4-deb12u5", "comment": "from the runtime image gcr.io/distroless/cc-debian12@sha256:abc", "copyrightText": "NOASSERTION", "downloadLocation": "NOASSERTION", "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceLocator": "pkg:deb/debian/base-files@12.4+deb12u5?arch=amd64", "referenceType": "purl"}], "licenseConcluded": "NOASSERTION", "name": "base-files", "primaryPackagePurpose": "OPERATING-SYSTEM", "supplier": "NOASSERTION", "versionInfo": "12.4+deb12u5"}, {"SPDXID": "SPDXRef-deb-libssl3-3.0.11-1-deb12u2", "comment": "from the runtime image gcr.io/distroless/cc-debian12@sha256:abc", "copyrightText": "NOASSERTION", "downloadLocation": "NOASSERTION", "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceLocator": "pkg:deb/debian/libssl3@3.0.11-1~deb12u2", "referenceType": "purl"}], "licenseConcluded": "NOASSERTION", "name": "libssl3", "primaryPackagePurpose": "LIBRARY", "supplier": "NOASSERTION", "versionInfo": "3.0.11-1~deb12u2"}, {"SPDXID": "SPDXRef-npm--scope-left-pad-1.3.0", "comment": "installed in node_modules", "copyrightText": "NOASSERTION", "downloadLocation": "NOASSERTION", "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceLocator": "pkg:npm/%40scope/left-pad@1.3.0", "referenceType": "purl"}], "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION", "name": "@scope/left-pad", "primaryPackagePurpose": "LIBRARY", "supplier": "NOASSERTION", "versionInfo": "1.3.0"}]]`

func TestSBOM(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root+"/var/lib/dpkg/status", "Package: base-files\nStatus: install ok installed\nVersion: 12.4+deb12u5\nArchitecture: amd64\nDescription: x\n Package: not-a-field\n\nPackage: gone\nStatus: deinstall ok config-files not-installed\nVersion: 1\n\nPackage: libssl3\nVersion: 3.0.11-1~deb12u2\nSource: openssl (3.0.11-1~deb12u2)\n", 0o644)
	// distroless records its packages in status.d; the same package twice is one
	writeFile(t, root+"/var/lib/dpkg/status.d/libssl3", "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nSource: openssl (3.0.11-1~deb12u2)\n", 0o644)
	writeFile(t, root+"/var/lib/dpkg/status.d/libssl3.md5sums", "Package: md5\nVersion: 1\n", 0o644)
	inventories := map[string]Inventory{"npm": {Noun: "npm packages", Comment: "installed in node_modules", Read: func(dir string) ([]Package, error) {
		if dir != "/app/node_modules" {
			t.Errorf("inventory read %s", dir)
		}
		p := Package{Name: "@scope/left-pad", Version: "1.3.0", PURL: "pkg:npm/%40scope/left-pad@1.3.0"}
		return []Package{p, p}, nil
	}}}
	out := filepath.Join(t.TempDir(), "sbom.spdx.json")
	var stdout bytes.Buffer
	args := []string{root, out, "app", "gcr.io/distroless/cc-debian12@sha256:abc", "1704164645", "npm=/app/node_modules"}
	if err := SBOM(inventories)(args, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if want := "sbom: 3 OS packages, 2 npm packages\n"; stdout.String() != want {
		t.Errorf("printed %q, want %q", stdout.String(), want)
	}
	// the document json.dump(doc, indent=1, sort_keys=True) of Python wrote
	sum := sha256.Sum256([]byte(sbomHashed))
	want, err := os.ReadFile("testdata/sbom.spdx.json")
	if err != nil {
		t.Fatal(err)
	}
	want = bytes.Replace(want, []byte("NAMESPACE"), []byte(hex.EncodeToString(sum[:])), 1)
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, want) {
		t.Errorf("document:\n%s\nwant\n%s", got, want)
	}

	// no EPOCH: now; an unknown inventory fails
	if err := SBOM(nil)([]string{root, out, "app", "ref", ""}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(out)
	if !bytes.Contains(got, []byte(`"created": "`+time.Now().UTC().Format("2006-01-02T"))) {
		t.Errorf("creation time not now: %s", got)
	}
	err = SBOM(inventories)([]string{root, out, "app", "ref", "", "pypi=/venv"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"pypi=/venv" is not KIND=DIR of a known inventory (npm)`) {
		t.Errorf("unknown inventory: %v", err)
	}
}

func TestOSPackagesApk(t *testing.T) {
	root := t.TempDir()
	// apk's installed database as Wolfi ships it
	writeFile(t, root+"/lib/apk/db/installed", "C:Q1lY8lW6f6pfCk7aXQyAp6i4Wx2C8=\nP:glibc\nV:2.39-r5\nA:x86_64\nS:1966080\nI:5611520\nT:the GNU C library\nU:https://www.gnu.org/software/libc\nL:LGPL-2.1-or-later\no:glibc\nm:Wolfi\nt:1717000000\nc:abc\nF:lib\nR:libc.so.6\na:0:0:755\nZ:Q1xyz=\n\nP:ca-certificates-bundle\nV:20240315-r0\nA:x86_64\n\nP:no-version\n", 0o644)
	pkgs, distro := OSPackages(root)
	want := []OSPackage{{"apk", "glibc", "2.39-r5", "x86_64", "glibc"}, {"apk", "ca-certificates-bundle", "20240315-r0", "x86_64", ""}}
	if distro != "wolfi" || !reflect.DeepEqual(pkgs, want) {
		t.Errorf("OSPackages = %v %s, want %v wolfi", pkgs, distro, want)
	}
}
