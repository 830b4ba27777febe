package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/frontend"
	"github.com/distill-build/distill/inputs"
	"github.com/distill-build/distill/internal/version"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/lock"
	"github.com/distill-build/distill/pydeps"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/patternmatcher"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// specPath resolves -f and DIR the way `build` does.
func specPath(file string, args []string) (dir, path string) {
	dir = "."
	if len(args) == 1 {
		dir = args[0]
	}
	if file == "" {
		file = filepath.Join(dir, frontend.DefaultFilename)
	}
	return dir, file
}

func loadSpec(path string) (*spec.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return spec.Parse(path, data)
}

func validateCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "validate [-f FILE] [DIR]",
		Short: "Check distill.yaml and print every problem with its line and column",
		Long: `Read the spec, the lock beside it and the context's dependency files the way
a build does (the same code decides), and print every check finding. Without
an engine the lock is compared with the spec only; ` + "`distill lock --check`" + ` asks
the registry whether the locked tags moved.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, path := specPath(file, args)
			in, err := inputs.Load(cmd.Context(), inputs.Dir{Context: dir, SpecFile: path})
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			s, pair := in.Spec, in.Pair
			// a lock is checked against pyproject.toml (and parsed whole)
			// here as in a build, for the default platform and the pair's
			// Python: a stale lock should not wait for the build to fail
			if err := in.Project.Precheck(cmd.Context(), s, pair, offlinePlatform); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			pol, err := lint.NewPolicy(s, nil)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			findings := pol.Apply(frontend.Findings(in, offlineBases(pair)))
			for _, f := range findings {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s\n  more: %s\n", f.Text(s, "warning"), f.Rule.URL)
			}
			if pol.Error && len(findings) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s is set: warnings fail the build\n", pol.ErrorBy)
				return exitError{1}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%s on %s, builder %s)\ndependencies: %s\n", path, s.Name, pair.Runtime, pair.Builder, in.Project.Describe())
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "spec file (default DIR/distill.yaml)")
	return cmd
}

// offlinePlatform is what commands without an engine plan for.
var offlinePlatform = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

// offlineBases are the pair's bases as a command without a registry knows
// them: by reference, no digest.
func offlineBases(pair assemble.Pair) []lock.Base {
	return []lock.Base{{Role: lock.RoleBuilder, Ref: pair.Builder}, {Role: lock.RoleRuntime, Ref: pair.Runtime}}
}

// contextReader reads single files of a local directory the way a build
// sees its context (package inputs), for `distill init`.
func contextReader(dir string, excludes []string) (pydeps.FileReaderFunc, error) {
	if _, err := patternmatcher.New(excludes); err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	d := inputs.Dir{Context: dir}
	return func(name string) ([]byte, bool, error) {
		got, err := d.ReadContext(context.Background(), []string{name}, excludes)
		if err != nil {
			return nil, false, err
		}
		dt, ok := got[path.Clean(name)]
		return dt, ok, nil
	}, nil
}

func readDockerignore(dir string) ([]string, error) {
	return inputs.Dir{Context: dir, SpecFile: filepath.Join(dir, frontend.DefaultFilename)}.Ignore(context.Background(), "")
}

func llbCmd() *cobra.Command {
	var file string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "llb [-f FILE] [DIR]",
		Short: "Print the LLB definition distill generates (binary for `buildctl build`, or --json)",
		Long: `Print the LLB for DIR's distill.yaml without a BuildKit engine. Base images
appear by tag: a real build resolves them to digests first. The binary form
can be piped into "buildctl build"; --json prints one object per op, in a
stable order, for reading and diffing.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, path := specPath(file, args)
			def, err := offlineDefinition(cmd.Context(), dir, path)
			if err != nil {
				return err
			}
			if asJSON {
				return writeDefinitionJSON(cmd.OutOrStdout(), def)
			}
			return llb.WriteTo(def, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "spec file (default DIR/distill.yaml)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per op")
	return cmd
}

// offlineDefinition generates the LLB the frontend would, from the local
// directory, through the frontend's own inputs reading and planning: base
// images by their locked digest when distill.lock has one, else by tag,
// with empty configs.
func offlineDefinition(ctx context.Context, dir, path string) (*llb.Definition, error) {
	in, err := inputs.Load(ctx, inputs.Dir{Context: dir, SpecFile: path})
	if err != nil {
		return nil, err
	}
	helper, _, err := selfHelper()
	if err != nil {
		return nil, err
	}
	bases := assemble.Bases{Builder: assemble.Image{Ref: in.Pair.Builder}, Runtime: assemble.Image{Ref: in.Pair.Runtime}}
	for _, x := range []struct {
		role string
		img  *assemble.Image
	}{{lock.RoleBuilder, &bases.Builder}, {lock.RoleRuntime, &bases.Runtime}} {
		if b, ok := in.Lock.Get(x.role, x.img.Ref); ok {
			x.img.Digest = b.Digest
		}
	}
	ctxState := llb.Local("context", llb.ExcludePatterns(in.ContextExcludes()), llb.SharedKeyHint("context"))
	out, err := frontend.Describe(ctx, in, bases, assemble.Options{Context: ctxState, Platform: offlinePlatform, Helper: *helper}, nil)
	if err != nil {
		return nil, err
	}
	// without a session the local source would get a random id; a fixed one
	// keeps the output the same run after run
	return out.Image.Marshal(ctx, llb.Platform(offlinePlatform), llb.LocalUniqueID("distill-llb"))
}

// opJSON is one op of a definition in --json form.
type opJSON struct {
	Digest   digest.Digest   `json:"digest"`
	Op       json.RawMessage `json:"op"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// writeDefinitionJSON prints ops sorted by digest. protojson output is
// deliberately unstable in whitespace, so each op goes through
// encoding/json once more, which sorts keys and fixes the spacing.
func writeDefinitionJSON(w io.Writer, def *llb.Definition) error {
	type entry struct {
		dgst digest.Digest
		raw  []byte
	}
	var ops []entry
	for _, dt := range def.Def {
		ops = append(ops, entry{digest.FromBytes(dt), dt})
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].dgst < ops[j].dgst })
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, e := range ops {
		var op pb.Op
		if err := op.UnmarshalVT(e.raw); err != nil {
			return err
		}
		opj, err := stableJSON(&op)
		if err != nil {
			return err
		}
		out := opJSON{Digest: e.dgst, Op: opj}
		if md, ok := def.Metadata[e.dgst]; ok {
			mdj, err := stableJSON(md.ToPB())
			if err != nil {
				return err
			}
			out.Metadata = mdj
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func stableJSON(m proto.Message) (json.RawMessage, error) {
	dt, err := protojson.Marshal(m)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(dt, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func schemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of distill.yaml (for editors and the yaml language server)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dt, err := spec.Schema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(append(dt, '\n'))
			return err
		},
	}
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print distill's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "distill", version.String())
		},
	}
}

// frontendCmd is the frontend image's entrypoint: BuildKit starts it with
// the gateway API on stdio.
func frontendCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "frontend",
		Short:  "Run as a BuildKit gateway frontend (the frontend image's entrypoint)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return grpcclient.RunFromEnvironment(cmd.Context(), frontend.Build)
		},
	}
}

func writeMetadata(path string, resp map[string]string) error {
	dt, err := json.MarshalIndent(resp, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, dt, 0o644)
}
