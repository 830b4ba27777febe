// Package bedenv reads the test bed's environment file
// ($DISTILL_WORK/testbed.env), the one description of a running test bed
// that the demo, the end-to-end tests and a person's shell all share.
package bedenv

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Read parses the test bed's environment file: `export KEY=VALUE`
// lines as bash's `printf 'export %s=%q'` writes them (bare words with
// backslash escapes, '...', "...", $'...'), with $VAR and ${VAR} expanded
// from earlier lines, then from getenv (the file ends with
// `export PATH=...:"$PATH"`). It is parsed rather than sourced by a shell
// so reading it runs nothing.
func Read(path string, getenv func(string) string) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars := map[string]string{}
	lookup := func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return getenv(k)
	}
	var out [][2]string
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "export "))
		k, v, ok := strings.Cut(line, "=")
		if !ok || !isName(k) {
			return nil, fmt.Errorf("%s:%d: not an `export KEY=VALUE` line: %q", path, n, s.Text())
		}
		val, err := shellWord(v, lookup)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		vars[k] = val
		out = append(out, [2]string{k, val})
	}
	return out, s.Err()
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// shellWord reads one shell word (the whole of s) the way bash would in an
// assignment, without command substitution, globbing or word splitting.
func shellWord(s string, lookup func(string) string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) {
				b.WriteByte(s[i+1])
			}
			i += 2
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", fmt.Errorf("unterminated ' in %q", s)
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case c == '$' && i+1 < len(s) && s[i+1] == '\'':
			j, v, err := ansiC(s[i+2:])
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += 2 + j
		case c == '$':
			n, v, err := expand(s[i:], lookup)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += n
		case c == '"':
			i++
			for {
				if i >= len(s) {
					return "", fmt.Errorf("unterminated \" in %q", s)
				}
				c := s[i]
				if c == '"' {
					i++
					break
				}
				switch {
				case c == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0:
					b.WriteByte(s[i+1])
					i += 2
				case c == '$':
					n, v, err := expand(s[i:], lookup)
					if err != nil {
						return "", err
					}
					b.WriteString(v)
					i += n
				case c == '`':
					return "", fmt.Errorf("unsupported command substitution in %q", s)
				default:
					b.WriteByte(c)
					i++
				}
			}
		case strings.IndexByte(" \t;`|&()<>", c) >= 0:
			return "", fmt.Errorf("unsupported shell syntax %q in %q", string(c), s)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// expand reads $NAME or ${NAME} at the start of s and returns how many
// bytes it used and the value; a lone $ is kept as is, and $( or a ${...}
// that is not a plain name is refused.
func expand(s string, lookup func(string) string) (int, string, error) {
	if strings.HasPrefix(s, "$(") {
		return 0, "", fmt.Errorf("unsupported command substitution in %q", s)
	}
	if strings.HasPrefix(s, "${") {
		if j := strings.IndexByte(s, '}'); j > 2 && isName(s[2:j]) {
			return j + 1, lookup(s[2:j]), nil
		}
		return 0, "", fmt.Errorf("unsupported parameter expansion in %q", s)
	}
	j := 1
	for j < len(s) && isName(s[1:j+1]) {
		j++
	}
	if j == 1 {
		return 1, "$", nil
	}
	return j, lookup(s[1:j]), nil
}

// ansiC decodes the body of a $'...' word up to its closing quote and
// returns the bytes consumed (quote included).
func ansiC(s string) (int, string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			return i + 1, b.String(), nil
		case '\\':
			if i+1 >= len(s) {
				return 0, "", fmt.Errorf("unterminated $' in %q", s)
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'e', 'E':
				b.WriteByte(0x1b)
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return 0, "", fmt.Errorf("unterminated $' in %q", s)
}
