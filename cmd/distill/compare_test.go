package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/distill-build/distill/frontend"
	"github.com/distill-build/distill/internal/gatewaytest"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/lock"
	"github.com/distill-build/distill/spec"
	lintreq "github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// TestCLIAndFrontendAgree: for the same inputs, the CLI and the frontend
// give the same findings and the same LLB. For every example, as it is
// with a current distill.lock beside its spec and with a .dockerignore:
//
//   - the findings `distill validate` computes (validateFindings: the
//     directory read by inputs.Dir, frontend.Findings, the spec's policy)
//     equal the frontend's `--call=check` answer, read through the gateway,
//     rule by rule, message by message, position by position;
//   - the image definition the frontend solves equals the one the CLI path
//     describes from the directory (localDefinition: inputs.Dir and
//     frontend.Describe) with the same base images, op by op.
//
// The frontend runs as `distill build` runs it (frontend.New with the CLI's
// own executable as the helper), so both paths use the very same helper
// state; a `# syntax=` build differs only in running the helper from the
// frontend's own image, which TestBuildExamples in package frontend covers.
func TestCLIAndFrontendAgree(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the CLI sends itself as the helper only from Linux")
	}
	helper, _, err := selfHelper()
	if err != nil {
		t.Fatal(err)
	}
	build := frontend.New(frontend.Options{Helper: helper})
	ctx := context.Background()
	examples, err := filepath.Glob("../../examples/*/distill.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, example := range examples {
		name := filepath.Base(filepath.Dir(example))
		for _, v := range []struct {
			name   string
			locked bool
			ignore string
		}{
			{"as-is", false, ""},
			{"locked", true, ""},
			{"dockerignore", false, "*.md\n**/__pycache__\ntests/\n"},
		} {
			locked := v.locked
			t.Run(name+"/"+v.name, func(t *testing.T) {
				dir := t.TempDir()
				if err := os.CopyFS(dir, os.DirFS(filepath.Dir(example))); err != nil {
					t.Fatal(err)
				}
				specFile := filepath.Join(dir, frontend.DefaultFilename)
				if v.ignore != "" {
					if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(v.ignore), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if locked {
					in, _, _, err := validateFindings(ctx, dir, specFile)
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
				}

				// (a) findings
				in, _, cliFindings, err := validateFindings(ctx, dir, specFile)
				if err != nil {
					t.Fatal(err)
				}
				res, err := build(ctx, gatewaytest.New(dir, specFile, gatewaytest.CheckOpt))
				if err != nil {
					t.Fatal(err)
				}
				lr, err := gatewaytest.LintResults(res)
				if err != nil {
					t.Fatal(err)
				}
				cli, fe := cliPlaces(in.Spec, cliFindings), checkPlaces(t, lr)
				if !slices.Equal(cli, fe) {
					t.Errorf("distill validate finds\n  %s\nthe frontend's check finds\n  %s", strings.Join(cli, "\n  "), strings.Join(fe, "\n  "))
				}
				if hasRule(cli, "MissingLock") == locked {
					t.Errorf("locked=%v, findings: %v", locked, cli)
				}

				// (b) LLB
				res, err = build(ctx, gatewaytest.New(dir, specFile, nil))
				if err != nil {
					t.Fatal(err)
				}
				feDef, err := gatewaytest.ResultDefinition(res)
				if err != nil {
					t.Fatal(err)
				}
				bases, err := gatewaytest.Bases(in.Pair)
				if err != nil {
					t.Fatal(err)
				}
				cliDef, err := localDefinition(ctx, in, bases, *helper, offlinePlatform)
				if err != nil {
					t.Fatal(err)
				}
				sameLLB(t, cliDef.ToPB(), feDef)
				if ex := contextExcludes(t, feDef); v.ignore != "" && !strings.Contains(ex, `"*.md"`) {
					t.Errorf("the .dockerignore is not in the context's excludes %s", ex)
				}
			})
		}
	}
}

// cliPlaces are findings as RULE @ LINE:COLUMN: MESSAGE (URL; DESCRIPTION),
// at the spec position `validate` prints them at (0:0: about no line).
func cliPlaces(s *spec.Spec, findings []lint.Finding) []string {
	var out []string
	for _, f := range findings {
		pos, ok := s.Locate(f.Field)
		if !ok {
			pos = spec.Position{}
		}
		out = append(out, fmt.Sprintf("%s @ %d:%d: %s (%s; %s)", f.Rule.Name, pos.Line, pos.Column, f.Message, f.Rule.URL, f.Rule.Description))
	}
	return out
}

// checkPlaces are a check's warnings in the form of cliPlaces: BuildKit's
// ranges count characters from 0, spec columns from 1.
func checkPlaces(t *testing.T, lr *lintreq.LintResults) []string {
	t.Helper()
	var out []string
	for _, w := range lr.Warnings {
		line, col := 0, 0
		if l := w.Location; l == nil {
			t.Errorf("%s has no location; BuildKit's printer needs one", w.RuleName)
		} else if l.SourceIndex >= 0 {
			if len(l.Ranges) != 1 {
				t.Errorf("%s has %d ranges, want 1", w.RuleName, len(l.Ranges))
				continue
			}
			line, col = int(l.Ranges[0].Start.Line), int(l.Ranges[0].Start.Character)+1
		}
		out = append(out, fmt.Sprintf("%s @ %d:%d: %s (%s; %s)", w.RuleName, line, col, w.Detail, w.URL, w.Description))
	}
	return out
}

func hasRule(places []string, rule string) bool {
	return slices.ContainsFunc(places, func(p string) bool { return strings.HasPrefix(p, rule+" @ ") })
}

// transportSources are the two sources the CLI path and the frontend reach
// by different transports, and transportAttrs the attributes in which
// they legitimately differ:
//
//   - local://context: the frontend's build context is dockerui's
//     MainContext, a local source of the build's session (local.session);
//     the CLI's `llb.Local("context")` has no session and is marshalled
//     with a fixed local.unique instead ("distill-llb").
//   - local://distill-helper: the CLI's own executable (selfHelper), the
//     same state on both paths; with no session it gets a local.unique,
//     random when the frontend marshals it and fixed for the CLI.
//
// Only those two attributes of only those two ops are dropped; everything
// else of them (the excludes, the shared key hint, ...) must be equal.
// Their metadata (the frontend names its context "[internal] load build
// context"; the capabilities follow the attributes) is not compared. Every
// other op must be byte for byte the same, with the same metadata, and as
// an op's digest covers its inputs' digests, equal roots mean equal
// graphs. The definitions' source maps (Definition.Source: the spec's
// text and each op's spec lines, for error excerpts) are not ops and only
// the frontend has one, so they are not compared either.
var (
	transportSources = map[string]bool{"local://context": true, "local://" + selfLocal: true}
	transportAttrs   = []string{pb.AttrLocalSessionID, pb.AttrLocalUniqueID}
)

// canonicalOp is one op of a definition with its inputs renamed to their
// canonical digests and its transport attributes dropped.
type canonicalOp struct {
	op        *pb.Op
	md        *pb.OpMetadata
	transport bool
}

// canonical returns a definition's root and ops by canonical digest.
func canonical(t *testing.T, def *pb.Definition) (digest.Digest, map[digest.Digest]canonicalOp) {
	t.Helper()
	ops := map[digest.Digest]*pb.Op{}
	var last digest.Digest
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		last = digest.FromBytes(dt)
		ops[last] = &op
	}
	out := map[digest.Digest]canonicalOp{}
	renamed := map[digest.Digest]digest.Digest{}
	var visit func(d digest.Digest) digest.Digest
	visit = func(d digest.Digest) digest.Digest {
		if c, ok := renamed[d]; ok {
			return c
		}
		op, ok := ops[d]
		if !ok {
			t.Fatalf("the definition lacks op %s", d)
		}
		op = op.CloneVT()
		for _, in := range op.Inputs {
			in.Digest = string(visit(digest.Digest(in.Digest)))
		}
		cop := canonicalOp{op: op, md: def.Metadata[string(d)]}
		if src := op.GetSource(); src != nil && transportSources[src.Identifier] {
			for _, a := range transportAttrs {
				delete(src.Attrs, a)
			}
			cop.md, cop.transport = nil, true
		}
		dt, err := proto.MarshalOptions{Deterministic: true}.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		c := digest.FromBytes(dt)
		renamed[d], out[c] = c, cop
		return c
	}
	root := visit(last)
	if len(renamed) != len(ops) {
		t.Errorf("%d of the definition's %d ops are not part of its result", len(ops)-len(renamed), len(ops))
	}
	return root, out
}

// sameLLB fails unless the two definitions are the same graph of the same
// ops with the same metadata, but for the transport attributes.
func sameLLB(t *testing.T, cliDef, feDef *pb.Definition) {
	t.Helper()
	cliRoot, cli := canonical(t, cliDef)
	feRoot, fe := canonical(t, feDef)
	for _, id := range slices.Sorted(maps.Keys(transportSources)) {
		n := 0
		for _, op := range cli {
			if src := op.op.GetSource(); src != nil && src.Identifier == id {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the CLI's definition has %d %s sources, want 1", n, id)
		}
	}
	for d, op := range cli {
		if other, ok := fe[d]; ok && !op.transport && !proto.Equal(op.md, other.md) {
			t.Errorf("op %s: the CLI's metadata %v, the frontend's %v", opText(op.op), op.md, other.md)
		}
	}
	// where the graphs part: the ops one has whose inputs both have (the
	// ops after them differ only in their inputs' digests)
	for _, side := range []struct {
		name        string
		ops, others map[digest.Digest]canonicalOp
	}{{"CLI", cli, fe}, {"frontend", fe, cli}} {
		for d, op := range side.ops {
			if _, ok := side.others[d]; ok {
				continue
			}
			origin := true
			for _, in := range op.op.Inputs {
				if _, ok := side.others[digest.Digest(in.Digest)]; !ok {
					origin = false
				}
			}
			if origin {
				t.Errorf("only the %s's definition has %s", side.name, opText(op.op))
			}
		}
	}
	if cliRoot != feRoot {
		t.Errorf("the CLI's image is %s, the frontend's %s", cliRoot, feRoot)
	}
}

// contextExcludes are the excludes of the build context's source.
func contextExcludes(t *testing.T, def *pb.Definition) string {
	t.Helper()
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if src := op.GetSource(); src != nil && src.Identifier == "local://context" {
			return src.Attrs[pb.AttrExcludePatterns]
		}
	}
	t.Fatal("the definition has no build context")
	return ""
}

func opText(op *pb.Op) string {
	dt, err := protojson.Marshal(op)
	if err != nil {
		return err.Error()
	}
	if len(dt) > 600 {
		dt = append(dt[:600], "..."...)
	}
	return string(dt)
}
