package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite spec/distill.schema.json from Schema()")

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	raw, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return s
}

// node returns the sub-schema at a field path ("app.env").
func node(t *testing.T, s map[string]any, path string) map[string]any {
	t.Helper()
	cur := s
	for _, k := range strings.Split(path, ".") {
		props, ok := cur["properties"].(map[string]any)
		if !ok {
			t.Fatalf("%s: no properties above %q", path, k)
		}
		cur, ok = props[k].(map[string]any)
		if !ok {
			t.Fatalf("%s: no property %q", path, k)
		}
	}
	return cur
}

func TestSchemaHeader(t *testing.T) {
	s := loadSchema(t)
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" || s["$id"] != SchemaID || s["title"] == nil {
		t.Errorf("header: $schema=%v $id=%v title=%v", s["$schema"], s["$id"], s["title"])
	}
	if s["type"] != "object" || s["additionalProperties"] != false {
		t.Errorf("root must be a closed object: %v %v", s["type"], s["additionalProperties"])
	}
}

// TestSchemaMatchesParse walks the Go types the way Parse does and checks
// that every key Parse accepts is in the schema with its doc, that sections
// are closed but allow x- keys, and nothing else is there.
func TestSchemaMatchesParse(t *testing.T) {
	s := loadSchema(t)
	var walk func(typ reflect.Type, path string, sch map[string]any)
	walk = func(typ reflect.Type, path string, sch map[string]any) {
		names, index := yamlFields(typ)
		props := sch["properties"].(map[string]any)
		if len(props) != len(names) {
			t.Errorf("%q: schema has %d properties, Parse accepts %d keys", path, len(props), len(names))
		}
		if sch["additionalProperties"] != false {
			t.Errorf("%q: additionalProperties must be false", path)
		}
		if pp, _ := sch["patternProperties"].(map[string]any); pp["^x-"] == nil {
			t.Errorf("%q: x- keys not allowed", path)
		}
		for _, name := range names {
			f := typ.Field(index[name])
			fp := joinPath(path, name)
			ps, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("key %q accepted by Parse is missing from the schema", fp)
				continue
			}
			if ps["description"] == nil || ps["description"] == "" {
				t.Errorf("%q has no description", fp)
			}
			if d := f.Tag.Get("doc"); d != "" && ps["description"] != d {
				t.Errorf("%q description is not its doc tag", fp)
			}
			if len(ps) == 1 {
				t.Errorf("%q has no type information", fp)
			}
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, fp, ps)
			}
		}
	}
	walk(reflect.TypeOf(Spec{}), "", s)
}

func TestSchemaRequiredAndEnums(t *testing.T) {
	s := loadSchema(t)
	if got := s["required"]; !reflect.DeepEqual(got, []any{"apiVersion", "name", "language", "app"}) {
		t.Errorf("required = %v", got)
	}
	if got := node(t, s, "app")["required"]; !reflect.DeepEqual(got, []any{"entrypoint"}) {
		t.Errorf("app.required = %v", got)
	}
	if got := node(t, s, "apiVersion")["enum"]; !reflect.DeepEqual(got, []any{APIVersion}) {
		t.Errorf("apiVersion enum = %v", got)
	}
	if got := node(t, s, "language")["enum"]; !reflect.DeepEqual(got, []any{LanguagePython, "static"}) {
		t.Errorf("language enum = %v", got)
	}
	if got := node(t, s, "runtime")["enum"]; !reflect.DeepEqual(got, []any{RuntimeDistroless, RuntimeChainguard}) {
		t.Errorf("runtime enum = %v", got)
	}
	// Every supported version as text, and as a number where YAML would read
	// one and print it back unchanged.
	var want []any
	for _, v := range PythonVersions {
		want = append(want, v)
	}
	for _, v := range PythonVersions {
		var f float64
		if err := json.Unmarshal([]byte(v), &f); err == nil {
			want = append(want, f)
		}
	}
	if got := node(t, s, "python.version")["enum"]; !reflect.DeepEqual(got, want) {
		t.Errorf("python.version enum = %v, want %v", got, want)
	}
	if got := node(t, s, "runtime")["default"]; got != RuntimeDistroless {
		t.Errorf("runtime default = %v", got)
	}
	if got := node(t, s, "app.ports")["items"].(map[string]any); got["minimum"] != 1.0 || got["maximum"] != 65535.0 {
		t.Errorf("ports items = %v", got)
	}
	reserved := node(t, s, "build.env")["propertyNames"].(map[string]any)["not"].(map[string]any)["enum"]
	var names []string
	for _, n := range reserved.([]any) {
		names = append(names, n.(string))
	}
	var wantNames []string
	for n := range rules["build.env"].reserved {
		wantNames = append(wantNames, n)
	}
	sort.Strings(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Errorf("build.env reserved = %v, want %v", names, wantNames)
	}
}

// TestSchemaPatternsAgree checks that each pattern in the schema compiles and
// agrees with Parse on accepted and rejected samples, so an editor does not
// flag what distill accepts or pass what it rejects.
func TestSchemaPatternsAgree(t *testing.T) {
	s := loadSchema(t)
	pattern := func(path string, keys bool) *regexp.Regexp {
		n := node(t, s, path)
		if keys {
			n = n["propertyNames"].(map[string]any)
		} else if it, ok := n["items"].(map[string]any); ok {
			n = it
		}
		re, err := regexp.Compile(n["pattern"].(string))
		if err != nil {
			t.Fatalf("%s pattern: %v", path, err)
		}
		return re
	}
	samples := []struct {
		path string
		keys bool
		good []string
		bad  []string
	}{
		{"name", false, []string{"a", "hello-api", "a.b_c-1", "0"}, []string{"", "A", "-a", ".a", "a b", "a/b"}},
		{"python.indexUrlSecret", false, []string{"pip-index", "A.b_1"}, []string{"", "-x", "a b", "a/b"}},
		{"python.indexUrl", false, []string{"https://pypi.example/simple", "http://127.0.0.1:8080/", "HTTPS://x"}, []string{"https://u:p@x/", "ftp://x", "https://x/ y", "https://"}},
		{"build.aptPackages", false, []string{"gcc", "libpq-dev", "g++", "a0=1.2-3~b+c:d"}, []string{"a", "-o", "Gcc", "gcc=abc", "gcc/stable", "gcc;id"}},
		{"build.env", true, []string{"A", "_a1", "PORT"}, []string{"1A", "A-B", "", "A B"}},
		{"app.labels", true, []string{"a", "org.opencontainers.image.source", "a/b_c-d"}, []string{"A", "a.", "/a", "a b", ""}},
		{"app.workdir", false, []string{"/app", "/srv/a.b"}, []string{"/", "app", "/a/", "/a//b", ""}},
	}
	for _, sm := range samples {
		re := pattern(sm.path, sm.keys)
		for _, v := range sm.good {
			if !re.MatchString(v) {
				t.Errorf("%s: schema rejects %q, which Parse accepts", sm.path, v)
			}
		}
		for _, v := range sm.bad {
			if re.MatchString(v) {
				t.Errorf("%s: schema accepts %q, which Parse rejects", sm.path, v)
			}
		}
	}
	escape := regexp.MustCompile(node(t, s, "python.requirements")["not"].(map[string]any)["pattern"].(string))
	for _, v := range []string{"/etc/passwd", "..", "../x", "a/../../b", "a/.."} {
		if !escape.MatchString(v) {
			t.Errorf("escape pattern misses %q", v)
		}
	}
	for _, v := range []string{"a", "a..b", "..a", "src/"} {
		if escape.MatchString(v) {
			t.Errorf("escape pattern matches %q", v)
		}
	}
}

// TestSchemaFile keeps the checked-in schema (what SchemaID points at) in
// step with the types; go test ./spec -update rewrites it.
func TestSchemaFile(t *testing.T) {
	raw, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	const file = "distill.schema.json"
	if *update {
		if err := os.WriteFile(file, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, raw) {
		t.Errorf("%s is stale: run go test ./spec -run TestSchemaFile -update", file)
	}
	again, _ := Schema()
	if !bytes.Equal(raw, again) {
		t.Error("Schema() is not deterministic")
	}
}
