//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
