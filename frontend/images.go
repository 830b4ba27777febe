package frontend

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distill-build/distill/llb"
	"github.com/distill-build/distill/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
	"golang.org/x/sync/errgroup"
)

// Facts about the resolved base images that the build depends on, read
// from the images themselves rather than assumed from their tags: a
// floating tag (Chainguard's latest) moves, and an override can be anything.

// checkPlatform fails when a base image's config is for another platform
// than the one being built: the engine would otherwise put its binaries
// into an image labelled with the target platform.
func checkPlatform(role string, img llb.Image, p ocispecs.Platform) error {
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

var pythonNameRe = regexp.MustCompile(`^python(3\.[0-9]+)$`)

// pythonMinor finds the Python minor version an image carries by following
// the interpreter's symlinks (python3 -> python3.13) inside the image,
// without running anything. It returns "" when it cannot tell.
func pythonMinor(ctx context.Context, c client.Client, img llb.Image, p ocispecs.Platform, candidates []string) (string, string, error) {
	ref, err := solveRef(ctx, c, bkllb.Image(img.Pinned(), bkllb.Platform(p)), nil)
	if err != nil {
		return "", "", err
	}
	for _, start := range candidates {
		cur := start
		for hop := 0; hop < 8 && cur != ""; hop++ {
			// ReadDir, not StatFile: StatFile resolves symlinks before it
			// stats, so it never shows a link's target name
			dir, name := path.Split(cur)
			entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: dir, IncludePattern: name})
			if err != nil || len(entries) != 1 || entries[0].Path != name {
				break
			}
			if m := pythonNameRe.FindStringSubmatch(name); m != nil && entries[0].Linkname == "" {
				return m[1], start, nil
			}
			next := entries[0].Linkname
			if next == "" {
				break
			}
			if !strings.HasPrefix(next, "/") {
				next = path.Join(dir, next)
			}
			cur = next
		}
	}
	return "", "", nil
}

// interpreterCandidates are where an image's python3 may be: the paths on
// its PATH, then the usual ones.
func interpreterCandidates(img llb.Image, first string) []string {
	var out []string
	if first != "" {
		out = append(out, first)
	}
	for _, kv := range img.Config.Config.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, d := range strings.Split(v, ":") {
				if d != "" {
					out = append(out, path.Join(d, "python3"))
				}
			}
		}
	}
	return append(out, "/usr/local/bin/python3", "/usr/bin/python3")
}

// checkPythonPair reads the Python minor of both images and fails when they
// differ, or when the spec's python.version is not what a floating runtime
// tag carries. It returns the runtime's minor ("" when unknown).
func checkPythonPair(ctx context.Context, c client.Client, s *spec.Spec, pair llb.Pair, bases llb.Bases, p ocispecs.Platform) (string, error) {
	if !pairNeedsReading(s, pair) {
		return "", nil
	}
	// both images at once: each read waits for its image to be pulled
	var rt, rtPath, bl, blPath string
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		rt, rtPath, err = pythonMinor(ctx, c, bases.Runtime, p, interpreterCandidates(bases.Runtime, pair.RuntimePython))
		return errors.Wrapf(err, "reading %s", bases.Runtime.Pinned())
	})
	eg.Go(func() error {
		var err error
		bl, blPath, err = pythonMinor(ctx, c, bases.Builder, p, interpreterCandidates(bases.Builder, ""))
		return errors.Wrapf(err, "reading %s", bases.Builder.Pinned())
	})
	if err := eg.Wait(); err != nil {
		return "", err
	}
	if rt != "" && bl != "" && rt != bl {
		return rt, s.ErrorAt("python.version", "the builder %s has Python %s (%s) but the runtime %s has Python %s (%s): a venv made by one does not run on the other; use images of one Python minor",
			pair.Builder, bl, blPath, pair.Runtime, rt, rtPath)
	}
	if want := s.Python.Version; want != "" && rt != "" && want != rt {
		return rt, s.ErrorAt("python.version", "python.version is %q but the runtime %s carries Python %s (%s)%s",
			want, pair.Runtime, rt, rtPath, floatingHint(s, rt))
	}
	return rt, nil
}

// pairNeedsReading reports whether the images must be read before the
// build: a floating tag (Chainguard's latest) or an override can carry any
// Python, while a default pair's tags name their minor (python:3.13-slim,
// python3-debian13), and the start-up verification reads the assembled
// image's interpreter anyway. Skipping the read there keeps cold builds
// from waiting on two image pulls before the solve starts.
func pairNeedsReading(s *spec.Spec, pair llb.Pair) bool {
	return pair.PythonVersion == "" || s.Base.Builder != "" || s.Base.Runtime != ""
}

func floatingHint(s *spec.Spec, actual string) string {
	if s.Runtime == spec.RuntimeChainguard && s.Base.Runtime == "" {
		return fmt.Sprintf("; Chainguard's free tier serves only latest, which moves between minors: accept it with python.version: %q (and check your dependencies support it), or pin older images by digest with base.builder and base.runtime", actual)
	}
	return ""
}
