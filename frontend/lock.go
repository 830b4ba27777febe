package frontend

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/llb"
	"github.com/distill-build/distill/lock"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// readLock reads distill.lock from beside the spec in the `dockerfile`
// local. A missing lock is not an error (nil, nil).
func readLock(ctx context.Context, c client.Client, specFile string) (*lock.File, error) {
	name := path.Join(path.Dir(specFile), lock.Filename)
	opts := c.BuildOpts()
	st := bkllb.Local(dockerui.DefaultLocalNameDockerfile,
		bkllb.SessionID(opts.SessionID),
		bkllb.FollowPaths([]string{name}),
		bkllb.SharedKeyHint(dockerui.DefaultLocalNameDockerfile+"-"+lock.Filename),
		bkllb.Differ(bkllb.DiffNone, false),
		dockerui.WithInternalName("load "+lock.Filename),
	)
	ref, err := solveRef(ctx, c, st, nil)
	if err != nil {
		return nil, err
	}
	if _, err := ref.StatFile(ctx, client.StatRequest{Path: name}); err != nil {
		return nil, nil
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: name})
	if err != nil {
		return nil, err
	}
	return lock.Parse(dt)
}

// lockStatus compares the lock with what the pair's tags resolve to now.
// It returns lint.LockMissing, lint.LockStale (with a detail naming each
// moved base) or lint.LockOK.
func lockStatus(ctx context.Context, c client.Client, lf *lock.File, pair llb.Pair, p ocispecs.Platform) (string, string, error) {
	if lf == nil {
		return lint.LockMissing, "", nil
	}
	var stale []string
	for _, rb := range []struct{ role, ref string }{{lock.RoleBuilder, pair.Builder}, {lock.RoleRuntime, pair.Runtime}} {
		locked, ok := lf.Get(rb.role, rb.ref)
		if !ok {
			stale = append(stale, fmt.Sprintf("%s %s is not in the lock (the spec changed since it was written)", rb.role, rb.ref))
			continue
		}
		if isPinned(rb.ref) {
			continue
		}
		now, err := resolveDigest(ctx, c, rb.ref, p)
		if err != nil {
			return "", "", err
		}
		if now != locked.Digest {
			stale = append(stale, fmt.Sprintf("%s %s: locked %s, registry has %s", rb.role, rb.ref, locked.Digest, now))
		}
	}
	if len(stale) > 0 {
		return lint.LockStale, strings.Join(stale, "; "), nil
	}
	return lint.LockOK, "", nil
}

func resolveDigest(ctx context.Context, c client.Client, ref string, p ocispecs.Platform) (digest.Digest, error) {
	_, dgst, _, err := c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		LogName:  "resolve " + ref,
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p, ResolveMode: bkllb.ResolveModeForcePull.String()},
	})
	if err != nil {
		return "", errors.Wrapf(err, "resolving %s", ref)
	}
	return dgst, nil
}

func isPinned(ref string) bool { return strings.Contains(ref, "@sha256:") }

// ResolveLock resolves the pair's tags through the engine (its registry
// mirrors and credentials apply, exactly as in a build) and returns a new
// lock. It runs in a gateway build function: `distill lock` calls it
// in-process.
func ResolveLock(ctx context.Context, c client.Client, pair llb.Pair, plats []ocispecs.Platform, now time.Time) (*lock.File, error) {
	if len(plats) == 0 {
		plats = []ocispecs.Platform{defaultPlatform(nil, c)}
	}
	var names []string
	for _, p := range plats {
		names = append(names, platforms.Format(p))
	}
	f := &lock.File{LockVersion: lock.Version}
	for _, rb := range []struct{ role, ref string }{{lock.RoleBuilder, pair.Builder}, {lock.RoleRuntime, pair.Runtime}} {
		var dgst digest.Digest
		for i, p := range plats {
			d, err := resolveDigest(ctx, c, rb.ref, p)
			if err != nil {
				return nil, err
			}
			// a multi-platform tag resolves to one index digest for all
			if i > 0 && d != dgst {
				return nil, errors.Errorf("%s resolves to different digests per platform (%s, %s); lock one platform at a time", rb.ref, dgst, d)
			}
			dgst = d
		}
		f.Bases = append(f.Bases, lock.Base{Role: rb.role, Ref: rb.ref, Digest: dgst, Platforms: names, Python: pair.PythonVersion, Resolved: now.UTC().Truncate(time.Second)})
	}
	return f, nil
}
