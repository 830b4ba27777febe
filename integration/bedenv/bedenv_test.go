package bedenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var odd = map[string]string{
	"BUILDKIT_HOST":     "unix:///work/main/.work/run/buildkitd.sock",
	"DISTILL_INDEX_URL": "http://127.0.0.1:3141/simple",
	"SPACES":            "a b  c",
	"QUOTES":            `it's "quoted" \ back '' '\''`,
	"DOLLAR":            "$HOME and ${X} and $(id) and `id`",
	"NEWLINE":           "line1\nline2\ttab\r",
	"GLOB":              "*.go ? [ab] ~root",
	"SHELLY":            "a;b|c&d>e<f(g)h{i}j!k#l",
	"UTF8":              "grüße ✓",
	"EMPTY":             "",
	"DASH":              "-n",
}

func TestWriteReadRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	want := &Env{Vars: odd, Path: []string{"/w/bin", "/w/x y"},
		Services: []Service{{Name: "registry", Addr: "127.0.0.1:5000", PID: 42, Log: "/w/logs/registry.log"}}}
	if err := Write(p, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", got, want)
	}
	if matches, _ := filepath.Glob(p + ".*"); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
	if got.Get("PATH", func(string) string { return "/usr/bin" }) != "/w/bin:/w/x y:/usr/bin" {
		t.Errorf("PATH = %q", got.Get("PATH", func(string) string { return "/usr/bin" }))
	}
	env := got.Environ(func(string) string { return "" })
	if env[len(env)-1] != "PATH=/w/bin:/w/x y" {
		t.Errorf("Environ: PATH last, without a trailing separator: %q", env)
	}
}

func TestReadRefusesWhatItDoesNotKnow(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown field": `{"env": {}, "extra": 1}`,
		"PATH in env":   `{"env": {"PATH": "/x"}}`,
		"bad name":      `{"env": {"A-B": "x"}}`,
		"not json":      "export A=b\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(p); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v, want a not-exist error", err)
	}
}

// Every value must come back unchanged through a real shell: eval the
// export lines in bash and in dash (the POSIX sh), print each variable.
func TestShellQuotingThroughRealShells(t *testing.T) {
	e := &Env{Vars: odd, Path: []string{"/opt/it's bin"}}
	for _, sh := range []string{"bash", "sh"} {
		if _, err := exec.LookPath(sh); err != nil {
			t.Fatalf("%s: %v", sh, err)
		}
		for k, v := range odd {
			script := e.Shell() + `printf '%s' "$` + k + `"`
			cmd := exec.Command(sh, "-c", script)
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v\n%s", sh, err, e.Shell())
			}
			if string(out) != v {
				t.Errorf("%s: %s = %q, want %q", sh, k, out, v)
			}
		}
		cmd := exec.Command(sh, "-c", e.Shell()+`printf '%s' "$PATH"`)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		out, err := cmd.Output()
		if err != nil || string(out) != "/opt/it's bin:/usr/bin:/bin" {
			t.Errorf("%s: PATH = %q (%v)", sh, out, err)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":               "''",
		"plain/path-1.2": "plain/path-1.2",
		"a b":            "'a b'",
		"it's":           `'it'\''s'`,
		"$x":             "'$x'",
		"~":              "'~'",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
