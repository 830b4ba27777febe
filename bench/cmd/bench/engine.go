package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"
)

var (
	rootLine = regexp.MustCompile(`(?m)^root = .*$`)
	grpcLine = regexp.MustCompile(`(?m)^  address = .*$`)
	otelLine = regexp.MustCompile(`(?m)^  socketPath = .*$`)
)

// engine is a private buildkitd with its own state directory and the test
// bed's registry configuration (mirrors, plain-http localhost:5000). Cold
// builds get a new one each; warm scenarios share one per app, so nothing
// else on the shared engine evicts or warms their cache.
type engine struct {
	addr string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

func startEngine(work, tmp string) (*engine, error) {
	conf, err := os.ReadFile(filepath.Join(work, "conf", "buildkitd.toml"))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tmp, "engine-")
	if err != nil {
		return nil, err
	}
	addr := "unix://" + filepath.Join(dir, "buildkitd.sock")
	c := rootLine.ReplaceAllString(string(conf), fmt.Sprintf("root = %q", filepath.Join(dir, "state")))
	c = grpcLine.ReplaceAllString(c, fmt.Sprintf("  address = [%q]", addr))
	c = otelLine.ReplaceAllString(c, fmt.Sprintf("  socketPath = %q", filepath.Join(dir, "otel.sock")))
	if !strings.Contains(c, filepath.Join(dir, "state")) || !strings.Contains(c, addr) {
		return nil, fmt.Errorf("%s/conf/buildkitd.toml: could not rewrite root and grpc address", work)
	}
	if err := os.WriteFile(filepath.Join(dir, "buildkitd.toml"), []byte(c), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "buildkitd.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("buildkitd", "--config", filepath.Join(dir, "buildkitd.toml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	e := &engine{addr: addr, dir: dir, cmd: cmd, done: make(chan struct{}), log: logf}
	running.Store(e, true)
	go func() { cmd.Wait(); close(e.done) }()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		cl, err := client.New(ctx, addr)
		if err == nil {
			_, err = cl.Info(ctx)
			cl.Close()
			if err == nil {
				return e, nil
			}
		}
		select {
		case <-ctx.Done():
			e.stop()
			return nil, fmt.Errorf("private buildkitd did not come up: %v", err)
		case <-e.done:
			b, _ := os.ReadFile(logf.Name())
			e.stop()
			return nil, fmt.Errorf("private buildkitd exited:\n%s", tail(string(b), 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop ends this engine's buildkitd by its PID (never by name) and removes
// its state once the overlay mounts are gone.
func (e *engine) stop() {
	if e == nil || e.cmd.Process == nil {
		return
	}
	select {
	case <-e.done:
	default:
		e.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.done:
		case <-time.After(30 * time.Second):
			e.cmd.Process.Kill()
			<-e.done
		}
	}
	running.Delete(e)
	e.log.Close()
	if err := os.RemoveAll(e.dir); err != nil {
		logf("warning: removing %s: %v", e.dir, err)
	}
}

// running holds the engines this process started, so an interrupt stops
// them (they run in their own process group and would outlive it).
var running sync.Map

func stopAllOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		running.Range(func(k, _ any) bool { k.(*engine).stop(); return true })
		os.Exit(130)
	}()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
