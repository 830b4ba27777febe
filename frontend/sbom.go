package frontend

import (
	"context"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distill-build/distill/assemble"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/attestations/sbom"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/result"
	"github.com/moby/buildkit/util/bkmaps"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
	"github.com/tonistiigi/go-csvvalue"

	intoto "github.com/in-toto/in-toto-golang/in_toto"
)

// sbomTargets remembers, per exported platform id, the build an SBOM
// describes.
type sbomTargets = bkmaps.SyncMap[string, *assemble.Result]

// exportID is the id dockerui gives a platform's result.
func exportID(p *ocispecs.Platform) string {
	pp := platforms.DefaultSpec()
	if p != nil {
		pp = *p
	}
	return platforms.FormatAll(platforms.Normalize(pp))
}

// explicitScanner reports whether the build named an SBOM generator image
// (`--attest type=sbom,generator=IMAGE`). dockerui fills in BuildKit's
// default scanner when none is named; distill writes its own SBOM then,
// because it knows exactly what it installed and the default scanner image
// may not be pullable.
func explicitScanner(opts map[string]string) bool {
	v, ok := opts["attest:sbom"]
	if !ok {
		return false
	}
	fields, err := csvvalue.Fields(v, nil)
	if err != nil {
		return false
	}
	for _, f := range fields {
		if k, _, _ := strings.Cut(f, "="); strings.TrimSpace(k) == "generator" {
			return true
		}
	}
	return false
}

// attachSBOMs adds an SPDX attestation for every platform of the result.
func attachSBOMs(ctx context.Context, c client.Client, bc *dockerui.Client, rb *dockerui.ResultBuilder, targets *sbomTargets) error {
	if bc.SBOM == nil || bc.Target == TargetBuilder {
		return nil
	}
	var scanner sbom.Scanner
	if explicitScanner(c.BuildOpts().Opts) {
		sp := platforms.Normalize(platforms.DefaultSpec())
		if len(bc.BuildPlatforms) > 0 {
			sp = bc.BuildPlatforms[0]
		}
		var err error
		scanner, err = sbom.CreateSBOMScanner(ctx, c, bc.SBOM.Generator, sp, sourceresolver.Opt{
			ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &sp, ResolveMode: bc.ImageResolveMode.String()},
		}, bc.SBOM.Parameters)
		if err != nil {
			return err
		}
	}
	return rb.EachPlatform(ctx, func(ctx context.Context, id string, p ocispecs.Platform) error {
		target, ok := targets.Load(id)
		if !ok {
			return errors.Errorf("no SBOM target for platform %s", id)
		}
		solve := func(st *bkllb.State) (client.Reference, error) { return solveRef(ctx, c, *st, nil) }
		if scanner != nil {
			att, err := scanner(ctx, id, target.Image, map[string]bkllb.State{"builder": target.Builder})
			if err != nil {
				return err
			}
			conv, err := result.ConvertAttestation(&att, solve)
			if err != nil {
				return err
			}
			rb.AddAttestation(id, *conv)
			return nil
		}
		ref, err := solve(&target.SBOM)
		if err != nil {
			return err
		}
		rb.AddAttestation(id, client.Attestation{
			Kind: gwpb.AttestationKind_InToto,
			Ref:  ref,
			Path: assemble.SBOMPath,
			Metadata: map[string][]byte{
				result.AttestationReasonKey: []byte(result.AttestationReasonSBOM),
			},
			InToto: result.InTotoAttestation{PredicateType: intoto.PredicateSPDX},
		})
		return nil
	})
}
