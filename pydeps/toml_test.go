package pydeps

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseTOMLTree(t *testing.T) {
	src := "a = 1\n[t]\nb.c = \"x\" # comment\n[[arr]]\nk = [1, 2]\n[[arr]]\nk = { x = true }\n"
	doc, err := parseTOML("f.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.root.get("a"); v == nil || v.kind != tInt || v.num != 1 {
		t.Errorf("a = %+v", v)
	}
	tt := doc.root.get("t").tab
	if c := tt.get("b").tab.get("c"); c.str != "x" || doc.pos(c.off) != (Pos{3, 7}) {
		t.Errorf("b.c = %+v at %v", c, doc.pos(c.off))
	}
	arr := doc.root.get("arr")
	if !arr.aot || len(arr.arr) != 2 || doc.pos(arr.arr[1].off) != (Pos{6, 1}) {
		t.Errorf("arr = %+v", arr)
	}
}

func TestParseTOMLErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"duplicate key", "a = 1\na = 2\n", "f.toml:2:1: duplicate key \"a\""},
		{"table twice", "[a]\nx = 1\n[a]\n", "f.toml:3:2: [a] is defined twice"},
		{"inline closed", "a = { b = 1 }\n[a.c]\n", "f.toml:2:2: \"a\" is an inline table, which cannot be extended"},
		{"array of tables over array", "a = [1]\n[[a]]\n", "f.toml:2:3: [[a]] redefines an array"},
		{"truncated string", "a = \"abc\n", "f.toml:1:"},
		{"truncated array", "a = [1, 2,\n", "f.toml:1:"},
		{"missing value", "a =\n", "f.toml:1:"},
		{"garbage", "a = 1\n}}}\n", "f.toml:2:1: invalid TOML"},
		{"bad utf8", "a = 1\nb = \"\xff\"\n", "f.toml:2:6: invalid UTF-8 (byte 0xff)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseTOML("f.toml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 || e.Column < 1 {
				t.Errorf("no position: %#v", err)
			}
		})
	}
}

func TestParseTOMLBudgets(t *testing.T) {
	t.Run("size", func(t *testing.T) {
		// 100 MB of a valid-looking lock: refused before any parsing
		big := bytes.Repeat([]byte("[[package]]\nname = \"x\"\n"), 100<<20/23)
		_, err := parseTOML("uv.lock", big)
		if err == nil || !strings.Contains(err.Error(), "uv.lock:1:1: file is 100.0 MiB; the limit is 16.0 MiB") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("nesting", func(t *testing.T) {
		bomb := "a = " + strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20) + "\n"
		_, err := parseTOML("f.toml", []byte(bomb))
		if err == nil || !strings.Contains(err.Error(), "f.toml:1:37: arrays, inline tables and table headers nest more than 32 deep") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("nested inline tables", func(t *testing.T) {
		bomb := "a = " + strings.Repeat("{b=", 100) + "1" + strings.Repeat("}", 100) + "\n"
		if _, err := parseTOML("f.toml", []byte(bomb)); err == nil || !strings.Contains(err.Error(), "nest more than 32 deep") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("huge inline table", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("a = {")
		for i := 0; i < maxValues+10; i++ {
			b.WriteString("k=1,")
		}
		b.WriteString("}\n")
		_, err := parseTOML("f.toml", []byte(b.String()))
		if err == nil || !strings.Contains(err.Error(), "more than 1048576 keys and values") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("brackets in strings do not count", func(t *testing.T) {
		src := "a = \"" + strings.Repeat("[", 100) + "\"\nb = '''" + strings.Repeat("{", 100) + "'''\n# " + strings.Repeat("[", 100) + "\n"
		if _, err := parseTOML("f.toml", []byte(src)); err != nil {
			t.Fatal(err)
		}
	})
}
