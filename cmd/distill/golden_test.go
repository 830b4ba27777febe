package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden `distill llb --json` files")

// TestGolden pins the LLB each example generates. A diff here is a change
// to what users' builds do: review it, then run `make golden`.
func TestGolden(t *testing.T) {
	examples, err := filepath.Glob("../../examples/*/distill.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, specFile := range examples {
		dir := filepath.Dir(specFile)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			var out [2]bytes.Buffer
			for i := range out {
				def, err := offlineDefinition(context.Background(), dir, specFile, offlinePlatform)
				if err != nil {
					t.Fatal(err)
				}
				if err := writeDefinitionJSON(&out[i], def); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
				t.Fatal("two generations of the same spec differ")
			}
			golden := filepath.Join("testdata", "golden", name+".jsonl")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, out[0].Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run `make golden` to create it)", err)
			}
			if !bytes.Equal(want, out[0].Bytes()) {
				t.Errorf("LLB for %s differs from %s; if intended, run `make golden` and review the diff", name, golden)
			}
		})
	}
}
