//go:build integration

// The end-to-end tests build real images with distill on the test bed's
// BuildKit (see integration/README.md), through every way users reach it,
// then inspect and run what comes out. They run under `make test`, which
// brings the test bed up first; when it is not up they fail with the
// reason, they never skip.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/bedenv"
	"github.com/distill-build/distill/integration/imagetest"
	"github.com/moby/buildkit/client"
)

// bed is what the test bed exported in $DISTILL_WORK/testbed.json.
type bed struct {
	work     string
	buildkit string // BUILDKIT_HOST
	registry string // localhost:PORT
	indexURL string // http://127.0.0.1:PORT/simple
	frontend string // the frontend image the examples' # syntax= names
	// syntax is the frontend image by its literal registry address, for
	// `# syntax=` lines the tests write: $DISTILL_TEST_FRONTEND when set
	// (a frontend built from another tree than the test bed's), else the
	// one the test bed built
	syntax    string
	distill   string // the CLI binary under test
	bedErr    error
	portCount atomic.Int32
}

var tb bed

func TestMain(m *testing.M) {
	tb.load()
	code := m.Run()
	if tb.distill != "" {
		os.RemoveAll(filepath.Dir(tb.distill))
	}
	os.Exit(code)
}

func (b *bed) load() {
	repo, _ := filepath.Abs("..")
	b.work = os.Getenv("DISTILL_WORK")
	if b.work == "" {
		b.work = filepath.Join(repo, ".work")
	}
	envFile := bedenv.Path(b.work)
	env, err := bedenv.Read(envFile)
	if err != nil {
		b.bedErr = fmt.Errorf("the test bed is not up (%v): run `make test`, or `make setup` before `go test -tags integration ./integration/`", err)
		return
	}
	// exported into this process, so every command (and t.Setenv values
	// set later) sees the test bed's variables
	if err := env.Setenv(); err != nil {
		b.bedErr = err
		return
	}
	vars := env.Vars
	b.buildkit, b.registry, b.indexURL, b.frontend = vars["BUILDKIT_HOST"], vars["DISTILL_REGISTRY"], vars["DISTILL_INDEX_URL"], vars["DISTILL_FRONTEND"]
	b.syntax = os.Getenv("DISTILL_TEST_FRONTEND")
	if b.syntax == "" {
		b.syntax = b.registry + "/distill-build/distill:dev"
	}
	if b.buildkit == "" || b.registry == "" || b.indexURL == "" {
		b.bedErr = fmt.Errorf("%s lacks BUILDKIT_HOST, DISTILL_REGISTRY or DISTILL_INDEX_URL", envFile)
		return
	}
	// the CLI under test is built from this tree, so a stale binary can't
	// pass, into a directory of this run, so two trees testing against one
	// test bed never run each other's; static as `make bin` builds it, since
	// its helper steps run it in images without a C library
	bin, err := os.MkdirTemp("", "distill-test-bin-")
	if err != nil {
		b.bedErr = err
		return
	}
	b.distill = filepath.Join(bin, "distill")
	// the frontend image's flags (Dockerfile, make bin): the same bytes, so
	// CLI and `# syntax=` builds of one app share their helper steps' cache
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -X github.com/distill-build/distill/internal/version.Version=dev", "-o", b.distill, "../cmd/distill")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.bedErr = fmt.Errorf("building distill: %v\n%s", err, out)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.New(ctx, b.buildkit)
	if err == nil {
		_, err = c.Info(ctx)
		c.Close()
	}
	if err != nil {
		b.bedErr = fmt.Errorf("the test bed's BuildKit at %s does not answer: %v (see %s/logs)", b.buildkit, err, b.work)
	}
}

// need fails the test when the test bed is not usable.
func need(t *testing.T) {
	t.Helper()
	if tb.bedErr != nil {
		t.Fatal(tb.bedErr)
	}
}

// freePort hands out loopback ports for running apps; distinct per test so
// parallel tests never collide.
func freePort() int { return 18100 + int(tb.portCount.Add(1)) }

// app is a copy of an example, adjusted for one test.
type app struct {
	dir  string
	spec string // path of distill.yaml
}

// runtimes are the base pairs every example is built on.
var runtimes = []struct {
	name string
	edit func(string) string
	// wantPython is the version the app must report at runtime
	wantPython string
}{
	{"distroless-3.13", func(s string) string { return s }, "3.13."},
	{"distroless-3.11", func(s string) string {
		return strings.Replace(s, `version: "3.13"`, `version: "3.11"`, 1)
	}, "3.11."},
	{"chainguard", func(s string) string {
		s = strings.Replace(s, "language: python\n", "language: python\nruntime: chainguard\n", 1)
		return regexp.MustCompile(`(?m)^  version: "3\.13"\n`).ReplaceAllString(s, "")
	}, "3."},
}

// copyExample copies examples/NAME into a temp dir and applies edit to its
// distill.yaml. The python-deps example gets the test bed's index as its
// indexUrl: PyPI is not reachable here.
func copyExample(t *testing.T, name string, edit func(string) string) app {
	t.Helper()
	return copyProject(t, filepath.Join("..", "examples", name), name != "python-http", edit)
}

func copyProject(t *testing.T, src string, index bool, edit func(string) string) app {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v %s", src, err, out)
	}
	a := app{dir: dst, spec: filepath.Join(dst, "distill.yaml")}
	dt, err := os.ReadFile(a.spec)
	if err != nil {
		t.Fatal(err)
	}
	s := string(dt)
	if index {
		s = withIndex(s, tb.indexURL)
	}
	if edit != nil {
		s = edit(s)
	}
	if err := os.WriteFile(a.spec, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

// withIndex points a spec's dependency install at the test bed's index
// (PyPI is not reachable here): indexUrl is added to its python section,
// which is created when the spec has none.
func withIndex(spec, url string) string {
	if i := strings.Index(spec, "\npython:\n"); i >= 0 {
		i += len("\npython:\n")
		return spec[:i] + "  indexUrl: " + url + "\n" + spec[i:]
	}
	i := strings.Index(spec, "\napp:")
	if i < 0 {
		return spec + "python:\n  indexUrl: " + url + "\n"
	}
	return spec[:i+1] + "python:\n  indexUrl: " + url + "\n" + spec[i+1:]
}

func (a app) write(t *testing.T, rel, content string) {
	t.Helper()
	p := filepath.Join(a.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs a command with the test bed's environment and returns its
// combined output.
func run(t *testing.T, ctx context.Context, env []string, name string, args ...string) (string, error) {
	t.Helper()
	return runCmd(ctx, env, name, args...)
}

// runCmd is run without a *testing.T, for goroutines.
func runCmd(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// entry is one of the ways users build with distill.
type entry string

const (
	viaCLI      entry = "cli"      // distill build, in-process
	viaBuildctl entry = "buildctl" // buildctl + dockerfile.v0 + # syntax=
	viaBuildx   entry = "buildx"   // docker buildx build -f distill.yaml, remote driver
)

var entries = []entry{viaCLI, viaBuildctl, viaBuildx}

// build builds the app through one entry into an OCI tar and returns its
// path and the build output.
func build(t *testing.T, a app, via entry, extra ...string) (string, string) {
	t.Helper()
	tar, out, err := tryBuild(t, a, via, extra...)
	if err != nil {
		t.Fatalf("build via %s failed: %v\n%s", via, err, tail(out, 60))
	}
	return tar, out
}

func tryBuild(t *testing.T, a app, via entry, extra ...string) (string, string, error) {
	t.Helper()
	tar := filepath.Join(t.TempDir(), "image.tar")
	out, err := buildTo(a, via, tar, extra...)
	return tar, out, err
}

// buildTo builds the app through one entry into the OCI tar at tar. It
// never touches a *testing.T, so goroutines may call it and report its
// error from the test goroutine.
func buildTo(a app, via entry, tar string, extra ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	switch via {
	case viaCLI:
		args := append([]string{"build", "--progress", "plain", "-o", "type=oci,dest=" + tar}, extra...)
		return runCmd(ctx, nil, tb.distill, append(args, a.dir)...)
	case viaBuildctl:
		args := []string{"build", "--frontend", "dockerfile.v0", "--local", "context=" + a.dir, "--local", "dockerfile=" + a.dir,
			"--opt", "filename=distill.yaml", "--output", "type=oci,dest=" + tar, "--progress", "plain"}
		return runCmd(ctx, nil, "buildctl", append(args, buildctlArgs(extra)...)...)
	case viaBuildx:
		args := []string{"build", "--builder", "distill-testbed", "-f", a.spec, "--output", "type=oci,dest=" + tar, "--progress", "plain"}
		args = append(args, extra...)
		return runCmd(ctx, nil, "buildx", append(args, a.dir)...)
	}
	return "", fmt.Errorf("unknown entry %q", via)
}

// buildctlArgs translates the CLI's flags (which follow buildx) into
// buildctl's.
func buildctlArgs(extra []string) []string {
	var out []string
	for i := 0; i < len(extra); i++ {
		switch extra[i] {
		case "--build-arg":
			out = append(out, "--opt", "build-arg:"+extra[i+1])
			i++
		case "--secret":
			out = append(out, "--secret", extra[i+1])
			i++
		case "--attest":
			k, v, _ := strings.Cut(extra[i+1], ",")
			out = append(out, "--opt", "attest:"+strings.TrimPrefix(k, "type=")+"="+v)
			i++
		case "--no-cache":
			out = append(out, "--no-cache")
		case "--target":
			out = append(out, "--opt", "target="+extra[i+1])
			i++
		default:
			out = append(out, extra[i])
		}
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// serve unpacks the image, runs it with runc as its configured user on the
// host loopback, and returns a GET function for the running app. The
// container is stopped when the test ends.
func serve(t *testing.T, img *imagetest.Image) func(path string) string {
	t.Helper()
	return serveOn(t, img, freePort())
}

// serveOn is serve on a given port: the app gets it as PORT (and HOST as
// 127.0.0.1); an app whose entrypoint names its port must name this one.
func serveOn(t *testing.T, img *imagetest.Image, port int) func(path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	root := t.TempDir()
	if err := imagetest.Unpack(img, root); err != nil {
		cancel()
		t.Fatal(err)
	}
	var logs bytes.Buffer
	c, err := imagetest.Run(ctx, root, img, imagetest.RunOpts{
		Env:    []string{"HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port)},
		Stdout: &logs, Stderr: &logs,
	})
	if err != nil {
		cancel()
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() {
		c.Stop()
		cancel()
	})
	return func(path string) string {
		t.Helper()
		code, body, err := c.WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), 60*time.Second)
		if err != nil || code != 200 {
			t.Fatalf("GET %s: %d %v\napp output:\n%s", path, code, err, tail(logs.String(), 40))
		}
		return body
	}
}

func load(t *testing.T, tar string) *imagetest.Image {
	t.Helper()
	img, err := imagetest.LoadOCITar(tar)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkImage asserts every DESIGN.md invariant on a built image.
func checkImage(t *testing.T, img *imagetest.Image) {
	t.Helper()
	for _, err := range imagetest.CheckInvariants(img, nil, imagetest.CheckOptions{AppPaths: []string{"/app", "/opt/venv"}}) {
		t.Error(err)
	}
	c := img.Config.Config
	if c.User != "65532:65532" {
		t.Errorf("config user %q, want 65532:65532", c.User)
	}
	if len(c.Entrypoint) == 0 || c.Entrypoint[0] != "python" {
		t.Errorf("entrypoint %q, want exec form starting with python", c.Entrypoint)
	}
	checkBaseLabels(t, img)
}

// basePairs are the runtime images distill builds on and the builder each
// is paired with (DESIGN.md's pairs, written out independently of llb).
var basePairs = map[string]string{
	"gcr.io/distroless/python3-debian13:nonroot": "docker.io/library/python:3.13-slim-trixie",
	"gcr.io/distroless/python3-debian12:nonroot": "docker.io/library/python:3.11-slim-bookworm",
	"cgr.dev/chainguard/python:latest":           "cgr.dev/chainguard/python:latest-dev",
}

// checkBaseLabels checks each base label exactly: the runtime's and the
// builder's names are a known pair, by tag without digest, and their
// digests are the manifest digests the test bed's registry serves for those
// tags (what the build resolved them to).
func checkBaseLabels(t *testing.T, img *imagetest.Image) {
	t.Helper()
	labels := img.Labels()
	name, builder := labels["org.opencontainers.image.base.name"], labels["dev.distill.builder.name"]
	wantBuilder, ok := basePairs[name]
	if !ok {
		t.Errorf("label org.opencontainers.image.base.name = %q, want one of the runtimes %q", name, keys(basePairs))
		return
	}
	if builder != wantBuilder {
		t.Errorf("label dev.distill.builder.name = %q, want %q (the builder paired with %s)", builder, wantBuilder, name)
	}
	for k, ref := range map[string]string{"org.opencontainers.image.base.digest": name, "dev.distill.builder.digest": wantBuilder} {
		got := labels[k]
		if !digestRe.MatchString(got) {
			t.Errorf("label %s = %q, want sha256:<64 hex>", k, got)
			continue
		}
		want, err := standInDigest(ref)
		if err != nil {
			t.Errorf("label %s: %v", k, err)
		} else if got != want {
			t.Errorf("label %s = %s, but the registry serves %s for %s", k, got, want, ref)
		}
	}
}

var digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

var (
	standInMu      sync.Mutex
	standInDigests = map[string]string{}
)

// standInDigest is the manifest digest the test bed's registry serves for a
// public reference (docker.io/library/python:3.13-slim-trixie is
// $DISTILL_REGISTRY/library/python:3.13-slim-trixie), by the test bed's crane.
func standInDigest(ref string) (string, error) {
	standInMu.Lock()
	defer standInMu.Unlock()
	if d, ok := standInDigests[ref]; ok {
		return d, nil
	}
	_, path, ok := strings.Cut(ref, "/")
	if !ok {
		return "", fmt.Errorf("reference %q has no registry host", ref)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := runCmd(ctx, nil, filepath.Join(tb.work, "bin", "crane"), "--insecure", "digest", tb.registry+"/"+path)
	if err != nil {
		return "", fmt.Errorf("crane digest %s/%s: %v %s", tb.registry, path, err, out)
	}
	d := strings.TrimSpace(out)
	standInDigests[ref] = d
	return d, nil
}

// infoOf reads the example apps' /info JSON.
func infoOf(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("/info is not JSON: %v: %q", err, body)
	}
	return m
}
