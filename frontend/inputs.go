package frontend

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sync"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/inputs"
	"github.com/distill-build/distill/lock"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// gatewayReader is inputs.Reader over the gateway: the spec through
// dockerui (its `dockerfile` local, named contexts, frontend inputs), the
// lock from beside it, and context files in one transfer of just those
// files.
type gatewayReader struct {
	c   client.Client
	bc  *dockerui.Client
	src *dockerui.Source
}

func (r *gatewayReader) Spec(ctx context.Context) (string, []byte, error) {
	src, err := r.bc.ReadEntrypoint(ctx, "yaml")
	if err != nil {
		return "", nil, err
	}
	r.src = src
	return src.Filename, src.Data, nil
}

// Lock reads distill.lock from beside the spec in the `dockerfile` local.
func (r *gatewayReader) Lock(ctx context.Context, specName string) ([]byte, error) {
	name := path.Join(path.Dir(specName), lock.Filename)
	opts := r.c.BuildOpts()
	st := bkllb.Local(dockerui.DefaultLocalNameDockerfile,
		bkllb.SessionID(opts.SessionID),
		bkllb.FollowPaths([]string{name}),
		bkllb.SharedKeyHint(dockerui.DefaultLocalNameDockerfile+"-"+lock.Filename),
		bkllb.Differ(bkllb.DiffNone, false),
		dockerui.WithInternalName("load "+lock.Filename),
	)
	ref, err := solveRef(ctx, r.c, st, nil)
	if err != nil {
		return nil, err
	}
	if _, err := ref.StatFile(ctx, client.StatRequest{Path: name}); err != nil {
		return nil, nil
	}
	return ref.ReadFile(ctx, client.ReadRequest{Filename: name})
}

func (r *gatewayReader) Ignore(ctx context.Context, _ string) ([]string, error) {
	return r.bc.DockerIgnorePatterns(ctx)
}

// ReadContext transfers only the named files, with the build's excludes.
func (r *gatewayReader) ReadContext(ctx context.Context, names, excludes []string) (map[string][]byte, error) {
	st, err := r.bc.MainContext(ctx, bkllb.FollowPaths(names), bkllb.ExcludePatterns(excludes), dockerui.WithInternalName("load "+fmt.Sprint(len(names))+" context files"))
	if err != nil {
		return nil, err
	}
	ref, err := solveRef(ctx, r.c, *st, nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, name := range names {
		name = path.Clean(name)
		stat, err := ref.StatFile(ctx, client.StatRequest{Path: name})
		if err != nil {
			continue
		}
		if stat.IsDir() {
			return nil, fmt.Errorf("%s is a directory; name a file", name)
		}
		dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: name, Range: &client.FileRange{Length: inputs.MaxFileSize}})
		if err != nil {
			return nil, err
		}
		out[name] = dt
	}
	return out, nil
}

// sourceError shows an error with the excerpt of the file it concerns: a
// dependency file's, or the spec's.
func (r *gatewayReader) sourceError(err error) error {
	var fe *assemble.FileError
	if errors.As(err, &fe) {
		info := &pb.SourceInfo{Filename: fe.File, Data: fe.Data, Language: "toml"}
		return errdefs.WithSource(err, &errdefs.Source{Info: info, Ranges: []*pb.Range{lineRange(fe.Line, fe.Column)}})
	}
	if r.src == nil {
		return err
	}
	return specError(err, r.src)
}

// gatewayImages reads base images' files through the gateway, each image
// solved once.
type gatewayImages struct {
	c    client.Client
	p    ocispecs.Platform
	mu   sync.Mutex
	refs map[string]client.Reference
}

func (g *gatewayImages) ReadLink(ctx context.Context, img assemble.Image, p string) (string, bool, error) {
	g.mu.Lock()
	ref, ok := g.refs[img.Pinned()]
	g.mu.Unlock()
	if !ok {
		var err error
		if ref, err = solveRef(ctx, g.c, bkllb.Image(img.Pinned(), bkllb.Platform(g.p)), nil); err != nil {
			return "", false, err
		}
		g.mu.Lock()
		if g.refs == nil {
			g.refs = map[string]client.Reference{}
		}
		g.refs[img.Pinned()] = ref
		g.mu.Unlock()
	}
	dir, name := path.Split(p)
	entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: dir, IncludePattern: name})
	if err != nil || len(entries) != 1 || entries[0].Path != name {
		return "", false, nil
	}
	return entries[0].Linkname, true, nil
}
