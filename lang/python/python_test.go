package python

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

var (
	builderDigest = digest.FromString("builder")
	runtimeDigest = digest.FromString("runtime")
	amd64         = ocispecs.Platform{OS: "linux", Architecture: "amd64"}
)

func baseSpec() *spec.Spec {
	return &spec.Spec{
		APIVersion: spec.APIVersion, Name: "hello", Language: spec.LanguagePython,
		Runtime: spec.RuntimeDistroless,
		Python:  spec.Python{Version: "3.13"},
		App:     spec.App{Workdir: "/app", Entrypoint: []string{"python", "app.py"}, Ports: []int{8080}},
	}
}

func fullSpec() *spec.Spec {
	s := baseSpec()
	s.Python.IndexURL = "https://pypi.example/simple"
	s.Python.IndexURLSecret = "pip-index"
	s.Build.AptPackages = []string{"gcc", "libpq-dev"}
	s.Build.Env = []spec.EnvVar{{Name: "FOO", Value: "bar; rm -rf /"}}
	s.Build.Commands = [][]string{{"python", "-m", "compileall", "-q", "src"}, {"touch", "$(id)", "`x`;y && z"}}
	s.App.Env = []spec.EnvVar{{Name: "PORT", Value: "8080"}}
	s.App.Labels = []spec.Label{{Key: "org.opencontainers.image.source", Value: "https://example.com/repo"}}
	return s
}

// decoded is a marshalled definition read back into ops.
type decoded struct {
	ops  map[digest.Digest]*pb.Op
	meta map[digest.Digest]llb.OpMetadata
	raw  []byte
	head digest.Digest
}

func build(t *testing.T, s *spec.Spec, requirements string) (*Result, *decoded) {
	t.Helper()
	pair, err := SelectPair(s)
	if err != nil {
		t.Fatal(err)
	}
	bases := Bases{
		Builder: Image{Ref: pair.Builder, Digest: builderDigest, Config: dockerspec.DockerOCIImage{
			Config: dockerspec.DockerOCIImageConfig{ImageConfig: ocispecs.ImageConfig{Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}}},
		}},
		Runtime: Image{Ref: pair.Runtime, Digest: runtimeDigest, Config: dockerspec.DockerOCIImage{
			Config: dockerspec.DockerOCIImageConfig{ImageConfig: ocispecs.ImageConfig{
				Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
				User: "65532", Entrypoint: []string{"/usr/bin/python3.13"}, WorkingDir: "/home/nonroot",
			}},
		}},
	}
	res, err := describe(s, pair, bases, Options{
		Context: llb.Local("context"), Platform: amd64, Deps: Dependencies{RequirementsPath: requirements, Field: field(s)}, CacheNamespace: "ns/",
	})
	if err != nil {
		t.Fatal(err)
	}
	// a fixed local id stands in for the session id the frontend has
	def, err := res.Image.Marshal(context.Background(), llb.Platform(amd64), llb.LocalUniqueID("test"))
	if err != nil {
		t.Fatal(err)
	}
	d := &decoded{ops: map[digest.Digest]*pb.Op{}, meta: def.Metadata}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		dg := digest.FromBytes(dt)
		d.ops[dg] = &op
		d.raw = append(d.raw, dt...)
		d.head = dg
	}
	return res, d
}

func (d *decoded) execs() []*pb.ExecOp {
	var out []*pb.ExecOp
	for _, dg := range d.sorted() {
		if e := d.ops[dg].GetExec(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

func (d *decoded) sorted() []digest.Digest {
	var ks []digest.Digest
	for k := range d.ops {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// isHelper reports whether e runs distill's helper command cmd.
func isHelper(e *pb.ExecOp, cmd string) bool {
	a := e.Meta.Args
	return len(a) >= 3 && a[0] == assemble.HelperExe && a[1] == "helper" && a[2] == cmd
}

func isPip(e *pb.ExecOp) bool {
	return slices.Contains(e.Meta.Args, "pip") && slices.Contains(e.Meta.Args, "install")
}

func TestBuildUsersAndNetwork(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *spec.Spec
		req  string
		// wantNet are the steps allowed network access
		wantExecs int
	}{
		{"minimal", baseSpec(), "", 3},
		{"requirements", baseSpec(), "requirements.txt", 5},
		{"full", fullSpec(), "requirements.txt", 8},
		{"chainguard", func() *spec.Spec {
			s := baseSpec()
			s.Runtime = spec.RuntimeChainguard
			s.Python.Version = ""
			return s
		}(), "requirements.txt", 5},
		{"runtime packages", func() *spec.Spec {
			s := fullSpec()
			s.App.RuntimePackages = []string{"libpq5"}
			return s
		}(), "requirements.txt", 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, d := build(t, tc.s, tc.req)
			execs := d.execs()
			if len(execs) != tc.wantExecs {
				t.Fatalf("got %d execs, want %d", len(execs), tc.wantExecs)
			}
			for _, e := range execs {
				root := e.Meta.User == "0:0"
				if root != (isHelper(e, "apt") || isHelper(e, "prepare") || isHelper(e, "runtime-packages")) {
					t.Errorf("exec %q runs as %q: only apt, runtime packages and directory setup may run as root", e.Meta.Args[:min(3, len(e.Meta.Args))], e.Meta.User)
				}
				if !root && e.Meta.User != "10001:10001" {
					t.Errorf("exec %q runs as %q, want the build user 10001:10001", e.Meta.Args, e.Meta.User)
				}
				online := e.Network != pb.NetMode_NONE
				if online != (isPip(e) || isHelper(e, "apt") || isHelper(e, "runtime-packages") || isHelper(e, "python-project")) {
					t.Errorf("exec %q network %v: only dependency steps may have network", e.Meta.Args[:min(3, len(e.Meta.Args))], e.Network)
				}
				if a := e.Meta.Args; (a[0] == "sh" || a[0] == "/bin/sh" || a[0] == "bash") && slices.Contains(a, "-c") {
					t.Errorf("exec runs a shell: %q", a)
				}
			}
		})
	}
}

func TestPipStep(t *testing.T) {
	_, d := build(t, fullSpec(), "requirements.txt")
	var pip *pb.ExecOp
	for _, e := range d.execs() {
		if isPip(e) {
			pip = e
		}
	}
	if pip == nil {
		t.Fatal("no pip install exec")
	}
	var cacheIDs []string
	for _, m := range pip.Mounts {
		if m.MountType == pb.MountType_CACHE {
			cacheIDs = append(cacheIDs, m.CacheOpt.ID)
		}
		if m.Dest == requirementsMount && !m.Readonly {
			t.Error("requirements mount is writable")
		}
	}
	if want := []string{"ns/distill/pip/docker.io/library/python:3.13-slim-trixie"}; !slices.Equal(cacheIDs, want) {
		t.Errorf("pip cache ids %q, want %q", cacheIDs, want)
	}
	if len(pip.Secretenv) != 1 || pip.Secretenv[0].ID != "pip-index" || pip.Secretenv[0].Name != "PIP_INDEX_URL" {
		t.Errorf("pip secret env = %v, want pip-index as PIP_INDEX_URL", pip.Secretenv)
	}
	for _, e := range d.execs() {
		if e != pip && (len(e.Secretenv) > 0 || slices.ContainsFunc(e.Mounts, func(m *pb.Mount) bool { return m.MountType == pb.MountType_SECRET })) {
			t.Errorf("exec %q gets a secret; only pip may", e.Meta.Args[:2])
		}
		for _, env := range e.Meta.Env {
			if strings.HasPrefix(env, "PIP_INDEX_URL=") {
				t.Errorf("index URL secret leaked into env: %q", env)
			}
		}
	}
	if !slices.Contains(pip.Meta.Args, "https://pypi.example/simple") {
		t.Errorf("index URL not passed as its own argument: %q", pip.Meta.Args)
	}
}

func TestHostileValuesStayArgv(t *testing.T) {
	s := fullSpec()
	_, d := build(t, s, "")
	found := 0
	for _, e := range d.execs() {
		for _, want := range s.Build.Commands {
			if slices.Equal(e.Meta.Args, want) {
				found++
				if !slices.Contains(e.Meta.Env, "FOO=bar; rm -rf /") {
					t.Errorf("build env not passed verbatim: %q", e.Meta.Env)
				}
				if e.Meta.Cwd != "/app" {
					t.Errorf("command cwd %q, want /app", e.Meta.Cwd)
				}
			}
		}
	}
	if found != len(s.Build.Commands) {
		t.Errorf("found %d of %d build commands as exact argv", found, len(s.Build.Commands))
	}
	for _, e := range d.execs() {
		if isHelper(e, "apt") && !slices.Equal(e.Meta.Args[3:], s.Build.AptPackages) {
			t.Errorf("apt packages %q, want %q as argv", e.Meta.Args[3:], s.Build.AptPackages)
		}
	}
}

func TestRuntimeStage(t *testing.T) {
	res, d := build(t, fullSpec(), "requirements.txt")
	// the final vertex is a merge of the runtime base and two link-style layers
	var merge *pb.MergeOp
	for _, dg := range d.sorted() {
		if m := d.ops[dg].GetMerge(); m != nil {
			merge = m
		}
	}
	if merge == nil || len(merge.Inputs) != 3 {
		t.Fatalf("want a merge of 3 inputs (runtime, venv, app), got %v", merge)
	}
	var sources []string
	for _, dg := range d.sorted() {
		if src := d.ops[dg].GetSource(); src != nil {
			sources = append(sources, src.Identifier)
		}
	}
	wantRT := "docker-image://gcr.io/distroless/python3-debian13:nonroot@" + runtimeDigest.String()
	wantB := "docker-image://docker.io/library/python:3.13-slim-trixie@" + builderDigest.String()
	if !slices.Contains(sources, wantRT) || !slices.Contains(sources, wantB) {
		t.Errorf("image sources %q, want pinned %q and %q", sources, wantRT, wantB)
	}
	// copies into the runtime are owned by root
	rootCopies := 0
	for _, dg := range d.sorted() {
		f := d.ops[dg].GetFile()
		if f == nil {
			continue
		}
		for _, a := range f.Actions {
			if c := a.GetCopy(); c != nil && (c.Src == VenvDir || c.Src == "/app") {
				if c.Owner == nil || c.Owner.User.GetByID() != 0 || c.Owner.Group.GetByID() != 0 {
					t.Errorf("copy of %s into the runtime is not owned by root: %v", c.Src, c.Owner)
				}
				rootCopies++
			}
		}
	}
	if rootCopies != 2 {
		t.Errorf("found %d root-owned runtime copies, want 2", rootCopies)
	}

	c := res.Config.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"python", "app.py"}) || c.Cmd != nil {
		t.Errorf("entrypoint %q cmd %q", c.Entrypoint, c.Cmd)
	}
	if c.WorkingDir != "/app" {
		t.Errorf("workdir %q", c.WorkingDir)
	}
	if !slices.Contains(c.Env, "PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") ||
		!slices.Contains(c.Env, "PORT=8080") || !slices.Contains(c.Env, "PYTHONUNBUFFERED=1") ||
		!slices.Contains(c.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") {
		t.Errorf("env %q", c.Env)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ports %v", c.ExposedPorts)
	}
	for k, want := range map[string]string{
		assemble.LabelBaseName: "gcr.io/distroless/python3-debian13:nonroot", assemble.LabelBaseDigest: runtimeDigest.String(),
		assemble.LabelBuilderDigest: builderDigest.String(), "org.opencontainers.image.source": "https://example.com/repo",
	} {
		if got := c.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	for _, s := range []func() *spec.Spec{baseSpec, fullSpec} {
		_, a := build(t, s(), "requirements.txt")
		_, b := build(t, s(), "requirements.txt")
		if a.head != b.head || string(a.raw) != string(b.raw) {
			t.Fatalf("same spec gave different definitions: %s vs %s", a.head, b.head)
		}
	}
	_, a := build(t, baseSpec(), "requirements.txt")
	s := baseSpec()
	s.App.Entrypoint = []string{"python", "other.py"}
	_, b := build(t, s, "requirements.txt")
	// the entrypoint lives in the config, not the filesystem: same LLB
	if a.head != b.head {
		t.Errorf("entrypoint change altered the LLB")
	}
}

func TestAppCopyExcludesSecrets(t *testing.T) {
	s := baseSpec()
	s.App.Exclude = []string{"tests/"}
	_, d := build(t, s, "")
	for _, dg := range d.sorted() {
		f := d.ops[dg].GetFile()
		if f == nil {
			continue
		}
		for _, a := range f.Actions {
			c := a.GetCopy()
			if c == nil || c.Src != "/" || c.Dest != "/app" {
				continue
			}
			for _, want := range []string{"tests/", ".env", "**/id_rsa*", "**/.npmrc", ".git"} {
				if !slices.Contains(c.ExcludePatterns, want) {
					t.Errorf("app copy does not exclude %q: %q", want, c.ExcludePatterns)
				}
			}
			return
		}
	}
	t.Fatal("no app copy found")
}

func TestSelectPair(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		mut                  func(*spec.Spec)
		builder, runtime, py string
		warnRule             string
	}{
		{"default", func(*spec.Spec) {}, "docker.io/library/python:3.13-slim-trixie", "gcr.io/distroless/python3-debian13:nonroot", "/usr/bin/python3.13", ""},
		{"eol 3.11", func(s *spec.Spec) { s.Python.Version = "3.11" }, "docker.io/library/python:3.11-slim-bookworm", "gcr.io/distroless/python3-debian12:nonroot", "/usr/bin/python3.11", "EndOfLifeBase"},
		{"chainguard", func(s *spec.Spec) { s.Runtime = spec.RuntimeChainguard; s.Python.Version = "" }, "cgr.dev/chainguard/python:latest-dev", "cgr.dev/chainguard/python:latest", "/usr/bin/python", ""},
		{"override", func(s *spec.Spec) { s.Base.Runtime = "registry.example/py:3.13@sha256:" + strings.Repeat("a", 64) }, "docker.io/library/python:3.13-slim-trixie", "registry.example/py:3.13@sha256:" + strings.Repeat("a", 64), "/usr/bin/python3.13", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSpec()
			tc.mut(s)
			p, err := SelectPair(s)
			if err != nil {
				t.Fatal(err)
			}
			if p.Builder != tc.builder || p.Runtime != tc.runtime || p.Interpreter != tc.py {
				t.Errorf("got %+v", p)
			}
			if eol := p.EndOfLife != ""; eol != (tc.warnRule == "EndOfLifeBase") {
				t.Errorf("end of life %q, want it: %v", p.EndOfLife, tc.warnRule != "")
			}
			if p.EndOfLife != "" && (!strings.Contains(p.Replacement, "python3-debian13") || p.EndOfLifeField != "python.version") {
				t.Errorf("end of life does not name the replacement and field: %+v", p)
			}
		})
	}
}

func TestSourceDateEpochStampsRuntimeLayers(t *testing.T) {
	epoch := time.Unix(1700000000, 0)
	s := baseSpec()
	pair, _ := SelectPair(s)
	res, err := describe(s, pair, Bases{Builder: Image{Ref: pair.Builder}, Runtime: Image{Ref: pair.Runtime}},
		Options{Context: llb.Local("context"), Platform: amd64, SourceDateEpoch: &epoch})
	if err != nil {
		t.Fatal(err)
	}
	def, err := res.Image.Marshal(context.Background(), llb.LocalUniqueID("test"))
	if err != nil {
		t.Fatal(err)
	}
	stamped := 0
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		for _, a := range op.GetFile().GetActions() {
			if c := a.GetCopy(); c != nil && (c.Src == VenvDir || c.Src == "/app") {
				if c.Timestamp != epoch.UnixNano() {
					t.Errorf("copy of %s has timestamp %d, want %d", c.Src, c.Timestamp, epoch.UnixNano())
				}
				stamped++
			}
		}
	}
	if stamped != 2 {
		t.Errorf("stamped %d runtime copies, want 2", stamped)
	}
}

// TestVenvFinalizedBeforeApp: the venv's bytecode compile must not depend on
// the app copy, or every code change recompiles every dependency.
func TestVenvFinalizedBeforeApp(t *testing.T) {
	for _, s := range []*spec.Spec{baseSpec(), fullSpec()} {
		_, d := build(t, s, "requirements.txt")
		var venvStep digest.Digest
		for _, dg := range d.sorted() {
			if e := d.ops[dg].GetExec(); e != nil && isHelper(e, "python-finalize") && slices.Equal(e.Meta.Args[3:], []string{VenvDir, "venv"}) {
				venvStep = dg
			}
		}
		if venvStep == "" {
			t.Fatal("no venv-only finalize step")
		}
		seen := map[digest.Digest]bool{}
		var walk func(dg digest.Digest)
		walk = func(dg digest.Digest) {
			if seen[dg] {
				return
			}
			seen[dg] = true
			op := d.ops[dg]
			for _, a := range op.GetFile().GetActions() {
				if c := a.GetCopy(); c != nil && c.Dest == "/app" {
					t.Errorf("the venv finalize step depends on the app copy (%s)", dg)
				}
			}
			for _, in := range op.Inputs {
				walk(digest.Digest(in.Digest))
			}
		}
		walk(venvStep)
	}
}

// field is the spec field that named the requirements file, as the frontend
// passes it.
func field(s *spec.Spec) spec.Path {
	_, f := s.Python.DependencyFile()
	return f
}
