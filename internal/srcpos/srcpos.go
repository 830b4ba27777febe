// Package srcpos formats a message at a place in a file, the one way every
// distill error and finding names its file, line and column.
package srcpos

import "strconv"

// Format returns msg located in file as FILE:LINE:COL: msg, the form
// editors and CI annotators recognise. Whatever is unknown is left out
// rather than invented: a column of 0 gives FILE:LINE: msg (the YAML
// library knew only the line), a line of 0 gives FILE: msg (a problem with
// the file as a whole), and no file gives msg alone.
func Format(file string, line, col int, msg string) string {
	switch {
	case file == "":
		return msg
	case line <= 0:
		return file + ": " + msg
	case col <= 0:
		return file + ":" + strconv.Itoa(line) + ": " + msg
	}
	return file + ":" + strconv.Itoa(line) + ":" + strconv.Itoa(col) + ": " + msg
}
