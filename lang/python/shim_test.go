package python

import (
	"time"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The tests describe builds with a planned Dependencies, as the frontend
// does after Plan, through assemble.Build.
type (
	Bases  = assemble.Bases
	Image  = assemble.Image
	Result = assemble.Result
)

type Options struct {
	Context         llb.State
	Platform        ocispecs.Platform
	Deps            Dependencies
	CacheNamespace  string
	SourceMap       *llb.SourceMap
	SourceDateEpoch *time.Time
}

// testHelper stands for the frontend image the helper steps run from.
var testHelper = assemble.Helper{State: llb.Image("registry.example/distill:test"), Path: "/usr/bin/distill"}

func describe(s *spec.Spec, pair assemble.Pair, bases Bases, opt Options) (*Result, error) {
	return assemble.Build(s, pair, bases, assemble.Options{
		Context: opt.Context, Platform: opt.Platform, Helper: testHelper, CacheNamespace: opt.CacheNamespace,
		SourceMap: opt.SourceMap, SourceDateEpoch: opt.SourceDateEpoch,
	}, &Plan{Interpreter: pair.Interpreter, Deps: opt.Deps})
}
