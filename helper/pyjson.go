package helper

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// PyJSON encodes v as Python's json.dumps(v, sort_keys=True, indent=indent)
// does (indent < 0 is indent=None): ASCII only, ", " and ": " between
// items and keys without an indent, "," and ": " with one. Values are
// nil, bool, int, int64, json.Number, string, []string, []any,
// map[string]string, map[string]any and []map[string]any.
//
// Byte-for-byte parity matters where a hash is taken of the text (the
// SBOM's namespace) and keeps every written document as it was.
func PyJSON(v any, indent int) string {
	var b strings.Builder
	pyEncode(&b, v, indent, 0)
	return b.String()
}

func pyEncode(b *strings.Builder, v any, indent, level int) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case json.Number:
		b.WriteString(v.String())
	case string:
		pyQuote(b, v)
	case []string:
		items := make([]any, len(v))
		for i, s := range v {
			items[i] = s
		}
		pyList(b, items, indent, level)
	case []map[string]any:
		items := make([]any, len(v))
		for i, m := range v {
			items[i] = m
		}
		pyList(b, items, indent, level)
	case []any:
		pyList(b, v, indent, level)
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		pyDict(b, m, indent, level)
	case map[string]any:
		pyDict(b, v, indent, level)
	default:
		panic(fmt.Sprintf("PyJSON: unsupported type %T", v))
	}
}

func pySep(b *strings.Builder, first bool, indent, level int) {
	if indent < 0 {
		if !first {
			b.WriteString(", ")
		}
		return
	}
	if !first {
		b.WriteByte(',')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(" ", indent*level))
}

func pyClose(b *strings.Builder, indent, level int, c byte) {
	if indent >= 0 {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(" ", indent*level))
	}
	b.WriteByte(c)
}

func pyList(b *strings.Builder, items []any, indent, level int) {
	if len(items) == 0 {
		b.WriteString("[]")
		return
	}
	b.WriteByte('[')
	for i, it := range items {
		pySep(b, i == 0, indent, level+1)
		pyEncode(b, it, indent, level+1)
	}
	pyClose(b, indent, level, ']')
}

func pyDict(b *strings.Builder, m map[string]any, indent, level int) {
	if len(m) == 0 {
		b.WriteString("{}")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteByte('{')
	for i, k := range keys {
		pySep(b, i == 0, indent, level+1)
		pyQuote(b, k)
		b.WriteString(": ")
		pyEncode(b, m[k], indent, level+1)
	}
	pyClose(b, indent, level, '}')
}

// pyQuote is json's ensure_ascii string encoding.
func pyQuote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= 0x20 && r <= 0x7e:
				b.WriteRune(r)
			case r > 0xffff:
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
			default:
				fmt.Fprintf(b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
}
