package spec

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/distill-build/distill/internal/srcpos"
)

// Error is one problem in a spec, located at the value (or key) it concerns.
// The frontend turns it into a BuildKit source-location error, so Line and
// Column are 1-based and refer to the spec file as given to Parse.
type Error struct {
	File   string
	Line   int
	Column int
	// Field is the field the problem concerns (app.entrypoint[0],
	// build.env.FOO), or the zero Path for problems with the file itself
	// (size, encoding, syntax).
	Field Path
	Msg   string
}

// Error formats as FILE:LINE:COL: msg (see FormatAt). Column 0 means the
// YAML library only knew the line; it is left out rather than invented.
func (e *Error) Error() string {
	return FormatAt(e.File, Position{Line: e.Line, Column: e.Column}, e.Msg)
}

// FormatAt is the one way distill writes a message at a place in a file:
// FILE:LINE:COL: msg, FILE:LINE: msg when the column is unknown (0),
// FILE: msg when the line is (a problem with the whole file). spec.Error,
// pydeps.Error and lint's findings all format through it.
func FormatAt(file string, pos Position, msg string) string {
	return srcpos.Format(file, pos.Line, pos.Column, msg)
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

// Errorf builds an error located at field, for later stages (lint, the
// frontend, llb) that find a problem the spec caused, such as a
// requirements file that does not exist in the context. It is located as
// Locate locates field, and at the top of the file (1:1) when nothing of
// it was written.
func (s *Spec) Errorf(field Path, format string, args ...any) *Error {
	pos, ok := s.Locate(field)
	if !ok {
		pos = Position{Line: 1, Column: 1}
	}
	return &Error{File: s.File, Line: pos.Line, Column: pos.Column, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ErrorAt is Errorf for a field path held as text.
//
// Deprecated: use Errorf with a Path (Field("python.version")); ErrorAt
// stays until the frontend and llb are migrated.
func (s *Spec) ErrorAt(field, format string, args ...any) *Error {
	return s.Errorf(ParsePath(field), format, args...)
}

// PositionOf returns where field (or its nearest written parent) starts in
// the file; 1:1 when none of it was written.
//
// Deprecated: use Locate, which says whether anything was found.
func (s *Spec) PositionOf(field string) Position {
	if pos, ok := s.Locate(ParsePath(field)); ok {
		return pos
	}
	return Position{Line: 1, Column: 1}
}
