package testbed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/bedenv"
	"github.com/pelletier/go-toml/v2"
)

// The helper process of TestHoldersConcurrent: one `with` run's
// bookkeeping, as Bed.With does it, in its own process.
func TestMain(m *testing.M) {
	if dir := os.Getenv("TESTBED_HOLDER_DIR"); dir != "" {
		os.Exit(holderProcess(dir, os.Getenv("TESTBED_HOLDER_NAME")))
	}
	os.Exit(m.Run())
}

func holderProcess(dir, name string) int {
	h := Holders{Dir: dir}
	l, err := TakeLock(filepath.Join(dir, "lock"), 10*time.Second, nil)
	if err != nil {
		fmt.Println("lock:", err)
		return 1
	}
	if err := h.Join(os.Getpid()); err != nil {
		fmt.Println("join:", err)
		return 1
	}
	l.Release()
	// "run the command": both holders are registered at once
	if err := os.WriteFile(filepath.Join(dir, "ready."+name), nil, 0o644); err != nil {
		return 1
	}
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(filepath.Join(dir, "go."+name)); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	l, err = TakeLock(filepath.Join(dir, "lock"), 10*time.Second, nil)
	if err != nil {
		fmt.Println("lock:", err)
		return 1
	}
	defer l.Release()
	stop, others, err := h.Leave(os.Getpid(), []string{name})
	if err != nil {
		fmt.Println("leave:", err)
		return 1
	}
	fmt.Printf("stop=%s others=%d\n", strings.Join(stop, ","), len(others))
	return 0
}

// Two concurrent `with` runs, each having started one service: the first
// to leave stops nothing and hands its service over; the last stops both.
func TestHoldersConcurrent(t *testing.T) {
	dir := t.TempDir()
	start := func(name string) (*exec.Cmd, *strings.Builder) {
		c := exec.Command(os.Args[0], "-test.run=^$")
		c.Env = append(os.Environ(), "TESTBED_HOLDER_DIR="+dir, "TESTBED_HOLDER_NAME="+name)
		var out strings.Builder
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c, &out
	}
	a, aOut := start("registry")
	b, bOut := start("buildkitd")
	waitFor(t, filepath.Join(dir, "ready.registry"))
	waitFor(t, filepath.Join(dir, "ready.buildkitd"))
	if others, err := (Holders{Dir: dir}).Others(0); err != nil || len(others) != 2 {
		t.Fatalf("registered holders: %v %v, want both", others, err)
	}
	// a leaves first, then b
	os.WriteFile(filepath.Join(dir, "go.registry"), nil, 0o644)
	if err := a.Wait(); err != nil {
		t.Fatalf("holder a: %v\n%s", err, aOut)
	}
	if h, _ := (Holders{Dir: dir}).HandedOver(); !reflect.DeepEqual(h, []string{"registry"}) {
		t.Errorf("handed over after a left: %v", h)
	}
	os.WriteFile(filepath.Join(dir, "go.buildkitd"), nil, 0o644)
	if err := b.Wait(); err != nil {
		t.Fatalf("holder b: %v\n%s", err, bOut)
	}
	if got := strings.TrimSpace(aOut.String()); got != "stop= others=1" {
		t.Errorf("first to leave: %q, want to stop nothing with one other holder", got)
	}
	if got := strings.TrimSpace(bOut.String()); got != "stop=buildkitd,registry others=0" {
		t.Errorf("last to leave: %q, want to stop its own and the handed-over service", got)
	}
	if h, _ := (Holders{Dir: dir}).HandedOver(); len(h) != 0 {
		t.Errorf("hand-over list not cleared: %v", h)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "with.*")); len(m) != 0 {
		t.Errorf("registrations left: %v", m)
	}
}

func waitFor(t *testing.T, path string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", path)
}

// A registration whose process is gone (or whose PID is now another
// process) does not count, and is removed.
func TestHoldersStale(t *testing.T) {
	dir := t.TempDir()
	h := Holders{Dir: dir}
	dead := deadPID(t)
	if err := h.Join(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	// a registration for a dead process, and one whose start time is not
	// the process's (its PID was reused)
	os.WriteFile(filepath.Join(dir, fmt.Sprintf("with.%d", dead)), fmt.Appendf(nil, "%d\n1\n", dead), 0o644)
	reused := exec.Command("/bin/sleep", "30")
	if err := reused.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { reused.Process.Kill(); reused.Wait() }()
	os.WriteFile(filepath.Join(dir, fmt.Sprintf("with.%d", reused.Process.Pid)), fmt.Appendf(nil, "%d\n1\n", reused.Process.Pid), 0o644)
	stop, others, err := h.Leave(os.Getpid(), []string{"pyindex"})
	if err != nil || len(others) != 0 || !reflect.DeepEqual(stop, []string{"pyindex"}) {
		t.Errorf("Leave = %v %v %v, want to stop pyindex with no others", stop, others, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "with.*")); len(m) != 0 {
		t.Errorf("stale registrations left: %v", m)
	}
}

// deadPID returns the PID of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	c := exec.Command("/bin/true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	return c.Process.Pid
}

func TestPIDFile(t *testing.T) {
	dir := t.TempDir()
	f := PIDFile{Path: filepath.Join(dir, "sleep.pid"), Prog: "/bin/sleep"}
	if p, ok := f.Alive(); ok || p.PID != 0 {
		t.Errorf("missing file: %v %v", p, ok)
	}
	pid, err := f.StartDaemon([]string{"/bin/sleep", "30"}, os.Environ(), filepath.Join(dir, "sleep.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer killPID(pid)
	p, ok := f.Alive()
	if !ok || p.PID != pid || p.Start == 0 {
		t.Fatalf("Alive = %+v %v, want pid %d with a start time", p, ok, pid)
	}
	// its own session: a terminal's Ctrl-C does not reach it
	if sid, _ := getsid(pid); sid != pid {
		t.Errorf("session %d, want its own (%d)", sid, pid)
	}
	// the same PID for another program is not ours
	if _, ok := (PIDFile{Path: f.Path, Prog: "/usr/bin/docker-registry"}).Alive(); ok {
		t.Error("another program's PID counted as alive")
	}
	// the same PID with another start time: reused, stale
	os.WriteFile(f.Path, fmt.Appendf(nil, "%d\n%d\n", pid, p.Start+1), 0o644)
	if _, ok := f.Alive(); ok {
		t.Error("a reused PID (other start time) counted as alive")
	}
	// a dead process
	os.WriteFile(f.Path, fmt.Appendf(nil, "%d\n", deadPID(t)), 0o644)
	if _, ok := f.Alive(); ok {
		t.Error("a dead PID counted as alive")
	}
	for _, junk := range []string{"", "abc\n", "-4\n", "12 x\n"} {
		os.WriteFile(f.Path, []byte(junk), 0o644)
		if _, err := f.Read(); err == nil {
			t.Errorf("PID file %q read without an error", junk)
		}
		if _, ok := f.Alive(); ok {
			t.Errorf("PID file %q counted as alive", junk)
		}
	}
	// Stop of a stale file removes it and signals nobody
	if pid, _, err := f.Stop(DefaultStop); err != nil || pid != 0 {
		t.Errorf("Stop of a stale file: %d %v", pid, err)
	}
	if _, err := os.Stat(f.Path); !errors.Is(err, os.ErrNotExist) {
		t.Error("stale PID file not removed")
	}
	if !Running(pid) {
		t.Error("the daemon was signalled through a stale PID file")
	}
}

// A process that exited but was not reaped is a zombie: not running.
func TestZombieIsNotRunning(t *testing.T) {
	c := exec.Command("/bin/true")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Wait()
	pid := c.Process.Pid
	for i := 0; ; i++ {
		st, err := readStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.state == 'Z' {
			break
		}
		if i > 200 {
			t.Fatalf("no zombie: state %c", st.state)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if Running(pid) {
		t.Error("a zombie counts as running")
	}
	f := PIDFile{Path: filepath.Join(t.TempDir(), "z.pid"), Prog: "/bin/true"}
	os.WriteFile(f.Path, fmt.Appendf(nil, "%d\n", pid), 0o644)
	if _, ok := f.Alive(); ok {
		t.Error("a zombie counts as alive")
	}
}

// Stop is bounded: TERM, a wait, KILL, a wait; a process that ignores
// TERM is killed, one that honours it is not.
func TestStopBounded(t *testing.T) {
	dir := t.TempDir()
	polite := PIDFile{Path: filepath.Join(dir, "polite.pid"), Prog: "/bin/sleep"}
	if _, err := polite.StartDaemon([]string{"/bin/sleep", "30"}, nil, filepath.Join(dir, "polite.log")); err != nil {
		t.Fatal(err)
	}
	pid, killed, err := polite.Stop(StopTimeouts{Term: 5 * time.Second, Kill: time.Second})
	if err != nil || killed || pid == 0 || Running(pid) {
		t.Errorf("polite: pid %d killed %v err %v running %v", pid, killed, err, Running(pid))
	}

	stubborn := PIDFile{Path: filepath.Join(dir, "stubborn.pid"), Prog: "/bin/bash"}
	if _, err := stubborn.StartDaemon([]string{"/bin/bash", "-c", `trap "" TERM; echo ready; while :; do sleep 0.05; done`}, nil, filepath.Join(dir, "stubborn.log")); err != nil {
		t.Fatal(err)
	}
	waitForText(t, filepath.Join(dir, "stubborn.log"), "ready")
	t0 := time.Now()
	pid, killed, err = stubborn.Stop(StopTimeouts{Term: 300 * time.Millisecond, Kill: 2 * time.Second})
	took := time.Since(t0)
	if err != nil || !killed || Running(pid) {
		t.Errorf("stubborn: killed %v err %v running %v", killed, err, Running(pid))
	}
	if took < 300*time.Millisecond || took > 2300*time.Millisecond {
		t.Errorf("stubborn: Stop took %s, want between the TERM wait and both waits", took)
	}
	if _, err := os.Stat(stubborn.Path); !errors.Is(err, os.ErrNotExist) {
		t.Error("PID file left after Stop")
	}
}

func waitForText(t *testing.T, path, text string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), text) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s never said %q", path, text)
}

func TestLockExcludes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	l1, err := TakeLock(p, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	told := 0
	t0 := time.Now()
	_, err = TakeLock(p, 300*time.Millisecond, func() { told++ })
	if !errors.Is(err, ErrLockTimeout) || time.Since(t0) < 300*time.Millisecond || told != 1 {
		t.Errorf("second TakeLock: %v after %s, told %d", err, time.Since(t0), told)
	}
	l1.Release()
	l2, err := TakeLock(p, 0, nil)
	if err != nil {
		t.Errorf("after Release: %v", err)
	}
	l2.Release()
}

// The engine config is TOML at the paths buildkitd reads, and reads back
// into the same struct; unknown keys are refused.
func TestBuildkitdConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "buildkitd.toml")
	c := NewBuildkitdConfig("/w/buildkit", "unix:///w/run/buildkitd.sock", "/w/run/otel.sock", "localhost:5100", 5100)
	if err := c.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	get := func(path ...string) any {
		var v any = raw
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		}
		return v
	}
	for _, check := range []struct {
		path []string
		want any
	}{
		{[]string{"root"}, "/w/buildkit"},
		{[]string{"grpc", "address"}, []any{"unix:///w/run/buildkitd.sock"}},
		{[]string{"otel", "socketPath"}, "/w/run/otel.sock"},
		{[]string{"cdi", "disabled"}, true},
		{[]string{"worker", "oci", "networkMode"}, "host"},
		{[]string{"worker", "oci", "maxUsedSpace"}, "10GB"},
		{[]string{"worker", "containerd", "enabled"}, false},
		{[]string{"registry", "docker.io", "mirrors"}, []any{"localhost:5100"}},
		{[]string{"registry", "ghcr.io", "mirrors"}, []any{"localhost:5100"}},
		{[]string{"registry", "localhost:5100", "http"}, true},
		{[]string{"registry", "127.0.0.1:5100", "insecure"}, true},
	} {
		if got := get(check.path...); !reflect.DeepEqual(got, check.want) {
			t.Errorf("%s = %#v, want %#v", strings.Join(check.path, "."), got, check.want)
		}
	}
	if _, ok := get("registry", "localhost:5100").(map[string]any)["mirrors"]; ok {
		t.Error("the local registry has a mirrors key")
	}
	back, err := ReadBuildkitdConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("read back:\n%+v\nwant\n%+v", back, c)
	}
	if !slices.Equal(back.Mirrored(), []string{"cgr.dev", "docker.io", "gcr.io", "ghcr.io"}) {
		t.Errorf("Mirrored = %v", back.Mirrored())
	}
	if err := back.SetMirror("x", "quay.io"); err == nil {
		t.Error("SetMirror of a host the config does not mirror passed")
	}
	os.WriteFile(p, append(data, "\n[worker.oci.extra]\n  x = 1\n"...), 0o644)
	if _, err := ReadBuildkitdConfig(p); err == nil {
		t.Error("an unknown key was read without an error")
	}
}

func TestRegistryConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "registry.yml")
	if err := NewRegistryConfig("/w/my registry", "127.0.0.1:5100").WriteFile(p); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	for _, want := range []string{"version: \"0.1\"", "rootdirectory: /w/my registry", "addr: 127.0.0.1:5100", "level: warn"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("registry.yml lacks %q:\n%s", want, data)
		}
	}
}

func TestOptionsFromEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	o, err := OptionsFromEnv("/r", getenv)
	if err != nil || o.Work != "/r/.work" || o.RegistryPort != 5000 || o.IndexPort != 3141 || o.SkipImages {
		t.Errorf("defaults: %+v %v", o, err)
	}
	env = map[string]string{"DISTILL_WORK": "/w", "DISTILL_REGISTRY_PORT": "5100", "DISTILL_INDEX_PORT": "3241",
		"DISTILL_SKIP_IMAGES": "1", "DISTILL_SKIP_FRONTEND": "1", "DISTILL_SKIP_REALWHEELS": "1", "DISTILL_FRONTEND_GOPROXY": "off"}
	o, err = OptionsFromEnv("/r", getenv)
	if err != nil || o.Work != "/w" || o.RegistryPort != 5100 || o.IndexPort != 3241 || !o.SkipImages || !o.SkipFrontend || !o.SkipRealWheels || o.FrontendGoproxy != "off" {
		t.Errorf("set: %+v %v", o, err)
	}
	for _, bad := range []map[string]string{{"DISTILL_REGISTRY_PORT": "x"}, {"DISTILL_INDEX_PORT": "70000"}, {"DISTILL_INDEX_PORT": "5000"}} {
		env = bad
		if _, err := OptionsFromEnv("/r", getenv); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// The environment file a bed writes has every variable the tests read,
// with the work dir's paths and ports, and the tool dir for PATH.
func TestBedEnvFile(t *testing.T) {
	repo, _ := filepath.Abs("../..")
	work := filepath.Join(t.TempDir(), "w ork")
	b, err := New(Options{Repo: repo, Work: work, RegistryPort: 5100, IndexPort: 3241})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.writeEnv(); err != nil {
		t.Fatal(err)
	}
	e, err := bedenv.Read(bedenv.Path(work))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"DISTILL_WORK":      work,
		"BUILDKIT_HOST":     "unix://" + work + "/run/buildkitd.sock",
		"DOCKER_CONFIG":     work + "/docker",
		"BUILDX_BUILDER":    "distill-testbed",
		"DISTILL_REGISTRY":  "localhost:5100",
		"DISTILL_INDEX_URL": "http://127.0.0.1:3241/simple",
		"DISTILL_INDEX_LOG": work + "/logs/pyindex.log",
		"DISTILL_FRONTEND":  "ghcr.io/distill-build/distill:dev",
	}
	if !reflect.DeepEqual(e.Vars, want) || !reflect.DeepEqual(e.Path, []string{work + "/bin"}) {
		t.Errorf("env file: %+v %v", e.Vars, e.Path)
	}
	var names []string
	for _, s := range e.Services {
		names = append(names, s.Name+"="+s.Addr)
		if s.PID != 0 {
			t.Errorf("%s: pid %d, but nothing runs", s.Name, s.PID)
		}
	}
	if strings.Join(names, " ") != "registry=127.0.0.1:5100 buildkitd=unix://"+work+"/run/buildkitd.sock pyindex=127.0.0.1:3241" {
		t.Errorf("services: %v", names)
	}
	for _, d := range []string{"bin", "run", "logs", "conf", "stamps", "wheels", "registry", "buildkit", "docker/cli-plugins"} {
		if st, err := os.Stat(filepath.Join(work, d)); err != nil || !st.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func killPID(pid int) { syscall.Kill(pid, syscall.SIGKILL) }

func getsid(pid int) (int, error) {
	sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(sid), nil
}
