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

func checkSecrets(c *checker) {
	envs := func(section spec.Path, vars []spec.EnvVar, inImage bool) {
		for _, e := range vars {
			f := section.Key(e.Name)
			if kind := secretKind(e.Value); kind != "" {
				c.add(f, RuleSecretInSpec.Format(f, kind, inImage))
				continue
			}
			// An absolute path names a file holding the secret, not the secret.
			if secretNameRe.MatchString(strings.ToUpper(e.Name)) && e.Value != "" && !strings.HasPrefix(e.Value, "/") {
				c.add(f, RuleSecretInSpec.Format(f, "", inImage))
			}
		}
	}
	argv := func(field spec.Path, args []string, inImage bool) {
		for i, a := range args {
			if kind := secretKind(a); kind != "" {
				c.add(field.Index(i), RuleSecretInSpec.Format(field.Index(i), kind, inImage))
			}
		}
	}
	envs(spec.Field("build.env"), c.s.Build.Env, false)
	for i, cmd := range c.s.Build.Commands {
		argv(spec.Field("build.commands").Index(i), cmd, false)
	}
	argv(spec.Field("app.entrypoint"), c.s.App.Entrypoint, true)
	envs(spec.Field("app.env"), c.s.App.Env, true)
	for _, l := range c.s.App.Labels {
		if kind := secretKind(l.Value); kind != "" {
			f := spec.Field("app.labels").Key(l.Key)
			c.add(f, RuleSecretInSpec.Format(f, kind, true))
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
	f := spec.Field("app.entrypoint").Index(i)
	c.add(f, RuleShellEntrypoint.Format(f, what, i == 0 && isShell(ep[0])))
}

func checkShellInBuild(c *checker) {
	for i, cmd := range c.s.Build.Commands {
		what, j := shellSyntax(cmd)
		if j < 0 {
			continue
		}
		f := spec.Field("build.commands").Index(i)
		if j == 0 && isShell(cmd[0]) {
			c.add(f, RuleShellInBuildCommand.Format(f, what, true))
			continue
		}
		c.add(f.Index(j), RuleShellInBuildCommand.Format(f.Index(j), what, false))
	}
}

func checkPrivilegedPort(c *checker) {
	for i, p := range c.s.App.Ports {
		if p > 0 && p < 1024 {
			f := spec.Field("app.ports").Index(i)
			c.add(f, RulePrivilegedPort.Format(f, p, false))
		}
	}
	for _, e := range c.s.App.Env {
		if e.Name != "PORT" {
			continue
		}
		if p, err := strconv.Atoi(strings.TrimSpace(e.Value)); err == nil && p > 0 && p < 1024 {
			f := spec.Field("app.env").Key("PORT")
			c.add(f, RulePrivilegedPort.Format(f, p, true))
		}
	}
}

var rootTools = map[string]bool{"sudo": true, "su": true, "gosu": true, "su-exec": true, "setpriv": true, "doas": true, "runuser": true, "chroot": true}

func checkRootUser(c *checker) {
	prog := func(field spec.Path, argv []string, build bool) {
		if len(argv) > 0 && rootTools[path.Base(argv[0])] {
			c.add(field.Index(0), RuleRootUser.Format(field.Index(0), path.Base(argv[0]), "", build))
		}
	}
	prog(spec.Field("app.entrypoint"), c.s.App.Entrypoint, false)
	for i, cmd := range c.s.Build.Commands {
		prog(spec.Field("build.commands").Index(i), cmd, true)
	}
	envs := func(section spec.Path, vars []spec.EnvVar) {
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
				f := section.Key(e.Name)
				c.add(f, RuleRootUser.Format(f, "", e.Value, false))
			}
		}
	}
	envs(spec.Field("build.env"), c.s.Build.Env)
	envs(spec.Field("app.env"), c.s.App.Env)
}

func checkUnlockedDependencies(c *checker) {
	d := c.in.Dependencies
	if d.Kind == "pyproject" {
		c.add(c.reqField(), RuleUnlockedDependencies.Format(d.Path))
	}
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
		case slices.Contains(lockNames, f) && !slices.Contains(lockNames, d.Kind):
			c.add(c.reqField(), RuleIgnoredDependencyFile.Format(f, d.Path))
		case f == "pyproject.toml" && d.Kind == "requirements" && d.Path != "":
			c.add(c.reqField(), RuleIgnoredDependencyFile.Format(f, d.Path))
		}
	}
}
