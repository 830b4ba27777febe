package lint

import (
	"fmt"
	"strings"

	"github.com/distill-build/distill/helper"
	"github.com/distill-build/distill/spec"
)

// Verified turns the start-up verification's report (helper.Report) into
// findings. hints maps a missing shared library (libpq.so.5) to the Debian
// package that ships it, when the caller could tell. Errors are marked as
// such when policy.verify is error; otherwise every finding is a warning.
func Verified(s *spec.Spec, builder, runtime string, r *helper.Report, hints map[string]string) []Finding {
	var out []Finding
	fail := s.Policy.Verify == spec.VerifyError
	add := func(name, field string, isErr bool, format string, args ...any) {
		rule, _ := Lookup(name)
		out = append(out, Finding{Rule: rule, Field: fieldOr(s, field), Message: fmt.Sprintf(format, args...), Error: isErr && fail})
	}
	for _, p := range r.Errors {
		switch p.Kind {
		case "entrypoint":
			scripts := "none"
			if len(p.Scripts) > 0 {
				scripts = strings.Join(p.Scripts, ", ")
			}
			add("EntrypointNotFound", "app.entrypoint[0]", true,
				"app.entrypoint runs %q, which is not on the image's PATH (%s); programs the venv has: %s; or give a path, e.g. [python, app.py]",
				p.Program, p.Path, scripts)
		case "entrypoint-exec":
			add("EntrypointNotFound", "app.entrypoint[0]", true,
				"app.entrypoint runs %q (%s), which the runtime user %s cannot execute; make it executable in the context, or run it through the interpreter, e.g. [python, %s]",
				p.Program, p.File, runtimeUser, p.Program)
		case "entrypoint-interpreter":
			add("EntrypointNotFound", "app.entrypoint[0]", true,
				"app.entrypoint runs %q, whose #! line names %s, which the image does not have (distroless images have no shell); run it through the interpreter, e.g. [python, %s]",
				p.Program, p.Interpreter, p.Program)
		case "python-minor":
			add("PythonVersionMismatch", "python.version", true,
				"the venv was made by Python %s in the builder (%s) but the runtime (%s) runs Python %s, so its packages cannot load; choose a matched pair (python.version, or base.builder and base.runtime of the same Python minor)",
				p.Builder, builder, runtime, p.Runtime)
		case "library":
			var fixes []string
			for _, lib := range p.Missing {
				if pkg := hints[lib]; pkg != "" {
					fixes = append(fixes, pkg)
				}
			}
			fix := "add the Debian package that ships it to app.runtimePackages"
			if len(fixes) > 0 {
				fix = "add it with app.runtimePackages: [" + strings.Join(dedupe(fixes), ", ") + "]"
			}
			add("MissingLibrary", "app.runtimePackages", true,
				"%s needs %s, which the runtime image does not have; %s",
				p.Object, strings.Join(p.Missing, ", "), fix)
		case "import":
			add("ImportFailure", "app.entrypoint", true,
				"module %s (distribution %s) does not import in the image as user %s: %s",
				p.Module, p.Distribution, runtimeUser, p.Error)
		default:
			add("ImportFailure", "app.entrypoint", true, "verification: %s: %s", p.Kind, p.Error)
		}
	}
	for _, p := range r.Warnings {
		add("SilentFallback", "app.runtimePackages", false,
			"extension module %s does not load (%s), and %s silently falls back to pure Python, slower or with fewer features; add its shared libraries with app.runtimePackages",
			p.Module, p.Error, p.Package)
	}
	return out
}

// fieldOr is field when the spec wrote it or its parent section, else "".
func fieldOr(s *spec.Spec, field string) string {
	for f := field; f != ""; {
		if _, ok := s.Positions[f]; ok {
			return f
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return ""
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

// runtimeUser is the user images run as (assemble.RuntimeUser).
const runtimeUser = "65532:65532"
