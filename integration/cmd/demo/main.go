// Command demo is what `make demo` runs once the test bed is up: it builds
// an example with the distill CLI on the local BuildKit, exports it as an
// OCI tarball, checks the DESIGN.md invariants on it, unpacks it, runs it
// with runc as its configured user, asks the app over HTTP on the loopback
// and prints a short summary. Any failure ends it with a non-zero status and
// one sentence saying what went wrong.
//
//	go run ./integration/cmd/demo -distill bin/distill -example examples/python-http
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/distill-build/distill/integration/bedenv"

	"github.com/distill-build/distill/integration/imagetest"
)

func main() {
	work := os.Getenv("DISTILL_WORK")
	if work == "" {
		work = ".work"
	}
	var o options
	flag.StringVar(&o.distill, "distill", "bin/distill", "path to the distill CLI")
	flag.StringVar(&o.example, "example", "examples/python-http", "the example directory to build")
	flag.StringVar(&o.envFile, "env", bedenv.Path(work), "the test bed's environment file (JSON, written by `make setup`)")
	flag.StringVar(&o.out, "out", filepath.Join(work, "demo"), "directory for the image tarball and the unpacked rootfs")
	flag.StringVar(&o.image, "image", "", "use this OCI tarball instead of building (skips the build)")
	flag.DurationVar(&o.buildTimeout, "build-timeout", 20*time.Minute, "how long the build may take")
	flag.DurationVar(&o.httpTimeout, "http-timeout", 60*time.Second, "how long the app may take to answer")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo FAILED: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	distill, example, envFile, out, image string
	buildTimeout, httpTimeout             time.Duration
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	tarPath := o.image
	var buildTime time.Duration
	if tarPath == "" {
		env, err := bedenv.Read(o.envFile)
		if err != nil {
			return fmt.Errorf("reading the test bed environment: %w (bring the test bed up with `make setup`)", err)
		}
		if err := env.Setenv(); err != nil {
			return err
		}
		if os.Getenv("BUILDKIT_HOST") == "" {
			return fmt.Errorf("%s sets no BUILDKIT_HOST, so there is no engine to build on", o.envFile)
		}
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
		tarPath = filepath.Join(o.out, "image.tar")
		os.Remove(tarPath) // a stale tarball must not pass for a fresh build
		t0 := time.Now()
		if err := build(ctx, o, tarPath, stderr); err != nil {
			return err
		}
		buildTime = time.Since(t0)
	}

	img, err := imagetest.LoadOCITar(tarPath)
	if err != nil {
		return fmt.Errorf("the exported image cannot be read: %w", err)
	}
	cfg := img.Config.Config
	var failures []string

	appPaths := []string{"/opt/venv"}
	if cfg.WorkingDir != "" && cfg.WorkingDir != "/" {
		appPaths = append(appPaths, cfg.WorkingDir)
	}
	violations := imagetest.CheckInvariants(img, nil, imagetest.CheckOptions{AppPaths: appPaths})
	if len(violations) > 0 {
		failures = append(failures, fmt.Sprintf("%d invariant violations", len(violations)))
	}

	labels := img.Labels()
	baseName, baseDigest := labels["org.opencontainers.image.base.name"], labels["org.opencontainers.image.base.digest"]
	if baseName == "" || baseDigest == "" {
		failures = append(failures, "the image does not record its base image name and digest in the org.opencontainers.image.base.* labels")
	}

	answer, runErr := runApp(ctx, o, img)
	if runErr != nil {
		failures = append(failures, runErr.Error())
	}

	w := func(k, format string, a ...any) { fmt.Fprintf(stdout, "  %-11s %s\n", k, fmt.Sprintf(format, a...)) }
	fmt.Fprintf(stdout, "\ndistill demo: %s\n", describeSource(o, tarPath, buildTime))
	w("image", "%s", img.ManifestDigest)
	if img.IndexDigest != "" {
		w("index", "%s (with attestations)", img.IndexDigest)
	}
	w("size", "%s compressed, %s uncompressed, %d files", human(img.CompressedSize()), human(img.UncompressedSize()), img.FileCount())
	w("layers", "%d", len(img.Layers))
	w("user", "%q", cfg.User)
	w("entrypoint", "%q", cfg.Entrypoint)
	if len(cfg.Cmd) > 0 {
		w("cmd", "%q", cfg.Cmd)
	}
	w("workdir", "%s", cfg.WorkingDir)
	w("ports", "%v", img.ExposedTCPPorts())
	w("base", "%s@%s", orNone(baseName), orNone(baseDigest))
	if len(violations) == 0 {
		w("invariants", "OK")
	} else {
		w("invariants", "%d violations:", len(violations))
		for _, v := range violations {
			fmt.Fprintf(stdout, "                - %v\n", v)
		}
	}
	if answer != "" {
		w("app", "%s", answer)
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	fmt.Fprintln(stdout, "\nOK")
	return nil
}

// build runs `distill build` with the OCI exporter and plain progress, so
// the log shows every step.
func build(ctx context.Context, o options, tarPath string, stderr io.Writer) error {
	if _, err := os.Stat(o.distill); err != nil {
		return fmt.Errorf("the distill CLI %s is missing (build it with `make bin`)", o.distill)
	}
	if _, err := os.Stat(filepath.Join(o.example, "distill.yaml")); err != nil {
		return fmt.Errorf("%s has no distill.yaml", o.example)
	}
	ctx, cancel := context.WithTimeout(ctx, o.buildTimeout)
	defer cancel()
	args := []string{"build", o.example, "--output", "type=oci,dest=" + tarPath, "--progress", "plain"}
	fmt.Fprintf(stderr, "+ %s %s\n", o.distill, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, o.distill, args...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		// A failed build may leave an empty or partial tarball behind.
		os.Remove(tarPath)
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("distill build did not finish within %s", o.buildTimeout)
		}
		return fmt.Errorf("distill build %s failed: %v (its log is above)", o.example, err)
	}
	if _, err := os.Stat(tarPath); err != nil {
		return fmt.Errorf("distill build succeeded but wrote no %s", tarPath)
	}
	return nil
}

// runApp unpacks the image, runs it as its user with PORT set to its first
// exposed port and returns the app's HTTP answer.
func runApp(ctx context.Context, o options, img *imagetest.Image) (string, error) {
	ports := img.ExposedTCPPorts()
	if len(ports) == 0 {
		return "", errors.New("the image exposes no TCP port, so there is nothing to ask")
	}
	port := ports[0]
	rootfs := filepath.Join(o.out, "rootfs")
	if o.image != "" {
		rootfs = filepath.Join(o.out, "rootfs-"+strings.TrimSuffix(filepath.Base(o.image), ".tar"))
	}
	if err := os.RemoveAll(rootfs); err != nil {
		return "", err
	}
	if err := imagetest.Unpack(img, rootfs); err != nil {
		return "", fmt.Errorf("unpacking the image: %w", err)
	}
	defer os.RemoveAll(rootfs)

	var logs bytes.Buffer
	c, err := imagetest.Run(ctx, rootfs, img, imagetest.RunOpts{
		Env:    []string{"PORT=" + strconv.Itoa(port)},
		Stdout: &logs, Stderr: &logs,
	})
	if err != nil {
		return "", fmt.Errorf("starting the image with runc: %w", err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	status, body, err := c.WaitHTTP(ctx, url, o.httpTimeout)
	if stopErr := c.Stop(); stopErr != nil && err == nil {
		err = fmt.Errorf("stopping the container: %w", stopErr)
	}
	if err != nil {
		return "", fmt.Errorf("%v; the app's output was:\n%s", err, indent(logs.String()))
	}
	answer := fmt.Sprintf("GET %s -> %d %q", url, status, strings.TrimSpace(body))
	if status != 200 {
		return answer, fmt.Errorf("the app answered GET %s with status %d", url, status)
	}
	return answer, nil
}

func describeSource(o options, tarPath string, buildTime time.Duration) string {
	if o.image != "" {
		return tarPath + " (given, not built)"
	}
	return fmt.Sprintf("%s built in %s -> %s", o.example, buildTime.Round(100*time.Millisecond), tarPath)
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (nothing)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
