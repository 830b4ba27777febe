package main

import (
	"context"
	"path"
	"path/filepath"
	"slices"
	"testing"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/frontend"
	"github.com/distill-build/distill/inputs"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// TestNoHelperNeedsAnInterpreter: no step distill adds runs through an
// interpreter of the builder image. Over every example's whole build (the
// image, the builder target, the verification, the SBOM and the
// which-package lookup), an exec is distill's static helper, one of the
// user's build.commands verbatim, or one of the language's own tools (for
// Python: the runtime's interpreter making the venv, the builder's pip);
// no argv anywhere hands a program text to an interpreter (-c) or a shell.
func TestNoHelperNeedsAnInterpreter(t *testing.T) {
	examples, err := filepath.Glob("../../examples/*/distill.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	shells := []string{"sh", "bash", "dash", "ash", "zsh", "busybox", "env"}
	for _, specFile := range examples {
		dir := filepath.Dir(specFile)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ctx := context.Background()
			in, err := inputs.Load(ctx, inputs.Dir{Context: dir, SpecFile: specFile})
			if err != nil {
				t.Fatal(err)
			}
			helper, _, err := selfHelper()
			if err != nil {
				t.Fatal(err)
			}
			bases := assemble.Bases{Builder: assemble.Image{Ref: in.Pair.Builder}, Runtime: assemble.Image{Ref: in.Pair.Runtime}}
			opt := assemble.Options{Context: llb.Local("context"), Platform: offlinePlatform, Helper: *helper}
			out, err := frontend.Describe(ctx, in, bases, opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			states := map[string]llb.State{"image": out.Image, "builder": out.Builder, "sbom": out.SBOM,
				"which-package": assemble.WhichPackages(bases, opt, []string{"libpq.so.5"})}
			if out.VerifyOn {
				states["verify"] = out.Verify
			}
			tools := 0
			helpers := map[string]bool{}
			for name, st := range states {
				def, err := st.Marshal(ctx, llb.Platform(offlinePlatform))
				if err != nil {
					t.Fatal(err)
				}
				for _, dt := range def.Def {
					var op pb.Op
					if err := op.UnmarshalVT(dt); err != nil {
						t.Fatal(err)
					}
					e := op.GetExec()
					if e == nil {
						continue
					}
					args := e.Meta.Args
					if slices.Contains(args, "-c") || slices.Contains(shells, path.Base(args[0])) {
						t.Errorf("%s: %q hands a program text to an interpreter or runs a shell", name, args)
					}
					switch {
					case len(args) >= 3 && args[0] == assemble.HelperExe && args[1] == "helper":
						helpers[args[2]] = true
						if !slices.ContainsFunc(e.Mounts, func(m *pb.Mount) bool { return m.Dest == assemble.HelperExe && m.Readonly }) {
							t.Errorf("%s: helper %s runs without its read-only mount", name, args[2])
						}
					case slices.ContainsFunc(in.Spec.Build.Commands, func(c []string) bool { return slices.Equal(c, args) }):
					case in.Spec.Language == "python" && len(args) >= 3 && args[0] == in.Pair.Interpreter && args[1] == "-m" && args[2] == "venv",
						in.Spec.Language == "python" && len(args) >= 3 && args[0] == "python3" && args[1] == "-m" && args[2] == "pip":
						tools++
					default:
						t.Errorf("%s: %q is neither distill's helper, a build command nor the language's own tool", name, args)
					}
				}
			}
			// the test sees the steps it is about
			for _, want := range []string{"prepare", "sbom", "runtime-packages"} {
				if !helpers[want] {
					t.Errorf("no %s helper step among %v", want, helpers)
				}
			}
			if in.Spec.Language == "python" && (tools == 0 || !helpers["python-finalize"] || out.VerifyOn && !helpers["python-verify"]) {
				t.Errorf("python build without its venv/pip steps (%d) or its finalize/verify helpers %v", tools, helpers)
			}
		})
	}
}
