package lint

import (
	"fmt"
	"strings"

	"github.com/distill-build/distill/spec"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
)

// The rules, as BuildKit's linter describes a Dockerfile rule: a name, a
// one-line description, the link to its section in docs/rules.md and a
// Format function that writes the finding's message from the values the
// check found. Every message a user reads is here, next to its rule; the
// checks (checks.go, requirements.go, verify.go) only decide and pass
// arguments. Messages name the value and the fix in one sentence, and
// never echo a value that might be a secret.
var (
	RuleEndOfLifeBase = linter.LinterRule[func(image, why, replacement string) string]{
		Name:        "EndOfLifeBase",
		Description: "The base image pair no longer receives security updates.",
		URL:         ruleURL("EndOfLifeBase"),
		Format: func(image, why, replacement string) string {
			return fmt.Sprintf("%s %s; use %s", image, why, replacement)
		},
	}
	RuleUnpinnedBase = linter.LinterRule[func(field spec.Path, ref string) string]{
		Name:        "UnpinnedBase",
		Description: "A base.builder or base.runtime override names a tag without an @sha256 digest.",
		URL:         ruleURL("UnpinnedBase"),
		Format: func(field spec.Path, ref string) string {
			ref = clip(ref, 100)
			return fmt.Sprintf("%s %q is a tag, which its publisher can point at a different image at any time; pin it as %s@sha256:<digest> (docker buildx imagetools inspect %s prints the digest) or run distill lock", field, ref, ref, ref)
		},
	}
	RuleMissingLock = linter.LinterRule[func() string]{
		Name:        "MissingLock",
		Description: "No distill.lock pins the base images to digests.",
		URL:         ruleURL("MissingLock"),
		Format: func() string {
			return "there is no distill.lock beside the spec, so each build uses whatever digest the base tags point at that day; run distill lock and commit distill.lock"
		},
	}
	RuleStaleLock = linter.LinterRule[func(detail string) string]{
		Name:        "StaleLock",
		Description: "distill.lock pins a base digest that the registry no longer serves under its tag.",
		URL:         ruleURL("StaleLock"),
		Format: func(detail string) string {
			if detail != "" {
				detail = " (" + detail + ")"
			}
			return fmt.Sprintf("distill.lock pins a base digest the registry no longer serves under its tag%s, so the build misses the publisher's updates; run distill lock to take the new digest and commit distill.lock", detail)
		},
	}
	RuleUnpinnedRequirement = linter.LinterRule[func(file string, line int, req string, kind PinKind) string]{
		Name:        "UnpinnedRequirement",
		Description: "A requirement is not pinned to one exact version (==) or, for VCS, to a commit.",
		URL:         ruleURL("UnpinnedRequirement"),
		Format: func(file string, line int, req string, kind PinKind) string {
			switch kind {
			case PinCommit:
				return fmt.Sprintf("%s:%d: %s is not pinned to a commit, so a push to the branch or a moved tag changes what is installed; append @<full 40-character commit hash> to the repository URL", file, line, req)
			case PinHash:
				return fmt.Sprintf("%s:%d: %s is a URL whose content can change; add --hash=sha256:<digest> of the file (pip hash prints it) or install a released version with ==", file, line, req)
			}
			return fmt.Sprintf("%s:%d: %s is not pinned to one version, so each build may install a different release; pin it with == (pip-compile or uv pip compile writes every pin)", file, line, req)
		},
	}
	RuleUnlockedDependencies = linter.LinterRule[func(file string) string]{
		Name:        "UnlockedDependencies",
		Description: "The dependencies come from pyproject.toml without a lock file, so each build may install other versions.",
		URL:         ruleURL("UnlockedDependencies"),
		Format: func(file string) string {
			return fmt.Sprintf("%s lists dependencies without a lock file, so pip resolves them at every build and two builds of one commit can install different versions, unhashed; lock them (uv lock, poetry lock, or pip lock -o pylock.toml) and commit the lock: distill installs exactly what it pins", file)
		},
	}
	// RuleIgnoredDependencyFile's present is the ignored file: a lock file,
	// or pyproject.toml beside a requirements file; used is the file the
	// build installs from ("" for none).
	RuleIgnoredDependencyFile = linter.LinterRule[func(present, used string) string]{
		Name:        "IgnoredDependencyFile",
		Description: "A lock file or pyproject.toml is in the context, but the build installs from another file.",
		URL:         ruleURL("IgnoredDependencyFile"),
		Format: func(present, used string) string {
			if present == "pyproject.toml" {
				return fmt.Sprintf("the context has pyproject.toml, but the build installs from %s only; if pyproject.toml declares the app's dependencies, use it (python.dependencies: pyproject.toml) or a lock made from it, or keep the two in sync", used)
			}
			if used == "" {
				used = "nothing (no dependency source)"
			}
			return fmt.Sprintf("the context has %s, but the build installs from %s; with python.dependencies: %s distill installs exactly the locked versions with their hashes", present, used, present)
		},
	}
	RuleRequirementWithoutHash = linter.LinterRule[func(file string, missing, total int) string]{
		Name:        "RequirementWithoutHash",
		Description: "The requirements file has requirements without --hash, so a replaced package file would go unnoticed.",
		URL:         ruleURL("RequirementWithoutHash"),
		Format: func(file string, missing, total int) string {
			what := "pip cannot tell if a package file on the index was replaced"
			if missing < total {
				what = "pip, seeing some hashes, requires them on every line and fails the install"
			}
			return fmt.Sprintf("%s: %d of %d requirements have no --hash, so %s; generate hashes with pip-compile --generate-hashes or uv pip compile --generate-hashes", file, missing, total, what)
		},
	}
	// RuleLocalRequirement's option is --requirement or --constraint and
	// target the file it names; with no option, target is a requirement
	// that is a local path.
	RuleLocalRequirement = linter.LinterRule[func(file string, line int, option, target string) string]{
		Name:        "LocalRequirement",
		Description: "The requirements file refers to another file or a local path, which the dependency install cannot see.",
		URL:         ruleURL("LocalRequirement"),
		Format: func(file string, line int, option, target string) string {
			if option != "" {
				return fmt.Sprintf("%s:%d: %s %s names another file, but the dependency install sees only %s; merge the files into one (pip-compile can) or point python.requirements at the compiled file", file, line, option, clip(target, 100), file)
			}
			return fmt.Sprintf("%s:%d: %s is a local path, but the dependency install sees only %s, not the build context; publish the package to your index, or build it in build.commands", file, line, target, file)
		},
	}
	// RuleIndexURLInRequirements' option is one of indexOptions.
	RuleIndexURLInRequirements = linter.LinterRule[func(file string, line int, option string) string]{
		Name:        "IndexURLInRequirements",
		Description: "The requirements file sets its own index (--index-url, --extra-index-url, --find-links, --trusted-host).",
		URL:         ruleURL("IndexURLInRequirements"),
		Format: func(file string, line int, option string) string {
			return fmt.Sprintf("%s:%d: %s %s; remove it and set the one index with python.indexUrl, or python.indexUrlSecret when the URL carries credentials", file, line, option, indexOptions[option])
		},
	}
	// RuleInsecureIndexURL: with no file, the spec's python.indexUrl; else
	// an index option of the requirements file, or (no option) a
	// requirement downloaded from url.
	RuleInsecureIndexURL = linter.LinterRule[func(file string, line int, option, url string) string]{
		Name:        "InsecureIndexURL",
		Description: "Packages are downloaded over plain http from a host other than loopback.",
		URL:         ruleURL("InsecureIndexURL"),
		Format: func(file string, line int, option, url string) string {
			switch {
			case file == "":
				return "python.indexUrl uses plain http, so anyone on the network path can serve other packages; use the index's https:// URL (plain http is accepted only for loopback hosts)"
			case option != "":
				return fmt.Sprintf("%s:%d: %s uses plain http, so anyone on the network path can serve other packages; use https:// (plain http is accepted only for loopback hosts)", file, line, option)
			}
			return fmt.Sprintf("%s:%d: %s is downloaded over plain http, so anyone on the network path can replace it; use https://", file, line, url)
		},
	}
	// RuleSecretInSpec's kind is what the value looks like (secretPatterns),
	// or "" for a literal value of a variable whose name says it is a
	// secret; inImage says the field ends up in the image config rather
	// than the build.
	RuleSecretInSpec = linter.LinterRule[func(field spec.Path, kind string, inImage bool) string]{
		Name:        "SecretInSpec",
		Description: "A value in the spec looks like a password, token or private key, and would be readable in the image.",
		URL:         ruleURL("SecretInSpec"),
		Format: func(field spec.Path, kind string, inImage bool) string {
			fix := "it is written into the build definition, the build cache and max-mode provenance; remove it and mount it for the build as a BuildKit secret"
			if inImage {
				fix = "anyone who can pull the image reads it in the image config; remove it and pass it at run time (docker run -e, a Kubernetes Secret)"
			}
			if kind == "" {
				return fmt.Sprintf("%s sets a literal value for what its name says is a secret, and %s", field, fix)
			}
			return fmt.Sprintf("%s holds what looks like %s, and %s", field, kind, fix)
		},
	}
	// RuleShellEntrypoint: field is the offending argument, what the shell
	// syntax found (shellSyntax); shell says the program is a shell.
	RuleShellEntrypoint = linter.LinterRule[func(field spec.Path, what string, shell bool) string]{
		Name:        "ShellEntrypoint",
		Description: "The entrypoint needs a shell (sh -c, $VAR, &&, |, redirection) but exec form has none and the runtime image has no shell.",
		URL:         ruleURL("ShellEntrypoint"),
		Format: func(field spec.Path, what string, shell bool) string {
			if shell {
				return fmt.Sprintf("app.entrypoint runs %s, but the runtime image has no shell, so the container fails to start; run the program directly, e.g. [python, app.py], and read settings such as the port from the environment in the app", what)
			}
			return fmt.Sprintf("%s uses %s, but the exec-form entrypoint runs no shell and passes it to the program literally; do that work in the app (read os.environ, e.g. PORT) and list plain arguments", field, what)
		},
	}
	// RuleShellInBuildCommand: as RuleShellEntrypoint, for a build command
	// (field is the command when it runs a shell, else the argument).
	RuleShellInBuildCommand = linter.LinterRule[func(field spec.Path, what string, shell bool) string]{
		Name:        "ShellInBuildCommand",
		Description: "A build command runs a shell (sh -c) or uses shell syntax that exec form passes literally.",
		URL:         ruleURL("ShellInBuildCommand"),
		Format: func(field spec.Path, what string, shell bool) string {
			if shell {
				return fmt.Sprintf("%s runs %s, which hides what the step does from distill and from review and bypasses its no-shell rule; put the steps in a script in the context and run it as [python, scripts/build.py]", field, what)
			}
			return fmt.Sprintf("%s uses %s, but build commands run without a shell and pass it to the program literally; split it into separate commands or a Python script", field, what)
		},
	}
	// RulePrivilegedPort: field is an app.ports element, or app.env.PORT
	// when env is set.
	RulePrivilegedPort = linter.LinterRule[func(field spec.Path, port int, env bool) string]{
		Name:        "PrivilegedPort",
		Description: "The app listens on a port below 1024, which its non-root user cannot bind everywhere.",
		URL:         ruleURL("PrivilegedPort"),
		Format: func(field spec.Path, port int, env bool) string {
			const why = "the app runs as non-root user 65532, which cannot bind a port below 1024 unless the runtime lowers net.ipv4.ip_unprivileged_port_start (Docker does, Kubernetes and host networking do not)"
			verb := "listen on"
			if env {
				verb = "use"
			}
			return fmt.Sprintf("%s is %d, but %s; %s 8080 and map %d to it outside (a Kubernetes Service targetPort, docker run -p %d:8080)", field, port, why, verb, port, port)
		},
	}
	// RuleRootUser: a program (tool) that changes user, in the entrypoint
	// or (build) a build command; or, with no tool, an environment
	// variable whose value claims root.
	RuleRootUser = linter.LinterRule[func(field spec.Path, tool, value string, build bool) string]{
		Name:        "RootUser",
		Description: "The spec asks for root (sudo, su, gosu, USER=root), which distill's non-root images do not allow.",
		URL:         ruleURL("RootUser"),
		Format: func(field spec.Path, tool, value string, build bool) string {
			switch {
			case tool == "":
				return fmt.Sprintf("%s is %q, but the process runs as a non-root user, so tools that trust it misbehave (and /root is not writable); remove it: distill's images never run as root", field, value)
			case build:
				return fmt.Sprintf("%s runs %s to change user, but build commands run as the unprivileged build user 10001 with no way to gain root; drop it, and list OS packages in build.aptPackages", field, tool)
			}
			return fmt.Sprintf("%s runs %s to change user, but the runtime image runs as non-root user 65532 and has no such tool, so the container fails to start; drop it and run the program directly, e.g. [python, app.py]", field, tool)
		},
	}

	// Found by the start-up verification of the built image (Verified).

	// RuleEntrypointNotFound's interpreter is the language's interpreter in
	// the runtime ("" for a language without one, whose hints then name no
	// interpreter or venv).
	RuleEntrypointNotFound = linter.LinterRule[func(p Problem, user, interpreter string) string]{
		Name:        "EntrypointNotFound",
		Description: "The entrypoint's program is not in the image, or the runtime user cannot execute it.",
		URL:         ruleURL("EntrypointNotFound"),
		Format: func(p Problem, user, interpreter string) string {
			switch p.Kind {
			case "entrypoint-exec":
				if interpreter == "" {
					return fmt.Sprintf("app.entrypoint runs %q (%s), which the runtime user %s cannot execute; make it executable in the context (chmod +x)", p.Program, p.File, user)
				}
				return fmt.Sprintf("app.entrypoint runs %q (%s), which the runtime user %s cannot execute; make it executable in the context, or run it through the interpreter, e.g. [python, %s]", p.Program, p.File, user, p.Program)
			case "entrypoint-interpreter":
				if interpreter == "" {
					return fmt.Sprintf("app.entrypoint runs %q, whose #! line names %s, which the image does not have (distroless images have no shell); run a program, not a script", p.Program, p.Interpreter)
				}
				return fmt.Sprintf("app.entrypoint runs %q, whose #! line names %s, which the image does not have (distroless images have no shell); run it through the interpreter, e.g. [python, %s]", p.Program, p.Interpreter, p.Program)
			}
			if strings.Contains(p.Program, "/") {
				// a path is not looked up on PATH
				return fmt.Sprintf("app.entrypoint runs %q, which is not in the image; check that the build context has it and that app.include copies it (app.exclude and .dockerignore leave files out)", p.Program)
			}
			if interpreter == "" {
				return fmt.Sprintf("app.entrypoint runs %q, which is not on the image's PATH (%s); give its path, e.g. [./%s] for a program in the app directory", p.Program, p.Path, p.Program)
			}
			scripts := "none"
			if len(p.Scripts) > 0 {
				scripts = strings.Join(p.Scripts, ", ")
			}
			return fmt.Sprintf("app.entrypoint runs %q, which is not on the image's PATH (%s); programs the venv has: %s; or give a path, e.g. [python, app.py]", p.Program, p.Path, scripts)
		},
	}
	RulePythonVersionMismatch = linter.LinterRule[func(p Problem, builder, runtime string) string]{
		Name:        "PythonVersionMismatch",
		Description: "The builder and the runtime run different Python minor versions, so the venv cannot start.",
		URL:         ruleURL("PythonVersionMismatch"),
		Format: func(p Problem, builder, runtime string) string {
			return fmt.Sprintf("the venv was made by Python %s in the builder (%s) but the runtime (%s) runs Python %s, so its packages cannot load; choose a matched pair (python.version, or base.builder and base.runtime of the same Python minor)", p.Builder, builder, runtime, p.Runtime)
		},
	}
	// RuleMissingLibrary's packages are the Debian packages that ship the
	// missing libraries, when known.
	RuleMissingLibrary = linter.LinterRule[func(p Problem, packages []string) string]{
		Name:        "MissingLibrary",
		Description: "A compiled module or program needs a shared library that the runtime image does not have.",
		URL:         ruleURL("MissingLibrary"),
		Format: func(p Problem, packages []string) string {
			if p.Kind == "loader" {
				return fmt.Sprintf("app.entrypoint runs %q, a dynamically linked program whose loader %s the runtime image does not have (a static runtime has no C library), so it cannot start; link it statically (Go: CGO_ENABLED=0), or run it on a runtime with its C library (base.runtime)", p.Program, p.Interpreter)
			}
			fix := "add the Debian package that ships it to app.runtimePackages"
			if len(packages) > 0 {
				fix = "add it with app.runtimePackages: [" + strings.Join(packages, ", ") + "]"
			}
			return fmt.Sprintf("%s needs %s, which the runtime image does not have; %s", p.Object, strings.Join(p.Missing, ", "), fix)
		},
	}
	RuleImportFailure = linter.LinterRule[func(p Problem, user string) string]{
		Name:        "ImportFailure",
		Description: "A module of an installed distribution does not import in the image.",
		URL:         ruleURL("ImportFailure"),
		Format: func(p Problem, user string) string {
			if p.Kind != "import" {
				return fmt.Sprintf("verification: %s: %s", p.Kind, p.Error)
			}
			return fmt.Sprintf("module %s (distribution %s) does not import in the image as user %s: %s", p.Module, p.Distribution, user, p.Error)
		},
	}
	RuleSilentFallback = linter.LinterRule[func(p Problem) string]{
		Name:        "SilentFallback",
		Description: "An extension module fails to load and its package silently falls back to slower pure Python.",
		URL:         ruleURL("SilentFallback"),
		Format: func(p Problem) string {
			return fmt.Sprintf("extension module %s does not load (%s), and %s silently falls back to pure Python, slower or with fewer features; add its shared libraries with app.runtimePackages", p.Module, p.Error, p.Package)
		},
	}
)

// PinKind says what a requirement lacks to be pinned, for
// RuleUnpinnedRequirement.
type PinKind int

const (
	PinVersion PinKind = iota // a name without == (flask>=3)
	PinCommit                 // a VCS URL at a branch or tag
	PinHash                   // an archive URL without a hash
)

// indexOptions are the requirements-file options that bypass the index
// distill configures, with what each does.
var indexOptions = map[string]string{
	"--index-url":       "replaces the index distill configures (python.indexUrl or python.indexUrlSecret) and puts the URL, and any token in it, in the build context",
	"--extra-index-url": "adds a second index, and pip installs the highest version found on any index, so anyone who publishes that name on the other index wins (dependency confusion)",
	"--find-links":      "adds another package source beside the configured index",
	"--trusted-host":    "turns off TLS certificate checks for that host",
	"--no-index":        "turns off the configured index",
}

// moreFindings is the message that stands for the findings of one rule
// past maxPerRule.
func moreFindings(n int, rule string) string {
	return fmt.Sprintf("%d more %s findings like the ones above are not shown; fix those and run the check again", n, rule)
}

// ruleURL is a rule's section in docs/rules.md (GitHub's anchor for its
// heading).
func ruleURL(name string) string { return DocsURL + "#" + strings.ToLower(name) }

// info is what a Finding says of its rule.
func info[F any](r *linter.LinterRule[F]) Rule {
	return Rule{Name: r.Name, Description: r.Description, URL: r.URL}
}

// def pairs a rule with its check (nil for the verification's rules).
func def[F any](r *linter.LinterRule[F], check func(c *checker)) ruleDef {
	return ruleDef{Rule: info(r), check: check}
}

// table is every rule, in docs order, with its check.
var table = []ruleDef{
	def(&RuleEndOfLifeBase, checkEndOfLife),
	def(&RuleUnpinnedBase, checkUnpinnedBase),
	def(&RuleMissingLock, checkMissingLock),
	def(&RuleStaleLock, checkStaleLock),
	def(&RuleUnpinnedRequirement, checkUnpinnedRequirement),
	def(&RuleUnlockedDependencies, checkUnlockedDependencies),
	def(&RuleIgnoredDependencyFile, checkIgnoredDependencyFile),
	def(&RuleRequirementWithoutHash, checkRequirementHashes),
	def(&RuleLocalRequirement, checkLocalRequirement),
	def(&RuleIndexURLInRequirements, checkIndexInRequirements),
	def(&RuleInsecureIndexURL, checkInsecureIndex),
	def(&RuleSecretInSpec, checkSecrets),
	def(&RuleShellEntrypoint, checkShellEntrypoint),
	def(&RuleShellInBuildCommand, checkShellInBuild),
	def(&RulePrivilegedPort, checkPrivilegedPort),
	def(&RuleRootUser, checkRootUser),
	// found by the start-up verification of the built image (Verified),
	// not by looking at the spec: no check function
	def(&RuleEntrypointNotFound, nil),
	def(&RulePythonVersionMismatch, nil),
	def(&RuleMissingLibrary, nil),
	def(&RuleImportFailure, nil),
	def(&RuleSilentFallback, nil),
}
