package lint

import (
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/distill-build/distill/spec"
)

// secretPatterns recognise credentials by their shape. A match names only
// the kind of secret; messages never include the value.
var secretPatterns = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`), "an AWS access key id"},
	{regexp.MustCompile(`(?i)aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}`), "an AWS secret access key"},
	{regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36,}`), "a GitHub token"},
	{regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{22,}`), "a GitHub fine-grained token"},
	{regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`), "a GitLab token"},
	{regexp.MustCompile(`\bxox[baprs]-[A-Za-z0-9-]{10,}`), "a Slack token"},
	{regexp.MustCompile(`-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----`), "a private key"},
	// scheme://user:password@ — a placeholder password ($VAR, ${VAR},
	// <...>, ***) is not a secret.
	{regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@$<*{][^/\s@]*@`), "a URL with a password"},
}

// secretNameRe matches variable names that by convention hold a secret:
// the name ends in one of these words (DB_PASSWORD, GITHUB_TOKEN, API_KEY).
// Names ending in _FILE, _PATH, _URL and the like do not match.
var secretNameRe = regexp.MustCompile(`(^|_)(PASSWORD|PASSWD|PASSPHRASE|TOKEN|SECRET|API_?KEY|SECRET_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)$`)

// secretKind returns what kind of secret v looks like, or "".
func secretKind(v string) string {
	for _, p := range secretPatterns {
		if p.re.MatchString(v) {
			return p.what
		}
	}
	return ""
}

// Where a secret in each kind of field ends up, and the fix.
const (
	runtimeSecretFix = "anyone who can pull the image reads it in the image config; remove it and pass it at run time (docker run -e, a Kubernetes Secret)"
	buildSecretFix   = "it is written into the build definition, the build cache and max-mode provenance; remove it and mount it for the build as a BuildKit secret"
)

func checkSecrets(c *checker) {
	envs := func(section string, vars []spec.EnvVar, fix string) {
		for _, e := range vars {
			f := c.field(section + "." + e.Name)
			if kind := secretKind(e.Value); kind != "" {
				c.add(f, "%s.%s holds what looks like %s, and %s", section, e.Name, kind, fix)
				continue
			}
			// An absolute path names a file holding the secret, not the secret.
			if secretNameRe.MatchString(strings.ToUpper(e.Name)) && e.Value != "" && !strings.HasPrefix(e.Value, "/") {
				c.add(f, "%s.%s sets a literal value for what its name says is a secret, and %s", section, e.Name, fix)
			}
		}
	}
	argv := func(field string, args []string, fix string) {
		for i, a := range args {
			if kind := secretKind(a); kind != "" {
				f := field + "[" + strconv.Itoa(i) + "]"
				c.add(c.field(f), "%s holds what looks like %s, and %s", f, kind, fix)
			}
		}
	}
	envs("build.env", c.s.Build.Env, buildSecretFix)
	for i, cmd := range c.s.Build.Commands {
		argv("build.commands["+strconv.Itoa(i)+"]", cmd, buildSecretFix)
	}
	argv("app.entrypoint", c.s.App.Entrypoint, runtimeSecretFix)
	envs("app.env", c.s.App.Env, runtimeSecretFix)
	for _, l := range c.s.App.Labels {
		if kind := secretKind(l.Value); kind != "" {
			c.add(c.field("app.labels."+l.Key), "app.labels.%s holds what looks like %s, and %s", l.Key, kind, runtimeSecretFix)
		}
	}
}

var shells = map[string]bool{"sh": true, "bash": true, "ash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true, "busybox": true}

func isShell(prog string) bool { return shells[path.Base(prog)] }

var (
	varRe = regexp.MustCompile("\\$[A-Za-z_][A-Za-z0-9_]*|\\$\\{|\\$\\(|`")
	// Operators a shell would act on: a whole argument (">", "2>&1"), or
	// && / || anywhere, or a redirection glued to its target (">out.log").
	opArgRe  = regexp.MustCompile(`^(\||\|\||&&|&|;|;;|[0-9]?>>?|[0-9]?>&[0-9]|<|<<|&>)$`)
	opGlueRe = regexp.MustCompile(`&&|\|\||^[0-9]?>>?[^=&\s]|^<[^<\s]|[^\s]\|$|;$`)
)

// shellSyntax returns what in argv needs a shell, and the index of that
// argument; -1 when nothing does. Code passed to python -c is skipped: it
// is Python, where ; and | are ordinary.
func shellSyntax(argv []string) (string, int) {
	if len(argv) > 0 && isShell(argv[0]) {
		if len(argv) > 1 && argv[1] == "-c" {
			return path.Base(argv[0]) + " -c", 0
		}
		return "the shell " + path.Base(argv[0]), 0
	}
	python := len(argv) > 0 && strings.HasPrefix(path.Base(argv[0]), "python")
	for i, a := range argv {
		if python && i > 0 && argv[i-1] == "-c" {
			continue
		}
		switch {
		case varRe.MatchString(a):
			return "variable or command substitution (" + clip(varRe.FindString(a), 20) + ")", i
		case opArgRe.MatchString(a), opGlueRe.MatchString(a):
			return "the shell operator " + strconv.Quote(clip(a, 20)), i
		}
	}
	return "", -1
}

func checkShellEntrypoint(c *checker) {
	ep := c.s.App.Entrypoint
	what, i := shellSyntax(ep)
	if i < 0 {
		return
	}
	f := "app.entrypoint[" + strconv.Itoa(i) + "]"
	if i == 0 && isShell(ep[0]) {
		c.add(c.field(f), "app.entrypoint runs %s, but the runtime image has no shell, so the container fails to start; run the program directly, e.g. [python, app.py], and read settings such as the port from the environment in the app", what)
		return
	}
	c.add(c.field(f), "%s uses %s, but the exec-form entrypoint runs no shell and passes it to the program literally; do that work in the app (read os.environ, e.g. PORT) and list plain arguments", f, what)
}

func checkShellInBuild(c *checker) {
	for i, cmd := range c.s.Build.Commands {
		what, j := shellSyntax(cmd)
		if j < 0 {
			continue
		}
		f := "build.commands[" + strconv.Itoa(i) + "]"
		if j == 0 && isShell(cmd[0]) {
			c.add(c.field(f), "%s runs %s, which hides what the step does from distill and from review and bypasses its no-shell rule; put the steps in a script in the context and run it as [python, scripts/build.py]", f, what)
			continue
		}
		fj := f + "[" + strconv.Itoa(j) + "]"
		c.add(c.field(fj), "%s uses %s, but build commands run without a shell and pass it to the program literally; split it into separate commands or a Python script", fj, what)
	}
}

func checkPrivilegedPort(c *checker) {
	const why = "the app runs as non-root user 65532, which cannot bind a port below 1024 unless the runtime lowers net.ipv4.ip_unprivileged_port_start (Docker does, Kubernetes and host networking do not)"
	for i, p := range c.s.App.Ports {
		if p > 0 && p < 1024 {
			f := "app.ports[" + strconv.Itoa(i) + "]"
			c.add(c.field(f), "%s is %d, but %s; listen on 8080 and map %d to it outside (a Kubernetes Service targetPort, docker run -p %d:8080)", f, p, why, p, p)
		}
	}
	for _, e := range c.s.App.Env {
		if e.Name != "PORT" {
			continue
		}
		if p, err := strconv.Atoi(strings.TrimSpace(e.Value)); err == nil && p > 0 && p < 1024 {
			c.add(c.field("app.env.PORT"), "app.env.PORT is %d, but %s; use 8080 and map %d to it outside (a Kubernetes Service targetPort, docker run -p %d:8080)", p, why, p, p)
		}
	}
}

var rootTools = map[string]bool{"sudo": true, "su": true, "gosu": true, "su-exec": true, "setpriv": true, "doas": true, "runuser": true, "chroot": true}

func checkRootUser(c *checker) {
	prog := func(field string, argv []string, why, fix string) {
		if len(argv) > 0 && rootTools[path.Base(argv[0])] {
			f := field + "[0]"
			c.add(c.field(f), "%s runs %s to change user, but %s; %s", f, path.Base(argv[0]), why, fix)
		}
	}
	prog("app.entrypoint", c.s.App.Entrypoint,
		"the runtime image runs as non-root user 65532 and has no such tool, so the container fails to start",
		"drop it and run the program directly, e.g. [python, app.py]")
	for i, cmd := range c.s.Build.Commands {
		prog("build.commands["+strconv.Itoa(i)+"]", cmd,
			"build commands run as the unprivileged build user 10001 with no way to gain root",
			"drop it, and list OS packages in build.aptPackages")
	}
	envs := func(section string, vars []spec.EnvVar) {
		for _, e := range vars {
			root := false
			switch e.Name {
			case "USER", "LOGNAME", "USERNAME":
				root = e.Value == "root"
			case "HOME":
				root = e.Value == "/root" || strings.HasPrefix(e.Value, "/root/")
			case "UID", "EUID":
				root = e.Value == "0"
			}
			if root {
				c.add(c.field(section+"."+e.Name), "%s.%s is %q, but the process runs as a non-root user, so tools that trust it misbehave (and /root is not writable); remove it: distill's images never run as root", section, e.Name, e.Value)
			}
		}
	}
	envs("build.env", c.s.Build.Env)
	envs("app.env", c.s.App.Env)
}

func checkUnlockedDependencies(c *checker) {
	d := c.in.Dependencies
	if d.Kind != "pyproject" {
		return
	}
	c.add(c.field(d.Field), "%s lists dependencies without a lock file, so pip resolves them at every build and two builds of one commit can install different versions, unhashed; lock them (uv lock, poetry lock, or pip lock -o pylock.toml) and commit the lock: distill installs exactly what it pins", d.Path)
}

// lockNames are the lock files distill reads, by preference of detection.
var lockNames = []string{"uv.lock", "poetry.lock", "pylock.toml"}

func checkIgnoredDependencyFile(c *checker) {
	d := c.in.Dependencies
	used := map[string]bool{d.Path: true}
	for _, f := range d.Present {
		if used[f] {
			continue
		}
		switch {
		case slices.Contains(lockNames, f) && d.Kind != "uv.lock" && d.Kind != "poetry.lock" && d.Kind != "pylock.toml":
			c.add(c.field(d.Field), "the context has %s, but the build installs from %s; with python.dependencies: %s distill installs exactly the locked versions with their hashes", f, orNothing(d.Path), f)
		case f == "pyproject.toml" && d.Kind == "requirements" && d.Path != "":
			c.add(c.field(d.Field), "the context has pyproject.toml, but the build installs from %s only; if pyproject.toml declares the app's dependencies, use it (python.dependencies: pyproject.toml) or a lock made from it, or keep the two in sync", d.Path)
		}
	}
}

func orNothing(p string) string {
	if p == "" {
		return "nothing (no dependency source)"
	}
	return p
}
