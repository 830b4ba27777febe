package frontend

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/inputs"
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

// report sends each finding to the client with its spec line (buildx and
// buildctl print them after the build), or fails the build on the first one
// when policy.strict is set.
func report(ctx context.Context, s *spec.Spec, src *dockerui.Source, findings []lint.Finding) error {
	for _, f := range findings {
		ranges := fieldRanges(s, f.Field)
		if s.Policy.Strict {
			msg := fmt.Sprintf("%s: %s (policy.strict turns every warning into an error; see %s)", f.Rule.Name, f.Message, f.Rule.URL)
			if pos, ok := s.Positions[f.Field]; ok {
				msg = fmt.Sprintf("%s:%d:%d: %s", src.Filename, pos.Line, pos.Column, msg)
			}
			return errdefs.WithSource(errors.New(msg), sourceOf(src, ranges))
		}
		src.Warn(ctx, fmt.Sprintf("%s: %s", f.Rule.Name, f.Message), client.WarnOpts{URL: f.Rule.URL, Range: ranges})
	}
	return nil
}

func fieldRanges(s *spec.Spec, field string) []*pb.Range {
	if pos, ok := s.Positions[field]; ok {
		return []*pb.Range{lineRange(pos.Line, pos.Column)}
	}
	return nil
}

// requestHandler answers `--call` subrequests: check (distill's rules),
// targets and outline.
func requestHandler(in *inputs.Inputs, src *dockerui.Source, check func(context.Context, bool) ([]lint.Finding, error)) dockerui.RequestHandler {
	s, pair := in.Spec, in.Pair
	loc := func(field string) *pb.Location {
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
			if s.Policy.Strict && len(findings) > 0 {
				f := findings[0]
				res.Error = &lintreq.BuildError{Message: fmt.Sprintf("policy.strict: %s: %s", f.Rule.Name, f.Message)}
				res.Error.Location.Ranges = fieldRanges(s, f.Field)
			}
			return res, nil
		},
		ListTargets: func(ctx context.Context) (*targets.List, error) {
			return &targets.List{
				Sources: [][]byte{src.Data},
				Targets: []targets.Target{
					{Name: s.Name, Default: true, Description: "the runtime image: the app on " + pair.Runtime, Base: pair.Runtime, Location: loc("name")},
					{Name: TargetBuilder, Description: "the builder stage after the dependency install and build commands, for debugging", Base: pair.Builder},
				},
			}, nil
		},
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			o := &outline.Outline{Name: s.Name, Description: "distill build of " + s.Name + "; dependencies: " + in.Project.Describe(), Sources: [][]byte{src.Data}}
			o.Args = append(o.Args, outline.Arg{Name: "SOURCE_DATE_EPOCH", Description: "Unix time used for image, history and layer file timestamps (reproducible builds)"})
			if s.Python.IndexURLSecret != "" {
				o.Secrets = append(o.Secrets, outline.Secret{Name: s.Python.IndexURLSecret, Required: true, Location: loc("python.indexUrlSecret")})
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
