package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/inputs"
	"github.com/distill-build/distill/internal/gatewaytest"
	"github.com/distill-build/distill/lock"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	lintreq "github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"google.golang.org/protobuf/proto"
)

// exampleSpecs are the spec files of examples/, by example name.
func exampleSpecs(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../examples/*/distill.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		out[filepath.Base(filepath.Dir(f))] = f
	}
	return out
}

// checkResults runs the --call=check subrequest of the spec.
func checkResults(t *testing.T, specFile string) *lintreq.LintResults {
	t.Helper()
	c := gatewaytest.New(filepath.Dir(specFile), specFile, gatewaytest.CheckOpt)
	res, err := Build(context.Background(), c)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if len(c.Solved()) != 0 {
		t.Errorf("check solved %d definitions besides sources; it should build nothing", len(c.Solved()))
	}
	lr, err := gatewaytest.LintResults(res)
	if err != nil {
		t.Fatal(err)
	}
	return lr
}

// TestBuildExamples runs the frontend's build function over every example
// against the fake gateway: the build succeeds and returns an image with
// its config, runs its start-up verification beside it, runs the helper
// steps from the frontend's own image, warns exactly what --call=check
// reports, and sends the same image definition every time.
func TestBuildExamples(t *testing.T) {
	for name, specFile := range exampleSpecs(t) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Dir(specFile)
			check := checkResults(t, specFile)
			if len(check.Warnings) == 0 {
				t.Fatal("the check found nothing; every example lacks a distill.lock")
			}
			for _, opts := range []map[string]string{nil, {"platform": "linux/amd64"}} {
				var defs [2]*pb.Definition
				for i := range defs {
					c := gatewaytest.New(dir, specFile, opts)
					res, err := Build(context.Background(), c)
					if err != nil {
						t.Fatalf("build %v: %v", opts, err)
					}
					if defs[i], err = gatewaytest.ResultDefinition(res); err != nil {
						t.Fatal(err)
					}
					var img dockerspec.DockerOCIImage
					if err := json.Unmarshal(res.Metadata[exptypes.ExporterImageConfigKey], &img); err != nil || img.OS != "linux" || img.Architecture != "amd64" || len(img.Config.Entrypoint) == 0 {
						t.Errorf("image config %s: %v", res.Metadata[exptypes.ExporterImageConfigKey], err)
					}
					// the image and its verification, nothing else
					if n := len(c.Solved()); n != 2 {
						t.Errorf("build solved %d definitions, want 2 (the image and its verification)", n)
					}
					if !usesImage(t, defs[i], gatewaytest.FrontendRef) {
						t.Errorf("the image's helper steps do not run the frontend's own image %s", gatewaytest.FrontendRef)
					}
					if got, want := warnings(c.Warnings()), checkWarnings(check); !slices.Equal(got, want) {
						t.Errorf("build warned\n  %s\nbut --call=check reports\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
					}
				}
				if !proto.Equal(defs[0], defs[1]) {
					t.Errorf("two builds of %s sent different image definitions", name)
				}
			}
		})
	}
}

// usesImage reports whether a definition has the image as a source.
func usesImage(t *testing.T, def *pb.Definition, ref string) bool {
	t.Helper()
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "docker-image://"+ref) {
			return true
		}
	}
	return false
}

// warnings are a build's warnings as RULE: MESSAGE (URL) @ ranges.
func warnings(ws []gatewaytest.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, fmt.Sprintf("%s (%s) @ %s", w.Msg, w.Opts.URL, ranges(w.Opts.Range)))
	}
	return out
}

// checkWarnings are a check's findings in the form of warnings.
func checkWarnings(lr *lintreq.LintResults) []string {
	var out []string
	for _, w := range lr.Warnings {
		var rs []*pb.Range
		if w.Location != nil && w.Location.SourceIndex >= 0 {
			rs = w.Location.Ranges
		}
		out = append(out, fmt.Sprintf("%s: %s (%s) @ %s", w.RuleName, w.Detail, w.URL, ranges(rs)))
	}
	return out
}

func ranges(rs []*pb.Range) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%d:%d-%d:%d", r.Start.Line, r.Start.Character, r.End.Line, r.End.Character))
	}
	return "[" + strings.Join(out, " ") + "]"
}

// TestBuildReadsTheLockBesideTheSpec: with `-f sub/distill.yaml .` the
// spec's directory is the `dockerfile` local, and the lock is read from
// there, not from the context; the build then resolves the bases by their
// locked digests.
func TestBuildReadsTheLockBesideTheSpec(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../examples/python-http")); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "distill.yaml"), filepath.Join(sub, "distill.yaml")); err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(sub, "distill.yaml")
	missing := func() bool {
		for _, w := range checkResults(t, specFile).Warnings {
			if w.RuleName == "MissingLock" {
				return true
			}
		}
		return false
	}
	if !missing() {
		t.Fatal("no lock anywhere, and the check does not report MissingLock")
	}
	in, err := inputs.Load(context.Background(), inputs.Dir{Context: dir, SpecFile: specFile})
	if err != nil {
		t.Fatal(err)
	}
	lf, err := gatewaytest.LockFile(in.Pair)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, lock.Filename), lf, 0o644); err != nil {
		t.Fatal(err)
	}
	if !missing() {
		t.Error("a lock in the context, not beside the spec, was read")
	}
	if err := os.Rename(filepath.Join(dir, lock.Filename), filepath.Join(sub, lock.Filename)); err != nil {
		t.Fatal(err)
	}
	if missing() {
		t.Error("the lock beside the spec was not read")
	}
	c := gatewaytest.New(dir, specFile, nil)
	res, err := Build(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	def, err := gatewaytest.ResultDefinition(res)
	if err != nil {
		t.Fatal(err)
	}
	bases, err := gatewaytest.Bases(in.Pair)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range []assemble.Image{bases.Builder, bases.Runtime} {
		if !slices.Contains(c.Resolved(), img.Pinned()) || !usesImage(t, def, img.Pinned()) {
			t.Errorf("%s was not resolved and used by its locked digest (resolved: %v)", img.Ref, c.Resolved())
		}
	}
}

// TestBuildReadsTheOverriddenBasesPython: with base overrides the frontend
// reads which Python each image carries (following python3's links in the
// image), and refuses a python.version the runtime does not have.
func TestBuildReadsTheOverriddenBasesPython(t *testing.T) {
	for _, tc := range []struct {
		version, want string
	}{
		{"3.13", ""},
		{"3.11", "carries Python 3.13 (/usr/bin/python3)"},
	} {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS("../examples/python-http")); err != nil {
			t.Fatal(err)
		}
		specFile := filepath.Join(dir, DefaultFilename)
		spec := "apiVersion: distill/v1\nname: override\nlanguage: python\npython:\n  version: \"" + tc.version + "\"\n" +
			"base:\n  builder: " + gatewaytest.Images[0].Ref + "\n  runtime: " + gatewaytest.Images[1].Ref + "\n" +
			"app:\n  include: [app.py]\n  entrypoint: [python, app.py]\n"
		if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Build(context.Background(), gatewaytest.New(dir, specFile, nil))
		if tc.want == "" && err != nil {
			t.Errorf("python.version %s: %v", tc.version, err)
		}
		if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("python.version %s: got %v, want an error containing %q", tc.version, err, tc.want)
		}
	}
}
