package bedenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// The env file is written by bash's `printf 'export %s=%q\n'`; every value
// bash quotes must come back unchanged.
func TestReadEnvFileRoundTripsBashQuoting(t *testing.T) {
	values := map[string]string{
		"BUILDKIT_HOST":     "unix:///work/main/.work/run/buildkitd.sock",
		"DISTILL_REGISTRY":  "127.0.0.1:5000",
		"DISTILL_INDEX_URL": "http://127.0.0.1:8765/simple",
		"SPACES":            "a b  c",
		"QUOTES":            `it's "quoted" \ back`,
		"DOLLAR":            "$HOME and ${X}",
		"NEWLINE":           "line1\nline2\ttab",
		"EMPTY":             "",
	}
	order := []string{"BUILDKIT_HOST", "DISTILL_REGISTRY", "DISTILL_INDEX_URL", "SPACES", "QUOTES", "DOLLAR", "NEWLINE", "EMPTY"}
	script := `for k in "$@"; do printf 'export %s=%q\n' "$k" "${!k}"; done; printf 'export PATH=%q:"$PATH"\n' /opt/bin`
	cmd := exec.Command("bash", append([]string{"-c", script, "bash"}, order...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	for k, v := range values {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "testbed.env")
	if err := os.WriteFile(p, append([]byte("# written by testbed.sh\n\n"), out...), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out)
	got, err := Read(p, func(k string) string { return map[string]string{"PATH": "/usr/bin"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	var want [][2]string
	for _, k := range order {
		want = append(want, [2]string{k, values[k]})
	}
	want = append(want, [2]string{"PATH", "/opt/bin:/usr/bin"})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestReadEnvFileRejectsOtherShell(t *testing.T) {
	for _, line := range []string{"export X=$(id)", "export X=a b", "rm -rf /", "export X='open"} {
		p := filepath.Join(t.TempDir(), "e")
		os.WriteFile(p, []byte(line+"\n"), 0o644)
		if _, err := Read(p, os.Getenv); err == nil {
			t.Errorf("%q accepted", line)
		}
	}
}
