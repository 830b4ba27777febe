package assemble

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// DefaultPath is the PATH of an image whose config sets none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Stage is the toolkit a language composes its builder steps from. It
// numbers the steps in the order they are described (so progress lines are
// stable), ties each to its spec line, and knows the fixed users, caches
// and mounts of every distill build.
type Stage struct {
	s     *spec.Spec
	pair  Pair
	bases Bases
	opt   Options
	step  int
	// packagesLayer is the app.runtimePackages layer, nil without any.
	packagesLayer *llb.State
}

// Spec is the build's spec.
func (st *Stage) Spec() *spec.Spec { return st.s }

// Pair is the build's base pair.
func (st *Stage) Pair() Pair { return st.pair }

// Bases are the resolved base images.
func (st *Stage) Bases() Bases { return st.bases }

// Context is the build context.
func (st *Stage) Context() llb.State { return st.opt.Context }

// Workdir is the app directory in both stages.
func (st *Stage) Workdir() string {
	if st.s.App.Workdir != "" {
		return st.s.App.Workdir
	}
	return spec.DefaultWorkdir
}

// name gives each vertex a readable progress line; numbering follows the
// order the steps are described in, which is fixed.
func (st *Stage) name(stage, format string, args ...any) llb.ConstraintsOpt {
	st.step++
	return llb.WithCustomName(fmt.Sprintf("[%s %d] %s", stage, st.step, fmt.Sprintf(format, args...)))
}

// at ties a vertex to the spec field it comes from; without a known field
// it still names the spec file, so errors say which file built the step.
func (st *Stage) at(field spec.Path) llb.ConstraintsOpt {
	pos, ok := st.s.Locate(field)
	if !ok {
		return st.opt.SourceMap.Location(nil)
	}
	line := int32(pos.Line)
	return st.opt.SourceMap.Location([]*pb.Range{{Start: &pb.Position{Line: line}, End: &pb.Position{Line: line}}})
}

// Constraints names the next step ("[stage N] what"), sets its platform
// and, when known, the spec line of field.
func (st *Stage) Constraints(stage string, field spec.Path, format string, args ...any) []llb.ConstraintsOpt {
	out := []llb.ConstraintsOpt{st.name(stage, format, args...), llb.Platform(st.opt.Platform)}
	if st.opt.SourceMap != nil {
		out = append(out, st.at(field))
	}
	return out
}

// Step is Constraints as a run option.
func (st *Stage) Step(stage string, field spec.Path, format string, args ...any) llb.RunOption {
	return runConstraints(st.Constraints(stage, field, format, args...))
}

type runConstraints []llb.ConstraintsOpt

func (rc runConstraints) SetRunOption(ei *llb.ExecInfo) {
	for _, o := range rc {
		o.SetConstraintsOption(&ei.Constraints)
	}
}

// CacheID keys a cache mount by the builder image repository, so two
// distros never share an apt or package cache while every app on the same
// builder shares downloads.
func (st *Stage) CacheID(kind string) string {
	return st.opt.CacheNamespace + "distill/" + kind + "/" + TrimDigest(st.bases.Builder.Ref)
}

// runtimeCacheID keys a cache by the runtime image repository: its apt
// lists are for the runtime's release, whatever the builder's is.
func (st *Stage) runtimeCacheID(kind string) string {
	return st.opt.CacheNamespace + "distill/" + kind + "/" + TrimDigest(st.bases.Runtime.Ref)
}

// BaseState starts a stage from a digest-pinned image with its config's
// environment and working directory, as a Dockerfile FROM would.
func (st *Stage) BaseState(img Image, stage string) llb.State {
	s := llb.Image(img.Pinned(), llb.Platform(st.opt.Platform), llb.WithCustomName(fmt.Sprintf("[%s] FROM %s", stage, img.Pinned())))
	for _, kv := range img.Config.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		s = s.AddEnv(k, v)
	}
	if wd := img.Config.Config.WorkingDir; wd != "" {
		s = s.Dir(wd)
	}
	return s
}

// Helper runs distill's static executable: `helper COMMAND ARGS...`,
// mounted read-only at HelperExe.
func (st *Stage) Helper(command string, args ...string) llb.RunOption {
	return helperRun(st.opt.Helper, command, args)
}

func helperRun(h Helper, command string, args []string) llb.RunOption {
	// The file alone is mounted: BuildKit keys a read-only mount by the
	// content of what it selects, and a file's key holds its bytes, mode
	// and owner but not its name or where it lies. So the CLI's executable
	// and the frontend image's, built alike from one version (make bin,
	// the Dockerfile), give the steps one cache key.
	argv := append([]string{HelperExe, "helper", command}, args...)
	return runOptions{llb.Args(argv), llb.AddMount(HelperExe, h.State, llb.SourcePath(path.Clean("/"+h.Path)), llb.Readonly)}
}

type runOptions []llb.RunOption

func (ro runOptions) SetRunOption(ei *llb.ExecInfo) {
	for _, o := range ro {
		o.SetRunOption(ei)
	}
}

// Apt installs build.aptPackages: the only step besides the dependency
// installs with network, and the only one run as root with it.
func (st *Stage) Apt(s llb.State) llb.State {
	pkgs := st.s.Build.AptPackages
	if len(pkgs) == 0 {
		return s
	}
	return s.Run(
		st.Helper("apt", pkgs...),
		llb.User("0:0"),
		llb.AddMount("/var/cache/apt", llb.Scratch(), llb.AsPersistentCacheDir(st.CacheID("apt-cache"), llb.CacheMountLocked)),
		llb.AddMount("/var/lib/apt/lists", llb.Scratch(), llb.AsPersistentCacheDir(st.CacheID("apt-lists"), llb.CacheMountLocked)),
		st.Step("builder", spec.Field("build.aptPackages"), "apt-get install %s", strings.Join(pkgs, " ")),
	).Root()
}

// Prepare runs as root with no network: it makes each link (a path the
// runtime has, e.g. its interpreter, pointing at the builder's program of
// that name) and the directories the build user owns. What describes the
// step for its progress line.
func (st *Stage) Prepare(s llb.State, links map[string]string, dirs []string, field spec.Path, what string) llb.State {
	var args []string
	keys := make([]string, 0, len(links))
	for k := range links {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		args = append(args, "--link", k+"="+links[k])
	}
	args = append(args, strconv.Itoa(BuildUID), strconv.Itoa(BuildGID))
	args = append(args, dirs...)
	return s.Run(
		st.Helper("prepare", args...),
		llb.User("0:0"),
		llb.Network(llb.NetModeNone),
		st.Step("builder", field, "%s", what),
	).Root()
}

// AsBuildUser makes every later step run as the unprivileged build user.
func (st *Stage) AsBuildUser(s llb.State) llb.State {
	return s.User(fmt.Sprintf("%d:%d", BuildUID, BuildGID)).AddEnv("HOME", BuildHome)
}

// CopyApp copies the app into the builder's working directory, owned by
// the build user so build commands can write (e.g. compile) in place.
func (st *Stage) CopyApp(s llb.State, excludes []string) llb.State {
	sp := st.s
	wd := st.Workdir()
	excludes = append(append(append([]string{}, sp.App.Exclude...), DefaultExcludes...), excludes...)
	owner := &llb.ChownOpt{User: &llb.UserOpt{UID: BuildUID}, Group: &llb.UserOpt{UID: BuildGID}}
	if len(sp.App.Include) == 0 {
		return s.File(
			llb.Copy(st.opt.Context, "/", wd, &llb.CopyInfo{
				CopyDirContentsOnly: true, CreateDestPath: true, ExcludePatterns: excludes, ChownOpt: owner,
			}),
			st.Constraints("builder", spec.Field("app"), "copy app into %s", wd)...,
		)
	}
	var fa *llb.FileAction
	for _, inc := range sp.App.Include {
		src := CleanContextPath(inc)
		ci := &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, ExcludePatterns: excludes, ChownOpt: owner}
		if fa == nil {
			fa = llb.Copy(st.opt.Context, src, path.Join(wd, src), ci)
		} else {
			fa = fa.Copy(st.opt.Context, src, path.Join(wd, src), ci)
		}
	}
	return s.File(fa, st.Constraints("builder", spec.Field("app.include"), "copy %s into %s", strings.Join(sp.App.Include, " "), wd)...)
}

// Commands runs build.commands, exec form, as the build user in the app
// directory with the network off; pathPrefix goes before the builder's
// PATH (the language's tools, e.g. a venv's bin).
func (st *Stage) Commands(s llb.State, pathPrefix string) llb.State {
	wd := st.Workdir()
	p := EnvValue(st.bases.Builder.Config.Config.Env, "PATH", DefaultPath)
	if pathPrefix != "" {
		p = pathPrefix + ":" + p
	}
	commands := spec.Field("build.commands")
	for i, argv := range st.s.Build.Commands {
		opts := []llb.RunOption{
			llb.Args(argv),
			llb.Dir(wd),
			llb.Network(llb.NetModeNone),
			llb.AddEnv("PATH", p),
		}
		for _, e := range st.s.Build.Env {
			opts = append(opts, llb.AddEnv(e.Name, e.Value))
		}
		opts = append(opts, st.Step("builder", commands.Index(i), "%s", quoteArgv(argv)))
		s = s.Run(opts...).Root()
	}
	return s
}

// Layer copies dir of from into a layer of its own (the LLB form of COPY
// --link), owned by root, with SOURCE_DATE_EPOCH times when set.
func (st *Stage) Layer(from llb.State, dir string, field spec.Path, format string, args ...any) llb.State {
	root := &llb.ChownOpt{User: &llb.UserOpt{UID: 0}, Group: &llb.UserOpt{UID: 0}}
	return llb.Scratch().File(
		llb.Copy(from, dir, dir, &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, ChownOpt: root, CreatedTime: st.opt.SourceDateEpoch}),
		st.Constraints("runtime", field, format, args...)...,
	)
}

// appLayer is the app directory of the finished builder, the image's last
// layer, so a code change rebuilds only it.
func (st *Stage) appLayer(bst llb.State) llb.State {
	wd := st.Workdir()
	return st.Layer(bst, wd, spec.Field("app.entrypoint"), "copy app %s (owned by root)", wd)
}

// Mkfile is a state holding one generated file, stamped with
// SOURCE_DATE_EPOCH (or the Unix epoch) so it never varies.
func (st *Stage) Mkfile(name string, data []byte, field spec.Path, format string, args ...any) llb.State {
	at := llb.WithCreatedTime(time.Unix(0, 0).UTC())
	if t := st.opt.SourceDateEpoch; t != nil {
		at = llb.WithCreatedTime(*t)
	}
	return llb.Scratch().File(llb.Mkfile(name, 0o644, data, at), st.Constraints("builder", field, format, args...)...)
}

// CacheDirOwnedByBuildUser is the initial content of a cache mount: a
// directory owned by the build user, so a tool can write its cache
// (BuildKit would otherwise create the mount as root:root 0755 and pip,
// for one, silently disables a cache it cannot write).
func CacheDirOwnedByBuildUser() llb.State {
	return llb.Scratch().File(llb.Mkdir("/cache", 0o755, llb.WithUIDGID(BuildUID, BuildGID)), llb.WithCustomName("[internal] cache directory for the build user"))
}

// CleanContextPath makes a validated context-relative path absolute within
// the context (spec validation already refused escapes).
func CleanContextPath(p string) string {
	return path.Join("/", strings.TrimSuffix(p, "/"))
}

// quoteArgv renders an argv for a progress line only; it never reaches a
// shell.
func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`;&|<>()") {
			q[i] = strconv.Quote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}
