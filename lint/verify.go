package lint

import (
	"path"
	"strings"

	"github.com/distill-build/distill/spec"
)

// Verification is what the start-up verification of the built image found,
// with what the messages name: the images and the user it ran as.
type Verification struct {
	Builder, Runtime string // the base images' references
	User             string // the runtime user, e.g. "65532:65532"
	// Interpreter is the language's interpreter in the runtime, "" for a
	// language without one (a prebuilt binary).
	Interpreter string
	// Errors stop the image from starting; Warnings do not (an extension
	// that silently falls back to pure Python).
	Errors, Warnings []Problem
}

// Problem is one problem the verification found; which fields are set
// depends on Kind: "entrypoint", "entrypoint-exec",
// "entrypoint-interpreter", "python-minor", "library", "loader", "import" (errors),
// "fallback" (warnings). Its fields are those of the verification's report,
// in the same order, so the report's type converts to it.
type Problem struct {
	Kind         string
	Program      string
	Path         string
	Scripts      []string
	File         string
	Interpreter  string
	Builder      string
	Runtime      string
	Object       string
	Missing      []string
	Distribution string
	Module       string
	Package      string
	Error        string
}

// Verified turns the start-up verification's findings into findings.
// hints maps a missing shared library (libpq.so.5) to the Debian package
// that ships it, when the caller could tell. Errors are marked as such when
// policy.verify is error; otherwise every finding is a warning.
func Verified(s *spec.Spec, v Verification, hints map[string]string) []Finding {
	var out []Finding
	fail := s.Policy.Verify == spec.VerifyError
	add := func(r Rule, field spec.Path, isErr bool, msg string) {
		out = append(out, Finding{Rule: r, Field: field, Message: msg, Error: isErr && fail})
	}
	entrypoint, runtimePackages := spec.Field("app.entrypoint"), spec.Field("app.runtimePackages")
	for _, p := range v.Errors {
		switch p.Kind {
		case "entrypoint", "entrypoint-exec", "entrypoint-interpreter":
			p.Program = specProgram(s, p.Program)
			add(info(&RuleEntrypointNotFound), entrypoint.Index(0), true, RuleEntrypointNotFound.Format(p, v.User, v.Interpreter))
		case "python-minor":
			add(info(&RulePythonVersionMismatch), spec.Field("python.version"), true, RulePythonVersionMismatch.Format(p, v.Builder, v.Runtime))
		case "loader":
			p.Program = specProgram(s, p.Program)
			add(info(&RuleMissingLibrary), entrypoint.Index(0), true, RuleMissingLibrary.Format(p, nil))
		case "library":
			var pkgs []string
			for _, lib := range p.Missing {
				if pkg := hints[lib]; pkg != "" {
					pkgs = append(pkgs, pkg)
				}
			}
			add(info(&RuleMissingLibrary), runtimePackages, true, RuleMissingLibrary.Format(p, dedupe(pkgs)))
		default:
			add(info(&RuleImportFailure), entrypoint, true, RuleImportFailure.Format(p, v.User))
		}
	}
	for _, p := range v.Warnings {
		add(info(&RuleSilentFallback), runtimePackages, false, RuleSilentFallback.Format(p))
	}
	return out
}

// specProgram is the entrypoint's program as the spec wrote it: the
// verification runs an absolute one in the app directory as ./NAME
// (the app is mounted elsewhere there), which no message should show.
func specProgram(s *spec.Spec, program string) string {
	wd := s.App.Workdir
	if wd == "" {
		wd = spec.DefaultWorkdir
	}
	if e := s.App.Entrypoint; len(e) > 0 && path.IsAbs(e[0]) && strings.HasPrefix(program, "./") && path.Join(wd, program) == path.Clean(e[0]) {
		return e[0]
	}
	return program
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
