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
	"strconv"
	"strings"
	"time"

	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/llb"
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

// Build is the gateway build function (client.BuildFunc).
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	bc, err := dockerui.NewClient(withDefaultFilename{c})
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "yaml")
	if err != nil {
		return nil, err
	}
	s, err := spec.Parse(src.Filename, src.Data)
	if err != nil {
		return nil, specError(err, src)
	}

	pair, err := llb.SelectPair(s)
	if err != nil {
		return nil, specError(err, src)
	}
	// which findings are reported, and whether they fail the build: the
	// spec's # check= and policy keys, and the BUILDKIT_DOCKERFILE_CHECK
	// build argument
	pol, err := lint.NewPolicy(s, bc.LinterConfig)
	if err != nil {
		return nil, specError(err, src)
	}
	lf, err := readLock(ctx, c, src.Filename)
	if err != nil {
		return nil, specError(err, src)
	}
	deps, err := readDependencies(ctx, c, bc, s)
	if err != nil {
		return nil, depError(err, deps, src)
	}
	// a lock that disagrees with pyproject.toml fails --call=check and the
	// build before any image is pulled, when the pair names its Python (a
	// floating runtime is planned once its image is read)
	if minor := KnownPython(s, pair); minor != "" {
		if _, _, err := deps.Plan(s, defaultPlatform(firstPlatform(bc.TargetPlatforms), c), minor, dockerspec.DockerOCIImage{}); err != nil {
			return nil, depError(err, deps, src)
		}
	}
	lockSt, lockDetail, err := lockStatus(ctx, c, lf, pair, defaultPlatform(firstPlatform(bc.TargetPlatforms), c))
	if err != nil {
		return nil, err
	}
	findings := lint.Check(lint.Input{
		Spec: s, EndOfLife: LintEndOfLife(pair), Dependencies: LintDependencies(deps),
		LockStatus: lockSt, LockDetail: lockDetail,
	})

	if res, ok, err := bc.HandleSubrequest(ctx, requestHandler(s, src, pair, deps, pol, findings)); err != nil || ok {
		return res, err
	}

	switch bc.Target {
	case "", TargetBuilder:
	default:
		return nil, errors.Errorf("unknown target %q; allowed: (default) the runtime image, %s", bc.Target, TargetBuilder)
	}
	if err := report(ctx, pol, s, src, findings); err != nil {
		return nil, err
	}

	ignore, err := bc.DockerIgnorePatterns(ctx)
	if err != nil {
		return nil, err
	}
	buildCtx, err := bc.MainContext(ctx, bkllb.ExcludePatterns(llb.ContextExcludes(ignore, s)))
	if err != nil {
		return nil, err
	}

	epoch, err := sourceDateEpoch(bc.BuildArgs)
	if err != nil {
		return nil, err
	}

	var targets sbomTargets
	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, idx int) (*dockerui.BuildResult, error) {
		p := defaultPlatform(platform, c)
		bases, err := resolveBases(ctx, c, bc, pair, lf, p)
		if err != nil {
			return nil, err
		}
		for _, x := range []struct {
			role string
			img  llb.Image
		}{{"builder", bases.Builder}, {"runtime", bases.Runtime}} {
			if err := checkPlatform(x.role, x.img, p); err != nil {
				return nil, specError(err, src)
			}
		}
		minor, err := checkPythonPair(ctx, c, s, pair, bases, p)
		if err != nil {
			return nil, specError(err, src)
		}
		if minor == "" {
			minor = KnownPython(s, pair)
		}
		planned, _, err := deps.Plan(s, p, minor, bases.Builder.Config)
		if err != nil {
			return nil, depError(err, deps, src)
		}
		opt := llb.Options{
			Context:         *buildCtx,
			Platform:        p,
			Deps:            planned,
			CacheNamespace:  cacheNamespace(bc.CacheIDNamespace),
			SourceMap:       src.SourceMap,
			SourceDateEpoch: epoch,
		}
		out, err := llb.Build(s, pair, bases, opt)
		if err != nil {
			return nil, specError(err, src)
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
			go func() { verified <- verify(ctx, c, bc, pol, s, src, pair, bases, opt, out, marshal) }()
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

// KnownPython is the Python minor the pair or the spec names, "" for a
// floating tag whose minor only the image tells.
func KnownPython(s *spec.Spec, pair llb.Pair) string {
	if pair.PythonVersion != "" {
		return pair.PythonVersion
	}
	return s.Python.Version
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
func resolveBases(ctx context.Context, c client.Client, bc *dockerui.Client, pair llb.Pair, lf *lock.File, p ocispecs.Platform) (llb.Bases, error) {
	var out llb.Bases
	for _, x := range []struct {
		role, ref string
		dst       *llb.Image
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
		img := llb.Image{Ref: x.ref, Digest: dgst}
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
	img.Config.User = fmt.Sprintf("%d:%d", llb.BuildUID, llb.BuildGID)
	img.Config.Env = append(append([]string{}, base.Config.Env...), "HOME="+llb.BuildHome, "VIRTUAL_ENV="+llb.VenvDir)
	return img
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
