//go:build integration

package integration

import (
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/imagetest"
)

// language: static is one folder and one line of registration: these tests
// build a prebuilt Go binary from the context onto distroless static,
// through every entry path, and run it.

// staticServer answers GET / with the user it runs as and its
// architecture; it listens on $HOST:$PORT as serve gives them.
const staticServer = `package main

import (
	"encoding/json"
	"net/http"
	"os"
	"runtime"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"uid": os.Getuid(), "gid": os.Getgid(), "arch": runtime.GOARCH})
	})
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := http.ListenAndServe(os.Getenv("HOST")+":"+port, nil); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
`

const staticRuntime = "gcr.io/distroless/static-debian13:nonroot"

func staticSpec(appExtra string) string {
	return "# syntax=ghcr.io/distill-build/distill:1\napiVersion: distill/v1\nname: static-server\nlanguage: static\napp:\n  include: [server]\n  entrypoint: [/app/server]\n  ports: [8080]\n" + appExtra
}

var (
	serverMu   sync.Mutex
	serverBins = map[bool]string{}
)

// serverBinary compiles staticServer once per run for the platform the
// test bed's stand-ins have: statically (CGO_ENABLED=0), or with cgo,
// which links the C library dynamically (net's resolver).
func serverBinary(t *testing.T, cgo bool) string {
	t.Helper()
	serverMu.Lock()
	defer serverMu.Unlock()
	if p, ok := serverBins[cgo]; ok {
		return p
	}
	dir := filepath.Join(filepath.Dir(tb.distill), fmt.Sprintf("server-cgo%v", cgo))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(staticServer), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", "server", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+map[bool]string{true: "1", false: "0"}[cgo], "GOOS=linux", "GOARCH=amd64", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compiling the server (cgo %v): %v\n%s", cgo, err, out)
	}
	p := filepath.Join(dir, "server")
	f, err := elf.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dynamic := slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
	if dynamic != cgo {
		t.Fatalf("the server built with cgo %v is dynamic: %v", cgo, dynamic)
	}
	serverBins[cgo] = p
	return p
}

// newStaticApp is a context with the compiled server and a spec.
func newStaticApp(t *testing.T, spec string, cgo bool) app {
	t.Helper()
	dt, err := os.ReadFile(serverBinary(t, cgo))
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(t, spec, nil)
	if err := os.WriteFile(filepath.Join(a.dir, "server"), dt, 0o755); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestStatic builds the static server through every entry path, checks
// the image and runs it.
func TestStatic(t *testing.T) {
	need(t)
	for _, via := range entries {
		t.Run(string(via), func(t *testing.T) {
			spec := staticSpec("")
			if via != viaCLI {
				spec = localSyntax(spec)
			}
			a := newStaticApp(t, spec, false)
			tar, out := build(t, a, via)
			if !strings.Contains(out, "[verify") || !strings.Contains(out, "verify the image starts") {
				t.Errorf("the build output shows no start-up verification:\n%s", tail(out, 40))
			}
			img := load(t, tar)
			checkStaticImage(t, img)
			var got struct {
				UID, GID int
				Arch     string
			}
			if err := json.Unmarshal([]byte(serve(t, img)("/")), &got); err != nil {
				t.Fatal(err)
			}
			if got.UID != 65532 || got.GID != 65532 || got.Arch != runtime.GOARCH {
				t.Errorf("the server answers %+v, want uid and gid 65532 on %s", got, runtime.GOARCH)
			}
		})
	}
}

// checkStaticImage: the invariants, the base with one layer of the app on
// it, nothing executable but the app, the app owned by root and writable
// by no one else, and the labels of the pair.
func checkStaticImage(t *testing.T, img *imagetest.Image) {
	t.Helper()
	for _, err := range imagetest.CheckInvariants(img, nil, imagetest.CheckOptions{AppPaths: []string{"/app"}}) {
		t.Error(err)
	}
	c := img.Config.Config
	if c.User != "65532:65532" || strings.Join(c.Entrypoint, " ") != "/app/server" || len(c.Cmd) != 0 || c.WorkingDir != "/app" {
		t.Errorf("config user %q entrypoint %q cmd %q workdir %q, want 65532:65532 [/app/server] none /app", c.User, c.Entrypoint, c.Cmd, c.WorkingDir)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v lack 8080/tcp", c.ExposedPorts)
	}
	files := img.Files()
	for _, p := range []string{"/bin/sh", "/usr/bin/sh", "/bin/bash", "/bin/busybox", "/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/dpkg", "/sbin/apk", "/usr/bin/python3", "/lib64/ld-linux-x86-64.so.2"} {
		if _, ok := files[p]; ok {
			t.Errorf("%s is in the image", p)
		}
	}
	// programs: executables where programs and loaders live (the static
	// stand-in's base-files has an executable motd script under /etc,
	// which nothing could run)
	var executables []string
	for p, e := range files {
		if e.IsRegular() && e.Mode.Perm()&0o111 != 0 && (underAny(p, "/app", "/bin", "/sbin", "/usr", "/lib", "/lib64", "/opt")) {
			executables = append(executables, p)
		}
		if p == "/app" || strings.HasPrefix(p, "/app/") {
			if e.UID != 0 || e.GID != 0 || e.Mode.Perm()&0o022 != 0 {
				t.Errorf("%s is %d:%d mode %s, want root-owned and not group- or other-writable", p, e.UID, e.GID, e.Mode)
			}
		}
	}
	if strings.Join(executables, " ") != "/app/server" {
		t.Errorf("programs %q, want only /app/server (the static runtime has none)", executables)
	}
	if e, ok := files["/app/server"]; !ok || e.Mode.Perm()&0o111 == 0 {
		t.Errorf("/app/server is %+v, want an executable file", e)
	}
	// the runtime's layers, then one of the app
	last := img.Layers[len(img.Layers)-1]
	for _, e := range last.Entries {
		if e.Path != "/app" && !strings.HasPrefix(e.Path, "/app/") {
			t.Errorf("the app layer holds %s", e.Path)
		}
	}
	var distill []string
	for _, h := range img.Config.History {
		if strings.HasPrefix(h.CreatedBy, "distill: ") {
			distill = append(distill, h.CreatedBy)
		}
	}
	if strings.Join(distill, "\n") != "distill: copy app /app" {
		t.Errorf("distill's history %q, want the app's layer alone", distill)
	}
	labels := img.Labels()
	want, err := standInDigest(staticRuntime)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.base.name":   staticRuntime,
		"org.opencontainers.image.base.digest": want,
		"dev.distill.builder.name":             staticRuntime,
		"dev.distill.builder.digest":           want,
		"org.opencontainers.image.title":       "static-server",
	} {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}
	if v, ok := labels["dev.distill.python.interpreter"]; ok {
		t.Errorf("label dev.distill.python.interpreter = %q on an image without an interpreter", v)
	}
}

// TestStaticRefusals: an entrypoint the context does not have, and a
// dynamically linked one on a runtime without a C library, fail the
// verification at the entrypoint's spec line; apt packages on the static builder (it
// has no apt) and an HTTP healthcheck (it needs an interpreter) are
// refused at their line, naming what to do instead.
func TestStaticRefusals(t *testing.T) {
	need(t)
	for _, tc := range []struct {
		name, spec string
		cgo        bool // the server linked dynamically
		via        []entry
		want       []string
	}{
		{"entrypoint not in the context", strings.Replace(staticSpec(""), "[/app/server]", "[/app/serve]", 1), false, []entry{viaCLI, viaBuildx},
			[]string{`distill.yaml:7:16: EntrypointNotFound: app.entrypoint runs "/app/serve", which is not in the image; check that the build context has it and that app.include copies it`}},
		{"dynamic binary without its loader", staticSpec(""), true, []entry{viaCLI, viaBuildx},
			[]string{`distill.yaml:7:16: MissingLibrary: app.entrypoint runs "/app/server", a dynamically linked program whose loader /lib64/ld-linux-x86-64.so.2 the runtime image does not have`}},
		{"apt packages on the static builder", staticSpec("") + "build:\n  aptPackages: [jq]\n", false, []entry{viaCLI, viaBuildx},
			[]string{"distill.yaml:10:16: build.aptPackages needs apt in the builder, and language static's builder " + staticRuntime + " has none"}},
		{"http healthcheck", staticSpec("  healthcheck:\n    http: /healthz\n"), false, []entry{viaCLI, viaBuildx},
			[]string{"distill.yaml:10:11: app.healthcheck.http needs an interpreter in the runtime image, which language static has not; use app.healthcheck.command"}},
	} {
		for _, via := range tc.via {
			t.Run(tc.name+"/"+string(via), func(t *testing.T) {
				spec := tc.spec
				if via != viaCLI {
					spec = localSyntax(spec)
				}
				a := newStaticApp(t, spec, tc.cgo)
				_, out, err := tryBuild(t, a, via)
				if err == nil {
					t.Fatalf("the build succeeded:\n%s", tail(out, 30))
				}
				for _, w := range tc.want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q:\n%s", w, tail(out, 30))
					}
				}
			})
		}
	}
}

// underAny reports whether p is one of dirs or below one.
func underAny(p string, dirs ...string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}
