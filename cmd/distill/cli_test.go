package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/gatewaytest"
	"github.com/distill-build/distill/lock"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := rootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestBuildWithoutEngineSaysHowToStartOne(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "missing.sock")
	_, err := run(t, "build", "--addr", "unix://"+sock, "--progress", "quiet", "../../examples/python-http")
	if err == nil {
		t.Fatal("build against a missing engine succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "no BuildKit engine answers at unix://"+sock) || !strings.Contains(msg, "BUILDKIT_HOST") || strings.Contains(msg, "\n") {
		t.Errorf("want one sentence naming the address and how to start an engine, got %q", msg)
	}
}

func TestBuildFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"build", "--build-arg", "NOVALUE", "../../examples/python-http"}, "want KEY=VALUE"},
		{[]string{"build", "-o", "dest=x.tar", "../../examples/python-http"}, "--output"},
		{[]string{"build", t.TempDir()}, "no spec"},
		{[]string{"build", "--attest", "type=vex", "../../examples/python-http"}, "type must be sbom or provenance"},
	} {
		_, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestValidateExamplesAndSchema(t *testing.T) {
	for _, ex := range []struct{ name, deps string }{
		{"python-http", "dependencies: none"},
		{"python-deps", "dependencies: requirements.txt (requirements, from python.requirements)"},
		{"flask-pyproject", "dependencies: pyproject.toml (pyproject, detected)"},
		{"fastapi-uv", "dependencies: uv.lock (uv.lock, detected)"},
		{"poetry-app", "dependencies: poetry.lock (poetry.lock, detected)"},
		{"django-gunicorn", "dependencies: requirements.txt (requirements, detected)"},
	} {
		out, err := run(t, "validate", "../../examples/"+ex.name)
		if err != nil || !strings.Contains(out, ": ok (") || !strings.Contains(out, ex.deps) {
			t.Errorf("validate %s: %v %s\nwant %q", ex.name, err, out, ex.deps)
		}
	}
	// a lock that lacks a pyproject.toml dependency fails validate too
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/fastapi-uv")); err != nil {
		t.Fatal(err)
	}
	py, _ := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if err := os.WriteFile(filepath.Join(dir, "pyproject.toml"), []byte(strings.Replace(string(py), "dependencies = [", "dependencies = [\n    \"requests>=2\",", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "validate", dir); err == nil || !strings.Contains(out, `dependency "requests" is not in uv.lock`) {
		t.Errorf("validate of a stale uv.lock: %v %s", err, out)
	}
	out, err := run(t, "schema")
	if err != nil || !strings.Contains(out, `"apiVersion"`) {
		t.Errorf("schema: %v %.200s", err, out)
	}
}

func TestValidateReportsLineAndColumn(t *testing.T) {
	dir := t.TempDir()
	bad := "apiVersion: distill/v1\nname: demo\nlanguage: python\nruntime: alpine\napp:\n  entrypoint: [python, app.py]\n"
	if err := os.WriteFile(filepath.Join(dir, "distill.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "validate", dir)
	if err == nil {
		t.Fatal("validate accepted runtime: alpine")
	}
	if !strings.Contains(out, "distill.yaml:4:10:") || !strings.Contains(out, "distroless") || !strings.Contains(out, "chainguard") {
		t.Errorf("want FILE:4:10 and the allowed runtimes, got %q", out)
	}
}

func TestFailedDialLeavesNoOutputFile(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "image.tar")
	_, err := run(t, "build", "--addr", "unix://"+filepath.Join(t.TempDir(), "none.sock"), "--progress", "quiet", "-o", "type=oci,dest="+dest, "../../examples/python-http")
	if err == nil {
		t.Fatal("build without an engine succeeded")
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("a failed build left %s behind (stat: %v)", dest, err)
	}
}

// TestValidateReadsTheLockBesideTheSpec: `distill validate -f
// sub/distill.yaml DIR` reads sub/distill.lock, as a build does (the lock
// is beside the spec, in the `dockerfile` local), and not DIR/distill.lock.
func TestValidateReadsTheLockBesideTheSpec(t *testing.T) {
	example, err := filepath.Abs("../../examples/python-http")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lockIn      string // directory of distill.lock, relative to DIR
		missingLock bool
	}{
		{"sub", false},
		{".", true},
	} {
		dir := t.TempDir()
		sub := filepath.Join(dir, "sub")
		if err := os.CopyFS(dir, os.DirFS(example)); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		specFile := filepath.Join(sub, "distill.yaml")
		if err := os.Rename(filepath.Join(dir, "distill.yaml"), specFile); err != nil {
			t.Fatal(err)
		}
		in, _, _, err := validateFindings(context.Background(), dir, specFile)
		if err != nil {
			t.Fatal(err)
		}
		lf, err := gatewaytest.LockFile(in.Pair)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, tc.lockIn, lock.Filename), lf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		out, err := run(t, "validate", "-f", "sub/distill.yaml", ".")
		if err != nil || !strings.Contains(out, "sub/distill.yaml: ok (") {
			t.Errorf("lock in %s: validate failed: %v %s", tc.lockIn, err, out)
		}
		if got := strings.Contains(out, "MissingLock"); got != tc.missingLock {
			t.Errorf("lock in %s: MissingLock reported %v, want %v:\n%s", tc.lockIn, got, tc.missingLock, out)
		}
	}
}

// distill llb describes the build for the platform asked, not always
// linux/amd64, and refuses a value that is not a platform.
func TestLLBPlatform(t *testing.T) {
	platformsOf := func(out string) map[string]bool {
		seen := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var op struct {
				Op struct {
					Platform struct {
						Architecture string `json:"Architecture"`
					} `json:"platform"`
				} `json:"op"`
			}
			if err := json.Unmarshal([]byte(line), &op); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if a := op.Op.Platform.Architecture; a != "" {
				seen[a] = true
			}
		}
		return seen
	}
	for _, tc := range []struct{ flag, arch string }{{"linux/amd64", "amd64"}, {"linux/arm64", "arm64"}} {
		out, err := run(t, "llb", "--json", "--platform", tc.flag, "../../examples/python-http")
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.flag, err, out)
		}
		if got := platformsOf(out); len(got) != 1 || !got[tc.arch] {
			t.Errorf("--platform %s: ops for %v, want only %s", tc.flag, got, tc.arch)
		}
	}
	if out, err := run(t, "llb", "--platform", "not a platform", "../../examples/python-http"); err == nil || !strings.Contains(err.Error(), `--platform "not a platform"`) {
		t.Errorf("a bad platform: %v\n%s", err, out)
	}
}
