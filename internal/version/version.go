// Package version holds the build's version string, set with
// -ldflags "-X github.com/distill-build/distill/internal/version.Version=...".
package version

import "runtime/debug"

// Version is the release version; "dev" in a plain `go build`.
var Version = "dev"

// String returns the version plus the module's VCS revision when known.
func String() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
