package main

import (
	"bufio"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/distill-build/distill/pydeps"
)

// metadata is a METADATA / PKG-INFO file (email-header style, core metadata
// spec). Headers keep their original bytes unless edited, so a repacked
// wheel says what Debian's file said, line for line, except where a pitfall
// forces a change.
type metadata struct {
	headers []header
	body    string // after the blank line (the long description), verbatim
}

type header struct {
	key string // as written ("Requires-Dist")
	raw string // the whole header, continuation lines and final newline included
}

func (h header) value() string {
	_, v, _ := strings.Cut(h.raw, ":")
	return strings.TrimSpace(v)
}

func parseMetadata(text string) *metadata {
	m := &metadata{}
	rest := text
	for rest != "" {
		line, after, _ := strings.Cut(rest, "\n")
		if strings.TrimRight(line, "\r") == "" {
			m.body = after
			return m
		}
		if (line[0] == ' ' || line[0] == '\t') && len(m.headers) > 0 {
			m.headers[len(m.headers)-1].raw += line + "\n"
		} else {
			key, _, _ := strings.Cut(line, ":")
			m.headers = append(m.headers, header{key: strings.TrimSpace(key), raw: line + "\n"})
		}
		rest = after
	}
	return m
}

func (m *metadata) String() string {
	var b strings.Builder
	for _, h := range m.headers {
		b.WriteString(h.raw)
	}
	if m.body != "" {
		b.WriteString("\n" + m.body)
	}
	return b.String()
}

func (m *metadata) get(key string) string {
	for _, h := range m.headers {
		if strings.EqualFold(h.key, key) {
			return h.value()
		}
	}
	return ""
}

func (m *metadata) all(key string) []string {
	var out []string
	for _, h := range m.headers {
		if strings.EqualFold(h.key, key) {
			out = append(out, h.value())
		}
	}
	return out
}

func (m *metadata) set(key, value string) {
	for i, h := range m.headers {
		if strings.EqualFold(h.key, key) {
			m.headers[i].raw = key + ": " + value + "\n"
			return
		}
	}
	m.add(key, value)
}

func (m *metadata) add(key, value string) {
	m.headers = append(m.headers, header{key: key, raw: key + ": " + value + "\n"})
}

// needVersion raises Metadata-Version to at least min (headers added by
// the repack, e.g. Provides-Extra, need 2.1).
func (m *metadata) needVersion(min string) {
	cur, err := pydeps.ParseVersion(m.get("Metadata-Version"))
	want, _ := pydeps.ParseVersion(min)
	if err != nil || cur.Compare(want) < 0 {
		m.set("Metadata-Version", min)
	}
}

// plainRequirements rewrites "name @ URL" Requires-Dist values to the plain
// name (markdown-it-py's rtd extra names a git URL): pip would run git to
// resolve them, and the URL's project is not in the set anyway.
func (m *metadata) plainRequirements() (changed []string, err error) {
	for i, h := range m.headers {
		if !strings.EqualFold(h.key, "Requires-Dist") {
			continue
		}
		r, err := pydeps.ParseRequirement(h.value())
		if err != nil {
			return nil, fmt.Errorf("Requires-Dist %q: %w", h.value(), err)
		}
		if r.URL == "" {
			continue
		}
		r.URL = ""
		m.headers[i].raw = h.key + ": " + r.String() + "\n"
		changed = append(changed, r.Name)
	}
	return changed, nil
}

// eggRequires converts an egg-info requires.txt to Requires-Dist values:
// lines before any section are unconditional; "[extra]" adds
// `extra == "extra"`, "[:marker]" the marker, "[extra:marker]" both. It
// also returns the extras in order of appearance (for Provides-Extra).
func eggRequires(text string) (reqs, extras []string, err error) {
	section, cond := "", ""
	seenExtra := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			extra, mk, _ := strings.Cut(line[1:len(line)-1], ":")
			section, cond = strings.TrimSpace(extra), strings.TrimSpace(mk)
			if section != "" {
				section = pydeps.NormalizeName(section)
				if !seenExtra[section] {
					seenExtra[section] = true
					extras = append(extras, section)
				}
			}
			continue
		}
		r, err := pydeps.ParseRequirement(line)
		if err != nil {
			return nil, nil, fmt.Errorf("requires.txt: %w", err)
		}
		var conds []string
		for _, c := range []string{r.Marker.String(), cond} {
			if c != "" {
				conds = append(conds, c)
			}
		}
		if section != "" {
			conds = append(conds, `extra == "`+section+`"`)
		}
		if len(conds) > 1 {
			for i, c := range conds {
				if !strings.HasPrefix(c, "extra == ") {
					conds[i] = "(" + c + ")"
				}
			}
		}
		// the conditions are joined as written (not in pydeps' canonical
		// spelling), so METADATA keeps Debian's quotes
		r.Marker = pydeps.Marker{}
		if mk := strings.Join(conds, " and "); mk != "" {
			if r.Marker, err = pydeps.ParseMarker(mk); err != nil {
				return nil, nil, fmt.Errorf("requires.txt: %w", err)
			}
		}
		reqs = append(reqs, r.String())
	}
	return reqs, extras, sc.Err()
}

// devSuffix matches a trailing .devN: mako and alembic write their release
// as "1.3.9.dev0" (the upstream tree's version, tagged later).
var devSuffix = regexp.MustCompile(`^(.*?)[-_.]?dev\d*$`)

// releaseVersion decides the wheel's version from METADATA's and the
// Debian package's. Debian's version is never used itself (click is
// "8.2.0+0.really.8.1.8", django "3:4.2.30-0+deb13u1"); it only settles
// whether a ".devN" METADATA version is a release Debian packaged: when
// Debian's upstream version equals the version without .devN (optionally
// with "+ds"-like repack suffixes) and is no Debian pre-release ("~"), the
// .devN goes, since pip would treat the release as a pre-release and skip it.
func releaseVersion(meta, debVersion string) (string, bool) {
	m := devSuffix.FindStringSubmatch(meta)
	if m == nil {
		return meta, false
	}
	up := debVersion
	if _, after, ok := strings.Cut(up, ":"); ok {
		up = after
	}
	if i := strings.LastIndexByte(up, '-'); i >= 0 {
		up = up[:i]
	}
	if strings.ContainsAny(up, "~") || strings.Contains(up, "dev") {
		return meta, false
	}
	base := m[1]
	if up == base || strings.HasPrefix(up, base+"+") {
		return base, true
	}
	return meta, false
}

// sortedSet returns the keys of a set, sorted.
func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
