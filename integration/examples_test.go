//go:build integration

package integration

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestExamples builds every example on every runtime through every entry
// path, checks the invariants on the exported image, runs it as its
// configured user and asks the app over HTTP.
func TestExamples(t *testing.T) {
	need(t)
	for _, ex := range []struct {
		name, want string
	}{
		{"python-http", "hello from python-http"},
		{"python-deps", "python-deps says: hello, distill!"},
	} {
		for _, rt := range runtimes {
			for _, via := range entries {
				t.Run(fmt.Sprintf("%s/%s/%s", ex.name, rt.name, via), func(t *testing.T) {
					edit := rt.edit
					if via == viaBuildctl {
						// the literal local-registry form of the directive
						edit = func(s string) string { return localSyntax(rt.edit(s)) }
					}
					a := copyExample(t, ex.name, edit)
					tar, out := build(t, a, via)
					// buildctl's plain printer never prints build warnings
					// (BuildKit delivers them: --progress rawjson has them);
					// buildx and the CLI print them
					if rt.name == "distroless-3.11" && via != viaBuildctl && !strings.Contains(out, "EndOfLifeBase") {
						t.Errorf("3.11 build did not warn that its base is end of life:\n%s", tail(out, 30))
					}
					img := load(t, tar)
					checkImage(t, img)
					get := serve(t, img)
					if body := get("/"); strings.TrimSpace(body) != ex.want {
						t.Errorf("GET / = %q, want %q", body, ex.want)
					}
					info := infoOf(t, get("/info"))
					if info["uid"] != float64(65532) || !strings.HasPrefix(fmt.Sprint(info["python"]), rt.wantPython) || info["prefix"] != "/opt/venv" {
						t.Errorf("/info = %v, want uid 65532, python %s*, prefix /opt/venv", info, rt.wantPython)
					}
				})
			}
		}
	}
}

var syntaxLine = regexp.MustCompile(`(?m)\A# syntax=\S+`)

// localSyntax points the # syntax= directive at the frontend image in the
// test bed registry by its literal address (tb.syntax).
func localSyntax(s string) string {
	return syntaxLine.ReplaceAllString(s, "# syntax="+tb.syntax)
}
