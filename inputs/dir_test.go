package inputs

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Dir reads what a build would: the lock beside the spec (not in the
// context), SPEC.dockerignore before .dockerignore, and context files with
// the excludes applied and no link leading out.
func TestDir(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	outside := t.TempDir()
	write(t, outside, map[string]string{"secret.txt": "s"})
	write(t, root, map[string]string{
		"ctx/requirements.txt":              "flask\n",
		"ctx/.dockerignore":                 "ignored.txt\n",
		"ctx/ignored.txt":                   "x",
		"ctx/distill.lock":                  "context lock",
		"ctx/dir/a":                         "a",
		"ctx/sub/distill.yaml":              "apiVersion: distill/v1\n",
		"ctx/sub/distill.lock":              "spec lock",
		"ctx/sub/distill.yaml.dockerignore": "requirements.txt\n",
		"ctx/other/distill.yaml":            "x",
	})
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "ctx", "escape.txt")); err != nil {
		t.Fatal(err)
	}
	d := Dir{Context: filepath.Join(root, "ctx"), SpecFile: filepath.Join(root, "ctx", "sub", "distill.yaml")}
	name, data, err := d.Spec(ctx)
	if err != nil || name != "distill.yaml" || !strings.HasPrefix(string(data), "apiVersion") {
		t.Fatalf("Spec() = %q, %q, %v", name, data, err)
	}
	if lock, err := d.Lock(ctx, name); err != nil || string(lock) != "spec lock" {
		t.Errorf("Lock() = %q, %v, want the lock beside the spec", lock, err)
	}
	if ign, err := d.Ignore(ctx, name); err != nil || !reflect.DeepEqual(ign, []string{"requirements.txt"}) {
		t.Errorf("Ignore() = %q, %v, want SPEC.dockerignore's patterns", ign, err)
	}
	other := Dir{Context: d.Context, SpecFile: filepath.Join(root, "ctx", "other", "distill.yaml")}
	if lock, err := other.Lock(ctx, ""); err != nil || lock != nil {
		t.Errorf("no lock beside the spec: Lock() = %q, %v", lock, err)
	}
	if ign, err := other.Ignore(ctx, ""); err != nil || !reflect.DeepEqual(ign, []string{"ignored.txt"}) {
		t.Errorf("Ignore() = %q, %v, want the context's .dockerignore", ign, err)
	}
	got, err := d.ReadContext(ctx, []string{"requirements.txt", "ignored.txt", "escape.txt", "missing.txt"}, []string{"ignored.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]byte{"requirements.txt": []byte("flask\n")}; !reflect.DeepEqual(got, want) {
		t.Errorf("ReadContext() = %q, want only the file that is there, not excluded and inside the context", got)
	}
	if _, err := d.ReadContext(ctx, []string{"dir"}, nil); err == nil || !strings.Contains(err.Error(), "dir is a directory") {
		t.Errorf("a directory: %v", err)
	}
	if _, err := d.ReadContext(ctx, []string{"x"}, []string{"["}); err == nil {
		t.Error("a malformed pattern was accepted")
	}
}
