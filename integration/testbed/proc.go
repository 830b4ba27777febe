package testbed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A PIDFile records one daemon the test bed started: its process id on the
// first line and, on the second, the process's start time (field 22 of
// /proc/PID/stat, clock ticks since boot). The start time tells the daemon
// from a later process that got the same PID after it died, even one
// running the same program (another work dir's registry, say).
type PIDFile struct {
	Path string
	// Prog is the daemon's executable as started (argv[0]); a live PID
	// whose command line does not start with it is not ours.
	Prog string
}

// Proc is what a PID file holds.
type Proc struct {
	PID   int
	Start uint64 // 0 when the file has no start time
}

// Read returns what the file holds; a missing file is (Proc{}, nil).
func (f PIDFile) Read() (Proc, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return Proc{}, nil
	}
	if err != nil {
		return Proc{}, err
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return Proc{}, fmt.Errorf("%s: empty", f.Path)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return Proc{}, fmt.Errorf("%s: %q is not a process id", f.Path, fields[0])
	}
	p := Proc{PID: pid}
	if len(fields) > 1 {
		if p.Start, err = strconv.ParseUint(fields[1], 10, 64); err != nil {
			return Proc{}, fmt.Errorf("%s: %q is not a start time", f.Path, fields[1])
		}
	}
	return p, nil
}

// Write records pid (and its start time) atomically.
func (f PIDFile) Write(pid int) error {
	st, err := readStat(pid)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", f.Path, os.Getpid())
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d\n%d\n", pid, st.start), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f.Path)
}

// Remove deletes the file.
func (f PIDFile) Remove() error {
	err := os.Remove(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Alive returns the recorded process when it still runs, is not a zombie
// and is the program the file was written for. A file naming anything
// else is stale.
func (f PIDFile) Alive() (Proc, bool) {
	p, err := f.Read()
	if err != nil || p.PID == 0 {
		return p, false
	}
	return p, f.is(p)
}

func (f PIDFile) is(p Proc) bool {
	st, err := readStat(p.PID)
	if err != nil || st.state == 'Z' || st.state == 'X' {
		return false
	}
	if p.Start != 0 && st.start != p.Start {
		return false
	}
	if f.Prog == "" {
		return true
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.PID))
	if err != nil {
		return false
	}
	argv0, _, _ := strings.Cut(string(cmdline), "\x00")
	return argv0 == f.Prog
}

type stat struct {
	state byte
	start uint64
}

// readStat reads the state and start time of pid from /proc/PID/stat. The
// command name (field 2) is in parentheses and may itself hold spaces and
// parentheses, so fields are counted from the last ')'.
func readStat(pid int) (stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return stat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(s[i+1:]) // fields[0] is field 3 (state)
	if len(fields) < 20 || len(fields[0]) != 1 {
		return stat{}, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64) // field 22
	if err != nil {
		return stat{}, fmt.Errorf("/proc/%d/stat: start time: %v", pid, err)
	}
	return stat{state: fields[0][0], start: start}, nil
}

// Running reports whether pid exists and is not a zombie. An exited
// daemon stays a zombie until its parent (or init) reaps it; it is not
// running.
func Running(pid int) bool {
	if pid <= 0 {
		return false
	}
	st, err := readStat(pid)
	return err == nil && st.state != 'Z' && st.state != 'X'
}

// StartDaemon starts argv in its own session (a Ctrl-C in the terminal
// that started it does not reach it) with stdin from /dev/null and stdout
// and stderr to logPath (truncated), records it in f and returns its PID.
// The process is reaped by this process while it lives, so a daemon that
// dies early does not stay a zombie of ours.
func (f PIDFile) StartDaemon(argv, env []string, logPath string) (int, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	go cmd.Wait() //nolint:errcheck // reaps; liveness is read from /proc
	if err := f.Write(pid); err != nil {
		cmd.Process.Kill()
		return 0, err
	}
	return pid, nil
}

// StopTimeouts bound Stop: how long a process gets after SIGTERM, then
// after SIGKILL.
type StopTimeouts struct {
	Term, Kill time.Duration
}

// DefaultStop is what the test bed's daemons get.
var DefaultStop = StopTimeouts{Term: 20 * time.Second, Kill: 5 * time.Second}

// Stop ends the process f records, by its PID: SIGTERM, up to t.Term for
// it to exit, then SIGKILL and up to t.Kill. The PID file is removed when
// the process is gone (or was never there). It returns the PID it
// stopped (0 if none was running), whether it needed SIGKILL, and an error
// when the process outlived both waits.
func (f PIDFile) Stop(t StopTimeouts) (pid int, killed bool, err error) {
	p, ok := f.Alive()
	if !ok {
		return 0, false, f.Remove()
	}
	// gone asks the kernel whether p itself still lives (same start time,
	// not a zombie), not f.is: an exiting process loses its cmdline before
	// it stops running, which would end the wait too early
	lives := func() bool {
		st, err := readStat(p.PID)
		return err == nil && st.state != 'Z' && st.state != 'X' && (p.Start == 0 || st.start == p.Start)
	}
	gone := func(d time.Duration) bool {
		deadline := time.Now().Add(d)
		for {
			if !lives() {
				return true
			}
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	syscall.Kill(p.PID, syscall.SIGTERM)
	if !gone(t.Term) {
		killed = true
		syscall.Kill(p.PID, syscall.SIGKILL)
		if !gone(t.Kill) {
			return p.PID, true, fmt.Errorf("pid %d (%s) still runs after SIGKILL", p.PID, f.Prog)
		}
	}
	return p.PID, killed, f.Remove()
}
