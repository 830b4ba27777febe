package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/inputs"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// verify solves the start-up verification of one platform's image and
// turns its report into errors and warnings at the spec lines they concern.
// It is cached like any step: it runs again only when the image's
// dependencies, runtime or entrypoint change.
//
// marshal are the image's own marshal options: with --no-cache the
// verification's steps (which the image shares) must not come from the
// cache either.
func verify(ctx context.Context, c client.Client, bc *dockerui.Client, pol lint.Policy, in *inputs.Inputs, src *dockerui.Source, bases assemble.Bases, opt assemble.Options, out *assemble.Result, marshal []bkllb.ConstraintsOpt) error {
	s := in.Spec
	if !out.VerifyOn {
		return nil
	}
	if !canRun(c, opt.Platform) {
		src.Warn(ctx, fmt.Sprintf("start-up verification skipped for %s: the engine cannot run that platform (register an emulator, e.g. qemu-user-static)", platforms.Format(opt.Platform)), client.WarnOpts{})
		return nil
	}
	ref, err := solveRef(ctx, c, out.Verify, bc.CacheImports, marshal...)
	if err != nil {
		return errors.Wrap(err, "start-up verification")
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: assemble.VerifyReport})
	if err != nil {
		return errors.Wrap(err, "reading the start-up verification's report")
	}
	r, err := assemble.ParseReport(dt)
	if err != nil {
		return errors.Wrap(err, "reading the start-up verification's report")
	}
	hints := whichPackages(ctx, c, bases, opt, r, marshal)
	return reportVerified(ctx, pol, s, src, in.Project.Verified(s, in.Pair, r, hints), hints)
}

// whichPackages asks the runtime's Debian release which packages ship the
// libraries the verification found missing. It only improves a message, so
// any failure (a builder without apt, no network) just leaves it out.
func whichPackages(ctx context.Context, c client.Client, bases assemble.Bases, opt assemble.Options, r *assemble.Report, marshal []bkllb.ConstraintsOpt) map[string]string {
	var sonames []string
	for _, p := range r.Errors {
		if p.Kind == "library" {
			for _, m := range p.Missing {
				if !strings.Contains(m, " ") && !slices.Contains(sonames, m) {
					sonames = append(sonames, m)
				}
			}
		}
	}
	if len(sonames) == 0 {
		return nil
	}
	slices.Sort(sonames)
	ref, err := solveRef(ctx, c, assemble.WhichPackages(bases, opt, sonames), nil, marshal...)
	if err != nil {
		return nil
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: assemble.WhichFile})
	if err != nil {
		return nil
	}
	hints := map[string]string{}
	if json.Unmarshal(dt, &hints) != nil {
		return nil
	}
	return hints
}

// reportVerified fails the build on the verification's errors, all of them
// in one message, and passes its warnings on (policy.strict fails on them).
func reportVerified(ctx context.Context, pol lint.Policy, s *spec.Spec, src *dockerui.Source, findings []lint.Finding, hints map[string]string) error {
	var errs []string
	var ranges []*pb.Range
	var warnings []lint.Finding
	for _, f := range findings {
		if !f.Error {
			warnings = append(warnings, f)
			continue
		}
		errs = append(errs, f.Text(s, "")+" ("+f.Rule.URL+")")
		ranges = append(ranges, fieldRanges(s, f.Field)...)
	}
	if len(errs) > 0 {
		head := "the image would not start"
		if len(errs) > 1 {
			head += fmt.Sprintf(" (%d problems)", len(errs))
		}
		fix := ""
		if pkgs := runtimePackagesFix(s, hints); pkgs != "" {
			fix = "\nall missing libraries together: app.runtimePackages: [" + pkgs + "]"
		}
		err := errors.New(head + ":\n  " + strings.Join(errs, "\n  ") + fix + "\n(policy.verify: warn reports these without failing; off skips the verification)")
		return errdefs.WithSource(err, sourceOf(src, ranges))
	}
	return report(ctx, pol, s, src, warnings)
}

// canRun reports whether the engine's worker runs p natively or under a
// registered emulator.
func canRun(c client.Client, p ocispecs.Platform) bool {
	ws := c.BuildOpts().Workers
	if len(ws) == 0 {
		return true
	}
	m := platforms.Only(p)
	for _, wp := range ws[0].Platforms {
		if m.Match(wp) {
			return true
		}
	}
	return false
}

// runtimePackagesFix is the app.runtimePackages list that adds every
// library the hints name to what the spec already lists.
func runtimePackagesFix(s *spec.Spec, hints map[string]string) string {
	if len(hints) == 0 {
		return ""
	}
	pkgs := append([]string{}, s.App.RuntimePackages...)
	for _, p := range hints {
		if !slices.Contains(pkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	slices.Sort(pkgs[len(s.App.RuntimePackages):])
	return strings.Join(pkgs, ", ")
}
