package helper

import (
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The steps replace Python programs whose outputs other code reads (the
// SBOM's hash, the status files apt is given), so the few ways Python reads
// text are kept here: undecodable bytes become U+FFFD, line ends are
// universal, str.splitlines and str.strip know more separators than Go's
// strings package, and glob's * never matches a dot file.

// ReadText reads a file as Python's open(path, encoding="utf-8",
// errors="replace").read() does.
func ReadText(path string) (string, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return decodeText(dt), nil
}

// decodeText decodes UTF-8 replacing each maximal invalid subpart with
// U+FFFD (Python's "replace" handler), then translates \r\n and \r to \n.
func decodeText(dt []byte) string {
	var b strings.Builder
	b.Grow(len(dt))
	for i := 0; i < len(dt); {
		r, n := utf8.DecodeRune(dt[i:])
		if r != utf8.RuneError || n > 1 {
			b.Write(dt[i : i+n])
			i += n
			continue
		}
		i += invalidLen(dt[i:])
		b.WriteRune(utf8.RuneError)
	}
	s := b.String()
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}

// invalidLen is the length of the maximal subpart of an ill-formed UTF-8
// sequence at the start of p (at least 1).
func invalidLen(p []byte) int {
	need, lo, hi := 0, byte(0x80), byte(0xBF)
	switch b := p[0]; {
	case b >= 0xC2 && b <= 0xDF:
		need = 1
	case b == 0xE0:
		need, lo = 2, 0xA0
	case b == 0xED:
		need, hi = 2, 0x9F
	case b >= 0xE1 && b <= 0xEF:
		need = 2
	case b == 0xF0:
		need, lo = 3, 0x90
	case b >= 0xF1 && b <= 0xF3:
		need = 3
	case b == 0xF4:
		need, hi = 3, 0x8F
	}
	j := 1
	for k := 0; k < need && j < len(p); k++ {
		c := p[j]
		if (k == 0 && (c < lo || c > hi)) || (k > 0 && (c < 0x80 || c > 0xBF)) {
			break
		}
		j++
	}
	return j
}

// isSpace is Python's str.isspace for one character.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// Strip is Python's str.strip().
func Strip(s string) string { return strings.TrimFunc(s, isSpace) }

// Fields is Python's str.split() without arguments.
func Fields(s string) []string { return strings.FieldsFunc(s, isSpace) }

// SplitLines is Python's str.splitlines().
func SplitLines(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		switch r {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		default:
			continue
		}
		if r == '\n' && i > 0 && s[i-1] == '\r' {
			start = i + 1
			continue
		}
		out = append(out, s[start:i])
		start = i + utf8.RuneLen(r)
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// Lines is iterating over a text file in Python: lines keep their "\n".
func Lines(s string) []string {
	if s == "" {
		return nil
	}
	out := strings.SplitAfter(s, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// IsIdentifier is Python's str.isidentifier() (for the Unicode letters
// and digits Go knows).
func IsIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r) || unicode.Is(unicode.Nl, r):
		case i > 0 && (unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Pc, r) || unicode.Is(unicode.Nd, r)):
		default:
			return false
		}
	}
	return true
}

// Glob is Python's glob.glob without "**", sorted: like filepath.Glob
// except that a wildcard never matches a name starting with a dot unless
// the pattern's own name does.
func Glob(pattern string) []string {
	matches, _ := filepath.Glob(pattern)
	pc := strings.Split(pattern, "/")
	out := matches[:0]
next:
	for _, m := range matches {
		mc := strings.Split(m, "/")
		if len(mc) == len(pc) {
			for i, p := range pc {
				if strings.ContainsAny(p, "*?[") && !strings.HasPrefix(p, ".") && strings.HasPrefix(mc[i], ".") {
					continue next
				}
			}
		}
		out = append(out, m)
	}
	return out
}

// Walk is Python's os.walk(top) top-down: top is followed when it is a
// link, links to directories inside are listed among dirs but not entered,
// and unreadable directories are skipped.
func Walk(top string, fn func(root string, dirs, files []string)) {
	entries, err := os.ReadDir(top)
	if err != nil {
		return
	}
	var dirs, files []string
	for _, e := range entries {
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			fi, err := os.Stat(filepath.Join(top, e.Name()))
			isDir = err == nil && fi.IsDir()
		}
		if isDir {
			dirs = append(dirs, e.Name())
		} else {
			files = append(files, e.Name())
		}
	}
	fn(top, dirs, files)
	for _, d := range dirs {
		p := filepath.Join(top, d)
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink == 0 {
			Walk(p, fn)
		}
	}
}

// Join is Python's os.path.join of two parts: an absolute elem replaces
// dir.
func Join(dir, elem string) string {
	if strings.HasPrefix(elem, "/") {
		return elem
	}
	if dir == "" || strings.HasSuffix(dir, "/") {
		return dir + elem
	}
	return dir + "/" + elem
}

// IsFile is os.path.isfile: a regular file, links followed.
func IsFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// IsDir is os.path.isdir: a directory, links followed.
func IsDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// IsLink is os.path.islink.
func IsLink(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}

// Lexists is os.path.lexists.
func Lexists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// Exists is os.path.exists: links followed.
func Exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
