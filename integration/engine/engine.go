// Package engine starts private buildkitd instances for the end-to-end
// tests and the benchmarks: an engine with an empty (or a kept) state
// directory and the test bed's registry configuration, so a test can prove
// something about a cold cache or an engine restart without touching the
// shared test bed engine. Every engine is stopped by its own PID.
package engine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/distill-build/distill/integration/testbed"
	"github.com/moby/buildkit/client"
)

// Engine is one running buildkitd.
type Engine struct {
	// Addr is the engine's address (unix socket in Dir).
	Addr string
	// Dir holds the engine's config, socket, log and state ("state/").
	Dir string

	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// Start runs buildkitd with the test bed's config file (confPath), decoded
// and written again with its state, socket and OpenTelemetry socket in
// dir (WriteConfig). A dir that already holds an earlier engine's state is
// reused (a restart). It returns once the engine answers, or fails with
// the tail of its log.
func Start(ctx context.Context, confPath, dir string) (*Engine, error) {
	c, err := testbed.ReadBuildkitdConfig(confPath)
	if err != nil {
		return nil, err
	}
	confOut, addr, err := WriteConfig(c, dir)
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(dir, "buildkitd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("buildkitd", "--config", confOut)
	cmd.Stdout, cmd.Stderr = logf, logf
	// its own process group: a Ctrl-C to the test reaches the test, which
	// then stops the engine in order instead of leaving mounts behind
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	e := &Engine{Addr: addr, Dir: dir, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { cmd.Wait(); close(e.done) }()

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
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
			e.Stop()
			return nil, fmt.Errorf("buildkitd in %s did not come up: %v\n%s", dir, err, e.LogTail(20))
		case <-e.done:
			e.Stop()
			return nil, fmt.Errorf("buildkitd in %s exited:\n%s", dir, e.LogTail(20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WriteConfig points c at dir (state in dir/state, the socket
// dir/buildkitd.sock, the OpenTelemetry socket dir/otel.sock) and writes it
// to dir/buildkitd.toml; it returns that path and the engine's address.
func WriteConfig(c *testbed.BuildkitdConfig, dir string) (path, addr string, err error) {
	addr = "unix://" + filepath.Join(dir, "buildkitd.sock")
	c.Root = filepath.Join(dir, "state")
	c.GRPC.Address = []string{addr}
	c.OTEL.SocketPath = filepath.Join(dir, "otel.sock")
	path = filepath.Join(dir, "buildkitd.toml")
	return path, addr, c.WriteFile(path)
}

// Stop ends the engine by its PID (TERM, then KILL after 30s) and waits for
// it. The state in Dir stays, for a restart or for the caller to remove.
func (e *Engine) Stop() {
	if e == nil {
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
	e.log.Close()
}

// Done is closed when the engine's process has exited.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Pid is the engine's process id.
func (e *Engine) Pid() int { return e.cmd.Process.Pid }

// LogTail returns the last n lines of the engine's log.
func (e *Engine) LogTail(n int) string {
	dt, _ := os.ReadFile(filepath.Join(e.Dir, "buildkitd.log"))
	lines := strings.Split(strings.TrimRight(string(dt), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
