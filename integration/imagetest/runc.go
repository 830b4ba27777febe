package imagetest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// RunOpts tunes Run.
type RunOpts struct {
	// Args, when not nil, is the whole argv and replaces the image's
	// Entrypoint and Cmd (for one-shot checks inside the image).
	Args []string
	// Env is added to the image's Env; a key set here wins.
	Env []string
	// Stdout and Stderr receive the container's output; nil discards it.
	Stdout, Stderr io.Writer
	// WritableRootfs mounts the root filesystem read-write. The default is
	// read-only with a tmpfs on /tmp, as a hardened deployment runs it, so
	// an app that needs to write elsewhere fails here first.
	WritableRootfs bool
	// StateRoot is runc's state directory (`runc --root`); by default a
	// temporary directory, removed by Stop.
	StateRoot string
	// Runc is the runc binary; by default "runc" on PATH, then /usr/sbin/runc.
	Runc string
}

// Container is an image running under runc.
type Container struct {
	ID        string
	StateRoot string
	// Spec is the OCI runtime config the container was started with.
	Spec *specs.Spec

	runc      string
	bundle    string
	ownsState bool
	cmd       *exec.Cmd
	done      chan struct{}
	exitCode  int
	waitErr   error
	stopOnce  sync.Once
	stopErr   error
}

// Run starts the unpacked image in rootfs with runc as the image's
// configured user: argv Entrypoint+Cmd, the image's Env and WorkingDir, no
// capabilities, no-new-privileges, a read-only root (see RunOpts), the
// mounts of runc's default spec and the host's network namespace, so an app
// that binds 127.0.0.1 is reachable from the test. The user must be numeric,
// as the invariants require, since resolving a name would trust the image's
// /etc/passwd. Cancelling ctx stops the container; callers must call Stop.
func Run(ctx context.Context, rootfs string, img *Image, opts RunOpts) (*Container, error) {
	runc, err := findRunc(opts.Runc)
	if err != nil {
		return nil, err
	}
	rootfs, err = filepath.Abs(rootfs)
	if err != nil {
		return nil, err
	}
	spec, err := runtimeSpec(rootfs, img, opts)
	if err != nil {
		return nil, err
	}
	c := &Container{Spec: spec, runc: runc, StateRoot: opts.StateRoot, done: make(chan struct{})}
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	c.ID = "imagetest-" + hex.EncodeToString(id[:])
	if c.bundle, err = os.MkdirTemp("", "imagetest-bundle-"); err != nil {
		return nil, err
	}
	if c.StateRoot == "" {
		if c.StateRoot, err = os.MkdirTemp("", "imagetest-runc-"); err != nil {
			os.RemoveAll(c.bundle)
			return nil, err
		}
		c.ownsState = true
	}
	cfg, err := json.MarshalIndent(spec, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(c.bundle, "config.json"), cfg, 0o600)
	}
	if err != nil {
		c.cleanup()
		return nil, err
	}
	// `runc run` in the foreground: it passes its stdio to the container,
	// exits with the container's status and deletes the container after it.
	c.cmd = exec.Command(runc, "--root", c.StateRoot, "run", "--bundle", c.bundle, c.ID)
	c.cmd.Stdout, c.cmd.Stderr = opts.Stdout, opts.Stderr
	// Bounds Wait when the container left children holding the output pipes.
	c.cmd.WaitDelay = 5 * time.Second
	if err := c.cmd.Start(); err != nil {
		c.cleanup()
		return nil, fmt.Errorf("starting runc: %w", err)
	}
	go func() {
		err := c.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			c.exitCode = ee.ExitCode()
		default:
			c.exitCode, c.waitErr = -1, err
		}
		close(c.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			c.Stop()
		case <-c.done:
		}
	}()
	return c, nil
}

// Done is closed when the container's process has exited.
func (c *Container) Done() <-chan struct{} { return c.done }

// Wait waits for the container's process to exit and returns its exit
// code (128+N when killed by signal N). It is meant for one-shot commands;
// Stop must still be called to release the state.
func (c *Container) Wait() (int, error) {
	<-c.done
	return c.exitCode, c.waitErr
}

// Stop kills the container if it still runs, waits for it (bounded),
// deletes it from runc's state, checks that runc no longer lists it and
// removes the temporary files. It is safe to call more than once.
func (c *Container) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *Container) stop() error {
	var errs []error
	// Until runc has created the container, `runc kill` finds nothing;
	// retry until the process is gone or the deadline passes.
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-c.done:
			break wait
		default:
		}
		_ = c.runcCmd(5*time.Second, "kill", c.ID, "KILL")
		select {
		case <-c.done:
			break wait
		case <-deadline:
			errs = append(errs, fmt.Errorf("container %s did not exit within 10s of SIGKILL; killing runc", c.ID))
			_ = c.cmd.Process.Kill()
			select {
			case <-c.done:
			case <-time.After(5 * time.Second):
				errs = append(errs, fmt.Errorf("runc for container %s did not exit", c.ID))
			}
			break wait
		case <-tick.C:
		}
	}
	// The foreground `runc run` deletes the container itself; this covers a
	// runc that was killed before it could.
	if err := c.runcCmd(10*time.Second, "delete", "--force", c.ID); err != nil && !strings.Contains(err.Error(), "does not exist") {
		errs = append(errs, err)
	}
	if ids, err := c.list(); err != nil {
		errs = append(errs, err)
	} else {
		for _, id := range ids {
			if id == c.ID {
				errs = append(errs, fmt.Errorf("runc still lists container %s after delete", c.ID))
			}
		}
	}
	c.cleanup()
	return errors.Join(errs...)
}

func (c *Container) cleanup() {
	os.RemoveAll(c.bundle)
	if c.ownsState {
		os.RemoveAll(c.StateRoot)
	}
}

// list returns the ids runc knows under the container's state root.
func (c *Container) list() ([]string, error) {
	return ListContainers(c.runc, c.StateRoot)
}

// ListContainers returns the ids of the containers runc has under
// stateRoot (an empty list when the directory does not exist).
func ListContainers(runc, stateRoot string) ([]string, error) {
	runc, err := findRunc(runc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, runc, "--root", stateRoot, "list", "-q").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("runc list: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return strings.Fields(string(out)), nil
}

func (c *Container) runcCmd(timeout time.Duration, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, c.runc, append([]string{"--root", c.StateRoot}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("runc %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// WaitHTTP polls url like the package function, and gives up at once with
// the exit code when the container exits before answering.
func (c *Container) WaitHTTP(ctx context.Context, url string, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	status, body, err := WaitHTTP(ctx, url, timeout)
	select {
	case <-c.done:
		if err != nil {
			return 0, "", fmt.Errorf("the container exited with code %d before answering GET %s", c.exitCode, url)
		}
	default:
	}
	return status, body, err
}

func findRunc(p string) (string, error) {
	if p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("runc"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/runc"); err == nil {
		return "/usr/sbin/runc", nil
	}
	return "", errors.New("runc is not installed (not on PATH, not /usr/sbin/runc): install Debian's runc, as the test bed setup does (`make setup`)")
}

// runtimeSpec builds the OCI runtime config from the image config, after
// runc's default spec (`runc spec`) minus the network namespace.
func runtimeSpec(rootfs string, img *Image, opts RunOpts) (*specs.Spec, error) {
	ic := img.Config.Config
	uid, gid, hasGID, err := ParseUser(ic.User)
	if ic.User == "" {
		uid, gid, hasGID, err = 0, 0, true, nil
	}
	if err != nil {
		return nil, fmt.Errorf("image User %q: only a numeric uid[:gid] can be run: %w", ic.User, err)
	}
	pw, _ := lookupPasswd(filepath.Join(rootfs, "etc/passwd"), uid)
	if !hasGID && pw != nil {
		// As Docker does: a uid alone takes its group from /etc/passwd.
		gid = pw.gid
	}
	args := opts.Args
	if args == nil {
		args = append(append([]string{}, ic.Entrypoint...), ic.Cmd...)
	}
	if len(args) == 0 {
		return nil, errors.New("the image has neither Entrypoint nor Cmd, and no Args were given")
	}
	env := mergeEnv(ic.Env, opts.Env)
	if !hasKey(env, "PATH") {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	if !hasKey(env, "HOME") {
		home := "/"
		if pw != nil && pw.home != "" {
			home = pw.home
		}
		env = append(env, "HOME="+home)
	}
	cwd := ic.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	none := []string{}
	return &specs.Spec{
		Version:  "1.0.2",
		Root:     &specs.Root{Path: rootfs, Readonly: !opts.WritableRootfs},
		Hostname: "imagetest",
		Process: &specs.Process{
			Args: args, Env: env, Cwd: cwd,
			User: specs.User{UID: uint32(uid), GID: uint32(gid)},
			// No capabilities at all: the app runs as a plain user.
			Capabilities: &specs.LinuxCapabilities{
				Bounding: none, Effective: none, Inheritable: none, Permitted: none, Ambient: none,
			},
			NoNewPrivileges: true,
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777", "size=65536k"}},
		},
		Linux: &specs.Linux{
			// No network namespace: the container shares the host's, so
			// the test reaches an app bound to 127.0.0.1.
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
			},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}, nil
}

type passwdEntry struct {
	gid  int
	home string
}

// lookupPasswd finds uid in an /etc/passwd file.
func lookupPasswd(file string, uid int) (*passwdEntry, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Split(s.Text(), ":")
		if len(fields) < 6 || fields[2] != strconv.Itoa(uid) {
			continue
		}
		gid, err := strconv.Atoi(fields[3])
		if err != nil {
			return nil, err
		}
		return &passwdEntry{gid: gid, home: fields[5]}, nil
	}
	return nil, s.Err()
}

// mergeEnv returns base with extra applied: a key in extra replaces the
// same key in base, in place.
func mergeEnv(base, extra []string) []string {
	out := append([]string{}, base...)
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range out {
			if ok, _, _ := strings.Cut(old, "="); ok == k {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

// ExposedTCPPorts returns the image's exposed TCP ports, sorted.
func (img *Image) ExposedTCPPorts() []int {
	var ports []int
	for p := range img.Config.Config.ExposedPorts {
		num, proto, _ := strings.Cut(p, "/")
		if proto != "" && proto != "tcp" {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil {
			ports = append(ports, n)
		}
	}
	sort.Ints(ports)
	return ports
}

// WaitHTTP polls url with GET until it answers or timeout passes, and
// returns the first answer's status and body (up to 1 MiB). Proxies from
// the environment are ignored: the app is on the loopback.
func WaitHTTP(ctx context.Context, url string, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		Timeout:   5 * time.Second,
	}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, "", err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if rerr == nil {
				return resp.StatusCode, string(body), nil
			}
			err = rerr
		}
		last = err
		select {
		case <-ctx.Done():
			return 0, "", fmt.Errorf("GET %s: no answer within %s: %v", url, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
