package python

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzBuild feeds arbitrary specs through the whole generation path the
// frontend takes: spec.Parse, then for every spec that parses SelectPair,
// Build and Marshal. The seed corpus is testdata/fuzz/FuzzBuild (run on every
// go test); explore with
//
//	go test -fuzz=FuzzBuild -fuzztime=5m ./llb/
//
// Generation must never panic or fail for a valid spec, must be a pure
// function of its inputs (the same bytes twice), and no exec may run a
// program text made from spec data: the only `-c` programs are distill's own
// fixed scripts, and a shell runs only when it is literally one of the
// user's build.commands.
func FuzzBuild(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("generation from %d bytes took over 10s", len(data))) })
		defer watchdog.Stop()
		s, err := spec.Parse("distill.yaml", data)
		if err != nil {
			return
		}
		req := ""
		switch {
		case s.Python.Requirements != "":
			req = s.Python.Requirements
		case len(data)%2 == 0:
			// the frontend's default when the context has the file
			req = spec.DefaultRequirements
		}
		a, cfgA := fuzzGenerate(t, s, data, req)
		b, cfgB := fuzzGenerate(t, s, data, req)
		if !bytes.Equal(a, b) {
			t.Fatal("the same spec marshalled to different definitions")
		}
		if !bytes.Equal(cfgA, cfgB) {
			t.Fatalf("the same spec gave different image configs:\n%s\n%s", cfgA, cfgB)
		}
	})
}

// fuzzGenerate builds and marshals one spec, checks every exec in the
// result, and returns the definition's bytes and the image config's JSON.
func fuzzGenerate(t *testing.T, s *spec.Spec, data []byte, req string) ([]byte, []byte) {
	t.Helper()
	pair, err := SelectPair(s)
	if err != nil {
		t.Fatalf("a spec that parses has no pair: %v", err)
	}
	epoch := time.Unix(1700000000, 0)
	bases := Bases{
		Builder: Image{Ref: pair.Builder, Digest: builderDigest, Config: dockerspec.DockerOCIImage{
			Config: dockerspec.DockerOCIImageConfig{ImageConfig: ocispecs.ImageConfig{Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}}},
		}},
		Runtime: Image{Ref: pair.Runtime, Digest: runtimeDigest, Config: dockerspec.DockerOCIImage{
			Config: dockerspec.DockerOCIImageConfig{ImageConfig: ocispecs.ImageConfig{Env: []string{"PATH=/usr/bin:/bin"}, User: "65532"}},
		}},
	}
	res, err := describe(s, pair, bases, Options{
		Context:         llb.Local("context"),
		Platform:        amd64,
		Deps:            Dependencies{RequirementsPath: req},
		CacheNamespace:  "ns/",
		SourceMap:       llb.NewSourceMap(nil, "distill.yaml", "yaml", data),
		SourceDateEpoch: &epoch,
	})
	if err != nil {
		t.Fatalf("Build of a valid spec failed: %v", err)
	}
	var raw []byte
	for _, st := range []llb.State{res.Image, res.Builder, res.SBOM} {
		def, err := st.Marshal(context.Background(), llb.Platform(amd64), llb.LocalUniqueID("fuzz"))
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		for _, dt := range def.Def {
			var op pb.Op
			if err := op.UnmarshalVT(dt); err != nil {
				t.Fatalf("marshalled op does not decode: %v", err)
			}
			if e := op.GetExec(); e != nil {
				checkExec(t, s, e)
			}
			raw = append(raw, dt...)
		}
	}
	cfg, err := json.Marshal(res.Config)
	if err != nil {
		t.Fatalf("image config: %v", err)
	}
	c := res.Config.Config
	if !slices.Equal(c.Entrypoint, s.App.Entrypoint) || c.User != assemble.RuntimeUser {
		t.Fatalf("config entrypoint %q user %q, want %q as %s", c.Entrypoint, c.User, s.App.Entrypoint, assemble.RuntimeUser)
	}
	for _, l := range s.App.Labels {
		if got, ok := c.Labels[l.Key]; !ok || (got != l.Value && !distillLabel(l.Key)) {
			t.Fatalf("label %q = %q, want %q verbatim", l.Key, got, l.Value)
		}
	}
	for _, e := range s.App.Env {
		if !slices.Contains(c.Env, e.Name+"="+e.Value) {
			t.Fatalf("app env %s not verbatim in %q", e.Name, c.Env)
		}
	}
	return raw, cfg
}

func distillLabel(k string) bool {
	switch k {
	case assemble.LabelBaseName, assemble.LabelBaseDigest, assemble.LabelBuilderName, assemble.LabelBuilderDigest, assemble.LabelInterpreter:
		return true
	}
	return false
}

var shells = []string{"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox", "env"}

// checkExec asserts an exec is either one of the user's build commands,
// verbatim, or one of distill's own steps, whose program text is fixed and
// whose user data arrives as whole argv elements.
func checkExec(t *testing.T, s *spec.Spec, e *pb.ExecOp) {
	t.Helper()
	args := e.Meta.Args
	if len(args) == 0 {
		t.Fatal("exec with no argv")
	}
	for _, cmd := range s.Build.Commands {
		if slices.Equal(args, cmd) {
			for _, env := range s.Build.Env {
				if !slices.Contains(e.Meta.Env, env.Name+"="+env.Value) {
					t.Fatalf("build env %s not passed verbatim to %q: %q", env.Name, args, e.Meta.Env)
				}
			}
			if e.Network != pb.NetMode_NONE {
				t.Fatalf("build command %q has network %v", args, e.Network)
			}
			if e.Meta.User == "0:0" || e.Meta.User == "root" || e.Meta.User == "" {
				t.Fatalf("build command %q runs as %q", args, e.Meta.User)
			}
			return
		}
	}
	// not a user command: it must be distill's own step
	if slices.Contains(shells, path.Base(args[0])) {
		t.Fatalf("distill runs a shell: %q", args)
	}
	// no step of distill's passes a program text to an interpreter: its
	// steps are the helper, pip or the venv's creation
	if slices.Contains(args, "-c") {
		t.Fatalf("exec %q passes a program text to an interpreter", truncateArgs(args))
	}
	for _, env := range e.Meta.Env {
		if strings.ContainsRune(env, 0) {
			t.Fatalf("NUL in env %q", env)
		}
	}
	switch {
	case isHelper(e, "apt"):
		if !slices.Equal(args[3:], s.Build.AptPackages) {
			t.Fatalf("apt packages %q, want %q one per argument", args[3:], s.Build.AptPackages)
		}
	case slices.Contains(args, "pip") && slices.Contains(args, "install"):
		if i := slices.Index(args, "--index-url"); s.Python.IndexURL != "" && (i < 0 || args[i+1] != s.Python.IndexURL) {
			t.Fatalf("index URL not one argument: %q", args)
		}
		if s.Python.IndexURL == "" && slices.Contains(args, "--index-url") {
			t.Fatalf("index URL without one in the spec: %q", args)
		}
	}
}

func truncateArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 80 {
			a = a[:80] + "..."
		}
		out[i] = a
	}
	return out
}

// fuzzSeeds are written to testdata/fuzz/FuzzBuild as well; these cover each
// field that reaches a build step, with hostile values.
var fuzzSeeds = []string{
	"apiVersion: distill/v1\nname: a\nlanguage: python\napp: {entrypoint: [python, app.py]}\n",
	`apiVersion: distill/v1
name: hostile
language: python
python:
  version: "3.13"
  requirements: "req; touch PWNED.txt"
  indexUrl: "https://pypi.example/simple?x=$(id)&y=` + "`id`" + `;z"
build:
  aptPackages: [gcc, libpq-dev=1:2.3-4+b1]
  env:
    A: "$(touch /tmp/PWNED)"
    B: "` + "`id`" + `; rm -rf / && echo \"q\" 'q'"
    C: "line1\nline2"
  commands:
    - [python, -c, "import sys; print(sys.argv)", "; touch PWNED", "$(touch PWNED2)", "&& x", "` + "`y`" + `", "'\"", "a\nb"]
    - [sh, -c, "echo user's own shell"]
app:
  include: [app.py, "src dir/", "-weird"]
  exclude: ["**/*_test.py", "!keep"]
  workdir: /srv/my app
  entrypoint: [python, "-c", "$(id)", "; ls"]
  env: {PORT: "8080", X: "$(touch /PWNED)"}
  ports: [8080, 9090]
  labels:
    org.example.a: "` + "`touch /PWNED`" + `"
    org.example.b: "a\nb; c && d"
`,
	`apiVersion: distill/v1
name: cg
language: python
runtime: chainguard
build:
  commands: [[bash, -c, "x"], [python, -m, compileall, .]]
app:
  entrypoint: [python, app.py]
base:
  builder: registry.example/py:dev@sha256:0000000000000000000000000000000000000000000000000000000000000000
  runtime: registry.example/py:run
`,
	`apiVersion: distill/v1
name: eol
language: python
python: {version: "3.11", indexUrl: "http://127.0.0.1:3141/simple"}
build: {env: {PIP_NO_CACHE_DIR: "1"}}
app: {entrypoint: [python, app.py], workdir: /app/x, labels: {org.opencontainers.image.base.name: spoof}}
`,
}
