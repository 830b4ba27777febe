package testbed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// frontendSourceHash hashes everything that goes into the frontend
// binary: the main module's Go and embedded files of ./cmd/distill (as
// `go list -deps` sees them), go.mod, go.sum, Dockerfile, .dockerignore,
// and the GOPROXY override. The stream hashed is the one the shell test
// bed hashed (`sha256sum` lines, paths sorted), so its stamps stay valid.
func (b *Bed) frontendSourceHash(ctx context.Context) string {
	files, err := b.output(ctx, b.Repo, []string{"GOFLAGS="}, "go", "list", "-deps", "-f",
		`{{if and .Module .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}
{{end}}{{end}}`, "./cmd/distill")
	if err != nil {
		// does not compile (yet): hash every file git does not ignore
		out, _ := b.output(ctx, b.Repo, nil, "git", "ls-files", "-co", "--exclude-standard")
		files = ""
		for _, f := range strings.Split(out, "\n") {
			if !strings.HasPrefix(f, "integration/") {
				files += f + "\n"
			}
		}
	}
	set := map[string]bool{"go.mod": true, "go.sum": true, "Dockerfile": true, ".dockerignore": true}
	for _, f := range strings.Split(files, "\n") {
		if f = strings.TrimPrefix(f, b.Repo+"/"); f != "" {
			set[f] = true
		}
	}
	names := make([]string, 0, len(set))
	for f := range set {
		names = append(names, f)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, f := range names {
		data, err := os.ReadFile(filepath.Join(b.Repo, f))
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "%x  %s\n", sum, f)
	}
	fmt.Fprintf(h, "goproxy=%s\n", b.FrontendGoproxy)
	return hex.EncodeToString(h.Sum(nil))
}

func (b *Bed) frontendRef(tag string) string { return b.reg + "/" + FrontendRepo + ":" + tag }

func (b *Bed) craneDigest(ctx context.Context, ref string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := b.output(ctx, "", nil, filepath.Join(b.bin, "crane"), "digest", "--insecure", ref)
	return strings.TrimSpace(out), err
}

// FrontendImage builds the repo's Dockerfile on the test bed's engine and
// pushes it as localhost:PORT/distill-build/distill:dev (and the aliases).
// The build container fetches modules from the host's module cache
// through the index's /goproxy/ (plain HTTP on loopback): it gets exactly
// the sources the host has, and needs neither the internet nor the host's
// TLS trust store (a machine behind a TLS-inspecting proxy has a CA the
// stand-in golang image lacks). The host fills its cache first, from its
// configured GOPROXY. DISTILL_FRONTEND_GOPROXY overrides.
func (b *Bed) FrontendImage(ctx context.Context) error {
	if err := b.needTools(); err != nil {
		return err
	}
	svcs := map[string]*service{}
	for _, s := range b.services() {
		svcs[s.name] = s
	}
	for _, n := range []string{svcRegistry, svcBuildkitd} {
		if err := svcs[n].probe(ctx); err != nil {
			return fmt.Errorf("%s not answering on %s: run 'testbed.sh up' first (%v)", n, svcs[n].addr, err)
		}
	}
	if _, err := os.Stat(filepath.Join(b.Repo, "Dockerfile")); err != nil {
		return fmt.Errorf("no Dockerfile in %s", b.Repo)
	}
	hash := b.frontendSourceHash(ctx)
	goproxy := b.FrontendGoproxy
	if goproxy == "" {
		goproxy = fmt.Sprintf("http://127.0.0.1:%d/goproxy", b.IndexPort)
		if err := svcs[svcPyindex].probe(ctx); err != nil {
			return fmt.Errorf("package index not answering on %s: run 'testbed.sh up' first", svcs[svcPyindex].addr)
		}
		if err := b.timed("go mod download (host)", func() error {
			return b.exec(ctx, cmd{dir: b.Repo, env: []string{"GOFLAGS=-mod=readonly"}, log: "frontend-gomod", argv: []string{"go", "mod", "download"}})
		}); err != nil {
			return err
		}
	}
	args := []string{filepath.Join(b.bin, "buildctl"), "--addr", b.buildkitHost(), "build", "--progress=plain",
		"--frontend", "dockerfile.v0", "--local", "context=" + b.Repo, "--local", "dockerfile=" + b.Repo,
		"--opt", "build-arg:GOPROXY=" + goproxy, "--opt", "build-arg:VERSION=" + FrontendTag}
	for _, v := range []string{"GOPRIVATE", "GONOSUMDB"} {
		out, _ := b.output(ctx, b.Repo, nil, "go", "env", v)
		if out = strings.TrimPrefix(strings.TrimSpace(out), ","); out != "" {
			args = append(args, "--opt", "build-arg:"+v+"="+out)
		}
	}
	args = append(args, "--output", "type=image,name="+b.frontendRef(FrontendTag)+",push=true")
	b.logf("frontend image: building %s (log: %s)", b.frontendRef(FrontendTag), filepath.Join(b.logs, "frontend-image.log"))
	if err := b.timed("frontend image", func() error {
		return b.exec(ctx, cmd{argv: args, log: "frontend-image"})
	}); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(b.stamps, "frontend-image"), []byte(hash+"\n")); err != nil {
		return err
	}
	if err := b.tagFrontendAliases(ctx); err != nil {
		return err
	}
	d, _ := b.craneDigest(ctx, b.frontendRef(FrontendTag))
	b.logf("frontend image: pushed %s, use it as %s", d, FrontendName())
	return nil
}

func (b *Bed) tagFrontendAliases(ctx context.Context) error {
	want, err := b.craneDigest(ctx, b.frontendRef(FrontendTag))
	if err != nil {
		return err
	}
	for _, a := range FrontendAliases {
		if d, _ := b.craneDigest(ctx, b.frontendRef(a)); d == want {
			continue
		}
		if _, err := b.output(ctx, "", nil, filepath.Join(b.bin, "crane"), "tag", "--insecure", b.frontendRef(FrontendTag), a); err != nil {
			return err
		}
	}
	return nil
}

// ensureFrontendImage rebuilds the frontend image when the registry lacks
// it or its sources changed since the last push. A failure is a warning:
// the rest of the bed is useful while the frontend does not build.
func (b *Bed) ensureFrontendImage(ctx context.Context) {
	if b.SkipFrontend {
		return
	}
	for _, p := range []string{"Dockerfile", "cmd/distill"} {
		if _, err := os.Stat(filepath.Join(b.Repo, p)); err != nil {
			b.logf("warning: no Dockerfile or cmd/distill yet: frontend image not built")
			return
		}
	}
	hash := b.frontendSourceHash(ctx)
	stamp, _ := os.ReadFile(filepath.Join(b.stamps, "frontend-image"))
	if _, err := b.craneDigest(ctx, b.frontendRef(FrontendTag)); err == nil && strings.TrimSpace(string(stamp)) == hash {
		if err := b.tagFrontendAliases(ctx); err != nil {
			b.logf("WARNING: could not tag the frontend image aliases (%s): %v", strings.Join(FrontendAliases, " "), err)
		}
		return
	}
	if err := b.FrontendImage(ctx); err != nil {
		b.logf("WARNING: the frontend image did not build; '# syntax=%s' builds will fail: %v", FrontendName(), err)
	}
}

func (b *Bed) buildxBuilderExists(ctx context.Context) bool {
	bx := filepath.Join(b.bin, "buildx")
	if _, err := os.Stat(bx); err != nil {
		return false
	}
	_, err := b.output(ctx, "", nil, bx, "inspect", BuildxBuilder)
	return err == nil
}

// ensureBuildxBuilder makes the remote-driver builder that points buildx
// at the test bed's engine (no docker daemon needed).
func (b *Bed) ensureBuildxBuilder(ctx context.Context) error {
	bx := filepath.Join(b.bin, "buildx")
	if _, err := os.Stat(bx); err != nil {
		b.logf("warning: buildx missing: no buildx builder")
		return nil
	}
	if b.buildxBuilderExists(ctx) {
		return nil
	}
	if err := b.exec(ctx, cmd{argv: []string{bx, "create", "--name", BuildxBuilder, "--driver", "remote", "--use", b.buildkitHost()}, log: "buildx-create"}); err != nil {
		return fmt.Errorf("buildx create failed: %w", err)
	}
	b.logf("buildx: builder %s -> %s", BuildxBuilder, b.buildkitHost())
	return nil
}

func (b *Bed) removeBuildxBuilder() {
	ctx := context.Background()
	if b.buildxBuilderExists(ctx) {
		b.output(ctx, "", nil, filepath.Join(b.bin, "buildx"), "rm", BuildxBuilder)
	}
}
