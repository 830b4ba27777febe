// Package testbed runs the real-engine test bed of the end-to-end tests
// on one machine with no public container registry: Debian's
// docker-registry, a buildkitd built from the version go.mod pins, and the
// loopback Python package index (integration/cmd/pyindex), all on
// 127.0.0.1 and all state under one work dir ($DISTILL_WORK). It installs
// what they need (setup), starts what is not running (Up), stops daemons
// by the PID it recorded for them (Down), shares one bed between
// concurrent With runs and writes the environment file that the tests
// read (integration/bedenv). integration/cmd/testbed is its command line;
// integration/testbed/README.md describes the bed.
package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/distill-build/distill/integration/bedenv"
)

// Fixed names and versions of the test bed.
const (
	BuildxVersion = "v0.38.2" // not in go.mod: buildx is only a test client
	BuildxBuilder = "distill-testbed"
	FrontendRepo  = "distill-build/distill"
	FrontendTag   = "dev"
)

// FrontendAliases are further tags of the frontend image: the major
// version README.md and examples/ name (`# syntax=ghcr.io/distill-build/distill:1`),
// so unchanged examples build.
var FrontendAliases = []string{"1"}

// Options are the knobs of a test bed, normally from the environment
// (OptionsFromEnv).
type Options struct {
	Repo            string // the repository (holds go.mod, Dockerfile, integration/testbed)
	Work            string // DISTILL_WORK, default <repo>/.work
	RegistryPort    int    // DISTILL_REGISTRY_PORT, default 5000
	IndexPort       int    // DISTILL_INDEX_PORT, default 3141
	SkipImages      bool   // DISTILL_SKIP_IMAGES: setup and up neither build nor push the stand-ins
	SkipFrontend    bool   // DISTILL_SKIP_FRONTEND: up does not build the frontend image
	SkipRealWheels  bool   // DISTILL_SKIP_REALWHEELS: setup does not repack the real wheels
	FrontendGoproxy string // DISTILL_FRONTEND_GOPROXY: GOPROXY of the frontend image build
	Log             io.Writer
}

// OptionsFromEnv reads the DISTILL_* variables.
func OptionsFromEnv(repo string, getenv func(string) string) (Options, error) {
	o := Options{Repo: repo, Work: getenv("DISTILL_WORK"), RegistryPort: 5000, IndexPort: 3141,
		SkipImages: getenv("DISTILL_SKIP_IMAGES") != "", SkipFrontend: getenv("DISTILL_SKIP_FRONTEND") != "",
		SkipRealWheels: getenv("DISTILL_SKIP_REALWHEELS") != "", FrontendGoproxy: getenv("DISTILL_FRONTEND_GOPROXY"),
		Log: os.Stderr}
	if o.Work == "" {
		o.Work = filepath.Join(repo, ".work")
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"DISTILL_REGISTRY_PORT", &o.RegistryPort}, {"DISTILL_INDEX_PORT", &o.IndexPort}} {
		if v := getenv(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 65535 {
				return o, fmt.Errorf("%s=%q is not a port", p.name, v)
			}
			*p.dst = n
		}
	}
	if o.RegistryPort == o.IndexPort {
		return o, fmt.Errorf("the registry and the index cannot share port %d", o.RegistryPort)
	}
	return o, nil
}

// Bed is one work dir's test bed.
type Bed struct {
	Options
	bin, run, logs, conf, stamps, wheels string
	reg                                  string // localhost:PORT
	started                              []string
}

// New checks the options and makes the work dir.
func New(o Options) (*Bed, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if _, err := os.Stat(filepath.Join(o.Repo, "integration", "testbed", "images", "build.sh")); err != nil {
		return nil, fmt.Errorf("%s is not the distill repository: %w", o.Repo, err)
	}
	if err := os.MkdirAll(o.Work, 0o755); err != nil {
		return nil, err
	}
	w, err := filepath.Abs(o.Work)
	if err != nil {
		return nil, err
	}
	o.Work = w
	b := &Bed{Options: o,
		bin: filepath.Join(w, "bin"), run: filepath.Join(w, "run"), logs: filepath.Join(w, "logs"),
		conf: filepath.Join(w, "conf"), stamps: filepath.Join(w, "stamps"), wheels: filepath.Join(w, "wheels"),
		reg: fmt.Sprintf("localhost:%d", o.RegistryPort)}
	for _, d := range []string{b.bin, b.run, b.logs, b.conf, b.stamps, b.wheels,
		filepath.Join(w, "registry"), filepath.Join(w, "buildkit"), filepath.Join(b.dockerConfig(), "cli-plugins")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *Bed) dockerConfig() string { return filepath.Join(b.Work, "docker") }
func (b *Bed) buildkitHost() string { return "unix://" + filepath.Join(b.run, "buildkitd.sock") }
func (b *Bed) indexURL() string     { return fmt.Sprintf("http://127.0.0.1:%d/simple", b.IndexPort) }

// FrontendName is the frontend image as examples name it; it resolves to
// the local registry through the ghcr.io mirror.
func FrontendName() string { return "ghcr.io/" + FrontendRepo + ":" + FrontendTag }

func (b *Bed) logf(format string, a ...any) {
	fmt.Fprintf(b.Log, "testbed: "+format+"\n", a...)
}

// Env is what the environment file holds and `env` prints.
func (b *Bed) Env() *bedenv.Env {
	e := &bedenv.Env{
		Vars: map[string]string{
			"DISTILL_WORK":      b.Work,
			"BUILDKIT_HOST":     b.buildkitHost(),
			"DOCKER_CONFIG":     b.dockerConfig(),
			"BUILDX_BUILDER":    BuildxBuilder,
			"DISTILL_REGISTRY":  b.reg,
			"DISTILL_INDEX_URL": b.indexURL(),
			"DISTILL_INDEX_LOG": filepath.Join(b.logs, "pyindex.log"),
			"DISTILL_FRONTEND":  FrontendName(),
		},
		Path: []string{b.bin},
	}
	for _, s := range b.services() {
		p, _ := s.pid.Alive()
		e.Services = append(e.Services, bedenv.Service{Name: s.name, Addr: s.addr, PID: p.PID, Log: s.log})
	}
	return e
}

// environ is this process's environment with the test bed's on top: what
// daemons, tools and a `with` command get.
func (b *Bed) environ() []string {
	e := b.Env()
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := e.Vars[k]; ok || k == "PATH" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, e.Environ(os.Getenv)...)
}

// lock serializes setup, up, down and the with bookkeeping of one work dir.
func (b *Bed) lock() (*Lock, error) {
	p := filepath.Join(b.run, "lock")
	return TakeLock(p, 30*time.Minute, func() {
		b.logf("waiting for another testbed in %s (lock %s)", b.Work, p)
	})
}

func (b *Bed) holders() Holders { return Holders{Dir: b.run} }

func since(t0 time.Time) string { return fmt.Sprintf("%.1fs", time.Since(t0).Seconds()) }

// timed runs fn and logs how long it took.
func (b *Bed) timed(label string, fn func() error) error {
	t0 := time.Now()
	err := fn()
	if err != nil {
		b.logf("%s: %s (failed: %v)", label, since(t0), err)
	} else {
		b.logf("%s: %s", label, since(t0))
	}
	return err
}

// cmd describes one command the test bed runs.
type cmd struct {
	argv []string
	dir  string
	env  []string // added to b.environ()
	log  string   // name under logs/ (truncated first); "" = the test bed's log
	add  bool     // append to the log instead
	keep bool     // a failure shows no log tail (the caller does)
}

// exec runs c; on failure it shows the last lines of its log.
func (b *Bed) exec(ctx context.Context, c cmd) error {
	x := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	x.Dir = c.dir
	x.Env = append(b.environ(), c.env...)
	x.WaitDelay = 10 * time.Second
	var logPath string
	if c.log != "" {
		logPath = filepath.Join(b.logs, c.log+".log")
		flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if c.add {
			flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
		}
		f, err := os.OpenFile(logPath, flags, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(f, "+ %s\n", strings.Join(c.argv, " "))
		x.Stdout, x.Stderr = f, f
	} else {
		x.Stdout, x.Stderr = b.Log, b.Log
	}
	err := x.Run()
	if err != nil && logPath != "" {
		if !c.keep {
			b.tailLog(logPath)
		}
		err = fmt.Errorf("%s: %w (log: %s)", filepath.Base(c.argv[0]), err, logPath)
	}
	return err
}

// output runs argv and returns its stdout.
func (b *Bed) output(ctx context.Context, dir string, env []string, argv ...string) (string, error) {
	x := exec.CommandContext(ctx, argv[0], argv[1:]...)
	x.Dir = dir
	x.Env = append(b.environ(), env...)
	var stderr bytes.Buffer
	x.Stderr = &stderr
	out, err := x.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func (b *Bed) tailLog(path string) {
	tail, err := tailFile(path, 30)
	if err != nil || tail == "" {
		return
	}
	fmt.Fprintf(b.Log, "---- last lines of %s ----\n%s\n----\n", path, tail)
}

func tailFile(path string, n int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	// the last 64 KiB hold more than n lines of any log here
	if st, err := f.Stat(); err == nil && st.Size() > 64<<10 {
		f.Seek(-64<<10, io.SeekEnd)
	}
	dt, err := io.ReadAll(f)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(string(dt), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n"), nil
}

// ExitError carries the exit status of the command `with` ran (128+N
// when signal N ended it or the test bed).
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode is the status a command line should exit with for err.
func ExitCode(err error) int {
	var ee ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if err != nil {
		return 1
	}
	return 0
}
