//go:build integration

package imagetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// serverSource is the app of the runc test: it answers with what a hardened
// run should show (its ids, capabilities, no_new_privs, whether / and /tmp
// are writable), or, with -once, prints it and exits with code 3.
const serverSource = `package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
)

func report() string {
	status, _ := os.ReadFile("/proc/self/status")
	var caps, nnp string
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "CapEff:") || strings.HasPrefix(l, "CapBnd:") {
			caps += strings.Join(strings.Fields(l), "=") + " "
		}
		if strings.HasPrefix(l, "NoNewPrivs:") {
			nnp = strings.Join(strings.Fields(l), "=")
		}
	}
	rootErr := os.WriteFile("/probe", []byte("x"), 0o644)
	tmpErr := os.WriteFile("/tmp/probe", []byte("x"), 0o644)
	wd, _ := os.Getwd()
	return fmt.Sprintf("uid=%d gid=%d %s%s root-writable=%v tmp-writable=%v cwd=%s greeting=%s",
		os.Getuid(), os.Getgid(), caps, nnp, rootErr == nil, tmpErr == nil, wd, os.Getenv("GREETING"))
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-once" {
		fmt.Println(report())
		os.Exit(3)
	}
	addr := "127.0.0.1:" + os.Getenv("PORT")
	fmt.Fprintln(os.Stderr, "listening on", addr)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, report()) })
	if err := http.ListenAndServe(addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`

// buildServer compiles serverSource into a static binary.
func buildServer(t *testing.T) []byte {
	t.Helper()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module server\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(serverSource), 0o644); err != nil {
		t.Fatal(err)
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	out := filepath.Join(src, "server")
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test server: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRunAsImageUser runs a static server through the whole path the e2e
// tests use (OCI tar -> LoadOCITar -> Unpack -> Run -> WaitHTTP -> Stop)
// and checks the hardening of the run. It needs root and runc, which this
// project's machines have (the test bed setup installs runc): it fails,
// never skips, without them, so a broken machine is not mistaken for a pass.
func TestRunAsImageUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("running containers with runc needs root; this project's machines run the tests as root")
	}
	if _, err := findRunc(""); err != nil {
		t.Fatal(err)
	}
	server := buildServer(t)
	port := freePort(t)
	cfg := cleanConfig()
	cfg.Entrypoint = []string{"/app/server"}
	cfg.Env = []string{"PATH=/usr/bin", fmt.Sprintf("PORT=%d", port), "GREETING=from-image"}
	img := ociTar{config: cfg, layers: [][]file{
		runtimeBase(),
		{dir("app", 0o755), reg("app/server", 0o755, string(server))},
	}}.load(t)
	if errs := CheckInvariants(img, nil, CheckOptions{AppPaths: []string{"/app"}}); len(errs) > 0 {
		t.Fatalf("test image violates invariants: %v", errs)
	}
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if err := Unpack(img, rootfs); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	c, err := Run(ctx, rootfs, img, RunOpts{Env: []string{"GREETING=from-test"}, Stderr: &stderr, StateRoot: state})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	status, body, err := c.WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/", port), 30*time.Second)
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr.String())
	}
	t.Logf("%d %s", status, body)
	for _, want := range []string{
		"uid=65532 gid=65532",
		"CapEff:=0000000000000000", "CapBnd:=0000000000000000", "NoNewPrivs:=1",
		"root-writable=false", "tmp-writable=true", "cwd=/app", "greeting=from-test",
	} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("answer %d %q lacks %q", status, body, want)
		}
	}
	if ids, err := ListContainers("", state); err != nil || len(ids) != 1 || ids[0] != c.ID {
		t.Errorf("while running, runc lists %v (%v), want [%s]", ids, err, c.ID)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Stop returned while runc still runs")
	}
	if ids, err := ListContainers("", state); err != nil || len(ids) != 0 {
		t.Errorf("after Stop, runc lists %v (%v)", ids, err)
	}
	for _, d := range []string{"/sys/fs/cgroup/pids/" + c.ID, "/sys/fs/cgroup/memory/" + c.ID, "/sys/fs/cgroup/unified/" + c.ID} {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s left behind", d)
		}
	}
	if _, err := os.Stat(filepath.Join(rootfs, "probe")); err == nil {
		t.Error("the read-only root was written")
	}

	// A one-shot command: exit code and output.
	var out bytes.Buffer
	c2, err := Run(ctx, rootfs, img, RunOpts{Args: []string{"/app/server", "-once"}, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Stop()
	code, err := c2.Wait()
	if err != nil || code != 3 {
		t.Errorf("Wait: code %d, %v; want 3", code, err)
	}
	if !strings.Contains(out.String(), "uid=65532") {
		t.Errorf("one-shot output %q", out.String())
	}
	if err := c2.Stop(); err != nil {
		t.Errorf("Stop after exit: %v", err)
	}
	if _, err := os.Stat(c2.StateRoot); err == nil {
		t.Error("the temporary runc state root was not removed")
	}

	// Cancelling the context stops a running container.
	ctx3, cancel3 := context.WithCancel(ctx)
	c3, err := Run(ctx3, rootfs, img, RunOpts{StateRoot: state})
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Stop()
	if _, _, err := c3.WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/", port), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	cancel3()
	select {
	case <-c3.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("cancelling the context did not stop the container")
	}
	if err := c3.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if ids, _ := ListContainers("", state); len(ids) != 0 {
		t.Errorf("after cancel, runc lists %v", ids)
	}
}
