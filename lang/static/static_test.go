package static_test

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/lang"
	"github.com/distill-build/distill/lang/static"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

var (
	amd64         = ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	builderDigest = digest.FromString("builder")
	runtimeDigest = digest.FromString("runtime")
	// the helper as the frontend image holds it
	testHelper = assemble.Helper{State: llb.Image("registry.example/distill:test"), Path: "/usr/bin/distill"}
	helperArg0 = assemble.HelperExe
)

const minimal = `apiVersion: distill/v1
name: server
language: static
app:
  include: [server]
  entrypoint: [/app/server]
  ports: [8080]
`

func parse(t *testing.T, text string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("distill.yaml", []byte(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return s
}

// language is static as package lang registers it: the registration line
// is what makes `language: static` parse and select this package.
func language(t *testing.T, s *spec.Spec) assemble.Language {
	t.Helper()
	l, err := lang.For(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.(static.Language); !ok {
		t.Fatalf("lang.For(language: %s) = %T, want static.Language", s.Language, l)
	}
	return l
}

func TestPair(t *testing.T) {
	const (
		distroless = "gcr.io/distroless/static-debian13:nonroot"
		chainguard = "cgr.dev/chainguard/static:latest"
	)
	for _, tc := range []struct {
		name, extra           string
		wantBuilder, wantRunt string
	}{
		{"distroless by default", "", distroless, distroless},
		{"distroless named", "runtime: distroless\n", distroless, distroless},
		{"chainguard", "runtime: chainguard\n", chainguard, chainguard},
		{"builder override", "base:\n  builder: registry.example/tools:1\n", "registry.example/tools:1", distroless},
		{"runtime override", "base:\n  runtime: registry.example/static@sha256:" + strings.Repeat("a", 64) + "\n",
			distroless, "registry.example/static@sha256:" + strings.Repeat("a", 64)},
		{"both overridden on chainguard", "runtime: chainguard\nbase:\n  builder: registry.example/b:1\n  runtime: registry.example/r:1\n",
			"registry.example/b:1", "registry.example/r:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := parse(t, minimal+tc.extra)
			p, err := language(t, s).Pair(s)
			if err != nil {
				t.Fatal(err)
			}
			if p.Builder != tc.wantBuilder || p.Runtime != tc.wantRunt {
				t.Errorf("pair %s -> %s, want %s -> %s", p.Builder, p.Runtime, tc.wantBuilder, tc.wantRunt)
			}
			if p.Interpreter != "" || p.Version != "" {
				t.Errorf("pair has interpreter %q version %q, want none", p.Interpreter, p.Version)
			}
		})
	}
	t.Run("unknown runtime", func(t *testing.T) {
		s := parse(t, minimal)
		s.Runtime = "alpine" // spec.Parse refuses it; Pair must too
		if _, err := (static.Language{}).Pair(s); err == nil || !strings.Contains(err.Error(), `runtime "alpine" has no static image`) {
			t.Errorf("Pair(runtime alpine) = %v", err)
		}
	})
}

// built is one spec's build, marshalled and read back.
type built struct {
	res  *assemble.Result
	pair assemble.Pair
	// one definition per output: image, builder, verify, sbom
	defs map[string]*decoded
}

type decoded struct {
	ops  map[digest.Digest]*pb.Op
	head digest.Digest // the terminal op
}

func build(t *testing.T, text string) *built {
	t.Helper()
	ctx := context.Background()
	s := parse(t, text)
	l := language(t, s)
	pair, err := l.Pair(s)
	if err != nil {
		t.Fatal(err)
	}
	rtCfg := dockerspec.DockerOCIImage{Config: dockerspec.DockerOCIImageConfig{ImageConfig: ocispecs.ImageConfig{
		Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		User: "65532", WorkingDir: "/home/nonroot",
	}}}
	bases := assemble.Bases{
		Builder: assemble.Image{Ref: pair.Builder, Digest: builderDigest, Config: rtCfg},
		Runtime: assemble.Image{Ref: pair.Runtime, Digest: runtimeDigest, Config: rtCfg},
	}
	proj, err := l.Load(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := proj.Precheck(ctx, s, pair, amd64); err != nil {
		t.Fatal(err)
	}
	plan, err := proj.Plan(ctx, assemble.PlanContext{Spec: s, Pair: pair, Bases: bases, Platform: amd64})
	if err != nil {
		t.Fatal(err)
	}
	res, err := assemble.Build(s, pair, bases, assemble.Options{Context: llb.Local("context"), Platform: amd64, Helper: testHelper}, plan)
	if err != nil {
		t.Fatal(err)
	}
	b := &built{res: res, pair: pair, defs: map[string]*decoded{}}
	states := map[string]llb.State{"image": res.Image, "builder": res.Builder, "sbom": res.SBOM}
	if res.VerifyOn {
		states["verify"] = res.Verify
	}
	for name, st := range states {
		def, err := st.Marshal(ctx, llb.Platform(amd64), llb.LocalUniqueID("test"))
		if err != nil {
			t.Fatalf("marshal %s: %v", name, err)
		}
		d := &decoded{ops: map[digest.Digest]*pb.Op{}}
		for _, dt := range def.Def {
			var op pb.Op
			if err := op.UnmarshalVT(dt); err != nil {
				t.Fatal(err)
			}
			dg := digest.FromBytes(dt)
			d.ops[dg] = &op
			d.head = dg
		}
		b.defs[name] = d
	}
	return b
}

func (d *decoded) execs() []*pb.ExecOp {
	var out []*pb.ExecOp
	for _, op := range d.ops {
		if e := op.GetExec(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

// input is the op that op's i-th input comes from.
func (d *decoded) input(t *testing.T, op *pb.Op, i int) *pb.Op {
	t.Helper()
	in, ok := d.ops[digest.Digest(op.Inputs[i].Digest)]
	if !ok {
		t.Fatalf("input %d of %v is not in the definition", i, op)
	}
	return in
}

func isHelper(e *pb.ExecOp) bool {
	a := e.Meta.Args
	return len(a) >= 3 && a[0] == helperArg0 && a[1] == "helper"
}

func helperCommand(e *pb.ExecOp) string {
	if !isHelper(e) {
		return ""
	}
	return e.Meta.Args[2]
}

// interpreters are programs no step of a static build may run.
var interpreters = []string{"sh", "bash", "dash", "ash", "busybox", "python", "python3", "perl", "node", "env", "apt-get", "dpkg"}

const withCommands = minimal + `build:
  env:
    CGO_ENABLED: "0"
  commands:
    - [./server, --selftest]
    - [/app/server, "$(id)", "x; y"]
`

func TestStepsAreTheHelperOrUserCommands(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		// the builder's helper commands, in any order, and user commands
		wantHelper   []string
		wantCommands [][]string
	}{
		{"minimal", minimal, []string{"permissions", "prepare"}, nil},
		{"build commands", withCommands, []string{"permissions", "prepare"},
			[][]string{{"./server", "--selftest"}, {"/app/server", "$(id)", "x; y"}}},
		{"chainguard", strings.Replace(minimal, "language: static\n", "language: static\nruntime: chainguard\n", 1), []string{"permissions", "prepare"}, nil},
		{"workdir", strings.Replace(minimal, "[/app/server]", "[/srv/server]\n  workdir: /srv", 1), []string{"permissions", "prepare"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := build(t, tc.text)
			var helpers []string
			var commands [][]string
			for _, e := range b.defs["builder"].execs() {
				if isHelper(e) {
					helpers = append(helpers, helperCommand(e))
					if !slices.ContainsFunc(e.Mounts, func(m *pb.Mount) bool {
						return m.Dest == assemble.HelperExe && m.Readonly
					}) {
						t.Errorf("helper %s runs without the helper mounted read-only at %s", helperCommand(e), assemble.HelperExe)
					}
					continue
				}
				commands = append(commands, e.Meta.Args)
			}
			slices.Sort(helpers)
			if !slices.Equal(helpers, tc.wantHelper) {
				t.Errorf("builder helper steps %q, want %q", helpers, tc.wantHelper)
			}
			slices.SortFunc(commands, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
			if !slices.EqualFunc(commands, tc.wantCommands, slices.Equal) {
				t.Errorf("builder's other steps %q, want only the user's build commands %q", commands, tc.wantCommands)
			}
			wd := b.res.Config.Config.WorkingDir
			for name, d := range b.defs {
				for _, e := range d.execs() {
					a := e.Meta.Args
					if e.Network != pb.NetMode_NONE {
						t.Errorf("%s: step %q has network %v", name, a, e.Network)
					}
					if slices.Contains(interpreters, path.Base(a[0])) {
						t.Errorf("%s: step %q runs an interpreter or a package manager", name, a)
					}
					switch cmd := helperCommand(e); {
					case cmd == "prepare":
						if e.Meta.User != "0:0" || !slices.Contains(a, wd) || !slices.Contains(a, assemble.BuildHome) {
							t.Errorf("prepare %q as %q: want root making %s and %s", a, e.Meta.User, assemble.BuildHome, wd)
						}
					case cmd == "verify":
						if name != "verify" || e.Meta.User != assemble.RuntimeUser {
							t.Errorf("%s: verify as %q, want in the verification as %s", name, e.Meta.User, assemble.RuntimeUser)
						}
					case cmd == "permissions":
						if !slices.Equal(a[3:], []string{wd}) || e.Meta.User != "10001:10001" {
							t.Errorf("permissions %q as %q, want on %s as the build user", a, e.Meta.User, wd)
						}
					case cmd == "sbom":
						if name != "sbom" {
							t.Errorf("%s: sbom step outside the SBOM", name)
						}
					case cmd != "":
						t.Errorf("%s: unexpected helper command %q", name, a)
					default:
						// a user build command: as the build user, in the app directory
						if e.Meta.User != "10001:10001" || e.Meta.Cwd != wd {
							t.Errorf("build command %q as %q in %q, want 10001:10001 in %s", a, e.Meta.User, e.Meta.Cwd, wd)
						}
					}
				}
			}
			// the verification reads the finished builder (the app's
			// entrypoint), so it holds the builder's steps and one more
			var verify []string
			for _, e := range b.defs["verify"].execs() {
				if cmd := helperCommand(e); cmd == "verify" {
					verify = append(verify, e.Meta.Args[3:]...)
				}
			}
			// the entrypoint is relative to the app directory in both cases
			want := append(assemble.GenericVerify("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")[1:], "./server")
			if !slices.Equal(verify, want) {
				t.Errorf("verification %q, want the generic helper verify %q", verify, want)
			}
		})
	}
}

// TestRuntimeIsBaseAndApp: the image is the runtime base with one layer,
// the app directory of the builder, owned by root.
func TestRuntimeIsBaseAndApp(t *testing.T) {
	for _, tc := range []struct {
		name, text, wantBase, wd string
	}{
		{"distroless", minimal, "docker-image://gcr.io/distroless/static-debian13:nonroot@" + runtimeDigest.String(), "/app"},
		{"chainguard", strings.Replace(minimal, "language: static\n", "language: static\nruntime: chainguard\n", 1),
			"docker-image://cgr.dev/chainguard/static:latest@" + runtimeDigest.String(), "/app"},
		{"workdir", strings.Replace(minimal, "[/app/server]", "[/srv/server]\n  workdir: /srv", 1),
			"docker-image://gcr.io/distroless/static-debian13:nonroot@" + runtimeDigest.String(), "/srv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := build(t, tc.text)
			d := b.defs["image"]
			head := d.ops[d.head]
			if len(head.Inputs) != 1 {
				t.Fatalf("terminal op has %d inputs", len(head.Inputs))
			}
			merge := d.input(t, head, 0)
			if merge.GetMerge() == nil {
				t.Fatalf("the image is %T, want a merge of layers", merge.Op)
			}
			if len(merge.Inputs) != 2 {
				t.Fatalf("the image merges %d layers, want 2: the runtime base and the app", len(merge.Inputs))
			}
			base := d.input(t, merge, 0).GetSource()
			if base == nil || base.Identifier != tc.wantBase {
				t.Errorf("first layer %v, want the source %s", base, tc.wantBase)
			}
			app := d.input(t, merge, 1).GetFile()
			if app == nil || len(app.Actions) != 1 || app.Actions[0].GetCopy() == nil {
				t.Fatalf("second layer %v, want one copy", app)
			}
			cp := app.Actions[0].GetCopy()
			if cp.Src != tc.wd || cp.Dest != tc.wd {
				t.Errorf("app layer copies %s to %s, want %s", cp.Src, cp.Dest, tc.wd)
			}
			if o := cp.Owner; o == nil || o.User.GetByID() != 0 || o.Group.GetByID() != 0 {
				t.Errorf("app layer owner %v, want root", cp.Owner)
			}
			if n := len(b.res.Config.History); n != 1 || b.res.Config.History[0].CreatedBy != "distill: copy app "+tc.wd {
				t.Errorf("history %v, want one distill line for the app", b.res.Config.History)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	b := build(t, minimal+"  env:\n    PORT: \"8080\"\n  labels:\n    org.opencontainers.image.source: https://example.com/server\n")
	c := b.res.Config.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"/app/server"}) || c.Cmd != nil || c.WorkingDir != "/app" {
		t.Errorf("entrypoint %q cmd %q workdir %q", c.Entrypoint, c.Cmd, c.WorkingDir)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("ports %v, want 8080/tcp", c.ExposedPorts)
	}
	if !slices.Contains(c.Env, "PORT=8080") || !slices.Contains(c.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") {
		t.Errorf("env %q: want the runtime's and the app's", c.Env)
	}
	if _, ok := c.Labels[assemble.LabelInterpreter]; ok {
		t.Errorf("label %s = %q on a language without an interpreter", assemble.LabelInterpreter, c.Labels[assemble.LabelInterpreter])
	}
	for k, want := range map[string]string{
		assemble.LabelBaseName:            "gcr.io/distroless/static-debian13:nonroot",
		assemble.LabelBaseDigest:          runtimeDigest.String(),
		assemble.LabelBuilderName:         "gcr.io/distroless/static-debian13:nonroot",
		assemble.LabelBuilderDigest:       builderDigest.String(),
		ocispecs.AnnotationTitle:          "server",
		"org.opencontainers.image.source": "https://example.com/server",
	} {
		if got := c.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if c.Healthcheck != nil {
		t.Errorf("healthcheck %+v without app.healthcheck", c.Healthcheck)
	}
}

func TestHealthcheck(t *testing.T) {
	t.Run("command", func(t *testing.T) {
		b := build(t, minimal+"  healthcheck:\n    command: [/app/server, -check]\n")
		if hc := b.res.Config.Config.Healthcheck; hc == nil || !slices.Equal(hc.Test, []string{"CMD", "/app/server", "-check"}) {
			t.Errorf("healthcheck %+v, want CMD /app/server -check", hc)
		}
	})
	t.Run("http is refused", func(t *testing.T) {
		ctx := context.Background()
		s := parse(t, minimal+"  healthcheck:\n    http: /healthz\n")
		l := language(t, s)
		pair, _ := l.Pair(s)
		proj, _ := l.Load(ctx, s, nil)
		plan, err := proj.Plan(ctx, assemble.PlanContext{Spec: s, Pair: pair, Platform: amd64})
		if err != nil {
			t.Fatal(err)
		}
		_, err = assemble.Build(s, pair, assemble.Bases{}, assemble.Options{Context: llb.Local("context"), Platform: amd64, Helper: testHelper}, plan)
		var se *spec.Error
		if !errors.As(err, &se) {
			t.Fatalf("Build = %v, want a spec error", err)
		}
		want := "app.healthcheck.http needs an interpreter in the runtime image, which language static has not; use app.healthcheck.command"
		if se.Msg != want || se.Line != 9 || se.Field.String() != "app.healthcheck.http" {
			t.Errorf("error %q at line %d (%s), want %q at line 9", se.Msg, se.Line, se.Field, want)
		}
	})
}

func TestVerifyOff(t *testing.T) {
	b := build(t, minimal+"policy:\n  verify: \"off\"\n")
	if b.res.VerifyOn {
		t.Error("policy.verify off still verifies")
	}
}

// TestPrecheck: what needs apt in the builder is refused at its line while
// the builder is the static image, and allowed with a base.builder.
func TestPrecheck(t *testing.T) {
	for _, tc := range []struct {
		name, extra, want string
		line              int
	}{
		{"aptPackages", "build:\n  aptPackages: [jq]\n",
			"build.aptPackages needs apt in the builder, and language static's builder gcr.io/distroless/static-debian13:nonroot has none; build the binary before distill, or set base.builder to an image with apt", 9},
		{"runtimePackages", "  runtimePackages: [libc6]\n",
			"app.runtimePackages needs apt in the builder, and language static's builder gcr.io/distroless/static-debian13:nonroot has none; set base.builder to a Debian image with apt (the packages come from the runtime's release)", 8},
		{"with a builder", "  runtimePackages: [libc6]\nbuild:\n  aptPackages: [jq]\nbase:\n  builder: registry.example/debian:13\n", "", 0},
		{"neither", "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := parse(t, minimal+tc.extra)
			l := language(t, s)
			pair, err := l.Pair(s)
			if err != nil {
				t.Fatal(err)
			}
			proj, err := l.Load(context.Background(), s, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = proj.Precheck(context.Background(), s, pair, amd64)
			if tc.want == "" {
				if err != nil {
					t.Errorf("Precheck = %v", err)
				}
				return
			}
			var se *spec.Error
			if !errors.As(err, &se) || se.Msg != tc.want || se.Line != tc.line {
				t.Errorf("Precheck = %v, want %q at line %d", err, tc.want, tc.line)
			}
		})
	}
}
