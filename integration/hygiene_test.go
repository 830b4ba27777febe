//go:build integration

package integration

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
)

// TestSourceChangeReusesDependencies: a one-file app change re-runs neither
// the venv nor pip, and only the app layer of the image changes.
func TestSourceChangeReusesDependencies(t *testing.T) {
	need(t)
	a := copyExample(t, "python-deps", nil)
	tar1, _ := build(t, a, viaCLI)
	// a change no earlier run has built: the engine's cache is content
	// addressed, so a repeat of the same edit would rightly be cached
	now := "python-deps now says " + randomToken(t)
	a.write(t, "src/depsapp/__init__.py", strings.Replace(mustRead(t, filepath.Join(a.dir, "src/depsapp/__init__.py")), `MESSAGE = "python-deps says"`, `MESSAGE = "`+now+`"`, 1))
	tar2, out := build(t, a, viaCLI, "--progress", "rawjson")

	cached := vertexCache(t, out)
	// the start-up verification depends on the dependencies, not the code
	for _, step := range []string{"pip install -r requirements.txt", "create venv", "compile the venv's bytecode", "verify the image starts"} {
		c, ok := findVertex(cached, step)
		if !ok {
			t.Errorf("no %q step in the rebuild's status", step)
		} else if !c {
			t.Errorf("%q ran again after an app-only change", step)
		}
	}
	if c, ok := findVertex(cached, "copy app.py src/"); !ok || c {
		t.Errorf("the app copy should have run again (found %v, cached %v)", ok, c)
	}

	l1, l2 := load(t, tar1).Layers, load(t, tar2).Layers
	if len(l1) != len(l2) || len(l1) < 3 {
		t.Fatalf("layer counts %d and %d", len(l1), len(l2))
	}
	for i := range l1[:len(l1)-1] {
		if l1[i].Digest != l2[i].Digest {
			t.Errorf("layer %d changed (%s -> %s); only the app layer may", i, l1[i].Digest, l2[i].Digest)
		}
	}
	if l1[len(l1)-1].Digest == l2[len(l2)-1].Digest {
		t.Error("the app layer did not change")
	}
	get := serve(t, load(t, tar2))
	if body := get("/"); !strings.Contains(body, now) {
		t.Errorf("rebuilt app answers %q", body)
	}
}

// vertexCache reads `--progress rawjson` output: vertex name -> cached.
func vertexCache(t *testing.T, out string) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var st client.SolveStatus
		if err := json.Unmarshal(line, &st); err != nil {
			continue
		}
		for _, v := range st.Vertexes {
			if v.Completed != nil || v.Cached {
				m[v.Name] = m[v.Name] || v.Cached
			}
		}
	}
	if len(m) == 0 {
		t.Fatalf("no vertexes in the rawjson output:\n%s", tail(out, 20))
	}
	return m
}

func findVertex(m map[string]bool, part string) (cached, ok bool) {
	for name, c := range m {
		if strings.Contains(name, part) {
			return c, true
		}
	}
	return false, false
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	dt, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}

// TestContextSecretsNeverShip: a context with credentials and VCS data and
// no .dockerignore, built with the default "whole context" include.
func TestContextSecretsNeverShip(t *testing.T) {
	need(t)
	a := copyExample(t, "python-http", func(s string) string {
		return strings.Replace(s, "  include: [app.py]\n", "", 1)
	})
	planted := map[string]string{
		".env":              "DATABASE_PASSWORD=planted-env-secret\n",
		".env.production":   "API_KEY=planted-env-prod-secret\n",
		"id_rsa":            "-----BEGIN OPENSSH PRIVATE KEY-----\nplanted-key\n-----END OPENSSH PRIVATE KEY-----\n",
		"deploy/server.pem": "-----BEGIN PRIVATE KEY-----\nplanted-pem\n-----END PRIVATE KEY-----\n",
		".npmrc":            "//registry.example/:_authToken=planted-npm-token\n",
		".pypirc":           "[pypi]\npassword = planted-pypi\n",
		".aws/credentials":  "[default]\naws_secret_access_key=planted-aws\n",
		".git/config":       "[remote \"origin\"]\nurl = https://planted-git@example.com/x\n",
		".git/HEAD":         "ref: refs/heads/main\n",
		"sub/.env":          "NESTED=planted-nested\n",
		"notes/keep-me.txt": "shipped on purpose\n",
	}
	for p, c := range planted {
		a.write(t, p, c)
	}
	tar, _ := build(t, a, viaCLI)
	img := load(t, tar)
	checkImage(t, img)
	files := img.Files()
	for p := range planted {
		if p == "notes/keep-me.txt" {
			if _, ok := files["/app/"+p]; !ok {
				t.Errorf("an ordinary file %s was dropped", p)
			}
			continue
		}
		if _, ok := files["/app/"+p]; ok {
			t.Errorf("%s reached the image", p)
		}
	}
	for _, needle := range []string{"planted-env-secret", "planted-key", "planted-npm-token", "planted-aws", "planted-git", "planted-nested", "planted-pem", "planted-pypi"} {
		if where := img.ContainsBytes([]byte(needle)); len(where) > 0 {
			t.Errorf("%q found in the image: %v", needle, where)
		}
	}
}

// TestIndexSecretNeverInOutput: a private index URL given as a BuildKit
// secret is used by pip and appears nowhere in the exported OCI tar, even
// with max-mode provenance attached.
func TestIndexSecretNeverInOutput(t *testing.T) {
	need(t)
	token := randomToken(t)
	a := copyExample(t, "python-deps", func(s string) string {
		s = strings.Replace(s, "  indexUrl: "+tb.indexURL+"\n", "  indexUrlSecret: pip-index\n", 1)
		return s
	})
	u, err := url.Parse(tb.indexURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("distill", token)
	t.Setenv("DISTILL_TEST_INDEX", u.String())
	for _, via := range []entry{viaCLI, viaBuildx} {
		t.Run(string(via), func(t *testing.T) {
			tar, out := build(t, a, via, "--secret", "id=pip-index,env=DISTILL_TEST_INDEX", "--attest", "type=provenance,mode=max")
			if strings.Contains(out, token) {
				t.Errorf("the secret appears in the build output")
			}
			raw, err := os.ReadFile(tar)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), token) {
				t.Error("the secret appears in the raw OCI tar")
			}
			img := load(t, tar)
			if where := img.ContainsBytes([]byte(token)); len(where) > 0 {
				t.Errorf("the secret appears in the image: %v", where)
			}
			if body := serve(t, img)("/"); !strings.Contains(body, "hello, distill") {
				t.Errorf("app built from the private index answers %q", body)
			}
		})
	}
}

func randomToken(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "s3cr3t-" + hex.EncodeToString(b)
}

// TestBrokenSpecShowsLine: buildx prints the offending spec line.
func TestBrokenSpecShowsLine(t *testing.T) {
	need(t)
	a := copyExample(t, "python-http", func(s string) string {
		return strings.Replace(s, "language: python\n", "language: python\nruntime: alpine\n", 1)
	})
	for _, via := range []entry{viaBuildx, viaCLI} {
		_, out, err := tryBuild(t, a, via)
		if err == nil {
			t.Fatalf("%s: a spec with runtime: alpine built", via)
		}
		// runtime: is inserted as line 6, its value at column 10
		want := `distill.yaml:6:10: runtime "alpine" is not supported; allowed: distroless, chainguard`
		if !strings.Contains(out, want) {
			t.Errorf("%s: error lacks %q (spec line:column, allowed values):\n%s", via, want, tail(out, 30))
		}
		if via == viaBuildx && !strings.Contains(out, "runtime: alpine") {
			t.Errorf("buildx does not show the offending line:\n%s", tail(out, 30))
		}
	}
}

// TestAptPackagesStayInTheBuilder: build.aptPackages are installed in the
// builder (root, network on, apt caches in cache mounts) and usable by build
// commands, and none of it reaches the runtime image.
func TestAptPackagesStayInTheBuilder(t *testing.T) {
	need(t)
	a := copyExample(t, "python-http", func(s string) string {
		return strings.Replace(s, "app:\n", "build:\n  aptPackages: [jq]\n  commands:\n    - [jq, --version]\napp:\n", 1)
	})
	// --no-cache: the step's output is the proof, and a cached step prints none
	tar, out := build(t, a, viaCLI, "--no-cache")
	if !strings.Contains(out, "jq-1.") {
		t.Errorf("the build command did not run the apt-installed jq:\n%s", tail(out, 30))
	}
	img := load(t, tar)
	checkImage(t, img)
	for p := range img.Files() {
		if strings.HasSuffix(p, "/jq") || strings.Contains(p, "libjq") || strings.HasPrefix(p, "/var/cache/apt/archives/") && strings.HasSuffix(p, ".deb") {
			t.Errorf("%s from the builder's apt step reached the image", p)
		}
	}
}
