package frontend

import (
	"context"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/lock"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

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
func ResolveLock(ctx context.Context, c client.Client, pair assemble.Pair, plats []ocispecs.Platform, now time.Time) (*lock.File, error) {
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
		f.Bases = append(f.Bases, lock.Base{Role: rb.role, Ref: rb.ref, Digest: dgst, Platforms: names, Python: pair.Version, Resolved: now.UTC().Truncate(time.Second)})
	}
	return f, nil
}
