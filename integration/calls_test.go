//go:build integration

package integration

import (
	"context"
	"strings"
	"testing"
	"time"
)

// buildxCall runs `docker buildx build --call=WHAT` on an app.
func buildxCall(t *testing.T, a app, what string, extra ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"build", "--builder", "distill-testbed", "-f", a.spec, "--call=" + what}, extra...)
	return run(t, ctx, nil, "buildx", append(args, a.dir)...)
}

// TestCallCheck: --call=check runs distill's rules through the frontend
// image and prints each finding with its rule, docs link and spec line.
func TestCallCheck(t *testing.T) {
	need(t)
	a := copyExample(t, "python-deps", func(s string) string {
		s = strings.Replace(s, "    NAME: distill\n", "    NAME: distill\n    GITHUB_TOKEN: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n", 1)
		return strings.Replace(s, "  ports: [8080]\n", "  ports: [80]\n", 1)
	})
	out, err := buildxCall(t, a, "check")
	if err == nil {
		t.Error("--call=check with findings exited 0")
	}
	for _, want := range []string{
		"WARNING: SecretInSpec - https://github.com/distill-build/distill/blob/main/docs/rules.md#secretinspec",
		"WARNING: PrivilegedPort",
		"WARNING: MissingLock",
		"ports: [80]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, tail(out, 40))
		}
	}
	// the spec excerpt shows the user's own line; the finding's message
	// (the line after the rule header) must not repeat the token
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "WARNING: SecretInSpec") && i+1 < len(lines) && strings.Contains(lines[i+1], "ghp_0123456789") {
			t.Errorf("the SecretInSpec message echoes the token: %q", lines[i+1])
		}
	}

	clean := copyExample(t, "python-http", nil)
	if out, err := run(t, context.Background(), nil, tb.distill, "lock", clean.dir); err != nil {
		t.Fatalf("lock: %v\n%s", err, out)
	}
	if out, err := buildxCall(t, clean, "check"); err != nil || !strings.Contains(out, "Check complete, no warnings found") {
		t.Errorf("a locked, clean app has findings (%v):\n%s", err, tail(out, 30))
	}
}

// TestCallTargetsOutlineAndBuilderTarget: --call=targets lists the image
// and the builder stage; --call=outline names the index secret; --target
// builder builds the builder stage, where pip's work can be inspected.
func TestCallTargetsOutlineAndBuilderTarget(t *testing.T) {
	need(t)
	a := copyExample(t, "python-deps", func(s string) string {
		return strings.Replace(s, "  indexUrl: "+tb.indexURL+"\n", "  indexUrlSecret: pip-index\n", 1)
	})
	out, err := buildxCall(t, a, "targets")
	if err != nil || !strings.Contains(out, "python-deps (default)") || !strings.Contains(out, "builder") {
		t.Errorf("--call=targets (%v):\n%s", err, tail(out, 20))
	}
	out, err = buildxCall(t, a, "outline")
	if err != nil || !strings.Contains(out, "pip-index") || !strings.Contains(out, "SOURCE_DATE_EPOCH") || !strings.Contains(out, "dependencies: requirements.txt") {
		t.Errorf("--call=outline does not list the secret, SOURCE_DATE_EPOCH and the dependency source (%v):\n%s", err, tail(out, 20))
	}

	b := copyExample(t, "python-deps", nil)
	tar, _ := build(t, b, viaCLI, "--target", "builder")
	img := load(t, tar)
	if img.Config.Config.User != "10001:10001" {
		t.Errorf("builder target user %q, want the build user", img.Config.Config.User)
	}
	found := false
	for p := range img.Files() {
		if strings.HasPrefix(p, "/opt/venv/lib/") && strings.HasSuffix(p, "/greeting/__init__.py") {
			found = true
		}
	}
	if !found {
		t.Error("the builder target has no venv with the installed packages")
	}
}

// TestStrictPolicy: policy.strict turns the end-of-life warning into a
// build error that names the rule and the spec line.
func TestStrictPolicy(t *testing.T) {
	need(t)
	a := copyExample(t, "python-http", func(s string) string {
		return strings.Replace(s, `version: "3.13"`, `version: "3.11"`, 1) + "policy:\n  strict: true\n"
	})
	for _, via := range []entry{viaCLI, viaBuildx} {
		_, out, err := tryBuild(t, a, via)
		if err == nil {
			t.Fatalf("%s: strict build on an end-of-life base succeeded", via)
		}
		// python.version is line 7, its value at column 12
		want := `distill.yaml:7:12: EndOfLifeBase: gcr.io/distroless/python3-debian12 reached end of life`
		if !strings.Contains(out, want) || !strings.Contains(out, "(policy.strict turns every warning into an error;") {
			t.Errorf("%s: strict failure lacks %q and the policy.strict note:\n%s", via, want, tail(out, 20))
		}
	}
}
