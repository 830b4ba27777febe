package llb

import (
	"encoding/json"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// What makes a built image start (docs/verification.md): the runtime
// libraries its extensions link, a check of the assembled image before it
// is exported, and a healthcheck that needs no shell.

// VerifyReport is where the verification's JSON report lies in
// Result.Verify.
const VerifyReport = "/out/report.json"

const (
	runtimeMount   = "/run/distill/runtime"
	packagesOut    = "/run/distill/out"
	verifyAppMount = "/run/distill/app"
	verifyOut      = "/run/distill/report"
	aptRuntimeDir  = "/var/cache/distill-runtime-apt"
)

// runtimePackages describes the layer of app.runtimePackages: the Debian
// packages and their dependencies that the runtime lacks, unpacked in a
// fresh builder (so nothing of the app's build reaches it and a code change
// leaves it cached), owned by root.
func (b *builder) runtimePackages() (llb.State, bool) {
	pkgs := b.s.App.RuntimePackages
	if len(pkgs) == 0 {
		return llb.State{}, false
	}
	run := b.aptForRuntime("runtime-packages", pkgs,
		withConstraints(b.constraints("runtime-packages", "app.runtimePackages", "resolve and unpack %s for the runtime's Debian release", strings.Join(pkgs, " "))))
	out := run.AddMount(packagesOut, llb.Scratch())
	root := &llb.ChownOpt{User: &llb.UserOpt{UID: 0}, Group: &llb.UserOpt{UID: 0}}
	layer := llb.Scratch().File(
		llb.Copy(out, "/", "/", &llb.CopyInfo{CopyDirContentsOnly: true, ChownOpt: root, CreatedTime: b.opt.SourceDateEpoch}),
		b.constraints("runtime", "app.runtimePackages", "runtime packages layer (owned by root)")...,
	)
	return layer, true
}

// WhichPackages describes a step that finds, for each shared library
// (libpq.so.5), the Debian package of the runtime's release that ships it;
// the answer is WhichFile in the returned state. The frontend runs it only
// when the verification found missing libraries, for the message.
func WhichPackages(s *spec.Spec, bases Bases, opt Options, sonames []string) llb.State {
	b := &builder{s: s, bases: bases, opt: opt}
	run := b.aptForRuntime("which-package", append([]string{"--which"}, sonames...),
		llb.WithCustomName("[verify] which Debian packages ship "+strings.Join(sonames, " ")), llb.Platform(b.opt.Platform))
	return run.AddMount(packagesOut, llb.Scratch())
}

// aptForRuntime runs runtimePackagesScript with args in a fresh builder, as
// root with the network (apt), the runtime image mounted read-only and apt's
// lists and downloads in a cache mount keyed by the runtime image.
func (b *builder) aptForRuntime(stage string, args []string, opts ...llb.RunOption) llb.ExecState {
	runtimeBase := llb.Image(b.bases.Runtime.Pinned(), llb.Platform(b.opt.Platform))
	return b.baseState(b.bases.Builder, stage).Run(append([]llb.RunOption{
		llb.Args(append([]string{"python3", "-c", runtimePackagesScript, runtimeMount, packagesOut, aptRuntimeDir}, args...)),
		llb.User("0:0"),
		llb.AddMount(runtimeMount, runtimeBase, llb.Readonly),
		llb.AddMount(aptRuntimeDir, llb.Scratch(), llb.AsPersistentCacheDir(b.runtimeCacheID("runtime-apt"), llb.CacheMountLocked)),
		llb.AddMount("/tmp", llb.Scratch(), llb.Tmpfs()),
	}, opts...)...)
}

// WhichFile is the JSON object {soname: package} in WhichPackages' state.
const WhichFile = "/which.json"

// runtimeCacheID keys a cache by the runtime image repository: its apt
// lists are for the runtime's release, whatever the builder's is.
func (b *builder) runtimeCacheID(kind string) string {
	return b.opt.CacheNamespace + "distill/" + kind + "/" + trimDigest(b.bases.Runtime.Ref)
}

// verifyState runs verifyScript in the image as it will ship, minus the
// app's code: the runtime base, runtime packages, venv and project layers,
// plus a read-only mount of only the app's ELF objects and entrypoint file.
// So a code change that leaves those alone leaves the check cached; it
// runs again when the dependencies, the runtime or the entrypoint change.
func (b *builder) verifyState(layers []llb.State, bst llb.State, cfg dockerspec.DockerOCIImage) llb.State {
	wd := b.workdir()
	entry := append([]string{}, b.s.App.Entrypoint...)
	include := []string{"**/*.so", "**/*.so.*"}
	if len(entry) > 0 {
		prog := entry[0]
		switch {
		case strings.HasPrefix(prog, wd+"/"):
			rel := strings.TrimPrefix(prog, wd+"/")
			include = append(include, rel)
			entry[0] = "./" + rel
		case !strings.HasPrefix(prog, "/") && strings.Contains(prog, "/"):
			include = append(include, path.Clean(prog))
		}
	}
	app := llb.Scratch().File(
		llb.Copy(bst, wd, "/", &llb.CopyInfo{CopyDirContentsOnly: true, IncludePatterns: include, AllowEmptyWildcard: true}),
		b.constraints("verify", "", "select the app's ELF objects and entrypoint")...,
	)
	root := llb.Merge(layers, llb.WithCustomName("[verify] the image without the app's code"))
	pathEnv := newEnvList(cfg.Config.Env).get("PATH", defaultPath)
	args := []string{VenvDir + "/bin/python", "-I", "-c", verifyScript, verifyOut + "/report.json", VenvDir, verifyAppMount, pathEnv}
	opts := []llb.RunOption{
		llb.Args(append(args, entry...)),
		llb.User(RuntimeUser),
		llb.Dir("/"),
		llb.Network(llb.NetModeNone),
		llb.AddMount(verifyAppMount, app, llb.Readonly),
		llb.AddMount("/tmp", llb.Scratch(), llb.Tmpfs()),
	}
	for _, kv := range cfg.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		opts = append(opts, llb.AddEnv(k, v))
	}
	opts = append(opts, withConstraints(b.constraints("verify", "app.entrypoint", "verify the image starts: entrypoint, libraries, imports (as %s, no network)", RuntimeUser)))
	run := root.Run(opts...)
	out := llb.Scratch().File(llb.Mkdir("/out", 0o755, llb.WithUIDGID(65532, 65532)), llb.WithCustomName("[internal] verification report directory"))
	return run.AddMount(verifyOut, out, llb.SourcePath("/out"))
}

// healthcheck turns app.healthcheck into an exec-form HEALTHCHECK: the
// runtime has no shell, so Docker's CMD-SHELL form would never run.
func (b *builder) healthcheck() *dockerspec.HealthcheckConfig {
	h := b.s.App.Healthcheck
	if !h.Set() {
		return nil
	}
	dur := func(v string, def time.Duration) time.Duration {
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil { // validated by spec.Parse
			return def
		}
		return d
	}
	hc := &dockerspec.HealthcheckConfig{
		Interval:    dur(h.Interval, 30*time.Second),
		Timeout:     dur(h.Timeout, 5*time.Second),
		StartPeriod: dur(h.StartPeriod, 0),
		Retries:     h.Retries,
	}
	if hc.Retries == 0 {
		hc.Retries = 3
	}
	if len(h.Command) > 0 {
		hc.Test = append([]string{"CMD"}, h.Command...)
		return hc
	}
	port := h.Port
	if port == 0 && len(b.s.App.Ports) > 0 {
		port = b.s.App.Ports[0]
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + h.HTTP
	// the check's own timeout stays under Docker's, so a hung app is
	// reported as unhealthy by the check rather than killed
	timeout := strconv.FormatFloat(max(hc.Timeout.Seconds()-0.5, 0.5), 'f', -1, 64)
	hc.Test = []string{"CMD", VenvDir + "/bin/python", "-I", "-c", healthScript, url, timeout}
	return hc
}

// Report is the verification's result as verifyScript writes it.
type Report struct {
	Python     string          `json:"python"`
	ELFObjects int             `json:"elf_objects"`
	Modules    int             `json:"modules"`
	Errors     []ReportProblem `json:"errors"`
	Warnings   []ReportProblem `json:"warnings"`
}

// ReportProblem is one problem found; which fields are set depends on Kind.
type ReportProblem struct {
	Kind         string   `json:"kind"`
	Program      string   `json:"program,omitempty"`
	Path         string   `json:"path,omitempty"`
	Scripts      []string `json:"scripts,omitempty"`
	File         string   `json:"file,omitempty"`
	Interpreter  string   `json:"interpreter,omitempty"`
	Builder      string   `json:"builder,omitempty"`
	Runtime      string   `json:"runtime,omitempty"`
	Object       string   `json:"object,omitempty"`
	Missing      []string `json:"missing,omitempty"`
	Distribution string   `json:"distribution,omitempty"`
	Module       string   `json:"module,omitempty"`
	Package      string   `json:"package,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// ParseReport reads a verification report.
func ParseReport(dt []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(dt, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// verifyOn reports whether the spec asks for the verification.
func verifyOn(s *spec.Spec) bool { return s.Policy.Verify != spec.VerifyOff }
