package helper

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPyJSON(t *testing.T) {
	v := map[string]any{"b": []any{1, map[string]any{"z": "\u00e9\U0001f600\x7f\x01\t\"\\/", "a": []string{}}, map[string]any{}}, "a": nil, "c": true}
	for _, tc := range []struct {
		indent int
		want   string // json.dumps(v, sort_keys=True[, indent=1]) of Python 3.11
	}{
		{-1, `{"a": null, "b": [1, {"a": [], "z": "\u00e9\ud83d\ude00\u007f\u0001\t\"\\/"}, {}], "c": true}`},
		{1, "{\n \"a\": null,\n \"b\": [\n  1,\n  {\n   \"a\": [],\n   \"z\": \"\\u00e9\\ud83d\\ude00\\u007f\\u0001\\t\\\"\\\\/\"\n  },\n  {}\n ],\n \"c\": true\n}"},
	} {
		if got := PyJSON(v, tc.indent); got != tc.want {
			t.Errorf("indent %d:\n got %s\nwant %s", tc.indent, got, tc.want)
		}
	}
}

func TestPythonText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a\nb\n", []string{"a", "b"}},
		{"a\r\nb\rc\n\nd", []string{"a", "b", "c", "", "d"}},
		{"a\x0bb\x0cc\x1cd\u0085e\u2028f", []string{"a", "b", "c", "d", "e", "f"}},
	} {
		if got := SplitLines(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("SplitLines(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Strip("\x1f \t x y\u00a0\n"); got != "x y" {
		t.Errorf("Strip = %q", got)
	}
	if got := Lines("a\nb"); !slices.Equal(got, []string{"a\n", "b"}) {
		t.Errorf("Lines = %q", got)
	}
	// bytes.decode("utf-8", "replace") of Python 3.11
	for in, want := range map[string]string{
		"ok \u00e9":      "ok \u00e9",
		"a\xffb":         "a\ufffdb",
		"a\xe2\x82b":     "a\ufffdb",             // a truncated sequence is one
		"a\xed\xa0\x80b": "a\ufffd\ufffd\ufffdb", // a surrogate is three
		"a\xf0\x9f\x98":  "a\ufffd",
		"x\r\ny\rz":      "x\ny\nz",
		"\xc0\xaf":       "\ufffd\ufffd",
	} {
		if got := decodeText([]byte(in)); got != want {
			t.Errorf("decodeText(%q) = %q, want %q", in, got, want)
		}
	}
	for s, want := range map[string]bool{"abc": true, "_x1": true, "1x": false, "a.b": false, "": false, "é": true, "a-b": false} {
		if IsIdentifier(s) != want {
			t.Errorf("IsIdentifier(%q) = %v", s, !want)
		}
	}
}

func TestGlobSkipsDotNames(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.txt", ".hidden.txt", "sub/b.txt", ".dot/c.txt"} {
		writeFile(t, filepath.Join(dir, f), "", 0o644)
	}
	rel := func(ms []string) []string {
		for i, m := range ms {
			ms[i] = strings.TrimPrefix(m, dir+"/")
		}
		return ms
	}
	for pattern, want := range map[string][]string{
		"*.txt":   {"a.txt"},
		".*.txt":  {".hidden.txt"},
		"*/*.txt": {"sub/b.txt"},
		".dot/*":  {".dot/c.txt"},
	} {
		if got := rel(Glob(filepath.Join(dir, pattern))); !slices.Equal(got, want) {
			t.Errorf("Glob(%s) = %q, want %q", pattern, got, want)
		}
	}
}

func TestMain(t *testing.T) {
	cmds := map[string]Command{
		"ok": func(args []string, stdout, stderr io.Writer) error {
			stdout.Write([]byte(strings.Join(args, "|")))
			return nil
		},
		"fail": func(args []string, stdout, stderr io.Writer) error { return errors.New("app.runtimePackages: nope") },
	}
	for _, tc := range []struct {
		args             []string
		code             int
		wantOut, wantErr string
	}{
		{[]string{"ok", "--x", "y"}, 0, "--x|y", ""},
		{[]string{"fail"}, 1, "", "app.runtimePackages: nope\n"},
		{[]string{"nope"}, 1, "", "distill helper: unknown command \"nope\"; the commands are: fail, ok\n"},
		{nil, 1, "", "distill helper: a command is needed, one of: fail, ok\n"},
	} {
		var out, errOut bytes.Buffer
		if code := Main(tc.args, cmds, &out, &errOut); code != tc.code || out.String() != tc.wantOut || errOut.String() != tc.wantErr {
			t.Errorf("Main(%q) = %d, %q, %q; want %d, %q, %q", tc.args, code, out.String(), errOut.String(), tc.code, tc.wantOut, tc.wantErr)
		}
	}
	if got := Commands(); len(got) != 6 || got["permissions"] == nil || got["prepare"] == nil || got["apt"] == nil || got["runtime-packages"] == nil || got["sbom"] == nil || got["verify"] == nil {
		t.Errorf("Commands() = %v", got)
	}
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}
