package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// buildResult is one timed build.
type buildResult struct {
	Seconds float64
	// MaxRSSKB is the client process's peak resident set (wait4 rusage).
	MaxRSSKB int64
}

// command returns the client command that builds dir with sys on the
// engine at addr into an OCI tarball at out. Every system goes through a
// client process talking to the same kind of buildkitd, with the same
// output type.
func (cfg *config) command(sys system, dir, addr, out string) *exec.Cmd {
	if sys == distill {
		return exec.Command(cfg.distillBin, "build", "--addr", addr, "--progress", "plain",
			"-o", "type=oci,dest="+out, dir)
	}
	args := []string{"--addr", addr, "build", "--progress", "plain", "--frontend", "dockerfile.v0",
		"--local", "context=" + dir, "--local", "dockerfile=" + dir,
		"--opt", "build-arg:PIP_INDEX_URL=" + cfg.indexURL,
		"--output", "type=oci,dest=" + out}
	if sys == expert {
		args = append(args, "--opt", "build-arg:BUILDER_IMAGE="+cfg.builderTag, "--opt", "build-arg:RUNTIME_IMAGE="+cfg.runtimeTag)
	} else {
		args = append(args, "--opt", "build-arg:BASE_IMAGE="+cfg.naiveTag)
	}
	return exec.Command("buildctl", args...)
}

// build runs one build and times it from process start to exit.
func (cfg *config) build(sys system, dir, addr, out, logPath string) (buildResult, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return buildResult{}, err
	}
	defer logFile.Close()
	cmd := cfg.command(sys, dir, addr, out)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	if err != nil {
		b, _ := os.ReadFile(logPath)
		return buildResult{}, fmt.Errorf("%s build of %s failed: %v\n%s", sys, dir, err, tail(string(b), 30))
	}
	r := buildResult{Seconds: d.Seconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSSKB = ru.Maxrss
	}
	return r, nil
}
