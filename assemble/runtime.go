package assemble

import (
	"strings"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
)

// What makes a built image start (docs/verification.md): the runtime
// libraries its native code links, unpacked from the runtime's own Debian
// release without apt or dpkg in the image.

const (
	runtimeMount  = "/run/distill/runtime"
	packagesOut   = "/run/distill/out"
	aptRuntimeDir = "/var/cache/distill-runtime-apt"
)

// WhichFile is the JSON object {soname: package} in WhichPackages' state.
const WhichFile = "/which.json"

// runtimePackages describes the layer of app.runtimePackages: the Debian
// packages and their dependencies that the runtime lacks, unpacked in a
// fresh builder (so nothing of the app's build reaches it and a code change
// leaves it cached), owned by root.
func (st *Stage) runtimePackages() (llb.State, bool) {
	pkgs := st.s.App.RuntimePackages
	if len(pkgs) == 0 {
		return llb.State{}, false
	}
	run := st.aptForRuntime("runtime-packages", pkgs,
		st.Step("runtime-packages", spec.Field("app.runtimePackages"), "resolve and unpack %s for the runtime's Debian release", strings.Join(pkgs, " ")))
	out := run.AddMount(packagesOut, llb.Scratch())
	root := &llb.ChownOpt{User: &llb.UserOpt{UID: 0}, Group: &llb.UserOpt{UID: 0}}
	layer := llb.Scratch().File(
		llb.Copy(out, "/", "/", &llb.CopyInfo{CopyDirContentsOnly: true, ChownOpt: root, CreatedTime: st.opt.SourceDateEpoch}),
		st.Constraints("runtime", spec.Field("app.runtimePackages"), "runtime packages layer (owned by root)")...,
	)
	return layer, true
}

// WhichPackages describes a step that finds, for each shared library
// (libpq.so.5), the Debian package of the runtime's release that ships it;
// the answer is WhichFile in the returned state. The frontend runs it only
// when the verification found missing libraries, for the message.
func WhichPackages(bases Bases, opt Options, sonames []string) llb.State {
	st := &Stage{bases: bases, opt: opt}
	run := st.aptForRuntime("which-package", append([]string{"--which"}, sonames...),
		llb.WithCustomName("[verify] which Debian packages ship "+strings.Join(sonames, " ")), llb.Platform(opt.Platform))
	return run.AddMount(packagesOut, llb.Scratch())
}

// aptForRuntime runs the helper's runtime-packages with args in a fresh
// builder, as root with the network (apt), the runtime image mounted
// read-only and apt's lists and downloads in a cache mount keyed by the
// runtime image.
func (st *Stage) aptForRuntime(stage string, args []string, opts ...llb.RunOption) llb.ExecState {
	runtimeBase := llb.Image(st.bases.Runtime.Pinned(), llb.Platform(st.opt.Platform))
	return st.BaseState(st.bases.Builder, stage).Run(append([]llb.RunOption{
		st.Helper("runtime-packages", append([]string{runtimeMount, packagesOut, aptRuntimeDir}, args...)...),
		llb.User("0:0"),
		llb.AddMount(runtimeMount, runtimeBase, llb.Readonly),
		llb.AddMount(aptRuntimeDir, llb.Scratch(), llb.AsPersistentCacheDir(st.runtimeCacheID("runtime-apt"), llb.CacheMountLocked)),
		llb.AddMount("/tmp", llb.Scratch(), llb.Tmpfs()),
	}, opts...)...)
}
