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

// buildDeps builds s with the given dependency plan and decodes the image
// and, when there is one, the verification state.
func buildDeps(t *testing.T, s *spec.Spec, deps Dependencies) (*Result, *decoded, *decoded) {
	t.Helper()
	pair, err := SelectPair(s)
	if err != nil {
		t.Fatal(err)
	}
	bases := Bases{
		Builder: Image{Ref: pair.Builder, Digest: builderDigest, Config: dockerspec.DockerOCIImage{
			Config: dockerspec.DockerOCIImageConfig{ImageConfig: ocispecs.ImageConfig{Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"}}},
		}},
		Runtime: Image{Ref: pair.Runtime, Digest: runtimeDigest, Config: dockerspec.DockerOCIImage{
			Config: dockerspec.DockerOCIImageConfig{ImageConfig: ocispecs.ImageConfig{Env: []string{"PATH=/usr/bin:/bin"}, User: "65532"}},
		}},
	}
	res, err := describe(s, pair, bases, Options{Context: llb.Local("context"), Platform: amd64, Deps: deps, CacheNamespace: "ns/"})
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, res.Image)
	var ver *decoded
	if res.VerifyOn {
		ver = decode(t, res.Verify)
	}
	return res, img, ver
}

func decode(t *testing.T, st llb.State) *decoded {
	t.Helper()
	def, err := st.Marshal(context.Background(), llb.Platform(amd64), llb.LocalUniqueID("test"))
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
		d.head = dg
	}
	return d
}

// inputOp returns the op that feeds input i of op.
func (d *decoded) inputOp(op *pb.Op, i int64) *pb.Op {
	return d.ops[digest.Digest(op.Inputs[i].Digest)]
}

// opOf returns the op holding e.
func (d *decoded) opOf(e *pb.ExecOp) *pb.Op {
	for _, op := range d.ops {
		if op.GetExec() == e {
			return op
		}
	}
	return nil
}

func mountAt(e *pb.ExecOp, dest string) *pb.Mount {
	for _, m := range e.Mounts {
		if m.Dest == dest {
			return m
		}
	}
	return nil
}

// mergeInputs is the number of inputs of the image's final merge.
func (d *decoded) mergeInputs(t *testing.T) []*pb.Op {
	t.Helper()
	for _, op := range d.ops {
		if m := op.GetMerge(); m != nil {
			var out []*pb.Op
			for i := range op.Inputs {
				out = append(out, d.inputOp(op, int64(i)))
			}
			return out
		}
	}
	t.Fatal("no merge op")
	return nil
}

func TestLockedDependencies(t *testing.T) {
	req := []byte("flask==3.1.1 --hash=sha256:" + strings.Repeat("a", 64) + "\n")
	local := []byte("mylib @ file:///run/distill/context/libs/mylib\n")
	_, d, _ := buildDeps(t, baseSpec(), Dependencies{
		Generated: req, PipArgs: []string{"--require-hashes", "--no-deps"},
		LocalPaths: []string{"libs/mylib"}, Local: local, Describe: "uv.lock",
	})
	var pips []*pb.ExecOp
	for _, e := range d.execs() {
		if isPip(e) {
			pips = append(pips, e)
		}
	}
	if len(pips) != 2 {
		t.Fatalf("%d pip installs, want 2 (hashed, then path dependencies)", len(pips))
	}
	for _, e := range pips {
		if e.Network == pb.NetMode_NONE || e.Meta.User != "10001:10001" {
			t.Errorf("pip %q: network %v user %s", e.Meta.Args, e.Network, e.Meta.User)
		}
		ctx := mountAt(e, assemble.ContextMount)
		if ctx == nil || !ctx.Readonly {
			t.Fatalf("pip %q: no read-only context mount of the path dependencies", e.Meta.Args)
		}
		fa := d.inputOp(d.opOf(e), ctx.Input).GetFile().Actions
		if len(fa) != 1 || fa[0].GetCopy().Src != "/libs/mylib" || fa[0].GetCopy().Dest != "/libs/mylib" {
			t.Errorf("context mount copies %v, want only /libs/mylib", fa)
		}
		rm := mountAt(e, requirementsMount)
		mk := d.inputOp(d.opOf(e), rm.Input).GetFile().Actions[0].GetMkfile()
		hashed := slices.Contains(e.Meta.Args, "--require-hashes")
		switch {
		case hashed && string(mk.Data) != string(req):
			t.Errorf("hashed install reads %q, want the generated requirements", mk.Data)
		case !hashed && string(mk.Data) != string(local):
			t.Errorf("path install reads %q, want the path dependencies", mk.Data)
		case !slices.Contains(e.Meta.Args, "--no-deps"):
			t.Errorf("pip %q without --no-deps: a lock is the resolution", e.Meta.Args)
		}
	}
	if !slices.Contains(pips[0].Meta.Args, "--require-hashes") && !slices.Contains(pips[1].Meta.Args, "--require-hashes") {
		t.Error("no install enforces hashes")
	}
}

func TestProjectInstall(t *testing.T) {
	_, d, _ := buildDeps(t, baseSpec(), Dependencies{
		Generated: []byte("flask\n"), Describe: "pyproject.toml",
		Projects: []Project{{Name: "hello-flask", Dir: "."}},
	})
	var proj, fin *pb.ExecOp
	for _, e := range d.execs() {
		switch {
		case isHelper(e, "python-project"):
			proj = e
		case isHelper(e, "python-finalize") && slices.Contains(e.Meta.Args, "project=hello-flask"):
			fin = e
		}
	}
	if proj == nil || fin == nil {
		t.Fatalf("project install %v, its finalize %v", proj != nil, fin != nil)
	}
	if got := proj.Meta.Args[3:]; !slices.Equal(got, []string{VenvDir, "/tmp/distill-project", "1", "/app"}) {
		t.Errorf("project script argv %q", got)
	}
	if proj.Network == pb.NetMode_NONE || proj.Meta.User != "10001:10001" {
		t.Errorf("project install network %v user %s: it fetches its build backend as the build user", proj.Network, proj.Meta.User)
	}
	if m := mountAt(proj, "/tmp"); m == nil || m.MountType != pb.MountType_TMPFS {
		t.Error("project build does not run on a tmpfs: build/ and *.egg-info would land in the app")
	}
	layers := d.mergeInputs(t)
	if len(layers) != 4 {
		t.Fatalf("%d layers, want base, venv, project, app", len(layers))
	}
	// the project layer copies from a diff of the install, the venv layer not
	src := d.inputOp(layers[2], 0)
	if src.GetDiff() == nil {
		t.Errorf("project layer copies from %T, want the diff of the project install", src.Op)
	}
	if d.inputOp(layers[1], 0).GetDiff() != nil {
		t.Error("venv layer copies from a diff")
	}
}

func TestRuntimePackages(t *testing.T) {
	s := baseSpec()
	s.App.RuntimePackages = []string{"libpq5", "libyaml-0-2"}
	res, d, ver := buildDeps(t, s, Dependencies{})
	var pkgs *pb.ExecOp
	for _, e := range d.execs() {
		if isHelper(e, "runtime-packages") {
			pkgs = e
		}
	}
	if pkgs == nil {
		t.Fatal("no runtime packages step")
	}
	if got := pkgs.Meta.Args[3:]; !slices.Equal(got, []string{"/run/distill/runtime", "/run/distill/out", "/var/cache/distill-runtime-apt", "libpq5", "libyaml-0-2"}) {
		t.Errorf("argv %q: the packages must be argv, after the fixed arguments", got)
	}
	if pkgs.Meta.User != "0:0" || pkgs.Network == pb.NetMode_NONE {
		t.Errorf("runs as %s with network %v, want root with network (apt)", pkgs.Meta.User, pkgs.Network)
	}
	rt := mountAt(pkgs, "/run/distill/runtime")
	if rt == nil || !rt.Readonly {
		t.Fatal("runtime image not mounted read-only")
	}
	if src := d.inputOp(d.opOf(pkgs), rt.Input).GetSource(); src == nil || !strings.Contains(src.Identifier, "distroless/python3-debian13:nonroot@"+runtimeDigest.String()) {
		t.Errorf("mounted %v, want the pinned runtime image", src)
	}
	if c := mountAt(pkgs, "/var/cache/distill-runtime-apt"); c == nil || c.CacheOpt.ID != "ns/distill/runtime-apt/gcr.io/distroless/python3-debian13:nonroot" || c.CacheOpt.Sharing != pb.CacheSharingOpt_LOCKED {
		t.Errorf("apt cache mount %+v", c)
	}
	// a fresh builder: no app, no context reaches the step
	for _, op := range d.ops {
		if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "local://") && reaches(d, d.opOf(pkgs), op) {
			t.Error("the runtime packages step depends on the build context")
		}
	}
	layers := d.mergeInputs(t)
	if len(layers) != 4 || d.inputOp(layers[1], 0).GetExec() != pkgs {
		t.Errorf("layers: want base, runtime packages, venv, app")
	}
	if cp := layers[1].GetFile().Actions[0].GetCopy(); cp.Owner.User.GetByID() != 0 {
		t.Errorf("runtime packages owned by %v, want root", cp.Owner)
	}
	if res.Config.History[len(res.Config.History)-3].CreatedBy != "distill: add runtime packages libpq5 libyaml-0-2" {
		t.Errorf("history %v", res.Config.History)
	}
	// the verification sees the packages
	found := false
	for _, op := range ver.ops {
		if e := op.GetExec(); e != nil && isHelper(e, "runtime-packages") {
			found = true
		}
	}
	if !found {
		t.Error("the verification does not include the runtime packages")
	}
}

// reaches reports whether target is an ancestor of op.
func reaches(d *decoded, op, target *pb.Op) bool {
	if op == target {
		return true
	}
	for i := range op.Inputs {
		if in := d.inputOp(op, int64(i)); in != nil && reaches(d, in, target) {
			return true
		}
	}
	return false
}

func TestVerify(t *testing.T) {
	s := baseSpec()
	s.App.Entrypoint = []string{"/app/bin/server", "--port", "8080"}
	s.Policy.Verify = spec.VerifyError
	res, img, ver := buildDeps(t, s, Dependencies{RequirementsPath: "requirements.txt"})
	if !res.VerifyOn || ver == nil {
		t.Fatal("no verification")
	}
	var e *pb.ExecOp
	for _, x := range ver.execs() {
		if isVerify(x) {
			e = x
		}
	}
	if e == nil {
		t.Fatal("no verify exec")
	}
	if e.Meta.User != assemble.RuntimeUser || e.Network != pb.NetMode_NONE {
		t.Errorf("verify runs as %s network %v, want %s without network", e.Meta.User, e.Network, assemble.RuntimeUser)
	}
	if got := e.Meta.Args[len(e.Meta.Args)-3:]; !slices.Equal(got, []string{"./bin/server", "--port", "8080"}) {
		t.Errorf("entrypoint passed as %q, want the app-relative program and its arguments", got)
	}
	root := ver.inputOp(ver.opOf(e), 0).GetMerge()
	if root == nil || len(root.Inputs) != len(img.mergeInputs(t))-1 {
		t.Errorf("verify root %v: want the image's layers without the app", root)
	}
	app := mountAt(e, assemble.VerifyAppMount)
	cp := ver.inputOp(ver.opOf(e), app.Input).GetFile().Actions[0].GetCopy()
	if !app.Readonly || !slices.Contains(cp.IncludePatterns, "**/*.so") || !slices.Contains(cp.IncludePatterns, "bin/server") {
		t.Errorf("app mount %v includes %q, want the ELF objects and the entrypoint only", app.Readonly, cp.IncludePatterns)
	}
	s.Policy.Verify = spec.VerifyOff
	if res, _, _ := buildDeps(t, s, Dependencies{}); res.VerifyOn {
		t.Error("policy.verify off still verifies")
	}
}

func isVerify(e *pb.ExecOp) bool { return isHelper(e, "python-verify") }

func TestHealthcheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    spec.Healthcheck
		want *dockerspec.HealthcheckConfig
	}{
		{"none", spec.Healthcheck{}, nil},
		{"http defaults", spec.Healthcheck{HTTP: "/healthz"}, &dockerspec.HealthcheckConfig{
			Test:     []string{"CMD", VenvDir + "/bin/python", "-I", "-c", healthScript, "http://127.0.0.1:8080/healthz", "4.5"},
			Interval: 30 * time.Second, Timeout: 5 * time.Second, Retries: 3,
		}},
		{"http port and timings", spec.Healthcheck{HTTP: "/h?x=1", Port: 9000, Interval: "5s", Timeout: "2s", StartPeriod: "1m", Retries: 5}, &dockerspec.HealthcheckConfig{
			Test:     []string{"CMD", VenvDir + "/bin/python", "-I", "-c", healthScript, "http://127.0.0.1:9000/h?x=1", "1.5"},
			Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: time.Minute, Retries: 5,
		}},
		{"command", spec.Healthcheck{Command: []string{"python", "-m", "app.health", "$(x)"}}, &dockerspec.HealthcheckConfig{
			Test:     []string{"CMD", "python", "-m", "app.health", "$(x)"},
			Interval: 30 * time.Second, Timeout: 5 * time.Second, Retries: 3,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSpec()
			s.App.Healthcheck = tc.h
			res, _, _ := buildDeps(t, s, Dependencies{})
			got := res.Config.Config.Healthcheck
			if (got == nil) != (tc.want == nil) || (got != nil && (!slices.Equal(got.Test, tc.want.Test) || got.Interval != tc.want.Interval ||
				got.Timeout != tc.want.Timeout || got.StartPeriod != tc.want.StartPeriod || got.Retries != tc.want.Retries)) {
				t.Errorf("healthcheck %+v, want %+v", got, tc.want)
			}
			if got != nil && got.Test[0] != "CMD" {
				t.Error("healthcheck is not exec form: the runtime has no shell for CMD-SHELL")
			}
		})
	}
}
