package frontend

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/distill-build/distill/inputs"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	lintreq "github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// report sends the findings the policy reports to the client with their
// spec lines (buildx and buildctl print them after the build), or, when the
// policy makes findings errors (policy.strict, error=true), fails the build
// with one error that lists every one of them, each on its own line.
func report(ctx context.Context, pol lint.Policy, s *spec.Spec, src *dockerui.Source, findings []lint.Finding) error {
	findings = pol.Apply(findings)
	if err := pol.Err(s, findings); err != nil {
		return errdefs.WithSource(err, sourceOf(src, findingRanges(s, findings)))
	}
	for _, f := range findings {
		src.Warn(ctx, fmt.Sprintf("%s: %s", f.Rule.Name, f.Message), client.WarnOpts{URL: f.Rule.URL, Range: fieldRanges(s, f.Field)})
	}
	return nil
}

// fieldRanges is where field is in the spec (see spec.Locate); nil when
// nothing of it was written.
func fieldRanges(s *spec.Spec, field spec.Path) []*pb.Range {
	if pos, ok := s.Locate(field); ok {
		return []*pb.Range{lineRange(pos.Line, pos.Column)}
	}
	return nil
}

// findingRanges are the spec lines of the findings that have one.
func findingRanges(s *spec.Spec, findings []lint.Finding) []*pb.Range {
	var out []*pb.Range
	for _, f := range findings {
		out = append(out, fieldRanges(s, f.Field)...)
	}
	return out
}

// requestHandler answers `--call` subrequests: check (distill's rules),
// targets and outline.
func requestHandler(in *inputs.Inputs, src *dockerui.Source, pol lint.Policy, check func(context.Context, bool) ([]lint.Finding, error)) dockerui.RequestHandler {
	s, pair := in.Spec, in.Pair
	loc := func(field spec.Path) *pb.Location {
		ranges := fieldRanges(s, field)
		if ranges == nil {
			return nil
		}
		return &pb.Location{SourceIndex: 0, Ranges: ranges}
	}
	return dockerui.RequestHandler{
		Lint: func(ctx context.Context) (*lintreq.LintResults, error) {
			findings, err := check(ctx, true)
			if err != nil {
				return nil, err
			}
			res := &lintreq.LintResults{Sources: []*pb.SourceInfo{{Filename: src.Filename, Data: src.Data, Language: src.Language}}}
			findings = pol.Apply(findings)
			for _, f := range findings {
				// BuildKit's printer needs a location on every warning;
				// index -1 marks one that is about no spec line (the lock)
				l := loc(f.Field)
				if l == nil {
					l = &pb.Location{SourceIndex: -1}
				}
				res.Warnings = append(res.Warnings, lintreq.Warning{
					RuleName: f.Rule.Name, Description: f.Rule.Description, URL: f.Rule.URL,
					Detail: f.Message, Location: l,
				})
			}
			if err := pol.Err(s, findings); err != nil {
				res.Error = &lintreq.BuildError{Message: err.Error()}
				res.Error.Location.Ranges = findingRanges(s, findings)
			}
			return res, nil
		},
		ListTargets: func(ctx context.Context) (*targets.List, error) {
			return &targets.List{
				Sources: [][]byte{src.Data},
				Targets: []targets.Target{
					{Name: s.Name, Default: true, Description: "the runtime image: the app on " + pair.Runtime, Base: pair.Runtime, Location: loc(spec.Field("name"))},
					{Name: TargetBuilder, Description: "the builder stage after the dependency install and build commands, for debugging", Base: pair.Builder},
				},
			}, nil
		},
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			o := &outline.Outline{Name: s.Name, Description: "distill build of " + s.Name + "; dependencies: " + in.Project.Describe(), Sources: [][]byte{src.Data}}
			o.Args = append(o.Args, outline.Arg{Name: "SOURCE_DATE_EPOCH", Description: "Unix time used for image, history and layer file timestamps (reproducible builds)"})
			if s.Python.IndexURLSecret != "" {
				o.Secrets = append(o.Secrets, outline.Secret{Name: s.Python.IndexURLSecret, Required: true, Location: loc(spec.Field("python.indexUrlSecret"))})
			}
			return o, nil
		},
	}
}

func unmarshalConfig(dt []byte, img *dockerspec.DockerOCIImage) error {
	if len(dt) == 0 {
		return errors.New("empty image config")
	}
	return json.Unmarshal(dt, img)
}
