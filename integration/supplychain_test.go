//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/engine"
)

// TestSBOMAttestation: --attest type=sbom attaches distill's own SPDX
// document (no scanner image is pullable here), bound to the image digest,
// listing the venv's distributions and the runtime's OS packages.
func TestSBOMAttestation(t *testing.T) {
	need(t)
	a := copyExample(t, "python-deps", nil)
	for _, via := range []entry{viaCLI, viaBuildx} {
		t.Run(string(via), func(t *testing.T) {
			tar, _ := build(t, a, via, "--attest", "type=sbom", "--attest", "type=provenance,mode=max")
			img := load(t, tar)
			atts, err := img.Attestations()
			if err != nil {
				t.Fatal(err)
			}
			spdx, ok := atts["https://spdx.dev/Document"]
			if !ok {
				t.Fatalf("no SPDX attestation; found %v", keys(atts))
			}
			if spdx.BoundTo != img.ManifestDigest {
				t.Errorf("SBOM bound to %s, image is %s", spdx.BoundTo, img.ManifestDigest)
			}
			if _, ok := atts["https://slsa.dev/provenance/v1"]; !ok {
				if _, ok := atts["https://slsa.dev/provenance/v0.2"]; !ok {
					t.Errorf("no provenance attestation; found %v", keys(atts))
				}
			}
			var doc struct {
				SPDXVersion string `json:"spdxVersion"`
				Packages    []struct {
					Name         string `json:"name"`
					VersionInfo  string `json:"versionInfo"`
					ExternalRefs []struct {
						Locator string `json:"referenceLocator"`
					} `json:"externalRefs"`
				} `json:"packages"`
			}
			if err := json.Unmarshal(spdx.Predicate, &doc); err != nil {
				t.Fatal(err)
			}
			have := map[string]string{}
			var purls []string
			for _, p := range doc.Packages {
				have[p.Name] = p.VersionInfo
				for _, r := range p.ExternalRefs {
					purls = append(purls, r.Locator)
				}
			}
			for name, ver := range map[string]string{"greeting": "1.1", "tinyweb": "2.0", "textutil": "0.3"} {
				if have[name] != ver {
					t.Errorf("SBOM lists %s %q, want %s", name, have[name], ver)
				}
			}
			for _, os := range []string{"libc6", "libpython3.13-stdlib", "libssl3t64"} {
				if have[os] == "" {
					t.Errorf("SBOM lacks the runtime OS package %s", os)
				}
			}
			if !containsPrefix(purls, "pkg:pypi/greeting@1.1") || !containsPrefix(purls, "pkg:deb/debian/libc6@") {
				t.Errorf("purls missing: %v", purls[:min(len(purls), 8)])
			}
		})
	}
}

// sbomPackage is what the SBOM tests read of an SPDX package.
type sbomPackage struct {
	Name         string `json:"name"`
	VersionInfo  string `json:"versionInfo"`
	ExternalRefs []struct {
		Locator string `json:"referenceLocator"`
	} `json:"externalRefs"`
}

// TestSBOMAttestationChainguard: on the Chainguard runtime the OS packages
// come from apk's installed database, /lib/apk/db/installed, which the
// stand-in writes in apk's real v2 format (stanzas of single-letter
// fields with the packages' directories and files). Every package of the
// database the image ships is in the SBOM with its version and an apk
// purl; the database is checked to be in that format first, so the test
// cannot pass on a database invented in the shape the parser expects.
func TestSBOMAttestationChainguard(t *testing.T) {
	need(t)
	a := copyExample(t, "python-deps", runtimes[2].edit)
	tar, _ := build(t, a, viaCLI, "--attest", "type=sbom")
	img := load(t, tar)
	// /lib is a link to usr/lib (merged /usr, as in Wolfi): read the file
	// where the layer holds it, after checking the link
	if e, ok := img.Files()["/lib"]; !ok || !e.IsSymlink() || e.Linkname != "usr/lib" {
		t.Fatalf("/lib is %+v (present %v), want the link to usr/lib", e, ok)
	}
	db, err := img.ReadFile("/usr/lib/apk/db/installed")
	if err != nil {
		t.Fatalf("the Chainguard runtime has no apk database: %v", err)
	}
	stanzas := apkStanzas(t, string(db))
	if len(stanzas) < 20 {
		t.Fatalf("apk database lists %d packages, want the stand-in's ~37", len(stanzas))
	}
	atts, err := img.Attestations()
	if err != nil {
		t.Fatal(err)
	}
	spdx, ok := atts["https://spdx.dev/Document"]
	if !ok {
		t.Fatalf("no SPDX attestation; found %v", keys(atts))
	}
	var doc struct {
		Packages []sbomPackage `json:"packages"`
	}
	if err := json.Unmarshal(spdx.Predicate, &doc); err != nil {
		t.Fatal(err)
	}
	byName := map[string]sbomPackage{}
	for _, p := range doc.Packages {
		byName[p.Name] = p
		for _, r := range p.ExternalRefs {
			if strings.HasPrefix(r.Locator, "pkg:deb/") {
				t.Errorf("SBOM has a Debian purl %s on an image with no dpkg database", r.Locator)
			}
		}
	}
	for _, st := range stanzas {
		name, ver := st["P"][0], st["V"][0]
		p, ok := byName[name]
		if !ok {
			t.Errorf("SBOM lacks apk package %s %s", name, ver)
			continue
		}
		if p.VersionInfo != ver {
			t.Errorf("SBOM lists %s %q, the apk database %q", name, p.VersionInfo, ver)
		}
		want := "pkg:apk/wolfi/" + name + "@" + ver + "?arch=" + st["A"][0]
		if len(p.ExternalRefs) != 1 || p.ExternalRefs[0].Locator != want {
			t.Errorf("%s: purls %+v, want %s", name, p.ExternalRefs, want)
		}
	}
	// versions as the runtime really has them
	if p := byName["libpython3.13-stdlib"]; !strings.HasPrefix(p.VersionInfo, "3.13.") {
		t.Errorf("libpython3.13-stdlib version %q, want 3.13.x", p.VersionInfo)
	}
	if p := byName["libc6"]; !regexp.MustCompile(`^2\.4[0-9]-r[0-9]+$`).MatchString(p.VersionInfo) {
		t.Errorf("libc6 version %q, want glibc 2.4x in apk form", p.VersionInfo)
	}
	for name, ver := range map[string]string{"greeting": "1.1", "tinyweb": "2.0", "textutil": "0.3"} {
		if byName[name].VersionInfo != ver {
			t.Errorf("SBOM lists %s %q, want %s", name, byName[name].VersionInfo, ver)
		}
	}
}

var (
	apkVersionRe = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*[a-z]?(_[a-z]+[0-9]*)*(~[0-9a-f]+)?-r[0-9]+$`)
	apkHashRe    = regexp.MustCompile(`^Q1[A-Za-z0-9+/]{27}=$`)
)

// apkStanzas parses apk's installed database (apk-tools doc/apk-package.5)
// on its own, and fails the test unless it is in that format: stanzas
// separated by a blank line, every line a single letter, a colon and a
// value; each stanza with C: (Q1 + base64 SHA-1), P:, V: (apk's version
// syntax), A:, S:, I:, T:, L:, o:, m:, t:, c:; R: only after an F:, a:/Z:
// only after an R:; and the database as a whole lists files with hashes.
func apkStanzas(t *testing.T, db string) []map[string][]string {
	t.Helper()
	if !strings.HasSuffix(db, "\n\n") {
		t.Errorf("apk database does not end with a blank line")
	}
	var out []map[string][]string
	files := 0
	for i, block := range strings.Split(strings.TrimSuffix(db, "\n\n"), "\n\n") {
		st := map[string][]string{}
		last := ""
		for _, l := range strings.Split(block, "\n") {
			if len(l) < 2 || l[1] != ':' {
				t.Fatalf("stanza %d: line %q is not a field", i, l)
			}
			k := l[:1]
			switch {
			case k == "R" && !(last == "F" || last == "R" || last == "a" || last == "Z" || last == "M"):
				t.Errorf("stanza %d: R: after %s:, want it under an F:", i, last)
			case (k == "a" || k == "Z") && !(last == "R" || last == "a"):
				t.Errorf("stanza %d: %s: after %s:, want it after an R:", i, k, last)
			case k == "M" && last != "F":
				t.Errorf("stanza %d: M: after %s:", i, last)
			}
			if k == "Z" {
				files++
				if !apkHashRe.MatchString(l[2:]) {
					t.Errorf("stanza %d: Z:%s is not Q1 + base64 SHA-1", i, l[2:])
				}
			}
			st[k] = append(st[k], l[2:])
			last = k
		}
		for _, k := range []string{"C", "P", "V", "A", "S", "I", "T", "L", "o", "m", "t", "c"} {
			if len(st[k]) != 1 {
				t.Fatalf("stanza %d (%v): %d %s: fields, want 1", i, st["P"], len(st[k]), k)
			}
		}
		if !apkHashRe.MatchString(st["C"][0]) {
			t.Errorf("%s: C:%s is not Q1 + base64 SHA-1", st["P"][0], st["C"][0])
		}
		if !apkVersionRe.MatchString(st["V"][0]) {
			t.Errorf("%s: V:%s is not an apk version", st["P"][0], st["V"][0])
		}
		if a := st["A"][0]; a != "x86_64" && a != "noarch" {
			t.Errorf("%s: A:%s, want x86_64 or noarch", st["P"][0], a)
		}
		out = append(out, st)
	}
	if files < 1000 {
		t.Errorf("apk database lists %d hashed files; the stand-in has thousands", files)
	}
	return out
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLockPinsBases: a locked build keeps its digest after the tag moves;
// `lock --check` notices; re-locking picks the new digest.
func TestLockPinsBases(t *testing.T) {
	need(t)
	ctx := context.Background()
	// a tag of our own, so moving it cannot disturb other tests
	tag := fmt.Sprintf("%s/distroless/python3-debian13:locktest-%d", tb.registry, time.Now().UnixNano())
	realName := strings.Replace(tag, tb.registry, "gcr.io", 1)
	if out, err := run(t, ctx, nil, "crane", "--insecure", "copy", tb.registry+"/distroless/python3-debian13:nonroot", tag); err != nil {
		t.Fatalf("crane copy: %v %s", err, out)
	}
	a := copyExample(t, "python-http", func(s string) string {
		return s + "base:\n  runtime: " + realName + "\n"
	})
	if out, err := run(t, ctx, nil, tb.distill, "lock", a.dir); err != nil {
		t.Fatalf("distill lock: %v\n%s", err, out)
	}
	lockFile := mustRead(t, filepath.Join(a.dir, "distill.lock"))
	old := digestOf(t, ctx, tag)
	if !strings.Contains(lockFile, old) {
		t.Fatalf("lock does not pin %s:\n%s", old, lockFile)
	}
	if out, err := run(t, ctx, nil, tb.distill, "lock", "--check", a.dir); err != nil {
		t.Fatalf("lock --check on a fresh lock failed: %v\n%s", err, out)
	}

	// the tag moves to a new digest
	if out, err := run(t, ctx, nil, "crane", "--insecure", "mutate", "--label", "dev.distill.test.moved=1", tag); err != nil {
		t.Fatalf("crane mutate: %v %s", err, out)
	}
	moved := digestOf(t, ctx, tag)
	if moved == old {
		t.Fatal("the tag did not move")
	}

	tar, _ := build(t, a, viaCLI)
	if got := load(t, tar).Labels()["org.opencontainers.image.base.digest"]; got != old {
		t.Errorf("locked build used %s, want the locked %s", got, old)
	}
	out, err := run(t, ctx, nil, tb.distill, "lock", "--check", a.dir)
	if err == nil || !strings.Contains(out, moved) {
		t.Errorf("lock --check did not report the newer digest %s: %v\n%s", moved, err, out)
	}
	if out, err := run(t, ctx, nil, tb.distill, "lock", a.dir); err != nil {
		t.Fatalf("re-lock: %v\n%s", err, out)
	}
	tar, _ = build(t, a, viaCLI)
	if got := load(t, tar).Labels()["org.opencontainers.image.base.digest"]; got != moved {
		t.Errorf("after re-locking the build used %s, want %s", got, moved)
	}
}

func digestOf(t *testing.T, ctx context.Context, ref string) string {
	t.Helper()
	out, err := run(t, ctx, nil, "crane", "--insecure", "digest", ref)
	if err != nil {
		t.Fatalf("crane digest %s: %v %s", ref, err, out)
	}
	return strings.TrimSpace(out)
}

// TestReproducibleAcrossEngines: with SOURCE_DATE_EPOCH, the same inputs
// built on two fresh engine states give the same manifest digest.
func TestReproducibleAcrossEngines(t *testing.T) {
	need(t)
	a := copyExample(t, "python-deps", nil)
	var digests []string
	for i := 0; i < 2; i++ {
		addr := freshEngine(t)
		tar, _ := build(t, a, viaCLI, "--addr", addr, "--build-arg", "SOURCE_DATE_EPOCH=1700000000")
		img := load(t, tar)
		digests = append(digests, img.ManifestDigest)
		if c := img.Config.Created; c == nil || !c.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("image created %v, want SOURCE_DATE_EPOCH", c)
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("two fresh engines gave %s and %s", digests[0], digests[1])
	}
}

// freshEngine starts a buildkitd with an empty state directory and the test
// bed's registry configuration, and stops it (by PID) when the test ends.
func freshEngine(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "distill-engine-")
	if err != nil {
		t.Fatal(err)
	}
	// registered first, so it runs after the engine has stopped (the state
	// holds overlay mounts until buildkitd is gone)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return startEngine(t, dir).Addr
}

// startEngine starts a private buildkitd on dir (new or kept state) and
// stops it when the test ends.
func startEngine(t *testing.T, dir string) *engine.Engine {
	t.Helper()
	e, err := engine.Start(context.Background(), filepath.Join(tb.work, "conf", "buildkitd.toml"), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	return e
}

// TestLockedBuildNeedsNoTag: a build trusts distill.lock, so it never asks
// the registry for a locked tag. The runtime base here exists only by
// digest: its tag was never pushed, so resolving it fails (as for a
// registry whose tag endpoint is down or a tag that was deleted). The
// locked build succeeds through every entry and runs on the locked digest;
// --call=check, which does ask the registry, names the tag it cannot
// resolve.
func TestLockedBuildNeedsNoTag(t *testing.T) {
	need(t)
	ctx := context.Background()
	repo := fmt.Sprintf("distroless/python3-untagged-%d", time.Now().UnixNano())
	pinned := digestOf(t, ctx, tb.registry+"/distroless/python3-debian13:nonroot")
	if out, err := run(t, ctx, nil, "crane", "--insecure", "copy", tb.registry+"/distroless/python3-debian13:nonroot", tb.registry+"/"+repo+"@"+pinned); err != nil {
		t.Fatalf("crane copy by digest: %v %s", err, out)
	}
	if out, err := run(t, ctx, nil, "crane", "--insecure", "digest", tb.registry+"/"+repo+":gone"); err == nil {
		t.Fatalf("the tag resolves, so the test proves nothing: %s", out)
	}
	runtimeRef := "gcr.io/" + repo + ":gone"
	a := copyExample(t, "python-http", func(s string) string { return s + "base:\n  runtime: " + runtimeRef + "\n" })
	builder := digestOf(t, ctx, tb.registry+"/library/python:3.13-slim-trixie")
	lock := fmt.Sprintf(`{
  "lockVersion": 1,
  "bases": [
    {"role": "builder", "ref": "docker.io/library/python:3.13-slim-trixie", "digest": %q, "resolved": "2026-12-01T00:00:00Z"},
    {"role": "runtime", "ref": %q, "digest": %q, "resolved": "2026-12-01T00:00:00Z"}
  ]
}
`, builder, runtimeRef, pinned)
	if err := os.WriteFile(filepath.Join(a.dir, "distill.lock"), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, via := range entries {
		t.Run(string(via), func(t *testing.T) {
			tar, _ := build(t, a, via)
			img := load(t, tar)
			if got := img.Labels()["org.opencontainers.image.base.digest"]; got != pinned {
				t.Errorf("base digest %s, want the locked %s", got, pinned)
			}
			// the image on the untagged base starts and answers
			if body := serve(t, img)("/"); strings.TrimSpace(body) != "hello from python-http" {
				t.Errorf("the locked build answers %q", body)
			}
		})
	}
	out, err := buildxCall(t, a, "check")
	if err == nil || !strings.Contains(out, runtimeRef) {
		t.Errorf("--call=check did not name the tag it cannot resolve (%v):\n%s", err, tail(out, 30))
	}
}
