package testbed

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/distill-build/distill/integration/bedenv"
)

// service is one daemon: a PID file run/NAME.pid, a log logs/NAME.log, a
// command and a readiness probe.
type service struct {
	name  string
	pid   PIDFile
	log   string
	addr  string
	port  int // a loopback TCP port it listens on (0: a unix socket)
	argv  func(ctx context.Context) ([]string, error)
	probe func(ctx context.Context) error
}

// The services in start order; they stop in reverse.
const (
	svcRegistry  = "registry"
	svcBuildkitd = "buildkitd"
	svcPyindex   = "pyindex"
	// the buildx builder a `with` created, handed over like a service
	buildxBuilderItem = "buildx-builder"
)

func (b *Bed) services() []*service {
	registryProg, err := exec.LookPath("docker-registry")
	if err != nil {
		registryProg = "/usr/bin/docker-registry"
	}
	mk := func(name, prog string) *service {
		return &service{name: name, pid: PIDFile{Path: filepath.Join(b.run, name+".pid"), Prog: prog},
			log: filepath.Join(b.logs, name+".log")}
	}
	reg := mk(svcRegistry, registryProg)
	reg.port, reg.addr = b.RegistryPort, fmt.Sprintf("127.0.0.1:%d", b.RegistryPort)
	reg.argv = func(context.Context) ([]string, error) {
		conf := filepath.Join(b.conf, "registry.yml")
		if err := NewRegistryConfig(filepath.Join(b.Work, "registry"), reg.addr).WriteFile(conf); err != nil {
			return nil, err
		}
		return []string{registryProg, "serve", conf}, nil
	}
	reg.probe = func(ctx context.Context) error { return httpProbe(ctx, "http://"+reg.addr+"/v2/") }

	bk := mk(svcBuildkitd, filepath.Join(b.bin, "buildkitd"))
	bk.addr = b.buildkitHost()
	bk.argv = func(context.Context) ([]string, error) {
		conf := filepath.Join(b.conf, "buildkitd.toml")
		c := NewBuildkitdConfig(filepath.Join(b.Work, "buildkit"), b.buildkitHost(),
			filepath.Join(b.run, "buildkitd-otel.sock"), b.reg, b.RegistryPort)
		if err := c.WriteFile(conf); err != nil {
			return nil, err
		}
		return []string{bk.pid.Prog, "--config", conf}, nil
	}
	bk.probe = func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := b.output(ctx, "", nil, filepath.Join(b.bin, "buildctl"), "--addr", b.buildkitHost(), "--timeout", "2", "debug", "workers")
		return err
	}

	idx := mk(svcPyindex, filepath.Join(b.bin, "pyindex"))
	idx.port, idx.addr = b.IndexPort, fmt.Sprintf("127.0.0.1:%d", b.IndexPort)
	idx.argv = func(ctx context.Context) ([]string, error) {
		// rebuilt (cheap when cached) so source changes take effect on the next start
		if err := b.buildPyindex(ctx); err != nil {
			return nil, err
		}
		if err := b.exec(ctx, cmd{argv: []string{idx.pid.Prog, "-generate", "-dir", b.wheels}, log: "pyindex-generate"}); err != nil {
			return nil, err
		}
		modcache, err := b.output(ctx, b.Repo, nil, "go", "env", "GOMODCACHE")
		if err != nil {
			return nil, err
		}
		return []string{idx.pid.Prog, "-dir", b.wheels, "-addr", idx.addr,
			"-goproxy", filepath.Join(strings.TrimSpace(modcache), "cache", "download")}, nil
	}
	idx.probe = func(ctx context.Context) error { return httpProbe(ctx, b.indexURL()+"/") }
	return []*service{reg, bk, idx}
}

func (b *Bed) service(name string) *service {
	for _, s := range b.services() {
		if s.name == name {
			return s
		}
	}
	return nil
}

func httpProbe(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// portBusy reports whether something accepts connections on 127.0.0.1:port.
func portBusy(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// start starts s unless it runs, and waits (at most 60 s) until it
// answers. It reports whether this call started it.
func (b *Bed) start(ctx context.Context, s *service) (bool, error) {
	if p, ok := s.pid.Alive(); ok {
		if s.probe(ctx) == nil {
			return false, nil
		}
		b.logf("%s (pid %d) is running but does not answer; waiting", s.name, p.PID)
	} else {
		if err := s.pid.Remove(); err != nil {
			return false, err
		}
		if s.port != 0 && portBusy(s.port) {
			return false, fmt.Errorf("%s: 127.0.0.1:%d is already in use by a process this work dir did not start (%s); stop it or set DISTILL_%s_PORT",
				s.name, s.port, b.Work, map[string]string{svcRegistry: "REGISTRY", svcPyindex: "INDEX"}[s.name])
		}
		argv, err := s.argv(ctx)
		if err != nil {
			return false, fmt.Errorf("%s: %w", s.name, err)
		}
		if _, err := s.pid.StartDaemon(argv, b.environ(), s.log); err != nil {
			return false, fmt.Errorf("%s: %w", s.name, err)
		}
		b.started = append(b.started, s.name)
	}
	t0 := time.Now()
	deadline := t0.Add(60 * time.Second)
	for {
		err := s.probe(ctx)
		if err == nil {
			break
		}
		if _, ok := s.pid.Alive(); !ok {
			b.tailLog(s.log)
			return false, fmt.Errorf("%s exited during start-up (log: %s)", s.name, s.log)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b.tailLog(s.log)
			return false, fmt.Errorf("%s did not answer within 60s (log: %s): %v", s.name, s.log, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p, _ := s.pid.Alive()
	b.logf("%s: started, pid %d, ready in %s", s.name, p.PID, since(t0))
	return true, nil
}

// stop stops s by its PID (TERM, bounded wait, KILL).
func (b *Bed) stop(s *service) error {
	pid, killed, err := s.pid.Stop(DefaultStop)
	if killed {
		b.logf("%s (pid %d) ignored TERM for %s; killed", s.name, pid, DefaultStop.Term)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	if s.name == svcBuildkitd {
		os.Remove(filepath.Join(b.run, "buildkitd.sock"))
		os.Remove(filepath.Join(b.run, "buildkitd-otel.sock"))
	}
	if pid != 0 {
		b.logf("%s: stopped (pid %d)", s.name, pid)
	}
	return nil
}

// stopNames stops the named services (and the buildx builder) in reverse
// start order.
func (b *Bed) stopNames(names []string) error {
	var errs []error
	if slices.Contains(names, buildxBuilderItem) {
		b.removeBuildxBuilder()
	}
	svcs := b.services()
	for i := len(svcs) - 1; i >= 0; i-- {
		if slices.Contains(names, svcs[i].name) {
			if err := b.stop(svcs[i]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if slices.Contains(names, svcBuildkitd) {
		cgroupCleanup()
	}
	if len(errs) > 0 {
		return fmt.Errorf("stopping: %v", errs)
	}
	return nil
}

// stopStarted stops what this process started.
func (b *Bed) stopStarted() error {
	names := b.started
	b.started = nil
	return b.stopNames(names)
}

// runc leaves empty /sys/fs/cgroup/*/buildkit dirs; removing a directory
// only works when it is empty, so nothing in use goes.
func cgroupCleanup() {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/buildkit")
	for _, d := range append([]string{"/sys/fs/cgroup/buildkit"}, dirs...) {
		var all []string
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			os.Remove(all[i])
		}
	}
}

func (b *Bed) needTools() error {
	for _, t := range []string{"buildkitd", "buildctl", "crane"} {
		if _, err := os.Stat(filepath.Join(b.bin, t)); err != nil {
			return fmt.Errorf("%s missing: run 'testbed.sh setup' first", filepath.Join(b.bin, t))
		}
	}
	for _, t := range []string{"docker-registry", "runc"} {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s missing: run 'testbed.sh setup' first", t)
		}
	}
	return nil
}

// up starts what is not running, writes the environment file, makes the
// buildx builder and brings the stand-ins and the frontend image up to date.
func (b *Bed) up(ctx context.Context) error {
	t0 := time.Now()
	if err := b.needTools(); err != nil {
		return err
	}
	bkConf := filepath.Join(b.conf, "buildkitd.toml")
	old, _ := os.ReadFile(bkConf)
	for _, s := range b.services() {
		if _, err := b.start(ctx, s); err != nil {
			return err
		}
	}
	if now, _ := os.ReadFile(bkConf); len(old) > 0 && string(old) != string(now) && !slices.Contains(b.started, svcBuildkitd) {
		b.logf("buildkitd.toml changed while buildkitd runs; run 'testbed.sh down' to apply it")
	}
	if err := b.writeEnv(); err != nil {
		return err
	}
	if err := b.ensureBuildxBuilder(ctx); err != nil {
		return err
	}
	if err := b.pushImages(ctx, true); err != nil {
		return err
	}
	b.ensureFrontendImage(ctx)
	b.logf("up in %s (env: %s)", since(t0), bedenv.Path(b.Work))
	return nil
}

func (b *Bed) writeEnv() error {
	// the shell-syntax file of earlier test beds: gone, so nothing reads a stale one
	os.Remove(filepath.Join(b.Work, "testbed.env"))
	return bedenv.Write(bedenv.Path(b.Work), b.Env())
}

// Up starts what is not running and keeps it running: services an earlier
// `with` handed over stay up after it.
func (b *Bed) Up(ctx context.Context) error {
	l, err := b.lock()
	if err != nil {
		return err
	}
	defer l.Release()
	if err := b.holders().ClearHandOver(); err != nil {
		return err
	}
	return b.up(ctx)
}

// Down stops everything this work dir runs, by PID.
func (b *Bed) Down(ctx context.Context) error {
	l, err := b.lock()
	if err != nil {
		return err
	}
	defer l.Release()
	err = b.stopNames([]string{buildxBuilderItem, svcRegistry, svcBuildkitd, svcPyindex})
	if cerr := b.holders().ClearHandOver(); err == nil {
		err = cerr
	}
	return err
}

// Status writes one line per service (running and answering, running
// but not answering, stopped, stale PID file) and the `with` runs.
func (b *Bed) Status(ctx context.Context, w io.Writer) error {
	for _, s := range b.services() {
		p, ok := s.pid.Alive()
		switch {
		case ok:
			answer := "answering"
			if s.probe(ctx) != nil {
				answer = "NOT answering"
			}
			fmt.Fprintf(w, "%-10s running, pid %d, %s, %s\n", s.name, p.PID, answer, s.addr)
		case p.PID != 0:
			fmt.Fprintf(w, "%-10s stopped (stale pid file %s: pid %d is gone or another program)\n", s.name, s.pid.Path, p.PID)
		default:
			fmt.Fprintf(w, "%-10s stopped\n", s.name)
		}
	}
	if others, err := b.holders().Others(0); err == nil && len(others) > 0 {
		fmt.Fprintf(w, "%-10s %v\n", "with runs", others)
	}
	if h, err := b.holders().HandedOver(); err == nil && len(h) > 0 {
		fmt.Fprintf(w, "%-10s %s (stopped by the last with run)\n", "handed over", strings.Join(h, " "))
	}
	return nil
}

// With brings the bed up, runs argv with its environment and stops what
// it had to start, unless other `with` runs still use the bed (the last
// one to leave stops it). A SIGINT or SIGTERM is passed on to the command
// as SIGTERM; after 10 s it is killed. The error carries the command's
// exit status (ExitCode).
func (b *Bed) With(ctx context.Context, argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("usage: testbed with CMD...")
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	createdBuilder := !b.buildxBuilderExists(ctx)
	l, err := b.lock()
	if err != nil {
		return err
	}
	upErr := b.up(ctx)
	if upErr == nil {
		upErr = b.holders().Join(os.Getpid())
	}
	if createdBuilder && upErr == nil {
		b.started = append(b.started, buildxBuilderItem)
	}
	l.Release()

	runErr := upErr
	if upErr == nil {
		select {
		case s := <-sigs:
			runErr = ExitError{128 + int(s.(syscall.Signal))}
		default:
			b.logf("with: running %s", strings.Join(argv, " "))
			runErr = b.runCommand(argv, sigs)
		}
	}

	l, err = b.lock()
	if err != nil {
		return fmt.Errorf("%w (and the services were left as they are: %v)", runErr, err)
	}
	defer l.Release()
	stop, others, err := b.holders().Leave(os.Getpid(), b.started)
	if err != nil {
		return fmt.Errorf("%v; with: %w", runErr, err)
	}
	if len(others) > 0 {
		if len(b.started) > 0 {
			b.logf("with: leaving %s running for with runs %v", strings.Join(b.started, " "), others)
		}
		b.started = nil
		return runErr
	}
	b.started = nil
	if len(stop) > 0 {
		b.logf("with: stopping what it started: %s", strings.Join(stop, " "))
		if err := b.stopNames(stop); err != nil && runErr == nil {
			return err
		}
	}
	return runErr
}

func (b *Bed) runCommand(argv []string, sigs <-chan os.Signal) error {
	c := exec.Command(argv[0], argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	c.Env = b.environ()
	if err := c.Start(); err != nil {
		return ExitError{127}
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var sig os.Signal
	for {
		select {
		case err := <-done:
			if sig != nil {
				return ExitError{128 + int(sig.(syscall.Signal))}
			}
			if err == nil {
				return nil
			}
			if ee, ok := err.(*exec.ExitError); ok {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return ExitError{128 + int(ws.Signal())}
				}
				return ExitError{ee.ExitCode()}
			}
			return err
		case s := <-sigs:
			if sig != nil {
				continue
			}
			sig = s
			b.logf("with: %v: stopping %s (pid %d)", s, argv[0], c.Process.Pid)
			c.Process.Signal(syscall.SIGTERM)
			go func() {
				time.Sleep(10 * time.Second)
				c.Process.Kill()
			}()
		}
	}
}
