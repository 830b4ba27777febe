// Command standin holds the small programs the stand-in image recipes
// (integration/testbed/images) need besides the shell: images/build.sh
// builds it once per run, static (CGO_ENABLED=0), into $DISTILL_WORK/bin.
//
//	standin wheel DIR          write thewheel-1.0-py3-none-any.whl (a package with a
//	                           console script, thewheel-hello) into DIR, for the
//	                           builders' venv checks
//	standin check CHECK...     run inside a stand-in root filesystem (copied in, run
//	                           under chroot as the image's user); the checks:
//	  certs                    the system CA pool (SSL_CERT_FILE unset) has >= 100 CAs
//	  user NAME UID HOME       user.Current() from /etc/passwd (pure Go) matches
//	  tz                       tzdata: time.LoadLocation works
//	  writable DIR...          the current user can create files there (last check)
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "standin: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: standin wheel DIR | standin check CHECK...")
	}
	switch args[0] {
	case "wheel":
		if len(args) != 2 {
			return fmt.Errorf("usage: standin wheel DIR")
		}
		p, err := writeWheel(args[1])
		if err == nil {
			fmt.Println("standin: wrote", p)
		}
		return err
	case "check":
		return check(args[1:])
	}
	return fmt.Errorf("unknown command %q", args[0])
}
