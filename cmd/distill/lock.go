package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/frontend"
	"github.com/distill-build/distill/lang"
	"github.com/distill-build/distill/lock"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
)

func lockCmd() *cobra.Command {
	var file, addr string
	var check bool
	var plats []string
	cmd := &cobra.Command{
		Use:   "lock [-f FILE] [DIR]",
		Short: "Pin the spec's base images to digests in distill.lock (or --check for newer ones)",
		Long: `Resolve the builder and runtime tags of the spec's base pair to digests through
the BuildKit engine (so its registry mirrors and credentials apply, exactly as
in a build) and write distill.lock beside the spec. Builds use the locked
digests until the lock is updated.

With --check, write nothing and exit 1 when the registry has a newer digest
than the lock (or the lock is missing or no longer matches the spec): run it
on a schedule in CI to know when to update.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, specFile := specPath(file, args)
			s, err := loadSpec(specFile)
			if err != nil {
				return err
			}
			language, err := lang.For(s)
			if err != nil {
				return err
			}
			pair, err := language.Pair(s)
			if err != nil {
				return err
			}
			var ps []ocispecs.Platform
			for _, v := range plats {
				for _, one := range strings.Split(v, ",") {
					p, err := platforms.Parse(one)
					if err != nil {
						return fmt.Errorf("--platform %q: %w", one, err)
					}
					ps = append(ps, platforms.Normalize(p))
				}
			}
			fresh, err := resolveLockOnEngine(cmd.Context(), addr, pair, ps)
			if err != nil {
				return err
			}
			lockFile := filepath.Join(filepath.Dir(specFile), lock.Filename)
			if check {
				return checkLock(cmd, lockFile, fresh)
			}
			dt, err := fresh.Marshal()
			if err != nil {
				return err
			}
			if err := os.WriteFile(lockFile, dt, 0o644); err != nil {
				return err
			}
			for _, b := range fresh.Bases {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s@%s\n", b.Role, b.Ref, b.Digest)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "wrote", lockFile)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&file, "file", "f", "", "spec file (default DIR/distill.yaml)")
	fl.StringVar(&addr, "addr", defaultAddr(), "BuildKit daemon address (env BUILDKIT_HOST)")
	fl.BoolVar(&check, "check", false, "exit 1 when the lock is missing, stale, or the registry has newer digests; write nothing")
	fl.StringArrayVar(&plats, "platform", nil, "platform(s) to resolve for (default: the engine's)")
	return cmd
}

// checkLock compares the lock on disk with a fresh resolution.
func checkLock(cmd *cobra.Command, lockFile string, fresh *lock.File) error {
	dt, err := os.ReadFile(lockFile)
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: missing (run `distill lock`)\n", lockFile)
		return exitError{1}
	}
	cur, err := lock.Parse(dt)
	if err != nil {
		return err
	}
	outdated := 0
	for _, st := range lock.Compare(cur, fresh.Bases) {
		if st.Current() {
			fmt.Fprintln(cmd.OutOrStdout(), st.String())
			continue
		}
		fmt.Fprintln(cmd.ErrOrStderr(), st.String())
		outdated++
	}
	if outdated > 0 {
		fmt.Fprintln(cmd.ErrOrStderr(), "run `distill lock` to update")
		return exitError{1}
	}
	return nil
}

// resolveLockOnEngine runs the resolution as a gateway build on the engine,
// with no solve and no exporter.
func resolveLockOnEngine(ctx context.Context, addr string, pair assemble.Pair, ps []ocispecs.Platform) (*lock.File, error) {
	c, err := client.New(ctx, addr)
	if err != nil {
		return nil, engineError(addr, err)
	}
	defer c.Close()
	if _, err := c.Info(ctx); err != nil {
		return nil, engineError(addr, err)
	}
	var out *lock.File
	_, err = c.Build(ctx, client.SolveOpt{}, "distill-lock", func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
		f, err := frontend.ResolveLock(ctx, gc, pair, ps, time.Now())
		if err != nil {
			return nil, err
		}
		out = f
		return gateway.NewResult(), nil
	}, nil)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("lock resolution returned nothing")
	}
	return out, nil
}
