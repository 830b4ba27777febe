package main

import (
	"bufio"
	"bytes"
	"encoding/json"
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
	// Verify is what became of distill's start-up verification step.
	Verify verifyStep
}

// verifyStep is the start-up verification step of one distill build, as
// the build's progress stream reported it.
type verifyStep struct {
	// State is "ran", "cached" or "absent" (no such step: verify: off).
	State string
	// Seconds is the step's own duration when it ran (engine clock).
	Seconds float64 `json:",omitempty"`
}

// verifyVertex is the name of distill's start-up verification step
// ("[verify] verify the image starts: entrypoint, libraries, imports …").
const verifyVertex = "verify the image starts"

// command returns the client command that builds dir with sys on the
// engine at addr into an OCI tarball at out. Every system goes through a
// client process talking to the same kind of buildkitd, with the same
// output type and the same progress format (rawjson: the harness reads
// which steps came back CACHED).
func (cfg *config) command(sys system, dir, addr, out string) *exec.Cmd {
	if sys == distill || sys == distillVerifyOff {
		return exec.Command(cfg.distillBin, "build", "--addr", addr, "--progress", "rawjson",
			"-o", "type=oci,dest="+out, dir)
	}
	// the Dockerfiles' own base names (their ARG defaults), which the
	// engine's mirrors resolve to the bench-only copies
	args := []string{"--addr", addr, "build", "--progress", "rawjson", "--frontend", "dockerfile.v0",
		"--local", "context=" + dir, "--local", "dockerfile=" + dir,
		"--opt", "build-arg:PIP_INDEX_URL=" + cfg.indexURL,
		"--output", "type=oci,dest=" + out}
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
	br := buildResult{Seconds: d.Seconds(), MaxRSSKB: hwm}
	if sys == distill || sys == distillVerifyOff {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return buildResult{}, err
		}
		steps, err := readVertexes(b)
		if err != nil {
			return buildResult{}, fmt.Errorf("%s: %v", logPath, err)
		}
		br.Verify = steps.find(verifyVertex)
	}
	return br, nil
}

// vertexes are the steps of one build, by vertex digest, from its
// --progress rawjson output.
type vertexes map[string]*vertexState

type vertexState struct {
	Name               string
	Cached             bool
	Started, Completed *time.Time
}

// readVertexes reads the client.SolveStatus lines of a rawjson progress
// stream; a vertex's last report wins (BuildKit sends each one again as it
// starts, completes or is found cached).
func readVertexes(out []byte) (vertexes, error) {
	vs := vertexes{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var st struct {
			Vertexes []struct {
				Digest    string     `json:"digest"`
				Name      string     `json:"name"`
				Cached    bool       `json:"cached"`
				Started   *time.Time `json:"started"`
				Completed *time.Time `json:"completed"`
			} `json:"vertexes"`
		}
		if json.Unmarshal(line, &st) != nil {
			continue
		}
		for _, v := range st.Vertexes {
			s := vs[v.Digest]
			if s == nil {
				s = &vertexState{Name: v.Name}
				vs[v.Digest] = s
			}
			s.Cached = s.Cached || v.Cached
			if v.Started != nil {
				s.Started = v.Started
			}
			if v.Completed != nil {
				s.Completed = v.Completed
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("no vertexes in the rawjson progress")
	}
	return vs, nil
}

// find reports the steps whose name contains part: "absent" when there is
// none, "cached" when every one came back cached, "ran" (with the longest
// duration) otherwise.
func (vs vertexes) find(part string) verifyStep {
	out := verifyStep{State: "absent"}
	for _, v := range vs {
		if !strings.Contains(v.Name, part) {
			continue
		}
		if v.Cached {
			if out.State == "absent" {
				out.State = "cached"
			}
			continue
		}
		out.State = "ran"
		if v.Started != nil && v.Completed != nil {
			out.Seconds = max(out.Seconds, v.Completed.Sub(*v.Started).Seconds())
		}
	}
	return out
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
