// Package frontend is distill's BuildKit gateway build function. It reads
// distill.yaml from the `dockerfile` local, uses BuildKit's dockerui client
// for everything a Dockerfile build also has (build args, platforms,
// .dockerignore, named contexts, subrequests), resolves the base-image pair
// to digests and hands the rest to package llb.
//
// The same Build function runs inside the frontend image (`# syntax=`) and
// in-process in the `distill build` CLI.
package frontend

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/inputs"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/lock"
	"github.com/distill-build/distill/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// DefaultFilename is the spec read when the build names no file.
const DefaultFilename = "distill.yaml"

// TargetBuilder is the target that exports the builder stage instead of the
// runtime image, for debugging a failing dependency install.
const TargetBuilder = "builder"

// Options are what the caller of the build function decides.
type Options struct {
	// Helper is distill's static executable for the helper steps. Nil (and
	// no HelperLocal): the frontend's own image (a `# syntax=` build),
	// found through the gateway.
	Helper *assemble.Helper
	// HelperLocal names a local of the build's own session that serves
	// distill's executable as HelperLocalFile: how `distill build` sends
	// itself. Being a session local, the helper has one digest for every
	// solve of the build (the image and its verification share steps).
	HelperLocal string
}

// HelperLocalFile is the executable's name in Options.HelperLocal.
const HelperLocalFile = "distill"

// Build is the gateway build function (client.BuildFunc) of the frontend
// image.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	return New(Options{})(ctx, c)
}

// New returns the build function with the caller's options.
func New(o Options) client.BuildFunc {
	return func(ctx context.Context, c client.Client) (*client.Result, error) {
		return build(ctx, c, o)
	}
}

func build(ctx context.Context, c client.Client, o Options) (*client.Result, error) {
	bc, err := dockerui.NewClient(withDefaultFilename{c})
	if err != nil {
		return nil, err
	}
	r := &gatewayReader{c: c, bc: bc}
	in, err := inputs.Load(ctx, r)
	if err != nil {
		return nil, r.sourceError(err)
	}
	src, s, pair := r.src, in.Spec, in.Pair
	pol, err := lint.NewPolicy(s, bc.LinterConfig)
	if err != nil {
		return nil, specError(err, src)
	}
	if err := in.Project.Precheck(ctx, s, pair, defaultPlatform(firstPlatform(bc.TargetPlatforms), c)); err != nil {
		return nil, r.sourceError(err)
	}
	// A build trusts the lock: its digests are used as they are, and only
	// --call=check asks the registry whether the tags moved since.
	findings := func(ctx context.Context, registry bool) ([]lint.Finding, error) {
		var now []lock.Base
		for _, x := range []struct{ role, ref string }{{lock.RoleBuilder, pair.Builder}, {lock.RoleRuntime, pair.Runtime}} {
			b := lock.Base{Role: x.role, Ref: x.ref}
			if registry && in.Lock != nil && !isPinned(x.ref) {
				d, err := resolveDigest(ctx, c, x.ref, defaultPlatform(firstPlatform(bc.TargetPlatforms), c))
				if err != nil {
					return nil, err
				}
				b.Digest = d
			}
			now = append(now, b)
		}
		return Findings(in, now), nil
	}

	if res, ok, err := bc.HandleSubrequest(ctx, requestHandler(in, src, pol, findings)); err != nil || ok {
		return res, err
	}

	switch bc.Target {
	case "", TargetBuilder:
	default:
		return nil, errors.Errorf("unknown target %q; allowed: (default) the runtime image, %s", bc.Target, TargetBuilder)
	}
	found, err := findings(ctx, false)
	if err != nil {
		return nil, err
	}
	if err := report(ctx, pol, s, src, found); err != nil {
		return nil, err
	}

	buildCtx, err := bc.MainContext(ctx, bkllb.ExcludePatterns(in.ContextExcludes()))
	if err != nil {
		return nil, err
	}
	epoch, err := sourceDateEpoch(bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	helper, err := helperOf(c, o)
	if err != nil {
		return nil, err
	}

	var targets sbomTargets
	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, idx int) (*dockerui.BuildResult, error) {
		p := defaultPlatform(platform, c)
		bases, err := resolveBases(ctx, c, bc, pair, in.Lock, p)
		if err != nil {
			return nil, err
		}
		for _, x := range []struct {
			role string
			img  assemble.Image
		}{{"builder", bases.Builder}, {"runtime", bases.Runtime}} {
			if err := checkPlatform(x.role, x.img, p); err != nil {
				return nil, specError(err, src)
			}
		}
		opt := assemble.Options{
			Context:         *buildCtx,
			Platform:        p,
			Helper:          helper,
			CacheNamespace:  cacheNamespace(bc.CacheIDNamespace),
			SourceMap:       src.SourceMap,
			SourceDateEpoch: epoch,
		}
		out, err := Describe(ctx, in, bases, opt, &gatewayImages{c: c, p: p})
		if err != nil {
			return nil, r.sourceError(err)
		}
		targets.Store(exportID(platform), out)
		st, cfg, base := out.Image, out.Config, bases.Runtime.Config
		if bc.Target == TargetBuilder {
			st, cfg, base = out.Builder, builderConfig(bases.Builder.Config, p), bases.Builder.Config
		}
		marshal := []bkllb.ConstraintsOpt{bkllb.Platform(p)}
		if bc.IsNoCache(TargetBuilder) {
			// --no-cache (all stages) or --no-cache-filter=builder: every
			// step runs again, as in a Dockerfile build
			marshal = append(marshal, bkllb.IgnoreCache)
		}
		// the verification needs neither the app's code nor the final
		// merge: solved beside the image, it runs while the app is copied
		// and compiled. A failed step fails both; the image's error names
		// it better, so it wins.
		verified := make(chan error, 1)
		if bc.Target == "" {
			go func() { verified <- verify(ctx, c, bc, pol, in, src, bases, opt, out, marshal) }()
		} else {
			verified <- nil
		}
		ref, err := solveRef(ctx, c, st, bc.CacheImports, marshal...)
		verr := <-verified
		if err != nil {
			return nil, err
		}
		if verr != nil {
			return nil, verr
		}
		if epoch != nil {
			stampHistory(&cfg, *epoch)
		}
		return &dockerui.BuildResult{Reference: ref, Image: &cfg, BaseImage: &base, Epoch: epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := attachSBOMs(ctx, c, bc, rb, &targets); err != nil {
		return nil, err
	}
	return rb.Finalize()
}

// Describe plans one platform's build in the spec's language and describes
// it as LLB: the one path from inputs to LLB that the frontend and `distill
// llb` share. images is nil without an engine.
func Describe(ctx context.Context, in *inputs.Inputs, bases assemble.Bases, opt assemble.Options, images assemble.ImageReader) (*assemble.Result, error) {
	plan, err := in.Project.Plan(ctx, assemble.PlanContext{Spec: in.Spec, Pair: in.Pair, Bases: bases, Platform: opt.Platform, Images: images})
	if err != nil {
		return nil, err
	}
	return assemble.Build(in.Spec, in.Pair, bases, opt, plan)
}

// Findings runs the check rules: the one list the frontend (build and
// --call=check) and `distill validate` report. now are the pair's bases,
// with the digests their tags serve when the registry was asked.
func Findings(in *inputs.Inputs, now []lock.Base) []lint.Finding {
	li := lint.Input{Spec: in.Spec, LockStatus: lint.LockMissing}
	if p := in.Pair; p.EndOfLife != "" {
		li.EndOfLife = append(li.EndOfLife, lint.EndOfLife{Field: spec.Field(p.EndOfLifeField), Image: p.EndOfLifeImage, Why: p.EndOfLife, Replacement: p.Replacement})
	}
	if in.Lock != nil {
		li.LockStatus = lint.LockOK
		var stale []string
		for _, st := range lock.Compare(in.Lock, now) {
			if st.InLock && isPinned(st.Ref) {
				continue
			}
			if !st.Current() {
				stale = append(stale, st.String())
			}
		}
		if len(stale) > 0 {
			li.LockStatus, li.LockDetail = lint.LockStale, strings.Join(stale, "; ")
		}
	}
	in.Project.Lint(&li)
	return lint.Check(li)
}

// helperOf is the helper the build runs: the caller's, or the frontend's
// own image, which BuildKit describes to a gateway frontend it runs.
func helperOf(c client.Client, o Options) (assemble.Helper, error) {
	if o.Helper != nil {
		return *o.Helper, nil
	}
	if o.HelperLocal != "" {
		st := bkllb.Local(o.HelperLocal, bkllb.SessionID(c.BuildOpts().SessionID), bkllb.SharedKeyHint(o.HelperLocal),
			bkllb.IncludePatterns([]string{HelperLocalFile}), bkllb.WithCustomName("[internal] distill's helper (the client's executable)"))
		return assemble.Helper{State: st, Path: "/" + HelperLocalFile}, nil
	}
	cf, ok := c.(interface{ CurrentFrontend() (*bkllb.State, error) })
	if !ok {
		return assemble.Helper{}, errors.New("the gateway client cannot describe the frontend's own image, which distill runs its helper steps from")
	}
	st, err := cf.CurrentFrontend()
	if err != nil {
		return assemble.Helper{}, errors.Wrap(err, "reading the frontend's own image")
	}
	if st == nil {
		return assemble.Helper{}, errors.New("the engine does not describe the frontend's own image to it (BuildKit v0.13 or newer does), which distill runs its helper steps from")
	}
	exe, err := os.Executable()
	if err != nil {
		return assemble.Helper{}, err
	}
	return assemble.Helper{State: *st, Path: exe}, nil
}

// solveRef solves a state on the engine and returns its single result.
func solveRef(ctx context.Context, c client.Client, st bkllb.State, imports []client.CacheOptionsEntry, opts ...bkllb.ConstraintsOpt) (client.Reference, error) {
	def, err := st.Marshal(ctx, opts...)
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: imports})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

// withDefaultFilename makes distill.yaml the default spec name: dockerui
// defaults to "Dockerfile", and a build that names no file (buildctl
// without --opt filename) should still find the spec.
type withDefaultFilename struct{ client.Client }

func (w withDefaultFilename) BuildOpts() client.BuildOpts {
	o := w.Client.BuildOpts()
	if _, ok := o.Opts["filename"]; !ok {
		opts := make(map[string]string, len(o.Opts)+1)
		for k, v := range o.Opts {
			opts[k] = v
		}
		opts["filename"] = DefaultFilename
		o.Opts = opts
	}
	return o
}

func firstPlatform(ps []ocispecs.Platform) *ocispecs.Platform {
	if len(ps) == 0 {
		return nil
	}
	return &ps[0]
}

func defaultPlatform(p *ocispecs.Platform, c client.Client) ocispecs.Platform {
	if p != nil {
		return *p
	}
	if ws := c.BuildOpts().Workers; len(ws) > 0 && len(ws[0].Platforms) > 0 {
		return ws[0].Platforms[0]
	}
	return ocispecs.Platform{OS: "linux", Architecture: "amd64"}
}

// cacheNamespace turns BUILDKIT_CACHE_MOUNT_NS into an id prefix.
func cacheNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return strings.TrimSuffix(ns, "/") + "/"
}

// resolveBases resolves both images of the pair for one platform. They are
// resolved together so the labels and LLB always describe one moment; a
// base in distill.lock is resolved by its locked digest instead of its tag.
func resolveBases(ctx context.Context, c client.Client, bc *dockerui.Client, pair assemble.Pair, lf *lock.File, p ocispecs.Platform) (assemble.Bases, error) {
	var out assemble.Bases
	for _, x := range []struct {
		role, ref string
		dst       *assemble.Image
	}{{lock.RoleBuilder, pair.Builder, &out.Builder}, {lock.RoleRuntime, pair.Runtime, &out.Runtime}} {
		resolveRef := x.ref
		if locked, ok := lf.Get(x.role, x.ref); ok && !isPinned(x.ref) {
			resolveRef = x.ref + "@" + locked.Digest.String()
		}
		_, dgst, dt, err := c.ResolveImageConfig(ctx, resolveRef, sourceresolver.Opt{
			LogName: "resolve " + resolveRef,
			ImageOpt: &sourceresolver.ResolveImageOpt{
				Platform:    &p,
				ResolveMode: bc.ImageResolveMode.String(),
			},
		})
		if err != nil {
			return out, errors.Wrapf(err, "resolving base image %s", resolveRef)
		}
		img := assemble.Image{Ref: x.ref, Digest: dgst}
		if err := unmarshalConfig(dt, &img.Config); err != nil {
			return out, errors.Wrapf(err, "reading config of %s", x.ref)
		}
		*x.dst = img
	}
	return out, nil
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH the way BuildKit's exporters do,
// so image timestamps and history agree.
func sourceDateEpoch(args map[string]string) (*time.Time, error) {
	v, ok := args["SOURCE_DATE_EPOCH"]
	if !ok || v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, errors.Errorf("SOURCE_DATE_EPOCH must be a Unix time in seconds, got %q", v)
	}
	t := time.Unix(n, 0).UTC()
	return &t, nil
}

func stampHistory(img *dockerspec.DockerOCIImage, t time.Time) {
	img.Created = &t
	for i := range img.History {
		if img.History[i].Created == nil {
			img.History[i].Created = &t
		}
	}
}

// builderConfig is the image config of the `builder` target: the builder
// image's config run as the build user, so a debugging session matches
// what the build steps saw.
func builderConfig(base dockerspec.DockerOCIImage, p ocispecs.Platform) dockerspec.DockerOCIImage {
	img := base
	img.Platform = ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
	img.Config.User = fmt.Sprintf("%d:%d", assemble.BuildUID, assemble.BuildGID)
	img.Config.Env = append(append([]string{}, base.Config.Env...), "HOME="+assemble.BuildHome)
	return img
}

// checkPlatform fails when a base image's config is for another platform
// than the one being built: the engine would otherwise put its binaries
// into an image labelled with the target platform.
func checkPlatform(role string, img assemble.Image, p ocispecs.Platform) error {
	got := ocispecs.Platform{OS: img.Config.OS, Architecture: img.Config.Architecture, Variant: img.Config.Variant}
	if got.OS == "" && got.Architecture == "" {
		return nil
	}
	if platforms.Only(p).Match(platforms.Normalize(got)) {
		return nil
	}
	return errors.Errorf("%s image %s is for %s, but the build targets %s: the image offers no %s variant; build for %s, or choose a %s image that has %s",
		role, img.Pinned(), platforms.Format(got), platforms.Format(p), platforms.Format(p), platforms.Format(got), role, platforms.Format(p))
}

// specError attaches the spec file and the offending line to an error so
// buildx and buildctl print the spec excerpt, as they do for Dockerfiles.
func specError(err error, src *dockerui.Source) error {
	errs := spec.AsErrors(err)
	if len(errs) == 0 {
		return errdefs.WithSource(err, sourceOf(src, nil))
	}
	var ranges []*pb.Range
	for _, e := range errs {
		ranges = append(ranges, lineRange(e.Line, e.Column))
	}
	return errdefs.WithSource(err, sourceOf(src, ranges))
}

func sourceOf(src *dockerui.Source, ranges []*pb.Range) *errdefs.Source {
	info := &pb.SourceInfo{Filename: src.Filename, Data: src.Data, Language: src.Language}
	if src.Definition != nil {
		info.Definition = src.Definition.ToPB()
	}
	return &errdefs.Source{Info: info, Ranges: ranges}
}

func lineRange(line, col int) *pb.Range {
	if line < 1 {
		line = 1
	}
	return &pb.Range{Start: &pb.Position{Line: int32(line), Character: int32(max(col-1, 0))}, End: &pb.Position{Line: int32(line)}}
}
