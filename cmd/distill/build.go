package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/console"
	"github.com/distill-build/distill/frontend"
	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/cmd/buildctl/build"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/util/appdefaults"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/spf13/cobra"
	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/go-csvvalue"
	"golang.org/x/sync/errgroup"
)

type buildFlags struct {
	addr      string
	file      string
	outputs   []string
	platforms []string
	buildArgs []string
	secrets   []string
	noCache   bool
	progress  string
	target    string
	metadata  string
	attests   []string
}

func buildCmd() *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build [DIR]",
		Short: "Build an image from distill.yaml on a BuildKit daemon",
		Long: `Build DIR (default ".") with the distill.yaml in it, in-process, against the
BuildKit daemon at --addr (default $BUILDKIT_HOST). Outputs use buildctl's
syntax, for example:

  distill build -o type=oci,dest=app.tar .
  distill build -o type=image,name=registry.example/app:1,push=true .
  distill build --secret id=pip-index,env=PIP_INDEX_URL .`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runBuild(cmd.Context(), f, dir)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", defaultAddr(), "BuildKit daemon address (env BUILDKIT_HOST)")
	fl.StringVarP(&f.file, "file", "f", "", "spec file (default DIR/distill.yaml)")
	fl.StringArrayVarP(&f.outputs, "output", "o", nil, "output, buildctl syntax: type=oci,dest=FILE | type=image,name=REF,push=true | type=local,dest=DIR")
	fl.StringArrayVar(&f.platforms, "platform", nil, "target platform(s), e.g. linux/amd64,linux/arm64")
	fl.StringArrayVar(&f.buildArgs, "build-arg", nil, "build argument KEY=VALUE (e.g. SOURCE_DATE_EPOCH=0)")
	fl.StringArrayVar(&f.secrets, "secret", nil, "secret for the build: id=ID,src=FILE or id=ID,env=VAR")
	fl.BoolVar(&f.noCache, "no-cache", false, "do not use the build cache")
	fl.StringVar(&f.progress, "progress", "auto", "progress output: auto, tty, plain, rawjson, quiet")
	fl.StringVar(&f.target, "target", "", "target: (default) the runtime image, or builder")
	fl.StringVar(&f.metadata, "metadata-file", "", "write the build result metadata (image digest) as JSON to this file")
	fl.StringArrayVar(&f.attests, "attest", nil, "attestation, buildx syntax: type=sbom[,generator=IMAGE] | type=provenance[,mode=min|max]")
	return cmd
}

func defaultAddr() string {
	if v := os.Getenv("BUILDKIT_HOST"); v != "" {
		return v
	}
	return appdefaults.Address
}

func runBuild(ctx context.Context, f buildFlags, dir string) error {
	specFile, err := checkFlags(f, dir)
	if err != nil {
		return err
	}
	c, err := client.New(ctx, f.addr)
	if err != nil {
		return engineError(f.addr, err)
	}
	defer c.Close()
	if _, err := c.Info(ctx); err != nil {
		return engineError(f.addr, err)
	}
	// outputs are opened only once an engine answers: a failed dial must
	// not leave an empty file at the destination
	solveOpt, err := solveOptions(f, dir, specFile)
	if err != nil {
		return err
	}

	mode := progressui.DisplayMode(f.progress)
	if f.progress == "" {
		mode = progressui.AutoMode
	}
	var out console.File = os.Stderr
	display, err := progressui.NewDisplay(out, mode)
	if err != nil {
		return fmt.Errorf("--progress %q: %w (allowed: auto, tty, plain, rawjson, quiet)", f.progress, err)
	}

	ch := make(chan *client.SolveStatus)
	eg, ectx := errgroup.WithContext(ctx)
	var resp *client.SolveResponse
	eg.Go(func() error {
		var err error
		resp, err = c.Build(ectx, *solveOpt, "distill", frontend.New(frontend.Options{HelperLocal: selfLocal}), ch)
		return err
	})
	var warnings []client.VertexWarning
	eg.Go(func() error {
		var err error
		// The display must drain every status even after cancellation, so
		// it runs on a context that outlives the build's.
		warnings, err = display.UpdateFrom(context.WithoutCancel(ctx), ch)
		return err
	})
	err = eg.Wait()
	printWarnings(os.Stderr, warnings)
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("build cancelled")
		}
		return err
	}
	if resp != nil {
		if d, ok := resp.ExporterResponse["containerimage.digest"]; ok {
			fmt.Fprintln(os.Stderr, "image digest:", d)
		}
		if f.metadata != "" {
			if err := writeMetadata(f.metadata, resp.ExporterResponse); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkFlags reports flag mistakes before anything touches the engine or
// the file system.
func checkFlags(f buildFlags, dir string) (specFile string, err error) {
	for _, kv := range f.buildArgs {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return "", fmt.Errorf("--build-arg %q: want KEY=VALUE", kv)
		}
	}
	for _, a := range f.attests {
		if _, _, err := parseAttest(a); err != nil {
			return "", err
		}
	}
	for _, o := range f.outputs {
		if !strings.Contains(o, "type=") {
			return "", fmt.Errorf("--output %q: want buildctl's syntax, e.g. type=oci,dest=image.tar", o)
		}
	}
	_, specFile = specPath(f.file, []string{dir})
	if _, err := os.Stat(specFile); err != nil {
		return "", fmt.Errorf("no spec: %w (write a %s in %s or pass -f)", err, frontend.DefaultFilename, dir)
	}
	return specFile, nil
}

// solveOptions maps the flags onto the same frontend options buildx and
// buildctl send, so the in-process build sees exactly what the frontend
// image would see. checkFlags has validated the flags and found specFile.
func solveOptions(f buildFlags, dir, specFile string) (*client.SolveOpt, error) {
	ctxFS, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", dir, err)
	}
	specFS, err := fsutil.NewFS(filepath.Dir(specFile))
	if err != nil {
		return nil, err
	}
	exports, err := build.ParseOutput(f.outputs)
	if err != nil {
		return nil, fmt.Errorf("--output: %w", err)
	}
	for i := range exports {
		exports[i].Output = buffered(exports[i].Output)
	}
	attrs := map[string]string{"filename": filepath.Base(specFile)}
	if len(f.platforms) > 0 {
		attrs["platform"] = strings.Join(f.platforms, ",")
	}
	if f.noCache {
		attrs["no-cache"] = ""
	}
	if f.target != "" {
		attrs["target"] = f.target
	}
	for _, kv := range f.buildArgs {
		k, v, _ := strings.Cut(kv, "=")
		attrs["build-arg:"+k] = v
	}
	for _, a := range f.attests {
		k, v, err := parseAttest(a)
		if err != nil {
			return nil, err
		}
		attrs[k] = v
	}
	if _, ok := attrs["build-arg:SOURCE_DATE_EPOCH"]; !ok {
		// as buildx does: the environment's SOURCE_DATE_EPOCH reaches the build
		if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
			attrs["build-arg:SOURCE_DATE_EPOCH"] = v
		}
	}
	dockerConfig := config.LoadDefaultConfigFile(io.Discard)
	attachables := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(dockerConfig),
	})}
	if len(f.secrets) > 0 {
		sp, err := build.ParseSecret(f.secrets)
		if err != nil {
			return nil, fmt.Errorf("--secret: %w", err)
		}
		attachables = append(attachables, sp)
	}
	_, selfFS, err := selfHelper()
	if err != nil {
		return nil, err
	}
	return &client.SolveOpt{
		Exports:       exports,
		LocalMounts:   map[string]fsutil.FS{"context": ctxFS, "dockerfile": specFS, selfLocal: selfFS},
		FrontendAttrs: attrs,
		Session:       attachables,
	}, nil
}

// engineError turns a dial failure into one sentence that says how to get
// an engine, instead of a gRPC stack.
func engineError(addr string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such file or directory") ||
		strings.Contains(msg, "connection error") || strings.Contains(msg, "Unavailable") || strings.Contains(msg, "dial") {
		return fmt.Errorf("no BuildKit engine answers at %s: start one (in the distill repo: `make setup`, then `eval \"$(make -s env)\"`; or run buildkitd yourself) and point --addr or BUILDKIT_HOST at it", addr)
	}
	return fmt.Errorf("BuildKit engine at %s: %w", addr, err)
}

func printWarnings(w io.Writer, ws []client.VertexWarning) {
	for _, vw := range ws {
		loc := ""
		if vw.SourceInfo != nil && len(vw.Range) > 0 && vw.Range[0].Start != nil {
			loc = fmt.Sprintf(" (%s:%d)", vw.SourceInfo.Filename, vw.Range[0].Start.Line)
		}
		fmt.Fprintf(w, "WARNING: %s%s\n", strings.TrimSpace(string(vw.Short)), loc)
		if vw.URL != "" {
			fmt.Fprintf(w, "  more: %s\n", vw.URL)
		}
	}
}

// parseAttest maps buildx's --attest type=T,k=v,... onto the frontend option
// attest:T=k=v,... that buildx sends.
func parseAttest(a string) (string, string, error) {
	fields, err := csvvalue.Fields(a, nil)
	if err != nil {
		return "", "", fmt.Errorf("--attest %q: %w", a, err)
	}
	typ := ""
	var rest []string
	for _, f := range fields {
		if v, ok := strings.CutPrefix(f, "type="); ok {
			typ = v
			continue
		}
		rest = append(rest, f)
	}
	switch typ {
	case "sbom", "provenance":
	default:
		return "", "", fmt.Errorf("--attest %q: type must be sbom or provenance", a)
	}
	return "attest:" + typ, strings.Join(rest, ","), nil
}

// buffered wraps a tarball output: the session streams it in small writes,
// and a 1 MiB buffer keeps a 20+ MB image from costing a syscall each.
func buffered(out func(map[string]string) (io.WriteCloser, error)) func(map[string]string) (io.WriteCloser, error) {
	if out == nil {
		return nil
	}
	return func(m map[string]string) (io.WriteCloser, error) {
		w, err := out(m)
		if err != nil {
			return nil, err
		}
		return &bufferedWriteCloser{Writer: bufio.NewWriterSize(w, 1<<20), c: w}, nil
	}
}

type bufferedWriteCloser struct {
	*bufio.Writer
	c io.Closer
}

func (b *bufferedWriteCloser) Close() error {
	ferr := b.Flush()
	if err := b.c.Close(); err != nil {
		return err
	}
	return ferr
}
