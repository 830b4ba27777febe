package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/distill-build/distill/frontend"
	"github.com/distill-build/distill/internal/version"
	"github.com/distill-build/distill/lint"
	distillllb "github.com/distill-build/distill/llb"
	"github.com/distill-build/distill/lock"
	"github.com/distill-build/distill/pydeps"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
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
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, path := specPath(file, args)
			s, err := loadSpec(path)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			pair, err := distillllb.SelectPair(s)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			pol, err := lint.NewPolicy(s, nil)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			findings, deps, err := localFindings(dir, s, pair)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			findings = pol.Apply(findings)
			// a lock is checked against pyproject.toml (and parsed whole)
			// here as in a build, for the default platform and the pair's
			// Python: a stale lock should not wait for the build to fail
			if _, _, err := deps.Plan(s, ocispecs.Platform{OS: "linux", Architecture: "amd64"}, offlinePython(s, pair), dockerspec.DockerOCIImage{}); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			for _, f := range findings {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s\n  more: %s\n", f.Text(s, "warning"), f.Rule.URL)
			}
			if pol.Error && len(findings) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s is set: warnings fail the build\n", pol.ErrorBy)
				return exitError{1}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%s on %s, builder %s)\ndependencies: %s\n", path, s.Name, pair.Runtime, pair.Builder, deps.Describe())
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "spec file (default DIR/distill.yaml)")
	return cmd
}

// localFindings runs the check rules on a local directory, the way the
// frontend does on a build context, without a registry: a lock is checked
// for presence only (`distill lock --check` compares digests).
func localFindings(dir string, s *spec.Spec, pair distillllb.Pair) ([]lint.Finding, *frontend.Dependencies, error) {
	in := lint.Input{Spec: s, EndOfLife: frontend.LintEndOfLife(pair), LockStatus: lint.LockMissing}
	if dt, err := os.ReadFile(filepath.Join(dir, lock.Filename)); err == nil {
		if _, err := lock.Parse(dt); err != nil {
			return nil, nil, err
		}
		in.LockStatus = lint.LockUnchecked
	}
	deps, err := localDependencies(dir, s)
	if err != nil {
		return nil, nil, err
	}
	in.Dependencies = frontend.LintDependencies(deps)
	return lint.Check(in), deps, nil
}

// localDependencies decides the dependency source from a local directory,
// with the frontend's code and the same .dockerignore rules.
func localDependencies(dir string, s *spec.Spec) (*frontend.Dependencies, error) {
	ignore, err := readDockerignore(dir)
	if err != nil {
		return nil, err
	}
	fs, err := contextReader(dir, distillllb.ContextExcludes(ignore, s))
	if err != nil {
		return nil, err
	}
	return frontend.DetectDependencies(fs, s)
}

// contextReader reads files of a local directory the way a build sees its
// context: a path that excludes (.dockerignore syntax) match, or a link
// that leads out of the directory, reads as absent.
func contextReader(dir string, excludes []string) (pydeps.FileReaderFunc, error) {
	pm, err := patternmatcher.New(excludes)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// DIR itself may be a link (a checkout reached through one): the
	// context is what it points at, as BuildKit's local source sees it
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	return func(name string) ([]byte, bool, error) {
		name = filepath.ToSlash(filepath.Clean(name))
		if excluded, _ := pm.MatchesOrParentMatches(name); excluded {
			return nil, false, nil
		}
		p := filepath.Join(root, filepath.FromSlash(name))
		// like BuildKit, never follow a link out of the context
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, false, nil
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, false, nil
		}
		st, err := os.Stat(real)
		if err != nil {
			return nil, false, nil
		}
		if st.IsDir() {
			return nil, false, fmt.Errorf("%s is a directory; name a dependency file", name)
		}
		f, err := os.Open(real)
		if err != nil {
			return nil, false, err
		}
		defer f.Close()
		dt, err := io.ReadAll(io.LimitReader(f, pydeps.MaxFileSize+1))
		return dt, err == nil, err
	}, nil
}

func readDockerignore(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	ignore, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	return ignore, nil
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
// directory, with base images left unresolved (by tag, empty config).
func offlineDefinition(ctx context.Context, dir, path string) (*llb.Definition, error) {
	s, err := loadSpec(path)
	if err != nil {
		return nil, err
	}
	pair, err := distillllb.SelectPair(s)
	if err != nil {
		return nil, err
	}
	ignore, err := readDockerignore(dir)
	if err != nil {
		return nil, err
	}
	deps, err := localDependencies(dir, s)
	if err != nil {
		return nil, err
	}
	platform := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	planned, _, err := deps.Plan(s, platform, offlinePython(s, pair), dockerspec.DockerOCIImage{})
	if err != nil {
		return nil, err
	}
	ctxState := llb.Local("context", llb.ExcludePatterns(distillllb.ContextExcludes(ignore, s)), llb.SharedKeyHint("context"))
	out, err := distillllb.Build(s, pair, distillllb.Bases{
		Builder: distillllb.Image{Ref: pair.Builder},
		Runtime: distillllb.Image{Ref: pair.Runtime},
	}, distillllb.Options{Context: ctxState, Platform: platform, Deps: planned})
	if err != nil {
		return nil, err
	}
	// without a session the local source would get a random id; a fixed one
	// keeps the output the same run after run
	return out.Image.Marshal(ctx, llb.Platform(platform), llb.LocalUniqueID("distill-llb"))
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

// offlinePython is the Python minor a command without an engine assumes:
// the one the pair or the spec names, else the default (a build reads a
// floating tag's from the image).
func offlinePython(s *spec.Spec, pair distillllb.Pair) string {
	if minor := frontend.KnownPython(s, pair); minor != "" {
		return minor
	}
	return spec.DefaultPythonVersion
}
