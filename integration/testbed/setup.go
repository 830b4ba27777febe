package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// AptPackages are the Debian packages the test bed needs: runc (the OCI
// worker's runtime), mmdebstrap (stand-in root filesystems),
// docker-registry (Debian's distribution registry; keeps tags across
// restarts), curl and git (relock.sh, the frontend's source hash) and
// ca-certificates.
var AptPackages = []string{"runc", "mmdebstrap", "docker-registry", "curl", "git", "ca-certificates"}

// Setup installs the OS packages, builds the tools, repacks the real
// wheels and builds and pushes the stand-in images; every step is skipped
// when its result is already there. It stops the registry again if it
// had to start it.
func (b *Bed) Setup(ctx context.Context) (err error) {
	l, err := b.lock()
	if err != nil {
		return err
	}
	defer l.Release()
	t0 := time.Now()
	if err := b.timed("apt", b.setupApt); err != nil {
		return err
	}
	if err := b.setupTools(ctx); err != nil {
		return err
	}
	if err := b.setupRealWheels(ctx); err != nil {
		return err
	}
	// the stand-ins are pushed, so the registry must run; stopped again if setup started it
	if err := b.needTools(); err != nil {
		return err
	}
	defer func() {
		if serr := b.stopStarted(); err == nil {
			err = serr
		}
	}()
	if _, err := b.start(ctx, b.service(svcRegistry)); err != nil {
		return err
	}
	if err := b.pushImages(ctx, false); err != nil {
		return err
	}
	b.logf("setup done in %s", since(t0))
	return nil
}

func aptMissing() []string {
	var missing []string
	for _, p := range AptPackages {
		out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", p).Output()
		if !strings.Contains(string(out), "install ok installed") {
			missing = append(missing, p)
		}
	}
	return missing
}

func (b *Bed) setupApt() error {
	missing := aptMissing()
	if len(missing) == 0 {
		b.logf("apt: all present (%s)", strings.Join(AptPackages, " "))
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("need root to install: %s", strings.Join(missing, " "))
	}
	b.logf("apt: installing %s", strings.Join(missing, " "))
	// keep package scripts from starting services (docker-registry would take :5000)
	const policy = "/usr/sbin/policy-rc.d"
	if _, err := os.Stat(policy); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
			return err
		}
		defer os.Remove(policy)
	}
	ctx := context.Background()
	if err := b.exec(ctx, cmd{argv: []string{"apt-get", "update", "-qq"}, log: "apt"}); err != nil {
		return err
	}
	install := append([]string{"apt-get", "install", "-y", "-qq", "--no-install-recommends"}, missing...)
	if err := b.exec(ctx, cmd{argv: install, env: []string{"DEBIAN_FRONTEND=noninteractive"}, log: "apt", add: true}); err != nil {
		return err
	}
	// the package enables a system service on :5000; the test bed runs its own
	if _, err := os.Stat("/run/systemd/system"); err == nil && strings.Contains(" "+strings.Join(missing, " ")+" ", " docker-registry ") {
		exec.Command("systemctl", "disable", "--now", "docker-registry.service").Run()
	}
	return nil
}

// goEnv is the environment of builds outside the repository's module.
var goEnv = []string{"GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0"}

// modVersion is the version of mod that go.mod pins.
func (b *Bed) modVersion(ctx context.Context, mod string) (string, error) {
	out, err := b.output(ctx, b.Repo, []string{"GOWORK=off"}, "go", "list", "-m", "-f", "{{.Version}}", mod)
	return strings.TrimSpace(out), err
}

// modDir downloads mod@v outside any module (no go.mod or go.sum is
// touched) and returns its directory in the module cache.
func (b *Bed) modDir(ctx context.Context, mod, v string) (string, error) {
	out, err := b.output(ctx, "/", goEnv, "go", "mod", "download", "-json", mod+"@"+v)
	if err != nil {
		return "", err
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		return "", err
	}
	if m.Error != "" || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", mod, v, m.Error)
	}
	return m.Dir, nil
}

// hasVersion reports whether `bin/NAME ARGS...` mentions version v.
func (b *Bed) hasVersion(name, v string, args ...string) bool {
	out, err := exec.Command(filepath.Join(b.bin, name), args...).Output()
	if err != nil {
		return false
	}
	for _, f := range strings.FieldsFunc(string(out), func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == ',' }) {
		if f == v {
			return true
		}
	}
	return false
}

func (b *Bed) buildBuildkit(ctx context.Context, v string) error {
	if b.hasVersion("buildkitd", v, "--version") && b.hasVersion("buildctl", v, "--version") {
		b.logf("buildkitd/buildctl %s: present", v)
		return nil
	}
	dir, err := b.modDir(ctx, "github.com/moby/buildkit", v)
	if err != nil {
		return err
	}
	// `go install ...@v` is refused (buildkit's go.mod has exclude directives): build in the module dir
	return b.exec(ctx, cmd{dir: dir, env: goEnv, log: "build-buildkit", argv: []string{"go", "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/moby/buildkit/version.Version=" + v, "-o", b.bin + "/", "./cmd/buildkitd", "./cmd/buildctl"}})
}

func (b *Bed) buildCrane(ctx context.Context, v string) error {
	if b.hasVersion("crane", v, "version") {
		b.logf("crane %s: present", v)
		return nil
	}
	dir, err := b.modDir(ctx, "github.com/google/go-containerregistry", v)
	if err != nil {
		return err
	}
	return b.exec(ctx, cmd{dir: dir, env: goEnv, log: "build-crane", argv: []string{"go", "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/google/go-containerregistry/cmd/crane/cmd.Version=" + v, "-o", filepath.Join(b.bin, "crane"), "./cmd/crane"}})
}

func (b *Bed) buildBuildx(ctx context.Context) error {
	if b.hasVersion("buildx", BuildxVersion, "version") {
		b.logf("buildx %s: present", BuildxVersion)
	} else if err := b.exec(ctx, cmd{dir: "/", env: append(goEnv, "GOBIN="+b.bin), log: "build-buildx", argv: []string{"go", "install", "-trimpath",
		"-ldflags", "-s -w -X github.com/docker/buildx/version.Version=" + BuildxVersion, "github.com/docker/buildx/cmd/buildx@" + BuildxVersion}}); err != nil {
		return err
	}
	// the docker CLI plugin location (`docker buildx` when a docker CLI exists)
	src, plugin := filepath.Join(b.bin, "buildx"), filepath.Join(b.dockerConfig(), "cli-plugins", "docker-buildx")
	if sameFile(src, plugin) {
		return nil
	}
	os.Remove(plugin)
	if err := os.Link(src, plugin); err == nil {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writeFileMode(plugin, data, 0o755)
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func writeFileMode(path string, data []byte, mode os.FileMode) error {
	if err := writeFileAtomic(path, data); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

func (b *Bed) buildRepoCmd(ctx context.Context, name string) error {
	return b.exec(ctx, cmd{dir: b.Repo, env: []string{"CGO_ENABLED=0"}, log: "build-" + name,
		argv: []string{"go", "build", "-trimpath", "-o", filepath.Join(b.bin, name), "./integration/cmd/" + name}})
}

func (b *Bed) buildPyindex(ctx context.Context) error { return b.buildRepoCmd(ctx, "pyindex") }

// setupTools builds buildkitd+buildctl, crane and pyindex, with buildx
// alongside (the Go caches are safe to share).
func (b *Bed) setupTools(ctx context.Context) error {
	if _, err := exec.LookPath("go"); err != nil {
		return fmt.Errorf("go not found (expected on PATH or in /usr/local/go/bin)")
	}
	bk, err := b.modVersion(ctx, "github.com/moby/buildkit")
	if err != nil {
		return fmt.Errorf("cannot read the buildkit version from go.mod: %w", err)
	}
	cr, err := b.modVersion(ctx, "github.com/google/go-containerregistry")
	if err != nil {
		return fmt.Errorf("cannot read the go-containerregistry version from go.mod: %w", err)
	}
	var wg sync.WaitGroup
	var bxErr error
	wg.Go(func() { bxErr = b.timed("buildx "+BuildxVersion, func() error { return b.buildBuildx(ctx) }) })
	errs := []error{
		b.timed("buildkitd+buildctl "+bk, func() error { return b.buildBuildkit(ctx, bk) }),
		b.timed("crane "+cr, func() error { return b.buildCrane(ctx, cr) }),
		b.timed("pyindex", func() error { return b.buildPyindex(ctx) }),
	}
	wg.Wait()
	if err := errors.Join(append(errs, bxErr)...); err != nil {
		return fmt.Errorf("tool build failed (logs in %s): %w", b.logs, err)
	}
	return nil
}

// trixieApt makes images/build.sh's private apt directory for trixie
// ($DISTILL_WORK/apt/trixie), from which the real wheels' .debs come.
// Lists already there are used as they are (the stand-in builds refresh
// them); they are fetched when missing, or on refresh.
func (b *Bed) trixieApt(ctx context.Context, refresh bool) error {
	a := filepath.Join(b.Work, "apt", "trixie")
	if !refresh {
		if _, err := os.Stat(filepath.Join(a, "apt.conf")); err == nil {
			if m, _ := filepath.Glob(filepath.Join(a, "state", "lists", "*_Packages")); len(m) > 0 {
				return nil
			}
		}
	}
	return b.exec(ctx, cmd{argv: []string{b.imagesScript(), "apt", "trixie"}, log: "realwheels", add: true})
}

func (b *Bed) imagesScript() string {
	return filepath.Join(b.Repo, "integration", "testbed", "images", "build.sh")
}

// realWheels repacks Debian trixie's python3-* .debs into wheels
// (integration/cmd/debwheel, the list integration/testbed/realwheels.txt)
// beside pyindex's toy wheels.
func (b *Bed) realWheels(ctx context.Context) error {
	if err := b.buildRepoCmd(ctx, "debwheel"); err != nil {
		return err
	}
	if err := b.trixieApt(ctx, false); err != nil {
		return err
	}
	run := cmd{log: "realwheels", add: true, keep: true, argv: []string{filepath.Join(b.bin, "debwheel"),
		"-list", filepath.Join(b.Repo, "integration", "testbed", "realwheels.txt"), "-out", b.wheels,
		"-state", filepath.Join(b.Work, "debwheel"), "-debs", filepath.Join(b.Work, "debs", "trixie"),
		"-apt-config", filepath.Join(b.Work, "apt", "trixie", "apt.conf")}}
	err := b.exec(ctx, run)
	// 3: apt failed, e.g. a .deb replaced on the mirror since the lists were
	// fetched (a security update): refresh the lists, try once more
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		b.logf("real wheels: apt failed; refreshing the trixie lists and retrying")
		if err := b.trixieApt(ctx, true); err != nil {
			return err
		}
		err = b.exec(ctx, run)
	}
	if err != nil {
		b.tailLog(filepath.Join(b.logs, "realwheels.log"))
	}
	return err
}

func (b *Bed) setupRealWheels(ctx context.Context) error {
	if b.SkipRealWheels {
		b.logf("real wheels: skipped (DISTILL_SKIP_REALWHEELS)")
		return nil
	}
	logPath := filepath.Join(b.logs, "realwheels.log")
	os.Remove(logPath)
	if err := b.timed("real wheels", func() error { return b.realWheels(ctx) }); err != nil {
		return fmt.Errorf("real wheels failed (log: %s): %w", logPath, err)
	}
	if last, err := tailFile(logPath, 1); err == nil {
		b.logf("real wheels: %s", strings.TrimPrefix(last, "debwheel: "))
	}
	return nil
}

// pushImages builds (unless cached) and pushes (unless the registry has
// them) the stand-in images with images/build.sh. A failure is fatal for
// setup; for up (warnOnly) it is a warning, as the images that did build
// are usable.
func (b *Bed) pushImages(ctx context.Context, warnOnly bool) error {
	if b.SkipImages {
		return nil
	}
	logPath := filepath.Join(b.logs, "images.log")
	os.Remove(logPath)
	err := b.timed("stand-in images", func() error {
		return b.exec(ctx, cmd{argv: []string{b.imagesScript(), "all"}, env: []string{"REG=" + b.reg}, log: "images"})
	})
	if err == nil {
		return nil
	}
	if !warnOnly {
		return fmt.Errorf("stand-in images failed (log: %s)", logPath)
	}
	b.logf("WARNING: some stand-in images failed; builds from them will fail (log: %s)", logPath)
	return nil
}
