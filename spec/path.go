package spec

import (
	"reflect"
	"strconv"
	"strings"
)

// Path names a place in a spec: a key of the spec's structure
// (Field("app.entrypoint")), an element of a list (.Index(1)) or a key of a
// NAME: value mapping (Field("build.env").Key("FOO")). The zero Path is the
// document itself. Paths are comparable, so they can be map keys and be
// tested with ==.
//
// A Path is built from its elements, never from text: a mapping key may
// itself contain dots (label keys such as org.opencontainers.image.source),
// which text could not tell from nesting.
type Path struct {
	// enc holds the elements, each "k<len>:<key>" or "i<index>;", so that
	// any key text, dots and brackets included, decodes unambiguously.
	enc string
}

// Field is the path of a key of the spec's own structure, the way the
// schema and the docs write it: "apiVersion", "python.version",
// "app.healthcheck.http". Each dot starts a nested key. For an element of a
// list use Index, for a key of a NAME: value mapping (build.env, app.env,
// app.labels) use Key: Field("build.env").Key("FOO").
func Field(name string) Path {
	var p Path
	if name == "" {
		return p
	}
	for _, k := range strings.Split(name, ".") {
		p = p.Key(k)
	}
	return p
}

// Key is the path of key k below p, taken whole: Key("a.b") is one key.
func (p Path) Key(k string) Path {
	return Path{p.enc + "k" + strconv.Itoa(len(k)) + ":" + k}
}

// Index is the path of element i of the list at p.
func (p Path) Index(i int) Path {
	return Path{p.enc + "i" + strconv.Itoa(i) + ";"}
}

// IsZero reports whether p is the document itself.
func (p Path) IsZero() bool { return p.enc == "" }

// pathElem is one decoded element: a key, or an index when isIndex.
type pathElem struct {
	key     string
	index   int
	isIndex bool
	end     int // offset in enc just past the element
}

// elems decodes p. enc is only ever written by Key and Index, so it is
// well formed.
func (p Path) elems() []pathElem {
	var out []pathElem
	for s, off := p.enc, 0; off < len(s); {
		switch s[off] {
		case 'k':
			colon := off + strings.IndexByte(s[off:], ':')
			n, _ := strconv.Atoi(s[off+1 : colon])
			out = append(out, pathElem{key: s[colon+1 : colon+1+n], end: colon + 1 + n})
		default: // 'i'
			semi := off + strings.IndexByte(s[off:], ';')
			i, _ := strconv.Atoi(s[off+1 : semi])
			out = append(out, pathElem{index: i, isIndex: true, end: semi + 1})
		}
		off = out[len(out)-1].end
	}
	return out
}

// Parent is p without its last element; the zero Path has no parent and
// returns itself.
func (p Path) Parent() Path {
	es := p.elems()
	if len(es) < 2 {
		return Path{}
	}
	return Path{p.enc[:es[len(es)-2].end]}
}

// String is the path as messages and the docs write it: keys joined by
// dots, indexes in brackets: "build.commands[1][0]", "build.env.FOO",
// "app.labels.org.opencontainers.image.source". It is also the key of
// Spec.Positions.
func (p Path) String() string {
	var b strings.Builder
	for _, e := range p.elems() {
		if e.isIndex {
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.key)
	}
	return b.String()
}

// ParsePath reads a path written as String writes it, for callers that
// still hold one as text (Spec.Positions keys, Python.DependencyFile's
// field). The keys of NAME: value mappings (build.env, app.env, app.labels)
// are read whole, dots included, as Parse records them.
func ParsePath(s string) Path {
	var p Path
	for s != "" {
		if mapSections[p] {
			// a mapping key: the rest, whole
			return p.Key(s)
		}
		if s[0] == '[' {
			if end := strings.IndexByte(s, ']'); end > 0 {
				if i, err := strconv.Atoi(s[1:end]); err == nil {
					p, s = p.Index(i), strings.TrimPrefix(s[end+1:], ".")
					continue
				}
			}
		}
		end := strings.IndexAny(s, ".[")
		if end == 0 { // a stray bracket: keep it as text
			end = strings.IndexByte(s[1:], '.') + 1
		}
		if end <= 0 {
			end = len(s)
		}
		p, s = p.Key(s[:end]), strings.TrimPrefix(s[end:], ".")
	}
	return p
}

// mapSections are the NAME: value mappings, whose keys are data.
var mapSections = func() map[Path]bool {
	out := map[Path]bool{}
	var walk func(t reflect.Type, at Path)
	walk = func(t reflect.Type, at Path) {
		names, index := yamlFields(t)
		for _, name := range names {
			f := t.Field(index[name])
			switch fp := at.Key(name); {
			case f.Type == envType || f.Type == labelsType:
				out[fp] = true
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, fp)
			}
		}
	}
	walk(reflect.TypeOf(Spec{}), Path{})
	return out
}()

// Locate returns where p starts in the file: the position of p's value when
// the file wrote p, else that of its nearest written ancestor (an unwritten
// app.env.PORT is located at app.env, then app), so a problem about a
// defaulted or derived value still points at the section it belongs to.
// ok is false when neither p nor any ancestor was written, and for the zero
// Path: the caller decides whether that means "no location" (a finding) or
// the top of the file (an error, see Errorf).
func (s *Spec) Locate(p Path) (pos Position, ok bool) {
	for ; !p.IsZero(); p = p.Parent() {
		if pos, ok := s.Positions[p.String()]; ok {
			return pos, true
		}
	}
	return Position{}, false
}
