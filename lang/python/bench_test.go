package python

import (
	"context"
	"os"
	"testing"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
)

// BenchmarkSpecToLLB measures the frontend's own work for one build: parse
// distill.yaml, pick the base pair, describe the build and marshal the LLB
// definition (what the gateway sends to the solver). Base images are already
// resolved (resolution is a registry round trip, measured end to end by
// bench/cmd/bench). `make bench` runs it with -benchmem and reports ns/op and
// allocs/op in docs/benchmarks.md.
func BenchmarkSpecToLLB(b *testing.B) {
	for _, tc := range []struct{ name, path, requirements string }{
		{"python-http", "../examples/python-http/distill.yaml", ""},
		{"python-deps", "../examples/python-deps/distill.yaml", "requirements.txt"},
		{"large", "../bench/apps/large/distill.yaml", "requirements.txt"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			data, err := os.ReadFile(tc.path)
			if err != nil {
				b.Skip(err)
			}
			ctx := context.Background()
			bases := Bases{
				Builder: Image{Ref: "docker.io/library/python:3.13-slim-trixie", Digest: builderDigest},
				Runtime: Image{Ref: "gcr.io/distroless/python3-debian13:nonroot", Digest: runtimeDigest},
			}
			opt := Options{
				Context:  llb.Local("context", llb.SharedKeyHint("context")),
				Platform: amd64,
				Deps:     Dependencies{RequirementsPath: tc.requirements},
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				s, err := spec.Parse(tc.path, data)
				if err != nil {
					b.Fatal(err)
				}
				pair, err := SelectPair(s)
				if err != nil {
					b.Fatal(err)
				}
				out, err := describe(s, pair, bases, opt)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := out.Image.Marshal(ctx, llb.Platform(amd64), llb.LocalUniqueID("bench")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
