package frontend

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/distill-build/distill/llb"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// report sends each warning to the client with its spec line (buildx and
// buildctl print them after the build), or fails the build on the first
// one when policy.strict is set.
func report(ctx context.Context, s *spec.Spec, src *dockerui.Source, ws []llb.Warning) error {
	for _, w := range ws {
		var ranges []*pb.Range
		if pos, ok := s.Positions[w.Field]; ok {
			ranges = []*pb.Range{lineRange(pos.Line, pos.Column)}
		}
		if s.Policy.Strict {
			msg := fmt.Sprintf("%s (policy.strict turns this warning into an error; see %s)", w.Message, w.URL)
			if pos, ok := s.Positions[w.Field]; ok {
				msg = fmt.Sprintf("%s:%d:%d: %s: %s", src.Filename, pos.Line, pos.Column, w.Rule, msg)
			}
			return errdefs.WithSource(errors.New(msg), sourceOf(src, ranges))
		}
		src.Warn(ctx, fmt.Sprintf("%s: %s", w.Rule, w.Message), client.WarnOpts{URL: w.URL, Range: ranges})
	}
	return nil
}

// requestHandler answers `--call` subrequests. Lint is left to dockerui's
// default (unsupported) until distill's rules land.
func requestHandler(s *spec.Spec, src *dockerui.Source) dockerui.RequestHandler {
	loc := func(field string) *pb.Location {
		pos, ok := s.Positions[field]
		if !ok {
			return nil
		}
		return &pb.Location{SourceIndex: 0, Ranges: []*pb.Range{lineRange(pos.Line, pos.Column)}}
	}
	return dockerui.RequestHandler{
		ListTargets: func(ctx context.Context) (*targets.List, error) {
			pair, err := llb.SelectPair(s)
			if err != nil {
				return nil, err
			}
			return &targets.List{
				Sources: [][]byte{src.Data},
				Targets: []targets.Target{
					{Name: s.Name, Default: true, Description: "the runtime image: app and venv on " + pair.Runtime, Base: pair.Runtime, Location: loc("name")},
					{Name: TargetBuilder, Description: "the builder stage after the dependency install and build commands, for debugging", Base: pair.Builder},
				},
			}, nil
		},
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			o := &outline.Outline{Name: s.Name, Description: "distill build of " + s.Name, Sources: [][]byte{src.Data}}
			o.Args = append(o.Args, outline.Arg{Name: "SOURCE_DATE_EPOCH", Description: "Unix time used for image and history timestamps (reproducible builds)"})
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
