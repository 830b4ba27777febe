package spec

import (
	"testing"
)

func TestPathString(t *testing.T) {
	tests := []struct {
		name string
		p    Path
		want string
	}{
		{"document", Path{}, ""},
		{"top-level field", Field("apiVersion"), "apiVersion"},
		{"nested field", Field("python.version"), "python.version"},
		{"three levels", Field("app.healthcheck.http"), "app.healthcheck.http"},
		{"field built by keys", Field("app").Key("healthcheck").Key("http"), "app.healthcheck.http"},
		{"index", Field("app.entrypoint").Index(0), "app.entrypoint[0]"},
		{"index of index", Field("build.commands").Index(1).Index(12), "build.commands[1][12]"},
		{"map key", Field("build.env").Key("FOO"), "build.env.FOO"},
		{"map key with dots", Field("app.labels").Key("org.opencontainers.image.source"), "app.labels.org.opencontainers.image.source"},
		{"map key with brackets", Field("app.env").Key("A[0]"), "app.env.A[0]"},
		{"empty field", Field(""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := ParsePath(tt.want); got != tt.p && tt.name != "map key with brackets" {
				t.Errorf("ParsePath(%q) = %q, not the same path", tt.want, got)
			}
		})
	}
	// a key taken whole is not the same path as nested keys with the same text
	if Field("app.labels").Key("a.b") == Field("app.labels.a.b") {
		t.Error("Key(\"a.b\") equals Key(\"a\").Key(\"b\")")
	}
	if got := ParsePath("app.labels.a.b"); got != Field("app.labels").Key("a.b") {
		t.Errorf("ParsePath reads a label key with dots as nesting: %q", got)
	}
	if got := ParsePath("app.env.A[0]"); got != Field("app.env").Key("A[0]") {
		t.Errorf("ParsePath reads a map key's bracket as an index")
	}
}

func TestPathParent(t *testing.T) {
	tests := []struct{ p, want Path }{
		{Field("build.commands").Index(1).Index(2), Field("build.commands").Index(1)},
		{Field("build.commands").Index(1), Field("build.commands")},
		{Field("app.labels").Key("org.example.x"), Field("app.labels")},
		{Field("app"), Path{}},
		{Path{}, Path{}},
	}
	for _, tt := range tests {
		if got := tt.p.Parent(); got != tt.want {
			t.Errorf("%q.Parent() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// TestParsePathRoundTrip: every path Parse records reads back as itself.
func TestParsePathRoundTrip(t *testing.T) {
	s, p, err := parseSpec("distill.yaml", []byte(designExample))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.pos) == 0 || len(p.pos) != len(s.Positions) {
		t.Fatalf("%d paths recorded, %d positions", len(p.pos), len(s.Positions))
	}
	for path := range p.pos {
		if got := ParsePath(path.String()); got != path {
			t.Errorf("ParsePath(%q) is another path", path)
		}
	}
}

func TestLocate(t *testing.T) {
	tests := []struct {
		name string
		src  string
		p    Path
		want Position
		ok   bool
	}{
		{"exact field", designExample, Field("python.version"), Position{7, 12}, true},
		{"exact index", designExample, Field("app.entrypoint").Index(1), Position{20, 24}, true},
		{"exact index of index", designExample, Field("build.commands").Index(0).Index(2), Position{15, 20}, true},
		{"exact map key", designExample, Field("app.env").Key("PORT"), Position{21, 15}, true},
		{"exact map key with dots", designExample, Field("app.labels").Key("org.opencontainers.image.source"), Position{23, 45}, true},
		{"unwritten index: the list", designExample, Field("app.entrypoint").Index(7), Position{20, 15}, true},
		{"unwritten map key: the mapping", designExample, Field("app.labels").Key("unwritten.key"), Position{23, 11}, true},
		{"unwritten field: its section", designExample, Field("python.indexUrl"), Position{7, 3}, true},
		{"unwritten section: the one above", designExample, Field("app.healthcheck.http"), Position{17, 3}, true},
		{"document", designExample, Path{}, Position{}, false},
		{"nothing written", minimal, Field("python.version"), Position{}, false},
		{"nothing written, index", minimal, Field("build.commands").Index(0), Position{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mustParse(t, tt.src).Locate(tt.p)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Locate(%q) = %v, %v; want %v, %v", tt.p, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFormatAt(t *testing.T) {
	tests := []struct {
		file string
		pos  Position
		want string
	}{
		{"distill.yaml", Position{4, 10}, "distill.yaml:4:10: runtime is wrong"},
		{"distill.yaml", Position{4, 0}, "distill.yaml:4: runtime is wrong"},
		{"distill.yaml", Position{}, "distill.yaml: runtime is wrong"},
		{"", Position{4, 10}, "runtime is wrong"},
	}
	for _, tt := range tests {
		if got := FormatAt(tt.file, tt.pos, "runtime is wrong"); got != tt.want {
			t.Errorf("FormatAt(%q, %v) = %q, want %q", tt.file, tt.pos, got, tt.want)
		}
		e := &Error{File: tt.file, Line: tt.pos.Line, Column: tt.pos.Column, Msg: "runtime is wrong"}
		if e.Error() != tt.want {
			t.Errorf("Error() = %q, want %q", e.Error(), tt.want)
		}
	}
}

func TestErrorf(t *testing.T) {
	s := mustParse(t, designExample)
	e := s.Errorf(Field("python.requirements"), "%s not found", "requirements.txt")
	if e.Error() != "distill.yaml:8:17: requirements.txt not found" || e.Field != Field("python.requirements") {
		t.Errorf("Errorf = %q, field %q", e, e.Field)
	}
	// nothing written: the top of the file
	e = mustParse(t, minimal).Errorf(Field("python.version"), "no Python")
	if e.Error() != "distill.yaml:1:1: no Python" {
		t.Errorf("Errorf for an unwritten section = %q", e)
	}
}
