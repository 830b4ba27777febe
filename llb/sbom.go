package llb

import (
	"strconv"

	"github.com/moby/buildkit/client/llb"
)

// SBOMPath is where the SPDX document lies in Result.SBOM.
const SBOMPath = "/out/sbom.spdx.json"

// sbomState describes an SPDX 2.3 document of what the image contains: the
// runtime image's OS packages (from its dpkg or apk database) and every
// distribution in the venv, each with its exact version and purl. distill
// writes it itself from what it built, because it knows both inputs and a
// scanner image may not be pullable (air-gapped CI).
//
// It runs in the builder with no network, reading the runtime base and the
// finished venv through read-only mounts; nothing of it reaches the image.
func (b *builder) sbomState(bst llb.State) llb.State {
	runtimeBase := llb.Image(b.bases.Runtime.Pinned(), llb.Platform(b.opt.Platform))
	if b.packagesLayer != nil {
		// the runtime packages are recorded in status.d like the base's own
		runtimeBase = llb.Merge([]llb.State{runtimeBase, *b.packagesLayer}, llb.WithCustomName("[sbom] runtime base and runtime packages"))
	}
	out := llb.Scratch().File(llb.Mkdir("/out", 0o755, llb.WithUIDGID(BuildUID, BuildGID)),
		llb.WithCustomName("[internal] sbom output directory"))
	epoch := ""
	if b.opt.SourceDateEpoch != nil {
		epoch = strconv.FormatInt(b.opt.SourceDateEpoch.Unix(), 10)
	}
	run := b.baseState(b.bases.Builder, "sbom").Run(
		llb.Args([]string{"python3", "-c", sbomScript, "/run/distill/runtime", "/run/distill/venv" + VenvDir,
			"/run/distill/sbom" + SBOMPath, b.s.Name, b.bases.Runtime.Pinned(), epoch}),
		llb.User(strconv.Itoa(BuildUID)+":"+strconv.Itoa(BuildGID)),
		llb.Network(llb.NetModeNone),
		llb.AddMount("/run/distill/runtime", runtimeBase, llb.Readonly),
		llb.AddMount("/run/distill/venv", bst, llb.Readonly),
		withConstraints(b.constraints("sbom", "", "SPDX SBOM of the runtime packages and the venv")),
	)
	return run.AddMount("/run/distill/sbom", out)
}
