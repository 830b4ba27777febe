package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// buildResult is one timed build.
type buildResult struct {
	Seconds float64
	// MaxRSSKB is the client process's peak resident set (VmHWM, sampled).
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
	if err := cmd.Start(); err != nil {
		return buildResult{}, err
	}
	stop := sampleHWM(cmd.Process.Pid)
	err = cmd.Wait()
	d := time.Since(start)
	hwm := stop()
	if err != nil {
		b, _ := os.ReadFile(logPath)
		return buildResult{}, fmt.Errorf("%s build of %s failed: %v\n%s", sys, dir, err, tail(string(b), 30))
	}
	return buildResult{Seconds: d.Seconds(), MaxRSSKB: hwm}, nil
}

// sampleHWM polls the VmHWM (peak resident set) of a running process until
// the returned function is called, and returns the last value seen. wait4's
// ru_maxrss cannot be used here: Go starts children with vfork semantics,
// and Linux carries the parent's RSS into the child's maxrss at exec, so it
// reports the harness's own footprint (150 MB once it has read an OCI
// tarball) rather than the client's. VmHWM belongs to the process's own
// address space, which exec made fresh.
func sampleHWM(pid int) (stop func() int64) {
	done := make(chan struct{})
	result := make(chan int64, 1)
	go func() {
		var last int64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb := vmHWM(pid); kb > last {
				last = kb
			}
			select {
			case <-done:
				result <- last
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 { close(done); return <-result }
}

func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb
			}
		}
	}
	return 0
}
