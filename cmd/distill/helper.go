package main

import (
	"maps"

	"github.com/distill-build/distill/helper"
	"github.com/distill-build/distill/lang/python/pyhelper"
	"github.com/spf13/cobra"
)

// helperCmd runs the steps distill mounts its own binary for inside build
// containers (package helper): `distill helper COMMAND ARG...`. Its
// arguments are the command's own, flags included.
func helperCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "helper COMMAND [ARG...]",
		Short:              "Run a step inside a build container (used by the build itself)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := helper.Main(args, helperCommands(), cmd.OutOrStdout(), cmd.ErrOrStderr()); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
}

// helperCommands are the generic commands and every language's, with the
// languages' SBOM inventories.
func helperCommands() map[string]helper.Command {
	cmds := helper.Commands()
	maps.Copy(cmds, pyhelper.Commands())
	cmds["sbom"] = helper.SBOM(pyhelper.Inventories())
	return cmds
}
