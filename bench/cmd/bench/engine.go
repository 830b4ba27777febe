package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	bkengine "github.com/distill-build/distill/integration/engine"
)

// engine is a private buildkitd with its own state directory and the test
// bed's registry configuration (mirrors, plain-http localhost:5000). Cold
// builds get a new one each; warm scenarios share one per app, so nothing
// else on the shared engine evicts or warms their cache.
type engine struct {
	*bkengine.Engine
	addr string
}

func startEngine(work, tmp string) (*engine, error) {
	dir, err := os.MkdirTemp(tmp, "engine-")
	if err != nil {
		return nil, err
	}
	be, err := bkengine.Start(context.Background(), filepath.Join(work, "conf", "buildkitd.toml"), dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	e := &engine{Engine: be, addr: be.Addr}
	running.Store(e, true)
	return e, nil
}

// stop ends this engine's buildkitd by its PID (never by name) and removes
// its state once the overlay mounts are gone.
func (e *engine) stop() {
	if e == nil {
		return
	}
	e.Stop()
	running.Delete(e)
	if err := os.RemoveAll(e.Dir); err != nil {
		logf("warning: removing %s: %v", e.Dir, err)
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
