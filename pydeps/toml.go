package pydeps

// TOML is read with github.com/pelletier/go-toml/v2's "unstable" parser: it
// is the only well-kept Go TOML library that exposes the byte range of every
// key and value, which every error here needs (file:line:col of a package or
// a dependency). BurntSushi/toml reports positions only for its own syntax
// errors, not for decoded values. The unstable package's API is pinned by
// go.mod; this file is the only user of it. On top of its expression stream
// this file builds a small document tree with offsets and enforces what the
// parser leaves to decoders: no duplicate keys, no table defined twice, no
// keys added to inline tables.
//
// Before the parser sees the bytes, prescan checks the budgets that make a
// TOML bomb cheap to refuse: the size limit, the nesting depth of arrays and
// inline tables and the number of keys and values, in one linear pass that
// allocates nothing.

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
)

const (
	// MaxFileSize is the largest file any parser accepts (16 MiB); the
	// largest real lock files are a few MiB.
	MaxFileSize = 16 << 20
	// maxNesting bounds how deep arrays, inline tables and table headers
	// nest. Lock files nest four levels deep.
	maxNesting = 32
	// maxValues bounds the number of keys and values in one document: a
	// 16 MiB lock file holds about a third of it.
	maxValues = 1 << 20
)

type tkind uint8

const (
	tString tkind = iota + 1
	tInt
	tFloat
	tBool
	tDatetime
	tArray
	tTable
)

func (k tkind) String() string {
	switch k {
	case tString:
		return "a string"
	case tInt:
		return "an integer"
	case tFloat:
		return "a float"
	case tBool:
		return "a boolean"
	case tDatetime:
		return "a date-time"
	case tArray:
		return "an array"
	case tTable:
		return "a table"
	}
	return "nothing"
}

// tval is one TOML value and the byte offset where it starts.
type tval struct {
	kind tkind
	aot  bool // an array made by [[header]] entries
	off  int
	str  string // strings; the raw text of floats and date-times
	num  int64
	b    bool
	arr  []*tval
	tab  *ttable
}

type tentry struct {
	key    string
	keyOff int
	val    *tval
}

// ttable is a TOML table: its entries in document order.
type ttable struct {
	entries  []tentry
	idx      map[string]int
	explicit bool // defined by a [header]
	inline   bool // an inline table: closed once written
	dotted   bool // made by a dotted key
}

func newTable() *ttable { return &ttable{idx: map[string]int{}} }

func (t *ttable) get(key string) *tval {
	if t == nil {
		return nil
	}
	if i, ok := t.idx[key]; ok {
		return t.entries[i].val
	}
	return nil
}

func (t *ttable) entry(key string) (tentry, bool) {
	if t == nil {
		return tentry{}, false
	}
	if i, ok := t.idx[key]; ok {
		return t.entries[i], true
	}
	return tentry{}, false
}

func (t *ttable) set(key string, keyOff int, v *tval) {
	t.idx[key] = len(t.entries)
	t.entries = append(t.entries, tentry{key: key, keyOff: keyOff, val: v})
}

// tdoc is a parsed TOML file.
type tdoc struct {
	file  string
	data  []byte
	lines []int // offset of the start of each line
	root  *ttable
}

func newDoc(file string, data []byte) *tdoc {
	d := &tdoc{file: file, data: data, lines: []int{0}}
	for i, c := range data {
		if c == '\n' {
			d.lines = append(d.lines, i+1)
		}
	}
	return d
}

// pos turns a byte offset into a line and a column (in characters).
func (d *tdoc) pos(off int) Pos {
	if off < 0 {
		off = 0
	}
	if off > len(d.data) {
		off = len(d.data)
	}
	line := sort.Search(len(d.lines), func(i int) bool { return d.lines[i] > off }) - 1
	if line < 0 {
		line = 0
	}
	col := utf8.RuneCount(d.data[d.lines[line]:off]) + 1
	return Pos{Line: line + 1, Column: col}
}

func (d *tdoc) errAt(off int, format string, args ...any) *Error {
	return errAt(d.file, d.pos(off), format, args...)
}

// checkInput applies the checks every parser makes before decoding: size
// and UTF-8.
func checkInput(file string, data []byte) *Error {
	if len(data) > MaxFileSize {
		return &Error{File: file, Line: 1, Column: 1, Msg: fmt.Sprintf("file is %s; the limit is %s", sizeString(len(data)), sizeString(MaxFileSize))}
	}
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		d := newDoc(file, data[:off])
		return errAt(file, d.pos(off), "invalid UTF-8 (byte 0x%02x): the file must be UTF-8 text", data[off])
	}
	return nil
}

func sizeString(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// prescan checks the nesting and value budgets in one pass over the bytes,
// skipping strings and comments. It counts every '=', ',', '[' and '{'
// outside strings: each key and each array element past the first needs
// one, so the count bounds the number of nodes the parser would build.
func prescan(file string, data []byte) *Error {
	depth, items := 0, 0
	fail := func(off int, format string, args ...any) *Error {
		return newDoc(file, data[:off]).errAt(off, format, args...)
	}
	n := len(data)
	for i := 0; i < n; i++ {
		switch c := data[i]; c {
		case '#':
			for i < n && data[i] != '\n' {
				i++
			}
		case '"', '\'':
			if i+2 < n && data[i+1] == c && data[i+2] == c {
				// multi-line string: up to the closing triple quote
				i += 3
				for i < n {
					if c == '"' && data[i] == '\\' {
						i += 2
						continue
					}
					if data[i] == c && i+2 < n && data[i+1] == c && data[i+2] == c {
						i += 2
						for i+1 < n && data[i+1] == c {
							i++
						}
						break
					}
					i++
				}
				continue
			}
			for i++; i < n && data[i] != c && data[i] != '\n'; i++ {
				if c == '"' && data[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			depth++
			items++
			if depth > maxNesting {
				return fail(i, "arrays, inline tables and table headers nest more than %d deep; a dependency file needs a handful", maxNesting)
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case ',', '=':
			items++
		}
		if items > maxValues {
			return fail(i, "more than %d keys and values; the file is too large to be a dependency file", maxValues)
		}
	}
	return nil
}

// parseTOML checks and parses data into a document tree.
func parseTOML(file string, data []byte) (doc *tdoc, err error) {
	if e := checkInput(file, data); e != nil {
		return nil, e
	}
	if e := prescan(file, data); e != nil {
		return nil, e
	}
	doc = newDoc(file, data)
	defer func() {
		// The parser is fuzzed upstream and here; this only keeps a bug in
		// it from taking the caller down.
		if r := recover(); r != nil {
			doc, err = nil, &Error{File: file, Line: 1, Column: 1, Msg: fmt.Sprintf("internal error reading TOML: %v", r)}
		}
	}()
	b := &builder{doc: doc, root: newTable()}
	b.cur = b.root
	p := &unstable.Parser{}
	p.Reset(data)
	for p.NextExpression() {
		if e := b.expr(p.Expression()); e != nil {
			return nil, e
		}
	}
	if perr := p.Error(); perr != nil {
		off := len(data)
		msg := perr.Error()
		if pe, ok := perr.(*unstable.ParserError); ok {
			off = offsetIn(data, pe.Highlight)
		}
		return nil, doc.errAt(off, "invalid TOML: %s", msg)
	}
	doc.root = b.root
	return doc, nil
}

// offsetIn returns where sub starts in data, or len(data) when sub is not
// a part of it.
func offsetIn(data, sub []byte) int {
	if sub == nil || cap(sub) > cap(data) {
		return len(data)
	}
	off := cap(data) - cap(sub)
	if off < 0 || off > len(data) {
		return len(data)
	}
	return off
}

type builder struct {
	doc   *tdoc
	root  *ttable
	cur   *ttable
	count int
}

type keyPart struct {
	name string
	off  int
}

func (b *builder) keyParts(it unstable.Iterator) []keyPart {
	var parts []keyPart
	for it.Next() {
		k := it.Node()
		parts = append(parts, keyPart{name: string(k.Data), off: int(k.Raw.Offset)})
	}
	return parts
}

func dottedName(parts []keyPart) string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.name
	}
	return strings.Join(names, ".")
}

func (b *builder) tick(off int) *Error {
	b.count++
	if b.count > maxValues {
		return b.doc.errAt(off, "more than %d keys and values; the file is too large to be a dependency file", maxValues)
	}
	return nil
}

func (b *builder) expr(n *unstable.Node) *Error {
	switch n.Kind {
	case unstable.KeyValue:
		return b.keyval(b.cur, n)
	case unstable.Table, unstable.ArrayTable:
		return b.header(n)
	}
	return nil
}

func (b *builder) header(n *unstable.Node) *Error {
	parts := b.keyParts(n.Key())
	if len(parts) == 0 {
		return b.doc.errAt(int(n.Raw.Offset), "empty table name")
	}
	// the header's position is its opening bracket
	hoff := parts[0].off
	for hoff > 0 && (b.doc.data[hoff-1] == '[' || b.doc.data[hoff-1] == ' ' || b.doc.data[hoff-1] == '\t') {
		hoff--
	}
	if e := b.tick(hoff); e != nil {
		return e
	}
	t := b.root
	for i, p := range parts[:len(parts)-1] {
		v := t.get(p.name)
		switch {
		case v == nil:
			nt := newTable()
			t.set(p.name, p.off, &tval{kind: tTable, off: p.off, tab: nt})
			t = nt
		case v.kind == tTable && !v.tab.inline:
			t = v.tab
		case v.kind == tArray && v.aot && len(v.arr) > 0:
			t = v.arr[len(v.arr)-1].tab
		case v.kind == tTable:
			return b.doc.errAt(p.off, "%q is an inline table, which cannot be extended", dottedName(parts[:i+1]))
		default:
			return b.doc.errAt(p.off, "%q is %s, not a table", dottedName(parts[:i+1]), v.kind)
		}
	}
	last := parts[len(parts)-1]
	v := t.get(last.name)
	nt := newTable()
	nt.explicit = true
	if n.Kind == unstable.ArrayTable {
		switch {
		case v == nil:
			t.set(last.name, last.off, &tval{kind: tArray, aot: true, off: hoff, arr: []*tval{{kind: tTable, off: hoff, tab: nt}}})
		case v.kind == tArray && v.aot:
			v.arr = append(v.arr, &tval{kind: tTable, off: hoff, tab: nt})
		default:
			return b.doc.errAt(last.off, "[[%s]] redefines %s defined before", dottedName(parts), v.kind)
		}
		b.cur = nt
		return nil
	}
	switch {
	case v == nil:
		t.set(last.name, last.off, &tval{kind: tTable, off: hoff, tab: nt})
		b.cur = nt
	case v.kind == tTable && !v.tab.explicit && !v.tab.inline && !v.tab.dotted:
		v.tab.explicit = true
		v.off = hoff
		b.cur = v.tab
	default:
		return b.doc.errAt(last.off, "[%s] is defined twice", dottedName(parts))
	}
	return nil
}

func (b *builder) keyval(t *ttable, n *unstable.Node) *Error {
	parts := b.keyParts(n.Key())
	if len(parts) == 0 {
		return b.doc.errAt(int(n.Raw.Offset), "empty key")
	}
	for i, p := range parts[:len(parts)-1] {
		v := t.get(p.name)
		switch {
		case v == nil:
			nt := newTable()
			nt.dotted = true
			t.set(p.name, p.off, &tval{kind: tTable, off: p.off, tab: nt})
			t = nt
		case v.kind == tTable && !v.tab.inline:
			t = v.tab
		case v.kind == tTable:
			return b.doc.errAt(p.off, "%q is an inline table, which cannot be extended", dottedName(parts[:i+1]))
		default:
			return b.doc.errAt(p.off, "%q is %s; it cannot take more keys", dottedName(parts[:i+1]), v.kind)
		}
	}
	last := parts[len(parts)-1]
	if t.get(last.name) != nil {
		return b.doc.errAt(last.off, "duplicate key %q", dottedName(parts))
	}
	if e := b.tick(last.off); e != nil {
		return e
	}
	val, e := b.value(n.Value(), last.off)
	if e != nil {
		return e
	}
	t.set(last.name, last.off, val)
	return nil
}

// value converts a value node; fallback is the offset used for nodes
// without a range of their own (arrays).
func (b *builder) value(n *unstable.Node, fallback int) (*tval, *Error) {
	off := int(n.Raw.Offset)
	if n.Kind == unstable.Array {
		off = fallback
	}
	if e := b.tick(off); e != nil {
		return nil, e
	}
	switch n.Kind {
	case unstable.String:
		return &tval{kind: tString, off: off, str: string(n.Data)}, nil
	case unstable.Bool:
		return &tval{kind: tBool, off: off, b: string(n.Data) == "true"}, nil
	case unstable.Integer:
		i, err := parseTOMLInt(string(n.Data))
		if err != nil {
			return nil, b.doc.errAt(off, "invalid integer %q", n.Data)
		}
		return &tval{kind: tInt, off: off, num: i}, nil
	case unstable.Float:
		return &tval{kind: tFloat, off: off, str: string(n.Data)}, nil
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		return &tval{kind: tDatetime, off: off, str: string(n.Data)}, nil
	case unstable.Array:
		v := &tval{kind: tArray, off: off}
		it := n.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			cv, e := b.value(c, off)
			if e != nil {
				return nil, e
			}
			v.arr = append(v.arr, cv)
		}
		return v, nil
	case unstable.InlineTable:
		t := newTable()
		it := n.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind != unstable.KeyValue {
				continue
			}
			if e := b.keyval(t, c); e != nil {
				return nil, e
			}
		}
		seal(t)
		return &tval{kind: tTable, off: off, tab: t}, nil
	}
	return nil, b.doc.errAt(off, "unsupported TOML value")
}

func seal(t *ttable) {
	t.inline = true
	for _, e := range t.entries {
		if e.val.kind == tTable && e.val.tab.dotted && !e.val.tab.inline {
			seal(e.val.tab)
		}
	}
}

func parseTOMLInt(s string) (int64, error) {
	s = strings.ReplaceAll(s, "_", "")
	base := 10
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x':
			base = 16
		case 'o':
			base = 8
		case 'b':
			base = 2
		}
		if base != 10 {
			s = s[2:]
		}
	}
	return strconv.ParseInt(s, base, 64)
}

// reader reads typed values out of a document and collects type errors.
type reader struct {
	doc  *tdoc
	errs *errorList
}

func newReader(doc *tdoc) *reader {
	return &reader{doc: doc, errs: &errorList{file: doc.file}}
}

func (r *reader) pos(off int) Pos { return r.doc.pos(off) }

func (r *reader) fail(off int, format string, args ...any) {
	r.errs.add(r.doc.pos(off), format, args...)
}

func (r *reader) typeErr(name string, v *tval, want string) {
	r.fail(v.off, "%q must be %s, not %s", name, want, v.kind)
}

// str returns the string at key, "" when absent.
func (r *reader) str(t *ttable, key string) (string, int, bool) {
	v := t.get(key)
	if v == nil {
		return "", 0, false
	}
	if v.kind != tString {
		r.typeErr(key, v, "a string")
		return "", v.off, false
	}
	return v.str, v.off, true
}

func (r *reader) boolean(t *ttable, key string) (val, present bool) {
	v := t.get(key)
	if v == nil {
		return false, false
	}
	if v.kind != tBool {
		r.typeErr(key, v, "true or false")
		return false, false
	}
	return v.b, true
}

func (r *reader) integer(t *ttable, key string) (int64, int, bool) {
	v := t.get(key)
	if v == nil {
		return 0, 0, false
	}
	if v.kind != tInt {
		r.typeErr(key, v, "an integer")
		return 0, v.off, false
	}
	return v.num, v.off, true
}

func (r *reader) table(t *ttable, key string) *ttable {
	v := t.get(key)
	if v == nil {
		return nil
	}
	if v.kind != tTable {
		r.typeErr(key, v, "a table")
		return nil
	}
	return v.tab
}

// array returns the elements of the array at key.
func (r *reader) array(t *ttable, key string) []*tval {
	v := t.get(key)
	if v == nil {
		return nil
	}
	if v.kind != tArray {
		r.typeErr(key, v, "an array")
		return nil
	}
	return v.arr
}

// tables returns the tables of the array (of tables) at key.
func (r *reader) tables(t *ttable, key string) []*tval {
	var out []*tval
	for _, v := range r.array(t, key) {
		if v.kind != tTable {
			r.fail(v.off, "each entry of %q must be a table, not %s", key, v.kind)
			continue
		}
		out = append(out, v)
	}
	return out
}

// strings returns the strings of the array at key.
func (r *reader) strings(t *ttable, key string) []*tval {
	var out []*tval
	for _, v := range r.array(t, key) {
		if v.kind != tString {
			r.fail(v.off, "each entry of %q must be a string, not %s", key, v.kind)
			continue
		}
		out = append(out, v)
	}
	return out
}

// checkInt reports an integer outside [0, MaxInt32] (sizes, versions).
func smallInt(i int64) bool { return i >= 0 && i <= math.MaxInt32 }
