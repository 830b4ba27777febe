package lint

import (
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/distill-build/distill/spec"
)

// reqLine is one logical line of a pip requirements file: an options line
// (-r, --index-url, ...) or a requirement with its per-line options.
type reqLine struct {
	Line int // first physical line, 1-based

	// Options are the options on the line, long names, in order
	// ("--index-url", "--hash"), with their values.
	Options []reqOption

	// IsReq is set for a requirement (including -e).
	IsReq    bool
	Editable bool
	Name     string // project name, "" for a bare URL or path
	Spec     string // version specifier, e.g. ">=1,<2" or "==1.2.3"
	URL      string // direct reference, VCS or archive URL
	Local    bool   // a local path or file: URL
	Hashes   int    // --hash options on the line
}

type reqOption struct{ Name, Value string }

// Long names for pip's requirements-file options; the value says whether
// the option takes an argument.
var reqOptions = map[string]bool{
	"--requirement": true, "--constraint": true, "--editable": true,
	"--index-url": true, "--extra-index-url": true, "--find-links": true,
	"--trusted-host": true, "--hash": true, "--config-settings": true,
	"--global-option": true, "--install-option": true, "--only-binary": true,
	"--no-binary": true, "--use-feature": true,
	"--no-index": false, "--pre": false, "--prefer-binary": false, "--require-hashes": false,
}

var shortOptions = map[string]string{
	"-r": "--requirement", "-c": "--constraint", "-e": "--editable",
	"-i": "--index-url", "-f": "--find-links",
}

// stripComment removes what pip's COMMENT_RE, (^|\s+)#.*$, matches: a #
// at the start of the line or after whitespace, and the rest of the line.
// A # elsewhere (a URL fragment, #egg=) is kept.
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// parseRequirements reads a requirements file the way pip does: lines
// ending in a backslash continue on the next (a comment line ends the
// continuation), comments start with # at the start or after whitespace,
// and a line's options start at its first token beginning with "-".
func parseRequirements(data []byte) []reqLine {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\ufeff")
	phys := strings.Split(text, "\n")
	var out []reqLine
	var buf strings.Builder
	start := 0
	flush := func(line int, s string) {
		s = strings.TrimSpace(stripComment(s))
		if s == "" {
			return
		}
		out = append(out, parseReqLine(line, s))
	}
	for i, l := range phys {
		// pip's COMMENT_RE.match: a line that is only a comment.
		isComment := strings.HasPrefix(strings.TrimLeft(l, " \t"), "#")
		if !strings.HasSuffix(l, `\`) || isComment {
			if isComment {
				l = " " + l
			}
			if buf.Len() > 0 {
				buf.WriteString(l)
				flush(start, buf.String())
				buf.Reset()
			} else {
				flush(i+1, l)
			}
			continue
		}
		if buf.Len() == 0 {
			start = i + 1
		}
		buf.WriteString(strings.Trim(l, `\`))
	}
	if buf.Len() > 0 {
		flush(start, buf.String())
	}
	return out
}

var (
	nameRe = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$`)
	urlRe  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
)

func parseReqLine(line int, s string) reqLine {
	r := reqLine{Line: line}
	toks := strings.Fields(s)
	var args []string
	i := 0
	for ; i < len(toks) && !strings.HasPrefix(toks[i], "-"); i++ {
		args = append(args, toks[i])
	}
	for ; i < len(toks); i++ {
		t := toks[i]
		name, val, hasVal := t, "", false
		if strings.HasPrefix(t, "--") {
			name, val, hasVal = strings.Cut(t, "=")
		} else if len(t) >= 2 {
			name = t[:2]
			if len(t) > 2 {
				val, hasVal = strings.TrimPrefix(t[2:], "="), true
			}
		}
		if long, ok := shortOptions[name]; ok {
			name = long
		}
		if reqOptions[name] && !hasVal && i+1 < len(toks) {
			i++
			val = toks[i]
		}
		if name == "--editable" {
			// -e takes the rest of the requirement: a path or a VCS URL.
			r.IsReq, r.Editable = true, true
			r.classify(val)
			continue
		}
		if name == "--hash" {
			r.Hashes++
		}
		r.Options = append(r.Options, reqOption{Name: name, Value: val})
	}
	if len(args) > 0 {
		r.IsReq = true
		r.classify(strings.Join(args, " "))
	}
	return r
}

var archiveExts = []string{".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip"}

// classify fills Name/Spec/URL/Local from a requirement's text (without
// its options): a PEP 508 requirement, name @ URL, a bare URL or a path.
func (r *reqLine) classify(s string) { r.classifyRef(s, true) }

// classifyRef does the work of classify; named says a "name @" prefix may
// still be present (it is looked for once: what follows @ is a URL or path).
func (r *reqLine) classifyRef(s string, named bool) {
	s = strings.TrimSpace(s)
	if urlRe.MatchString(s) || strings.HasPrefix(strings.ToLower(s), "file:") {
		// A URL's marker must be separated by whitespace: "url ; marker".
		if i := strings.Index(s, " ;"); i >= 0 {
			s = strings.TrimSpace(s[:i])
		} else if i := strings.Index(s, "; "); i >= 0 {
			s = strings.TrimSpace(s[:i])
		}
		r.URL = s
		r.Local = strings.HasPrefix(strings.ToLower(s), "file:")
		return
	}
	if name, ref, ok := strings.Cut(s, "@"); ok && named && !strings.ContainsAny(name, "/\\") {
		if m := nameRe.FindStringSubmatch(strings.TrimSpace(name)); m != nil && strings.TrimSpace(m[3]) == "" {
			r.classifyRef(ref, false)
			r.Name = m[1]
			return
		}
	}
	low := strings.ToLower(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") || strings.ContainsAny(s, "/\\") {
		r.Local = true
		r.URL = s
		return
	}
	for _, ext := range archiveExts {
		if strings.HasSuffix(low, ext) {
			r.Local = true
			r.URL = s
			return
		}
	}
	body, _, _ := strings.Cut(s, ";") // environment marker
	m := nameRe.FindStringSubmatch(strings.TrimSpace(body))
	if m == nil {
		r.Spec = strings.TrimSpace(body)
		return
	}
	r.Name = m[1]
	spec := strings.TrimSpace(m[3])
	spec = strings.TrimSuffix(strings.TrimPrefix(spec, "("), ")")
	r.Spec = strings.Join(strings.Fields(spec), "")
}

var (
	commitRe   = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)
	urlHashRe  = regexp.MustCompile(`(^|&)(sha256|sha384|sha512)=[0-9a-fA-F]+`)
	vcsSchemes = []string{"git+", "hg+", "svn+", "bzr+", "git:"}
)

func (r *reqLine) vcs() bool {
	low := strings.ToLower(r.URL)
	for _, p := range vcsSchemes {
		if strings.HasPrefix(low, p) {
			return true
		}
	}
	return false
}

// pinned reports whether the requirement installs one exact thing: ==X
// (no wildcard) or ===X, a VCS URL at a full commit hash, or an archive
// URL with a hash.
func (r *reqLine) pinned() bool {
	if r.URL != "" {
		u, frag, _ := strings.Cut(r.URL, "#")
		if r.vcs() {
			// The revision follows the last @ in the path (after the
			// authority, whose @ separates user info).
			rest := u
			if i := strings.Index(rest, "://"); i >= 0 {
				rest = rest[i+3:]
			}
			if i := strings.Index(rest, "/"); i >= 0 {
				rest = rest[i:]
			} else {
				rest = ""
			}
			j := strings.LastIndex(rest, "@")
			return j >= 0 && commitRe.MatchString(rest[j+1:])
		}
		return r.Hashes > 0 || urlHashRe.MatchString(frag)
	}
	for _, clause := range strings.Split(r.Spec, ",") {
		switch {
		case strings.HasPrefix(clause, "==="):
			return len(clause) > 3
		case strings.HasPrefix(clause, "=="):
			v := clause[2:]
			return v != "" && !strings.HasSuffix(v, "*")
		}
	}
	return false
}

// display is how messages name a requirement: its name and specifier, or
// its URL with any user info removed (it may hold a token).
func (r *reqLine) display() string {
	if r.URL != "" {
		return clip(redactURL(r.URL), 100)
	}
	return clip(r.Name+r.Spec, 100)
}

// redactURL drops user info ("user:token@") from a URL.
func redactURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		return s[:i+3] + "***@" + rest[at+1:]
	}
	return s
}

func checkUnpinnedRequirement(c *checker) {
	for _, r := range c.req {
		if !r.IsReq || r.Local || r.pinned() {
			continue
		}
		kind := PinVersion
		switch {
		case r.vcs():
			kind = PinCommit
		case r.URL != "":
			kind = PinHash
		}
		c.add(c.reqField(), RuleUnpinnedRequirement.Format(c.reqName(), r.Line, r.display(), kind))
	}
}

func checkRequirementHashes(c *checker) {
	total, missing := 0, 0
	for _, r := range c.req {
		if !r.IsReq {
			continue
		}
		total++
		if r.Hashes == 0 {
			missing++
		}
	}
	if missing > 0 {
		c.add(c.reqField(), RuleRequirementWithoutHash.Format(c.reqName(), missing, total))
	}
}

func checkLocalRequirement(c *checker) {
	for _, r := range c.req {
		for _, o := range r.Options {
			if o.Name == "--requirement" || o.Name == "--constraint" {
				c.add(c.reqField(), RuleLocalRequirement.Format(c.reqName(), r.Line, o.Name, o.Value))
			}
		}
		if r.IsReq && r.Local {
			c.add(c.reqField(), RuleLocalRequirement.Format(c.reqName(), r.Line, "", r.display()))
		}
	}
}

func checkIndexInRequirements(c *checker) {
	for _, r := range c.req {
		for _, o := range r.Options {
			if _, ok := indexOptions[o.Name]; ok {
				c.add(c.reqField(), RuleIndexURLInRequirements.Format(c.reqName(), r.Line, o.Name))
			}
		}
	}
}

func checkInsecureIndex(c *checker) {
	if insecureURL(c.s.Python.IndexURL) {
		c.add(spec.Field("python.indexUrl"), RuleInsecureIndexURL.Format("", 0, "", ""))
	}
	for _, r := range c.req {
		for _, o := range r.Options {
			if (o.Name == "--index-url" || o.Name == "--extra-index-url" || o.Name == "--find-links") && insecureURL(o.Value) {
				c.add(c.reqField(), RuleInsecureIndexURL.Format(c.reqName(), r.Line, o.Name, ""))
			}
		}
		if r.IsReq && insecureURL(r.URL) {
			c.add(c.reqField(), RuleInsecureIndexURL.Format(c.reqName(), r.Line, "", r.display()))
		}
	}
}

// insecureURL reports a plain-http URL (also as git+http://) whose host is
// not loopback: loopback traffic never leaves the machine, so it cannot be
// intercepted.
func insecureURL(raw string) bool {
	low := strings.ToLower(raw)
	for _, p := range vcsSchemes {
		low = strings.TrimPrefix(low, p)
	}
	if !strings.HasPrefix(low, "http://") {
		return false
	}
	u, err := url.Parse(low)
	if err != nil {
		return true
	}
	return !loopbackHost(u.Hostname())
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
