package helper

import "io"

// Apt runs as root with the network on and the apt caches mounted:
//
//	apt PACKAGE...
//
// One process keeps "update" and "install" in one cached step, so the
// package lists can never be older than the install that uses them.
func Apt(args []string, stdout, stderr io.Writer) error {
	env := []string{"DEBIAN_FRONTEND=noninteractive"}
	keep := []string{"-o", "APT::Keep-Downloaded-Packages=true"}
	update := append(append([]string{"apt-get", "-q"}, keep...), "update")
	if err := (Proc{Argv: update, Env: env, Stdout: stdout, Stderr: stderr}).Run(); err != nil {
		return err
	}
	install := append(append(append([]string{"apt-get", "-q", "-y", "--no-install-recommends"}, keep...), "install"), args...)
	return Proc{Argv: install, Env: env, Stdout: stdout, Stderr: stderr}.Run()
}
