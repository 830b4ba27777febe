package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/distill-build/distill/integration/testbed"
	"github.com/distill-build/distill/spec"
)

// The committed export the fastapi-uv expert installs pins exactly what
// examples/fastapi-uv/uv.lock locks: a relock without a new export fails
// here, not half-way through `make bench`.
func TestExpertExportMatchesLock(t *testing.T) {
	repo := filepath.Join("..", "..", "..")
	n, err := checkExport(filepath.Join(repo, "examples", "fastapi-uv"), "uv.lock", filepath.Join(repo, "bench", "expert", "fastapi-uv.requirements.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 12 {
		t.Errorf("%d packages, want the 12 the example's README names", n)
	}
}

func TestCheckExportReportsDrift(t *testing.T) {
	repo := filepath.Join("..", "..", "..")
	data, err := os.ReadFile(filepath.Join(repo, "bench", "expert", "fastapi-uv.requirements.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(string) string{
		"version": func(s string) string { return strings.Replace(s, "uvicorn==0.32.0", "uvicorn==0.31.0", 1) },
		"hash":    func(s string) string { return strings.Replace(s, "sha256:8988f6", "sha256:0988f6", 1) },
		"extra": func(s string) string {
			return s + "httpx==0.28.1 \\\n    --hash=sha256:cca77366f455f6428b2cff87028716ad00768c17455320873778fa3a75a841b0\n"
		},
	} {
		p := filepath.Join(t.TempDir(), "req.txt")
		if err := os.WriteFile(p, []byte(edit(string(data))), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := checkExport(filepath.Join(repo, "examples", "fastapi-uv"), "uv.lock", p); err == nil {
			t.Errorf("%s: an export that differs from the lock passed", name)
		}
	}
}

func TestWriteSpecVerifyOff(t *testing.T) {
	repo := filepath.Join("..", "..", "..")
	for _, ex := range []string{"python-deps", "fastapi-uv"} {
		data, err := os.ReadFile(filepath.Join(repo, "examples", ex, "distill.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "distill.yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := writeSpec(p, "", "http://127.0.0.1:3141/simple", "off"); err != nil {
			t.Fatal(err)
		}
		out, _ := os.ReadFile(p)
		s, err := spec.Parse(p, out)
		if err != nil {
			t.Fatal(err)
		}
		if s.Policy.Verify != "off" {
			t.Errorf("%s: policy.verify %q", ex, s.Policy.Verify)
		}
	}
}

func TestVerifyStepFromRawJSON(t *testing.T) {
	const name = `[verify] verify the image starts: entrypoint, libraries, imports (as 65532:65532, no network)`
	ran := `{"vertexes":[{"digest":"sha256:a","name":"` + name + `","started":"2026-01-01T00:00:01Z"}]}
{"vertexes":[{"digest":"sha256:a","name":"` + name + `","started":"2026-01-01T00:00:01Z","completed":"2026-01-01T00:00:01.5Z"}]}
{"vertexes":[{"digest":"sha256:b","name":"[app] copy app/","cached":true}]}
`
	cached := `{"vertexes":[{"digest":"sha256:a","name":"` + name + `","cached":true,"completed":"2026-01-01T00:00:01Z"}]}` + "\n"
	off := `{"vertexes":[{"digest":"sha256:b","name":"[app] copy app/"}]}` + "\n"
	for in, want := range map[string]verifyStep{ran: {State: "ran", Seconds: 0.5}, cached: {State: "cached"}, off: {State: "absent"}} {
		vs, err := readVertexes([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if got := vs.find(verifyVertex); got != want {
			t.Errorf("got %+v, want %+v for\n%s", got, want, in)
		}
	}
	if _, err := readVertexes([]byte("plain text\n")); err == nil {
		t.Error("no vertexes: want an error")
	}
}

func TestWriteEngineConfMirrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.toml")
	in := testbed.NewBuildkitdConfig("/x", "unix:///x/buildkitd.sock", "/x/otel.sock", "localhost:5000", 5000)
	if err := in.WriteFile(src); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "out.toml")
	if err := writeEngineConf(src, dst, "localhost:5000/bench-mirror"); err != nil {
		t.Fatal(err)
	}
	got, err := testbed.ReadBuildkitdConfig(dst)
	if err != nil {
		t.Fatal(err)
	}
	want := testbed.NewBuildkitdConfig("/x", "unix:///x/buildkitd.sock", "/x/otel.sock", "localhost:5000", 5000)
	want.Registry["docker.io"] = testbed.RegistryMirrors{Mirrors: []string{"localhost:5000/bench-mirror"}}
	want.Registry["gcr.io"] = testbed.RegistryMirrors{Mirrors: []string{"localhost:5000/bench-mirror"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
	if err := os.WriteFile(src, []byte("root = \"/x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeEngineConf(src, dst, "localhost:5000/bench-mirror"); err == nil {
		t.Error("a config without the mirrors sections passed")
	}
}
