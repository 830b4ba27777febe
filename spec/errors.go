package spec

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a spec, located at the value (or key) it concerns.
// The frontend turns it into a BuildKit source-location error, so Line and
// Column are 1-based and refer to the spec file as given to Parse.
type Error struct {
	File   string
	Line   int
	Column int
	// Field is the field path ("app.entrypoint[0]", "build.env.FOO"), or
	// empty for problems with the file itself (size, encoding, syntax).
	Field string
	Msg   string
}

// Error formats as FILE:LINE:COL: msg, the form editors and CI annotators
// recognise. Column 0 means the YAML library only knew the line; it is left
// out rather than invented.
func (e *Error) Error() string {
	if e.Column <= 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// ErrorList is every problem Parse found, sorted by position, so a user can
// fix a spec in one pass instead of one error per build.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		return l[i].Column < l[j].Column
	})
}

// AsErrors returns the positioned errors inside err (an *Error, an ErrorList,
// or either wrapped), or nil when err carries no spec position.
func AsErrors(err error) []*Error {
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return nil
}

// ErrorAt builds an error located at field, for later stages (the frontend,
// llb) that find a problem the spec caused, such as a requirements file that
// does not exist in the context. When field was not written in the file, the
// nearest written parent is used, then the top of the file.
func (s *Spec) ErrorAt(field, format string, args ...any) *Error {
	pos := s.PositionOf(field)
	return &Error{File: s.File, Line: pos.Line, Column: pos.Column, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// PositionOf returns where field (or its nearest written parent) starts in
// the file; 1:1 when none of it was written.
func (s *Spec) PositionOf(field string) Position {
	for f := field; f != ""; f = parentPath(f) {
		if p, ok := s.Positions[f]; ok {
			return p
		}
	}
	return Position{Line: 1, Column: 1}
}

// parentPath strips the last ".key" or "[i]" element of a field path.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	// Map keys (env names, label keys) may contain dots themselves, so strip
	// up to the dot that follows a known section path.
	for _, m := range []string{"build.env.", "app.env.", "app.labels."} {
		if strings.HasPrefix(p, m) && len(p) > len(m) {
			return strings.TrimSuffix(m, ".")
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}
