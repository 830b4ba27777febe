// Command testbed runs the real-engine test bed of the end-to-end tests:
// a local registry, buildkitd and the loopback Python package index on
// 127.0.0.1, all state under $DISTILL_WORK (default <repo>/.work). See
// integration/testbed/README.md; integration/testbed/testbed.sh builds
// and runs it.
//
//	testbed setup           install OS packages, build tools, real wheels, build+push stand-in images (idempotent)
//	testbed up              start what is not running, push stand-ins, (re)build the frontend image (idempotent)
//	testbed down            stop everything this work dir runs (by PID)
//	testbed env [-json]     print the shell exports for the test bed (or the environment file's JSON)
//	testbed with CMD...     up, run CMD with the env, stop what `up` had to start (the last of
//	                        concurrent `with` runs does); exit with CMD's status
//	testbed frontend-image  build and push the frontend image from the repo's Dockerfile
//	testbed status          show what is running
//
// Environment: DISTILL_WORK, DISTILL_REGISTRY_PORT (5000), DISTILL_INDEX_PORT (3141),
// DISTILL_SKIP_IMAGES=1 (setup/up do not build or push the stand-in images),
// DISTILL_SKIP_FRONTEND=1 (up does not build the frontend image),
// DISTILL_SKIP_REALWHEELS=1 (setup does not repack the real wheels from Debian .debs),
// DISTILL_FRONTEND_GOPROXY (GOPROXY for the frontend image build; default: the
// host's module cache served by the index at /goproxy/).
// -repo DIR names the repository (default: found from the working directory).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/distill-build/distill/integration/bedenv"
	"github.com/distill-build/distill/integration/testbed"
)

const usage = `usage: testbed [-repo DIR] COMMAND
  setup           install OS packages, build tools, real wheels, build+push stand-in images (idempotent)
  up              start what is not running, push stand-ins, (re)build the frontend image (idempotent)
  down            stop everything this work dir runs (by PID)
  env [-json]     print the shell exports for the test bed (eval "$(testbed env)"), or its JSON
  with CMD...     up, run CMD with the env, stop what up had to start (the last of
                  concurrent with runs does); exit with CMD's status
  frontend-image  build and push the frontend image from the repo's Dockerfile
  status          show what is running
environment: DISTILL_WORK, DISTILL_REGISTRY_PORT (5000), DISTILL_INDEX_PORT (3141),
  DISTILL_SKIP_IMAGES, DISTILL_SKIP_FRONTEND, DISTILL_SKIP_REALWHEELS, DISTILL_FRONTEND_GOPROXY
`

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("testbed", flag.ContinueOnError)
	repo := fs.String("repo", "", "the distill repository (default: found from the working directory)")
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	args = fs.Args()
	if len(args) == 0 {
		fs.Usage()
		return 2
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return 0
	case "setup", "up", "down", "env", "with", "frontend-image", "status":
	default:
		fmt.Fprintf(os.Stderr, "testbed: unknown command %q\n%s", sub, usage)
		return 2
	}
	if *repo == "" {
		r, err := findRepo()
		if err != nil {
			fmt.Fprintf(os.Stderr, "testbed: %v\n", err)
			return 2
		}
		*repo = r
	}
	// the tools the bed runs need go; on these machines it lives in /usr/local/go
	if _, err := exec.LookPath("go"); err != nil {
		os.Setenv("PATH", "/usr/local/go/bin"+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	o, err := testbed.OptionsFromEnv(*repo, os.Getenv)
	if err == nil {
		err = runSub(sub, args, o)
	}
	var exit testbed.ExitError
	if err != nil && !errors.As(err, &exit) {
		// the command's own status needs no message; the test bed's errors do
		fmt.Fprintf(os.Stderr, "testbed: error: %v\n", err)
	}
	return testbed.ExitCode(err)
}

func runSub(sub string, args []string, o testbed.Options) error {
	b, err := testbed.New(o)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if sub != "with" && sub != "env" && len(args) > 0 {
		return fmt.Errorf("%s takes no arguments", sub)
	}
	switch sub {
	case "setup":
		return b.Setup(ctx)
	case "up":
		return b.Up(ctx)
	case "down":
		return b.Down(ctx)
	case "status":
		return b.Status(ctx, os.Stdout)
	case "frontend-image":
		return b.FrontendImage(ctx)
	case "with":
		return b.With(ctx, args)
	case "env":
		switch {
		case len(args) == 0:
			fmt.Print(b.Env().Shell())
			return nil
		case len(args) == 1 && args[0] == "-json":
			// the file `up` wrote, checked: it says which PIDs ran then
			p := bedenv.Path(b.Env().Vars["DISTILL_WORK"])
			if _, err := bedenv.Read(p); errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%s does not exist: run 'testbed.sh up' first", p)
			} else if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err == nil {
				_, err = os.Stdout.Write(data)
			}
			return err
		}
		return fmt.Errorf("usage: testbed env [-json]")
	}
	return nil
}

// findRepo walks up from the working directory to the go.mod of the
// distill module.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 64 {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/distill-build/distill\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("not inside the distill repository: pass -repo DIR")
}
