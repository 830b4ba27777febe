package pydeps

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/distill-build/distill/internal/srcpos"
)

// Error is a problem with an input file, located by line and column (both
// 1-based; 0 when the problem is about the file as a whole).
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

// Error formats as FILE:LINE:COL: msg, leaving out what is unknown, the
// way spec errors and lint findings do (see srcpos.Format).
func (e *Error) Error() string {
	return srcpos.Format(e.File, e.Line, e.Column, e.Msg)
}

// Errors is several *Error found in one pass, in file order.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxErrors bounds how many errors one parse collects before it stops.
const maxErrors = 20

// Pos is a line and column in a file (1-based).
type Pos struct {
	Line   int
	Column int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// errorList collects errors in one file.
type errorList struct {
	file string
	errs Errors
}

func (l *errorList) add(p Pos, format string, args ...any) {
	if len(l.errs) >= maxErrors {
		return
	}
	l.errs = append(l.errs, &Error{File: l.file, Line: p.Line, Column: p.Column, Msg: fmt.Sprintf(format, args...)})
}

func (l *errorList) full() bool { return len(l.errs) >= maxErrors }

// err returns nil, the single *Error, or Errors sorted by position.
func (l *errorList) err() error {
	switch len(l.errs) {
	case 0:
		return nil
	case 1:
		return l.errs[0]
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return l.errs
}

func errAt(file string, p Pos, format string, args ...any) *Error {
	return &Error{File: file, Line: p.Line, Column: p.Column, Msg: fmt.Sprintf(format, args...)}
}

// firstError returns the first *Error in err, if any.
func firstError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// asErrors flattens err into its *Error values.
func asErrors(err error) []*Error {
	switch e := err.(type) {
	case nil:
		return nil
	case *Error:
		return []*Error{e}
	case Errors:
		return e
	}
	return []*Error{{Msg: err.Error()}}
}
