package spec

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// billionLaughs is the classic alias bomb: nine levels of nine aliases, 9^9
// strings if expanded, aimed at every list field.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("x-lol: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "x-l%d: &l%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("apiVersion: distill/v1\nname: a\nlanguage: python\n")
	b.WriteString("build: {aptPackages: *l9, commands: *l9, env: *l9}\n")
	b.WriteString("app: {entrypoint: *l9, include: *l9, ports: *l9, labels: *l9}\n")
	return b.String()
}

// quadratic is small on disk but each of its 2,000 uses of *s is a list of
// 2,000 strings: 4 million values if walked.
func quadratic() string {
	var b strings.Builder
	b.WriteString("x-s: &s [" + strings.TrimSuffix(strings.Repeat("x, ", 2000), ", ") + "]\n")
	b.WriteString("apiVersion: distill/v1\nname: a\nlanguage: python\napp: {entrypoint: [python]}\n")
	b.WriteString("build:\n  commands: [" + strings.TrimSuffix(strings.Repeat("*s, ", 2000), ", ") + "]\n")
	return b.String()
}

func TestHostile(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"too large", strings.Repeat("#", MaxSpecSize+1), []string{"1:1: spec is 1048577 bytes; the limit is 1048576 (1 MiB)"}},
		{"empty", "", []string{"1:1: empty spec: expected apiVersion: distill/v1, name, language and app.entrypoint"}},
		{"whitespace", " \n\n   \n", []string{"1:1: empty spec"}},
		{"comments only", "# syntax=x/y\n# nothing\n", []string{"1:1: empty spec"}},
		{"document marker only", "---\n", []string{"1:1: empty spec"}},
		{"null document", "~\n", []string{"1:1: empty spec"}},
		{"NUL byte", "apiVersion: distill/v1\nna\x00me: x\n", []string{"2:3: NUL byte: a spec must be text"}},
		{"invalid UTF-8", "apiVersion: distill/v1\nname: caf\xe9\n", []string{"2:10: invalid UTF-8 (byte 0xe9): a spec must be UTF-8 text"}},
		{"overlong UTF-8", "name: \xc0\xaf\n", []string{"1:7: invalid UTF-8 (byte 0xc0)"}},
		{"surrogate in UTF-8", "name: \xed\xa0\x80\n", []string{"1:7: invalid UTF-8"}},
		{"UTF-16", "\xff\xfea\x00:\x00 \x00b\x00", []string{"1:1: invalid UTF-8 (byte 0xff)"}},
		{"control character", "name: \x1b[31mred\n", []string{"1:7: control character U+001B: a spec must be printable text"}},
		{"DEL", "name: a\x7f\n", []string{"1:8: control character U+007F"}},
		{"lone CR", "apiVersion: distill/v1\rname: a\n", []string{"1:23: line break U+000D: end lines with LF or CRLF"}},
		{"line separator", "name: a\u2028b\n", []string{"1:8: line break U+2028"}},
		{"NEL", "name: a\u0085\n", []string{"1:8: line break U+0085"}},
		{"C1 control", "name: a\u0090\n", []string{"1:8: control character U+0090"}},
		{"deep flow nesting", "x-a: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n", []string{"1:" + fmt.Sprint(6+maxDepth-1) + ": nesting deeper than 64 levels"}},
		{"deep block nesting", deepBlock(80), []string{"nesting deeper than 64 levels"}},
		{"nesting beyond the YAML library's limit", "a: " + strings.Repeat("[", 20000), []string{"invalid YAML: exceeded max depth of 10000"}},
		{"billion laughs", billionLaughs(), []string{
			"build.aptPackages[0] must be a string, got a list",
			"build.commands[0][0] must be a string (or a number or boolean, used as written), got a list",
		}},
		{"quadratic alias expansion", quadratic(), []string{"spec expands to more than 10000 values (YAML aliases?); refusing to read further"}},
		{"recursive alias", "apiVersion: distill/v1\nname: a\nlanguage: python\napp: &a {entrypoint: [python], x-self: *a}\nbuild: {commands: &c [*c]}\n", []string{
			"5:19: build.commands[0][0] must be a string (or a number or boolean, used as written), got a list",
		}},
		{"undefined alias", "a: *nope\n", []string{`invalid YAML: unknown anchor 'nope' referenced`}},
		{"long unknown key", withApp("", "  "+strings.Repeat("k", 1000)+": 1\n"), []string{`6:3: unknown key "` + strings.Repeat("k", 60) + `..." in app`}},
		{"huge explicit key", withApp("", "  ? "+strings.Repeat("k", 500_000)+"\n  : 1\n"), []string{`6:5: unknown key "` + strings.Repeat("k", 60) + `..." in app`}},
		{"huge simple key", withApp("", "  "+strings.Repeat("k", 500_000)+": 1\n"), []string{`6: invalid YAML: could not find expected ':'`}},
		{"many list items", withApp("", "  include: ["+strings.Repeat("a,", 200_000)+"a]\n"), []string{"spec expands to more than 10000 values"}},
		{"percent-encoded tag", "name: !%C0%80 x\n", []string{`1:7: name must be a string, got a "!\xc0\x80" value (YAML tags are not supported)`}},
		{"explicit int tag on text", withApp("", "  ports: [!!int abc, !!int \"1\\n2\"]\n"), []string{
			`6:11: app.ports[0] must be a port number (1-65535), got "abc"`,
			`6:22: app.ports[1] must be a port number (1-65535), got "1\n2"`,
		}},
		{"binary tag", withApp("", "  env: {A: !!binary aGVsbG8=}\n"), []string{"6:12: app.env.A must be a string (or a number or boolean, used as written), got a !!binary value (YAML tags are not supported)"}},
		{"custom tag on a section", "apiVersion: distill/v1\nname: a\nlanguage: python\napp: !!map {entrypoint: [python]}\nbuild: !custom {}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			s, p, err := parseSpec("distill.yaml", []byte(tt.src))
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			// the cost is bounded by what Parse does, not by how fast this
			// machine is: the walk never exceeds its budget plus the nodes
			// the file literally holds, and memory stays small
			checkWalk(t, p, tt.src)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", s)
			}
			errs := AsErrors(err)
			if len(errs) == 0 {
				t.Fatalf("no positions: %v", err)
			}
			all := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("error does not contain %q:\n%s", w, truncate(all, 2000))
				}
			}
			for _, e := range errs {
				if e.Line < 1 || e.Column < 0 || e.File != "distill.yaml" {
					t.Errorf("bad position: %+v", e)
				}
				if len(e.Msg) > 1000 {
					t.Errorf("message of %d bytes", len(e.Msg))
				}
			}
		})
	}
}

func deepBlock(n int) string {
	var b strings.Builder
	b.WriteString("x-deep:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s- \n", strings.Repeat(" ", i))
	}
	return b.String()
}

// checkWalk asserts the bound on a parse's work: values visited (each use
// of an alias counted again) never exceed the walk budget plus the nodes the
// document holds without expanding aliases, so an alias bomb costs no more
// than a file of its size. It also checks the error list stays bounded.
func checkWalk(t *testing.T, p *parser, src string) {
	t.Helper()
	if limit := maxVisits + literalNodes(src); p.walked > limit {
		t.Errorf("walked %d values, more than the budget %d plus the %d nodes in the file", p.walked, maxVisits, literalNodes(src))
	}
	if p.visits < -1 {
		t.Errorf("the walk budget went %d below zero: visits went on after it ran out", -p.visits)
	}
	if len(p.errs) > maxErrors+1 {
		t.Errorf("%d errors kept, more than %d (+1 summary)", len(p.errs), maxErrors)
	}
}

// literalNodes counts the nodes of src's YAML tree, aliases counted once as
// the alias node itself (0 when it does not decode).
func literalNodes(src string) int {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return 0
	}
	n, stack := 0, []*yaml.Node{&doc}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n++
		stack = append(stack, x.Content...)
	}
	return n
}

// TestBillionLaughsBounded checks the bound the issue asks for directly: the
// bomb fails, having walked a few hundred values of its 9^9, well inside
// the budget, and without expanding it in memory.
func TestBillionLaughsBounded(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, p, err := parseSpec("distill.yaml", []byte(billionLaughs()))
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("billion laughs parsed")
	}
	if p.walked > maxVisits {
		t.Errorf("billion laughs walked %d values, more than the budget %d", p.walked, maxVisits)
	}
	if p.walked > 1000 {
		t.Errorf("billion laughs walked %d values: the wrong kinds should stop it after a few hundred", p.walked)
	}
	if !strings.Contains(err.Error(), "build.aptPackages[0] must be a string, got a list") {
		t.Errorf("error: %v", truncate(err.Error(), 500))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
}

// TestLargeValidSpec is the worst a spec that passes can cost: near the size
// limit, under the walk budget.
func TestLargeValidSpec(t *testing.T) {
	var b strings.Builder
	b.WriteString(withApp("", "  env:\n"))
	for i := 0; b.Len() < MaxSpecSize-2000; i++ {
		fmt.Fprintf(&b, "    V%d: %s\n", i, strings.Repeat("v", 1000))
	}
	if b.Len() > MaxSpecSize {
		t.Fatalf("fixture of %d bytes is over the limit", b.Len())
	}
	s, p, err := parseSpec("distill.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if p.walked > maxVisits || p.aborted {
		t.Errorf("a valid spec walked %d values (budget %d, aborted %v)", p.walked, maxVisits, p.aborted)
	}
	if len(s.App.Env) < 900 {
		t.Errorf("got %d env vars", len(s.App.Env))
	}
}
