package main

import "github.com/distill-build/distill/pydeps"

// Markers are pydeps'; mklock decides only how a lock spells them and where
// they hold.

// lockMarker takes the extra condition out of a Requires-Dist marker (a
// lock lists such a dependency under its extra: see pydeps'
// Marker.SplitExtra) and writes `platform_system == 'Windows'` as
// `sys_platform == 'win32'`, the spelling uv uses for it, so that a package
// reached both ways gets one marker. Locks write the rest's Canonical text.
func lockMarker(m pydeps.Marker) (extras []string, rest pydeps.Marker, err error) {
	m, err = m.Rewrite(func(c pydeps.Comparison) pydeps.Comparison {
		if (c.Op == "==" || c.Op == "!=") && c.LeftVariable && c.Left == "platform_system" && !c.RightVariable && c.Right == "Windows" {
			c.Left, c.Right = "sys_platform", "win32"
		}
		return c
	})
	if err != nil {
		return nil, pydeps.Marker{}, err
	}
	return m.SplitExtra()
}

// truth says whether the marker holds in none, some or all of envs.
func truth(m pydeps.Marker, envs []pydeps.Env) (some, all bool) {
	if m.IsZero() {
		return true, true
	}
	all = true
	for _, e := range envs {
		if m.Eval(e) {
			some = true
		} else {
			all = false
		}
	}
	return some, all
}
