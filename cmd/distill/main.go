// Command distill builds secure-by-default container images from a short
// distill.yaml. `distill build` runs the same build function as the
// frontend image, in-process, against a BuildKit daemon; `distill frontend`
// is the frontend image's entrypoint.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	// --addr accepts every address buildctl does: docker-container://,
	// podman-container://, kube-pod://, nerdctl-container://, ssh://
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/nerdctlcontainer"
	_ "github.com/moby/buildkit/client/connhelper/podmancontainer"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := rootCmd()
	if err := cmd.ExecuteContext(ctx); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "distill:", err)
		os.Exit(1)
	}
}

// exitError carries an exit status for failures already reported to the
// user (validate lists its errors itself).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "distill",
		Short: "Build secure-by-default container images from distill.yaml",
		Long: `distill turns a short distill.yaml into a hardened two-stage BuildKit build:
a builder stage that installs your dependencies as a non-root user, and a
distroless (or Chainguard) runtime with no shell, no package manager and a
numeric non-root user.

New project? "distill init" writes a commented distill.yaml for it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(initCmd(), buildCmd(), validateCmd(), lockCmd(), llbCmd(), schemaCmd(), versionCmd(), frontendCmd(), helperCmd())
	return root
}
