package assemble

import (
	"strconv"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
)

// SBOMPath is where the SPDX document lies in Result.SBOM.
const SBOMPath = "/out/sbom.spdx.json"

// sbomState describes the SBOM of the image: distill writes it itself from
// what it built, because it knows both inputs and a scanner image may not
// be pullable (air-gapped CI). The helper reads the runtime base's package
// database and the language's inventory (its installed packages) through
// read-only mounts; nothing of it reaches the image.
func (st *Stage) sbomState(bst llb.State, plan Plan) llb.State {
	runtimeBase := llb.Image(st.bases.Runtime.Pinned(), llb.Platform(st.opt.Platform))
	if st.packagesLayer != nil {
		// the runtime packages are recorded in status.d like the base's own
		runtimeBase = llb.Merge([]llb.State{runtimeBase, *st.packagesLayer}, llb.WithCustomName("[sbom] runtime base and runtime packages"))
	}
	out := llb.Scratch().File(llb.Mkdir("/out", 0o755, llb.WithUIDGID(BuildUID, BuildGID)),
		llb.WithCustomName("[internal] sbom output directory"))
	epoch := ""
	if st.opt.SourceDateEpoch != nil {
		epoch = strconv.FormatInt(st.opt.SourceDateEpoch.Unix(), 10)
	}
	args := []string{"/run/distill/runtime", "/run/distill/sbom" + SBOMPath, st.s.Name, st.bases.Runtime.Pinned(), epoch}
	if kind, dir := plan.Inventory(); kind != "" {
		args = append(args, kind+"=/run/distill/builder"+dir)
	}
	run := st.BaseState(st.bases.Builder, "sbom").Run(
		st.Helper("sbom", args...),
		llb.User(strconv.Itoa(BuildUID)+":"+strconv.Itoa(BuildGID)),
		llb.Network(llb.NetModeNone),
		llb.AddMount("/run/distill/runtime", runtimeBase, llb.Readonly),
		llb.AddMount("/run/distill/builder", bst, llb.Readonly),
		st.Step("sbom", spec.Path{}, "SPDX SBOM of the runtime packages and the app's dependencies"),
	)
	return run.AddMount("/run/distill/sbom", out)
}
