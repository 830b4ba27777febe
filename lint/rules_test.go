package lint

import (
	"strings"
	"testing"

	"github.com/distill-build/distill/spec"
)

// TestRuleFormats pins every message users read, word for word: each
// rule's Format on a fixture.
func TestRuleFormats(t *testing.T) {
	ep0 := spec.Field("app.entrypoint").Index(0)
	why1024 := "the app runs as non-root user 65532, which cannot bind a port below 1024 unless the runtime lowers net.ipv4.ip_unprivileged_port_start (Docker does, Kubernetes and host networking do not)"
	imageFix := "anyone who can pull the image reads it in the image config; remove it and pass it at run time (docker run -e, a Kubernetes Secret)"
	buildFix := "it is written into the build definition, the build cache and max-mode provenance; remove it and mount it for the build as a BuildKit secret"
	tests := []struct {
		rule string
		got  string
		want string
	}{
		{"EndOfLifeBase", RuleEndOfLifeBase.Format(eol311[0].Image, eol311[0].Why, eol311[0].Replacement),
			`gcr.io/distroless/python3-debian12 reached end of life in April 2026 and no longer gets security updates; use python.version: "3.13" (gcr.io/distroless/python3-debian13:nonroot with python:3.13-slim-trixie)`},
		{"UnpinnedBase", RuleUnpinnedBase.Format(spec.Field("base.runtime"), "registry.example/python:3.13"),
			`base.runtime "registry.example/python:3.13" is a tag, which its publisher can point at a different image at any time; pin it as registry.example/python:3.13@sha256:<digest> (docker buildx imagetools inspect registry.example/python:3.13 prints the digest) or run distill lock`},
		{"UnpinnedBase", RuleUnpinnedBase.Format(spec.Field("base.builder"), "r.example/"+strings.Repeat("x", 100)),
			`base.builder "r.example/` + strings.Repeat("x", 90) + `..." is a tag, which its publisher can point at a different image at any time; pin it as r.example/` + strings.Repeat("x", 90) + `...@sha256:<digest> (docker buildx imagetools inspect r.example/` + strings.Repeat("x", 90) + `... prints the digest) or run distill lock`},
		{"MissingLock", RuleMissingLock.Format(),
			`there is no distill.lock beside the spec, so each build uses whatever digest the base tags point at that day; run distill lock and commit distill.lock`},
		{"StaleLock", RuleStaleLock.Format("runtime r: locked sha256:aaa, registry has sha256:bbb"),
			`distill.lock pins a base digest the registry no longer serves under its tag (runtime r: locked sha256:aaa, registry has sha256:bbb), so the build misses the publisher's updates; run distill lock to take the new digest and commit distill.lock`},
		{"StaleLock", RuleStaleLock.Format(""),
			`distill.lock pins a base digest the registry no longer serves under its tag, so the build misses the publisher's updates; run distill lock to take the new digest and commit distill.lock`},
		{"UnpinnedRequirement", RuleUnpinnedRequirement.Format("requirements.txt", 3, "flask>=3", PinVersion),
			`requirements.txt:3: flask>=3 is not pinned to one version, so each build may install a different release; pin it with == (pip-compile or uv pip compile writes every pin)`},
		{"UnpinnedRequirement", RuleUnpinnedRequirement.Format("requirements.txt", 4, "git+https://github.com/org/lib@main", PinCommit),
			`requirements.txt:4: git+https://github.com/org/lib@main is not pinned to a commit, so a push to the branch or a moved tag changes what is installed; append @<full 40-character commit hash> to the repository URL`},
		{"UnpinnedRequirement", RuleUnpinnedRequirement.Format("req.txt", 5, "https://h/p.tar.gz", PinHash),
			`req.txt:5: https://h/p.tar.gz is a URL whose content can change; add --hash=sha256:<digest> of the file (pip hash prints it) or install a released version with ==`},
		{"UnlockedDependencies", RuleUnlockedDependencies.Format("pyproject.toml"),
			`pyproject.toml lists dependencies without a lock file, so pip resolves them at every build and two builds of one commit can install different versions, unhashed; lock them (uv lock, poetry lock, or pip lock -o pylock.toml) and commit the lock: distill installs exactly what it pins`},
		{"IgnoredDependencyFile", RuleIgnoredDependencyFile.Format("uv.lock", "requirements.txt"),
			`the context has uv.lock, but the build installs from requirements.txt; with python.dependencies: uv.lock distill installs exactly the locked versions with their hashes`},
		{"IgnoredDependencyFile", RuleIgnoredDependencyFile.Format("poetry.lock", ""),
			`the context has poetry.lock, but the build installs from nothing (no dependency source); with python.dependencies: poetry.lock distill installs exactly the locked versions with their hashes`},
		{"IgnoredDependencyFile", RuleIgnoredDependencyFile.Format("pyproject.toml", "requirements.txt"),
			`the context has pyproject.toml, but the build installs from requirements.txt only; if pyproject.toml declares the app's dependencies, use it (python.dependencies: pyproject.toml) or a lock made from it, or keep the two in sync`},
		{"RequirementWithoutHash", RuleRequirementWithoutHash.Format("requirements.txt", 2, 2),
			`requirements.txt: 2 of 2 requirements have no --hash, so pip cannot tell if a package file on the index was replaced; generate hashes with pip-compile --generate-hashes or uv pip compile --generate-hashes`},
		{"RequirementWithoutHash", RuleRequirementWithoutHash.Format("requirements.txt", 1, 2),
			`requirements.txt: 1 of 2 requirements have no --hash, so pip, seeing some hashes, requires them on every line and fails the install; generate hashes with pip-compile --generate-hashes or uv pip compile --generate-hashes`},
		{"LocalRequirement", RuleLocalRequirement.Format("requirements.txt", 1, "--requirement", "base.txt"),
			`requirements.txt:1: --requirement base.txt names another file, but the dependency install sees only requirements.txt; merge the files into one (pip-compile can) or point python.requirements at the compiled file`},
		{"LocalRequirement", RuleLocalRequirement.Format("requirements.txt", 2, "", "./libs/shared"),
			`requirements.txt:2: ./libs/shared is a local path, but the dependency install sees only requirements.txt, not the build context; publish the package to your index, or build it in build.commands`},
		{"IndexURLInRequirements", RuleIndexURLInRequirements.Format("requirements.txt", 1, "--extra-index-url"),
			`requirements.txt:1: --extra-index-url adds a second index, and pip installs the highest version found on any index, so anyone who publishes that name on the other index wins (dependency confusion); remove it and set the one index with python.indexUrl, or python.indexUrlSecret when the URL carries credentials`},
		{"IndexURLInRequirements", RuleIndexURLInRequirements.Format("requirements.txt", 2, "--trusted-host"),
			`requirements.txt:2: --trusted-host turns off TLS certificate checks for that host; remove it and set the one index with python.indexUrl, or python.indexUrlSecret when the URL carries credentials`},
		{"InsecureIndexURL", RuleInsecureIndexURL.Format("", 0, "", ""),
			`python.indexUrl uses plain http, so anyone on the network path can serve other packages; use the index's https:// URL (plain http is accepted only for loopback hosts)`},
		{"InsecureIndexURL", RuleInsecureIndexURL.Format("requirements.txt", 1, "--index-url", ""),
			`requirements.txt:1: --index-url uses plain http, so anyone on the network path can serve other packages; use https:// (plain http is accepted only for loopback hosts)`},
		{"InsecureIndexURL", RuleInsecureIndexURL.Format("requirements.txt", 3, "", "http://files.example/p.tar.gz"),
			`requirements.txt:3: http://files.example/p.tar.gz is downloaded over plain http, so anyone on the network path can replace it; use https://`},
		{"SecretInSpec", RuleSecretInSpec.Format(spec.Field("app.labels").Key("org.example.key"), "an AWS access key id", true),
			`app.labels.org.example.key holds what looks like an AWS access key id, and ` + imageFix},
		{"SecretInSpec", RuleSecretInSpec.Format(spec.Field("build.env").Key("DB_PASSWORD"), "", false),
			`build.env.DB_PASSWORD sets a literal value for what its name says is a secret, and ` + buildFix},
		{"SecretInSpec", RuleSecretInSpec.Format(spec.Field("build.commands").Index(1).Index(2), "a GitHub token", false),
			`build.commands[1][2] holds what looks like a GitHub token, and ` + buildFix},
		{"ShellEntrypoint", RuleShellEntrypoint.Format(ep0, "sh -c", true),
			`app.entrypoint runs sh -c, but the runtime image has no shell, so the container fails to start; run the program directly, e.g. [python, app.py], and read settings such as the port from the environment in the app`},
		{"ShellEntrypoint", RuleShellEntrypoint.Format(spec.Field("app.entrypoint").Index(2), "variable or command substitution ($PORT)", false),
			`app.entrypoint[2] uses variable or command substitution ($PORT), but the exec-form entrypoint runs no shell and passes it to the program literally; do that work in the app (read os.environ, e.g. PORT) and list plain arguments`},
		{"ShellInBuildCommand", RuleShellInBuildCommand.Format(spec.Field("build.commands").Index(0), "bash -c", true),
			`build.commands[0] runs bash -c, which hides what the step does from distill and from review and bypasses its no-shell rule; put the steps in a script in the context and run it as [python, scripts/build.py]`},
		{"ShellInBuildCommand", RuleShellInBuildCommand.Format(spec.Field("build.commands").Index(1).Index(2), `the shell operator "&&"`, false),
			`build.commands[1][2] uses the shell operator "&&", but build commands run without a shell and pass it to the program literally; split it into separate commands or a Python script`},
		{"PrivilegedPort", RulePrivilegedPort.Format(spec.Field("app.ports").Index(0), 80, false),
			`app.ports[0] is 80, but ` + why1024 + `; listen on 8080 and map 80 to it outside (a Kubernetes Service targetPort, docker run -p 80:8080)`},
		{"PrivilegedPort", RulePrivilegedPort.Format(spec.Field("app.env").Key("PORT"), 443, true),
			`app.env.PORT is 443, but ` + why1024 + `; use 8080 and map 443 to it outside (a Kubernetes Service targetPort, docker run -p 443:8080)`},
		{"RootUser", RuleRootUser.Format(ep0, "gosu", "", false),
			`app.entrypoint[0] runs gosu to change user, but the runtime image runs as non-root user 65532 and has no such tool, so the container fails to start; drop it and run the program directly, e.g. [python, app.py]`},
		{"RootUser", RuleRootUser.Format(spec.Field("build.commands").Index(1).Index(0), "sudo", "", true),
			`build.commands[1][0] runs sudo to change user, but build commands run as the unprivileged build user 10001 with no way to gain root; drop it, and list OS packages in build.aptPackages`},
		{"RootUser", RuleRootUser.Format(spec.Field("app.env").Key("HOME"), "", "/root", false),
			`app.env.HOME is "/root", but the process runs as a non-root user, so tools that trust it misbehave (and /root is not writable); remove it: distill's images never run as root`},
		{"EntrypointNotFound", RuleEntrypointNotFound.Format(Problem{Kind: "entrypoint", Program: "flsk", Path: "/opt/venv/bin:/usr/bin", Scripts: []string{"flask", "gunicorn"}}, "65532:65532", "/usr/bin/python3.13"),
			`app.entrypoint runs "flsk", which is not on the image's PATH (/opt/venv/bin:/usr/bin); programs the venv has: flask, gunicorn; or give a path, e.g. [python, app.py]`},
		{"EntrypointNotFound", RuleEntrypointNotFound.Format(Problem{Kind: "entrypoint", Program: "x", Path: "/usr/bin"}, "65532:65532", "/usr/bin/python3.13"),
			`app.entrypoint runs "x", which is not on the image's PATH (/usr/bin); programs the venv has: none; or give a path, e.g. [python, app.py]`},
		{"EntrypointNotFound", RuleEntrypointNotFound.Format(Problem{Kind: "entrypoint-exec", Program: "./run", File: "/app/run"}, "65532:65532", "/usr/bin/python3.13"),
			`app.entrypoint runs "./run" (/app/run), which the runtime user 65532:65532 cannot execute; make it executable in the context, or run it through the interpreter, e.g. [python, ./run]`},
		{"EntrypointNotFound", RuleEntrypointNotFound.Format(Problem{Kind: "entrypoint-interpreter", Program: "./run.sh", Interpreter: "/bin/sh"}, "65532:65532", "/usr/bin/python3.13"),
			`app.entrypoint runs "./run.sh", whose #! line names /bin/sh, which the image does not have (distroless images have no shell); run it through the interpreter, e.g. [python, ./run.sh]`},
		{"EntrypointNotFound", RuleEntrypointNotFound.Format(Problem{Kind: "entrypoint", Program: "/app/serve", Path: "/usr/bin"}, "65532:65532", "/usr/bin/python3.13"),
			`app.entrypoint runs "/app/serve", which is not in the image; check that the build context has it and that app.include copies it (app.exclude and .dockerignore leave files out)`},
		{"EntrypointNotFound", RuleEntrypointNotFound.Format(Problem{Kind: "entrypoint", Program: "/app/serve", Path: "/usr/bin"}, "65532:65532", ""),
			`app.entrypoint runs "/app/serve", which is not in the image; check that the build context has it and that app.include copies it (app.exclude and .dockerignore leave files out)`},
		{"EntrypointNotFound", RuleEntrypointNotFound.Format(Problem{Kind: "entrypoint", Program: "server", Path: "/usr/bin"}, "65532:65532", ""),
			`app.entrypoint runs "server", which is not on the image's PATH (/usr/bin); give its path, e.g. [./server] for a program in the app directory`},
		{"EntrypointNotFound", RuleEntrypointNotFound.Format(Problem{Kind: "entrypoint-exec", Program: "./server", File: "/app/server"}, "65532:65532", ""),
			`app.entrypoint runs "./server" (/app/server), which the runtime user 65532:65532 cannot execute; make it executable in the context (chmod +x)`},
		{"EntrypointNotFound", RuleEntrypointNotFound.Format(Problem{Kind: "entrypoint-interpreter", Program: "./run.sh", Interpreter: "/bin/sh"}, "65532:65532", ""),
			`app.entrypoint runs "./run.sh", whose #! line names /bin/sh, which the image does not have (distroless images have no shell); run a program, not a script`},
		{"PythonVersionMismatch", RulePythonVersionMismatch.Format(Problem{Kind: "python-minor", Builder: "3.14.0", Runtime: "3.13.5"}, "cgr.dev/chainguard/python:latest-dev", "cgr.dev/chainguard/python:latest"),
			`the venv was made by Python 3.14.0 in the builder (cgr.dev/chainguard/python:latest-dev) but the runtime (cgr.dev/chainguard/python:latest) runs Python 3.13.5, so its packages cannot load; choose a matched pair (python.version, or base.builder and base.runtime of the same Python minor)`},
		{"MissingLibrary", RuleMissingLibrary.Format(Problem{Kind: "library", Object: "/opt/venv/x/_psycopg.so", Missing: []string{"libpq.so.5", "libssl.so.3"}}, []string{"libpq5", "libssl3"}),
			`/opt/venv/x/_psycopg.so needs libpq.so.5, libssl.so.3, which the runtime image does not have; add it with app.runtimePackages: [libpq5, libssl3]`},
		{"MissingLibrary", RuleMissingLibrary.Format(Problem{Kind: "library", Object: "x.so", Missing: []string{"libfoo.so.1"}}, nil),
			`x.so needs libfoo.so.1, which the runtime image does not have; add the Debian package that ships it to app.runtimePackages`},
		{"ImportFailure", RuleImportFailure.Format(Problem{Kind: "import", Module: "lxml", Distribution: "lxml", Error: "ImportError: libxslt.so.1: cannot open"}, "65532:65532"),
			`module lxml (distribution lxml) does not import in the image as user 65532:65532: ImportError: libxslt.so.1: cannot open`},
		{"ImportFailure", RuleImportFailure.Format(Problem{Kind: "timeout", Error: "took over 60s"}, "65532:65532"),
			`verification: timeout: took over 60s`},
		{"SilentFallback", RuleSilentFallback.Format(Problem{Kind: "fallback", Module: "yaml._yaml", Package: "yaml", Error: "libyaml-0.so.2: cannot open"}),
			`extension module yaml._yaml does not load (libyaml-0.so.2: cannot open), and yaml silently falls back to pure Python, slower or with fewer features; add its shared libraries with app.runtimePackages`},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.rule] = true
		if tt.got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.rule, tt.got, tt.want)
		}
	}
	for _, r := range Rules {
		if !covered[r.Name] {
			t.Errorf("rule %s's Format has no fixture", r.Name)
		}
	}
	if got := moreFindings(81, "UnpinnedRequirement"); got != "81 more UnpinnedRequirement findings like the ones above are not shown; fix those and run the check again" {
		t.Errorf("moreFindings: %s", got)
	}
}

// The rule values carry what Rules and the findings say of them.
func TestRuleValues(t *testing.T) {
	if len(table) != len(Rules) {
		t.Fatalf("%d rules in the table, %d in Rules", len(table), len(Rules))
	}
	for _, r := range Rules {
		if r.URL != DocsURL+"#"+strings.ToLower(r.Name) {
			t.Errorf("%s: URL %s", r.Name, r.URL)
		}
	}
	if r := info(&RuleRootUser); r != Rules[15] || r.Name != "RootUser" {
		t.Errorf("info(RuleRootUser) = %+v, Rules[15] = %+v", r, Rules[15])
	}
}

func TestFindingText(t *testing.T) {
	s := parse(t, "app:\n  entrypoint: [sh, -c, \"python app.py\"]\n")
	tests := []struct {
		f        Finding
		severity string
		want     string
	}{
		{Finding{Rule: info(&RuleShellEntrypoint), Field: spec.Field("app.entrypoint").Index(0), Message: "m"}, "",
			"distill.yaml:5:16: ShellEntrypoint: m"},
		{Finding{Rule: info(&RuleShellEntrypoint), Field: spec.Field("app.entrypoint").Index(0), Message: "m"}, "warning",
			"distill.yaml:5:16: warning: ShellEntrypoint: m"},
		// an unwritten field: its section
		{Finding{Rule: info(&RuleMissingLibrary), Field: spec.Field("app.runtimePackages"), Message: "m"}, "error",
			"distill.yaml:5:3: error: MissingLibrary: m"},
		// no field, or nothing of it written: the file
		{Finding{Rule: info(&RuleMissingLock), Message: "m"}, "", "distill.yaml: MissingLock: m"},
		{Finding{Rule: info(&RulePythonVersionMismatch), Field: spec.Field("python.version"), Message: "m"}, "", "distill.yaml: PythonVersionMismatch: m"},
	}
	for _, tt := range tests {
		if got := tt.f.Text(s, tt.severity); got != tt.want {
			t.Errorf("Text = %q, want %q", got, tt.want)
		}
	}
}
