package assemble

import (
	"encoding/json"
	"path"
	"strings"

	"github.com/distill-build/distill/helper"
	"github.com/distill-build/distill/lint"
	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// VerifyReport is where the verification's JSON report lies in
// Result.Verify.
const VerifyReport = "/out/report.json"

const (
	// VerifyAppMount is where the verification sees the app's ELF objects
	// and entrypoint file.
	VerifyAppMount = "/run/distill/app"
	// VerifyReportFile is the report's path inside the verification step.
	VerifyReportFile = "/run/distill/report/report.json"
	verifyOut        = "/run/distill/report"
)

// verifyState runs the language's verification (the helper, in the image as
// it will ship minus the app's code: the runtime base, runtime packages and
// the language's layers), plus a read-only mount of only the app's ELF
// objects and entrypoint file. So a code change that leaves those alone
// leaves the check cached; it runs again when the dependencies, the
// runtime or the entrypoint change.
func (st *Stage) verifyState(layers []llb.State, bst llb.State, cfg dockerspec.DockerOCIImage, plan Plan) llb.State {
	wd := st.Workdir()
	entry := append([]string{}, st.s.App.Entrypoint...)
	include := []string{"**/*.so", "**/*.so.*"}
	if len(entry) > 0 {
		prog := entry[0]
		switch {
		case strings.HasPrefix(prog, wd+"/"):
			rel := strings.TrimPrefix(prog, wd+"/")
			include = append(include, rel)
			entry[0] = "./" + rel
		case !strings.HasPrefix(prog, "/") && strings.Contains(prog, "/"):
			include = append(include, path.Clean(prog))
		}
	}
	app := llb.Scratch().File(
		llb.Copy(bst, wd, "/", &llb.CopyInfo{CopyDirContentsOnly: true, IncludePatterns: include, AllowEmptyWildcard: true}),
		st.Constraints("verify", spec.Path{}, "select the app's ELF objects and entrypoint")...,
	)
	root := llb.Merge(layers, llb.WithCustomName("[verify] the image without the app's code"))
	pathEnv := NewEnv(cfg.Config.Env).Get("PATH", DefaultPath)
	argv := plan.Verify(st, pathEnv)
	opts := []llb.RunOption{
		helperRun(st.opt.Helper, argv[0], append(argv[1:], entry...)),
		llb.User(RuntimeUser),
		llb.Dir("/"),
		llb.Network(llb.NetModeNone),
		llb.AddMount(VerifyAppMount, app, llb.Readonly),
		llb.AddMount("/tmp", llb.Scratch(), llb.Tmpfs()),
	}
	for _, kv := range cfg.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		opts = append(opts, llb.AddEnv(k, v))
	}
	opts = append(opts, st.Step("verify", spec.Field("app.entrypoint"), "verify the image starts: entrypoint, libraries, imports (as %s, no network)", RuntimeUser))
	run := root.Run(opts...)
	out := llb.Scratch().File(llb.Mkdir("/out", 0o755, llb.WithUIDGID(65532, 65532)), llb.WithCustomName("[internal] verification report directory"))
	return run.AddMount(verifyOut, out, llb.SourcePath("/out"))
}

// GenericVerify is the verification of a language without an interpreter:
// the entrypoint resolves and is executable, and every ELF object of the
// app finds its libraries.
func GenericVerify(pathEnv string) []string {
	return []string{"verify", VerifyReportFile, VerifyAppMount, pathEnv}
}

// LintVerification is the verification's report as the check rules read
// it.
func LintVerification(pair Pair, r *Report) lint.Verification {
	v := lint.Verification{Builder: pair.Builder, Runtime: pair.Runtime, User: RuntimeUser, Interpreter: pair.Interpreter}
	for _, p := range r.Errors {
		v.Errors = append(v.Errors, lint.Problem(p))
	}
	for _, p := range r.Warnings {
		v.Warnings = append(v.Warnings, lint.Problem(p))
	}
	return v
}

// Report is the verification's result (see package helper).
type Report = helper.Report

// ParseReport reads a verification report.
func ParseReport(dt []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(dt, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
