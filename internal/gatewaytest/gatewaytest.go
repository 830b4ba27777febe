// Package gatewaytest is a BuildKit gateway client (client.Client) for
// tests of distill's build function without an engine. It answers what the
// frontend asks of a gateway from local directories and fixed tables:
//
//   - BuildOpts: the frontend options of the build (as buildx and buildctl
//     send them), one linux/amd64 worker and every LLB and gateway
//     capability;
//   - ResolveImageConfig: the configs and digests of Images;
//   - Solve of a `local://NAME` source: a reference reading the directory
//     the build names for NAME, with the source's include, exclude and
//     follow-paths patterns applied;
//   - Solve of a `docker-image://` source: the image's small fixed file
//     tree of Images (what reading its interpreter needs);
//   - Solve of anything else: recorded, and answered by a reference whose
//     verification report (assemble.VerifyReport) is CleanReport;
//   - CurrentFrontend: the image FrontendRef, as BuildKit describes a
//     `# syntax=` frontend's own image to it.
//
// Nothing is run: a test sees which definitions the frontend solved and
// compares them.
package gatewaytest

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/lock"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	lintreq "github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/patternmatcher"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// FrontendRef is the image CurrentFrontend describes: the frontend's own
// image, which a `# syntax=` build runs its helper steps from.
const FrontendRef = "gatewaytest.invalid/distill/frontend:test"

// SessionID is the build's session.
const SessionID = "gatewaytest-session"

// CleanReport is the report of every start-up verification: nothing wrong.
const CleanReport = `{"python":"3.13.5","errors":[],"warnings":[]}`

// Platform is the platform of the one worker and of every image.
var Platform = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

// Client is the fake gateway client of one build.
type Client struct {
	// Opts are the frontend options (filename, platform, requestid, ...).
	Opts map[string]string
	// Locals are the directories of the build's local sources by name:
	// "context" and "dockerfile" (the spec's directory).
	Locals map[string]string

	mu       sync.Mutex
	solved   []*pb.Definition
	warnings []Warning
	resolved []string
}

// Warning is one warning the build sent.
type Warning struct {
	Msg  string
	Opts client.WarnOpts
}

// New is the client of a build of the spec file specName in the context
// directory dir, with the options buildx sends for `-f SPEC DIR` (the spec's
// directory is the `dockerfile` local, its name the filename option) and
// extra ones.
func New(dir, specFile string, extra map[string]string) *Client {
	opts := map[string]string{"filename": filepath.Base(specFile)}
	maps.Copy(opts, extra)
	return &Client{Opts: opts, Locals: map[string]string{"context": dir, "dockerfile": filepath.Dir(specFile)}}
}

var _ client.Client = (*Client)(nil)

// BuildOpts returns a fresh copy each time: dockerui writes into the map.
func (c *Client) BuildOpts() client.BuildOpts {
	return client.BuildOpts{
		Opts:      maps.Clone(c.Opts),
		SessionID: SessionID,
		Workers:   []client.WorkerInfo{{ID: "gatewaytest", Platforms: []ocispecs.Platform{Platform}}},
		Product:   "gatewaytest",
		LLBCaps:   pb.Caps.CapSet(pb.Caps.All()),
		Caps:      gwpb.Caps.CapSet(gwpb.Caps.All()),
	}
}

// CurrentFrontend describes the frontend's own image.
func (c *Client) CurrentFrontend() (*llb.State, error) {
	st := llb.Image(FrontendRef)
	return &st, nil
}

// ResolveImageConfig answers from Images: a tag, or a tag with the
// table's digest (a locked base). Another digest, or a platform the image
// is not for, is an error, as from a registry.
func (c *Client) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	c.mu.Lock()
	c.resolved = append(c.resolved, ref)
	c.mu.Unlock()
	name, want, _ := strings.Cut(ref, "@")
	img, ok := Lookup(name)
	if !ok {
		return "", "", nil, errors.Errorf("%s: not found", ref)
	}
	if want != "" && digest.Digest(want) != img.Digest {
		return "", "", nil, errors.Errorf("%s: manifest unknown", ref)
	}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil && !platforms.Only(*opt.ImageOpt.Platform).Match(Platform) {
		return "", "", nil, errors.Errorf("%s: no match for platform %s in manifest", ref, platforms.Format(*opt.ImageOpt.Platform))
	}
	dt, err := img.ConfigJSON()
	return ref, img.Digest, dt, err
}

// ResolveSourceMetadata is not needed by distill's builds.
func (c *Client) ResolveSourceMetadata(context.Context, *pb.SourceOp, sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	return nil, errors.New("gatewaytest: ResolveSourceMetadata is not supported")
}

// Inputs: the build has no frontend inputs.
func (c *Client) Inputs(context.Context) (map[string]llb.State, error) {
	return map[string]llb.State{}, nil
}

// NewContainer: nothing runs.
func (c *Client) NewContainer(context.Context, client.NewContainerRequest) (client.Container, error) {
	return nil, errors.New("gatewaytest: containers are not supported")
}

// Warn records the warning.
func (c *Client) Warn(_ context.Context, _ digest.Digest, msg string, opts client.WarnOpts) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.warnings = append(c.warnings, Warning{Msg: msg, Opts: opts})
	return nil
}

// Warnings are the warnings the build sent, in order.
func (c *Client) Warnings() []Warning {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.warnings)
}

// Resolved are the references the build resolved, in order.
func (c *Client) Resolved() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.resolved)
}

// Solved are the definitions solved other than sources, in order.
func (c *Client) Solved() []*pb.Definition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.solved)
}

// Definition is the definition a reference the client returned was solved
// from.
func Definition(r client.Reference) (*pb.Definition, error) {
	ref, ok := r.(*reference)
	if !ok {
		return nil, errors.Errorf("gatewaytest: %T is not a reference of this client", r)
	}
	return ref.def, nil
}

// Solve answers a definition with a reference (see the package comment).
func (c *Client) Solve(_ context.Context, req client.SolveRequest) (*client.Result, error) {
	if req.Frontend != "" {
		return nil, errors.Errorf("gatewaytest: solving with frontend %q is not supported", req.Frontend)
	}
	res := client.NewResult()
	if req.Definition == nil || len(req.Definition.Def) == 0 {
		return res, nil
	}
	head, err := head(req.Definition)
	if err != nil {
		return nil, err
	}
	ref := &reference{def: req.Definition}
	src := head.GetSource()
	switch {
	case src != nil && strings.HasPrefix(src.Identifier, "local://"):
		if ref.fs, err = c.local(src); err != nil {
			return nil, err
		}
	case src != nil && strings.HasPrefix(src.Identifier, "docker-image://"):
		if ref.fs, err = imageTree(strings.TrimPrefix(src.Identifier, "docker-image://")); err != nil {
			return nil, err
		}
	default:
		c.mu.Lock()
		c.solved = append(c.solved, req.Definition)
		c.mu.Unlock()
		ref.fs = tree{clean(assemble.VerifyReport): {Data: CleanReport}}
	}
	res.SetRef(ref)
	return res, nil
}

// head is the op a definition's result is the output of.
func head(def *pb.Definition) (*pb.Op, error) {
	var last pb.Op
	if err := last.UnmarshalVT(def.Def[len(def.Def)-1]); err != nil {
		return nil, err
	}
	if len(last.Inputs) != 1 || last.Op != nil {
		return nil, errors.New("gatewaytest: the definition does not end in its result")
	}
	for _, dt := range def.Def {
		if digest.FromBytes(dt) == digest.Digest(last.Inputs[0].Digest) {
			var op pb.Op
			if err := op.UnmarshalVT(dt); err != nil {
				return nil, err
			}
			return &op, nil
		}
	}
	return nil, errors.Errorf("gatewaytest: the definition lacks its result op %s", last.Inputs[0].Digest)
}

// reference is a solved result: files to read, and its definition.
type reference struct {
	def *pb.Definition
	fs  files
}

func (r *reference) ToState() (llb.State, error) {
	op, err := llb.NewDefinitionOp(r.def)
	if err != nil {
		return llb.State{}, err
	}
	return llb.NewState(op), nil
}

func (r *reference) Evaluate(context.Context) error { return nil }

func (r *reference) ReadFile(_ context.Context, req client.ReadRequest) ([]byte, error) {
	dt, err := r.fs.read(clean(req.Filename))
	if err != nil {
		return nil, err
	}
	if rg := req.Range; rg != nil {
		dt = dt[min(rg.Offset, len(dt)):]
		if rg.Length > 0 && rg.Length < len(dt) {
			dt = dt[:rg.Length]
		}
	}
	return dt, nil
}

func (r *reference) StatFile(_ context.Context, req client.StatRequest) (*fstypes.Stat, error) {
	return r.fs.stat(clean(req.Path))
}

func (r *reference) ReadDir(_ context.Context, req client.ReadDirRequest) ([]*fstypes.Stat, error) {
	entries, err := r.fs.readDir(clean(req.Path))
	if err != nil {
		return nil, err
	}
	var out []*fstypes.Stat
	for _, e := range entries {
		if req.IncludePattern != "" {
			if ok, _ := path.Match(req.IncludePattern, e.Path); !ok {
				continue
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// clean makes a path relative to the result's root: "" is the root.
func clean(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	return p
}

// files are a result's file system; paths are relative to its root.
type files interface {
	read(name string) ([]byte, error)
	stat(name string) (*fstypes.Stat, error)
	readDir(dir string) ([]*fstypes.Stat, error)
}

func notExist(name string) error {
	return &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// File is one entry of a fixed file tree: a file with Data, a link to
// Link, or a directory.
type File struct {
	Data string
	Link string
	Dir  bool
}

// tree is a fixed file tree by path relative to its root. Directories that
// hold an entry exist without being listed.
type tree map[string]File

func (t tree) entry(name string) (File, bool) {
	if f, ok := t[name]; ok {
		return f, true
	}
	if name == "" {
		return File{Dir: true}, true
	}
	for p := range t {
		if strings.HasPrefix(p, name+"/") {
			return File{Dir: true}, true
		}
	}
	return File{}, false
}

func (t tree) read(name string) ([]byte, error) {
	f, ok := t.entry(name)
	if !ok || f.Link != "" {
		return nil, notExist(name)
	}
	if f.Dir {
		return nil, errors.Errorf("read %s: is a directory", name)
	}
	return []byte(f.Data), nil
}

func (t tree) stat(name string) (*fstypes.Stat, error) {
	f, ok := t.entry(name)
	if !ok {
		return nil, notExist(name)
	}
	return f.stat(name), nil
}

func (f File) stat(name string) *fstypes.Stat {
	st := &fstypes.Stat{Path: name, Mode: 0o644, Size: int64(len(f.Data))}
	switch {
	case f.Dir:
		st.Mode = uint32(fs.ModeDir | 0o755)
	case f.Link != "":
		st.Mode, st.Linkname, st.Size = uint32(fs.ModeSymlink|0o777), f.Link, 0
	case strings.Contains(name, "bin/"):
		st.Mode = 0o755
	}
	return st
}

func (t tree) readDir(dir string) ([]*fstypes.Stat, error) {
	if f, ok := t.entry(dir); !ok || !f.Dir {
		return nil, notExist(dir)
	}
	prefix := dir + "/"
	if dir == "" {
		prefix = ""
	}
	names := map[string]bool{}
	for p := range t {
		if rest, ok := strings.CutPrefix(p, prefix); ok && rest != "" {
			first, _, _ := strings.Cut(rest, "/")
			names[first] = true
		}
	}
	var out []*fstypes.Stat
	for _, n := range slices.Sorted(maps.Keys(names)) {
		f, _ := t.entry(prefix + n)
		st := f.stat(prefix + n)
		st.Path = n
		out = append(out, st)
	}
	return out, nil
}

// localDir is a local source: a directory read through the source's
// patterns. As BuildKit's local source does, it never follows a link out
// of the directory.
type localDir struct {
	root             string
	include, exclude *patternmatcher.PatternMatcher
	follow           []string
}

func (c *Client) local(src *pb.SourceOp) (files, error) {
	name := strings.TrimPrefix(src.Identifier, "local://")
	dir, ok := c.Locals[name]
	if !ok {
		return nil, errors.Errorf("gatewaytest: the build has no local %q", name)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	l := &localDir{root: root}
	for attr, dst := range map[string]**patternmatcher.PatternMatcher{pb.AttrIncludePatterns: &l.include, pb.AttrExcludePatterns: &l.exclude} {
		ps, err := jsonList(src.Attrs[attr])
		if err != nil || len(ps) == 0 {
			if err != nil {
				return nil, errors.Wrap(err, attr)
			}
			continue
		}
		if *dst, err = patternmatcher.New(ps); err != nil {
			return nil, errors.Wrap(err, attr)
		}
	}
	ps, err := jsonList(src.Attrs[pb.AttrFollowPaths])
	if err != nil {
		return nil, errors.Wrap(err, pb.AttrFollowPaths)
	}
	for _, p := range ps {
		l.follow = append(l.follow, clean(p))
	}
	return l, nil
}

// transferred reports whether the source sends name (a directory: whether
// it sends the directory itself, on the way to what it holds).
func (l *localDir) transferred(name string, dir bool) bool {
	if name == "" {
		return true
	}
	if l.exclude != nil {
		if ex, _ := l.exclude.MatchesOrParentMatches(name); ex {
			return false
		}
	}
	if l.include != nil {
		in, _ := l.include.MatchesOrParentMatches(name)
		if !in && !(dir && l.leadsTo(name, l.include.Patterns())) {
			return false
		}
	}
	if l.follow != nil {
		ok := false
		for _, f := range l.follow {
			if name == f || strings.HasPrefix(name, f+"/") || (dir && strings.HasPrefix(f, name+"/")) {
				ok = true
			}
		}
		return ok
	}
	return true
}

// leadsTo reports whether a directory is on the way to an include pattern.
func (l *localDir) leadsTo(dir string, ps []*patternmatcher.Pattern) bool {
	for _, p := range ps {
		if !p.Exclusion() && strings.HasPrefix(p.String(), dir+"/") {
			return true
		}
	}
	return false
}

// resolve is name's path on disk, when the source sends it and no link
// leads out of the directory.
func (l *localDir) resolve(name string) (string, os.FileInfo, error) {
	p := filepath.Join(l.root, filepath.FromSlash(name))
	fi, err := os.Lstat(p)
	if err != nil || !l.transferred(name, fi.IsDir()) {
		return "", nil, notExist(name)
	}
	return p, fi, nil
}

func (l *localDir) read(name string) ([]byte, error) {
	p, fi, err := l.resolve(name)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, notExist(name)
		}
		rel, err := filepath.Rel(l.root, real)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, notExist(name)
		}
		return l.read(filepath.ToSlash(rel))
	}
	return os.ReadFile(p)
}

func (l *localDir) stat(name string) (*fstypes.Stat, error) {
	p, fi, err := l.resolve(name)
	if err != nil {
		return nil, err
	}
	return statOf(name, p, fi), nil
}

func statOf(name, p string, fi os.FileInfo) *fstypes.Stat {
	st := &fstypes.Stat{Path: name, Mode: uint32(fi.Mode()), Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	if fi.Mode()&fs.ModeSymlink != 0 {
		st.Linkname, _ = os.Readlink(p)
	}
	return st
}

func (l *localDir) readDir(dir string) ([]*fstypes.Stat, error) {
	p, fi, err := l.resolve(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, errors.Errorf("readdir %s: not a directory", dir)
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	var out []*fstypes.Stat
	for _, e := range entries {
		name := path.Join(dir, e.Name())
		if _, efi, err := l.resolve(name); err == nil {
			st := statOf(name, filepath.Join(p, e.Name()), efi)
			st.Path = e.Name()
			out = append(out, st)
		}
	}
	return out, nil
}

func jsonList(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, fmt.Errorf("not a JSON list: %q", v)
	}
	return out, nil
}

// Image is one image of the table: its config, digest and the few files
// a build reads from it.
type Image struct {
	Ref    string
	Digest digest.Digest
	Config dockerspec.DockerOCIImage
	Files  map[string]File
}

// ConfigJSON is the image's config as a registry serves it.
func (img Image) ConfigJSON() ([]byte, error) { return json.Marshal(img.Config) }

// Lookup finds an image of the table by reference (a tag, or an image
// pinned by digest as a base override names it).
func Lookup(ref string) (Image, bool) {
	for _, img := range Images {
		if img.Ref == ref || img.Ref+"@"+img.Digest.String() == ref {
			return img, true
		}
	}
	return Image{}, false
}

// imageTree is an image's files, by its pinned reference (as the
// frontend solves it) or tag.
func imageTree(ref string) (tree, error) {
	name, dgst, _ := strings.Cut(ref, "@")
	img, ok := Lookup(name)
	if !ok || (dgst != "" && digest.Digest(dgst) != img.Digest) {
		return nil, errors.Errorf("gatewaytest: image %s is not in the table", ref)
	}
	t := tree{}
	for p, f := range img.Files {
		t[clean(p)] = f
	}
	return t, nil
}

// Bases are the pair's base images as the table describes them: what a
// build through Client resolves.
func Bases(pair assemble.Pair) (assemble.Bases, error) {
	var out assemble.Bases
	for _, x := range []struct {
		ref string
		dst *assemble.Image
	}{{pair.Builder, &out.Builder}, {pair.Runtime, &out.Runtime}} {
		img, ok := Lookup(x.ref)
		if !ok {
			return out, errors.Errorf("gatewaytest: image %s is not in the table", x.ref)
		}
		// the config as the frontend reads it: from the JSON a registry
		// serves
		dt, err := img.ConfigJSON()
		if err != nil {
			return out, err
		}
		*x.dst = assemble.Image{Ref: x.ref, Digest: img.Digest}
		if err := json.Unmarshal(dt, &x.dst.Config); err != nil {
			return out, err
		}
	}
	return out, nil
}

// CheckOpt is the option that makes a build the `--call=check` subrequest,
// as buildx sends it.
var CheckOpt = map[string]string{"requestid": lintreq.SubrequestLintDefinition.Name}

// LintResults reads a check subrequest's result.
func LintResults(res *client.Result) (*lintreq.LintResults, error) {
	dt, ok := res.Metadata["result.json"]
	if !ok {
		return nil, errors.New("the result is not a check subrequest's: no result.json")
	}
	var out lintreq.LintResults
	if err := json.Unmarshal(dt, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ResultDefinition is the definition of a build result's single
// reference: the image the build exports.
func ResultDefinition(res *client.Result) (*pb.Definition, error) {
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	if ref == nil {
		return nil, errors.New("the result has no reference")
	}
	return Definition(ref)
}

// LockFile is a distill.lock of the pair with the digests the table
// serves: a lock that is current.
func LockFile(pair assemble.Pair) ([]byte, error) {
	bases, err := Bases(pair)
	if err != nil {
		return nil, err
	}
	f := &lock.File{LockVersion: lock.Version}
	for _, b := range []struct {
		role string
		img  assemble.Image
	}{{lock.RoleBuilder, bases.Builder}, {lock.RoleRuntime, bases.Runtime}} {
		f.Bases = append(f.Bases, lock.Base{Role: b.role, Ref: b.img.Ref, Digest: b.img.Digest, Platforms: []string{platforms.Format(Platform)}, Python: pair.Version})
	}
	return f.Marshal()
}
