package pyhelper

import (
	"regexp"
	"strings"

	"github.com/distill-build/distill/helper"
)

// Distributions are the distributions installed in a venv, from each
// dist-info's METADATA (Name and Version; those without either are left
// out). Their purl has the normalized name (PEP 503).
func Distributions(venv string) ([]helper.Package, error) {
	var pkgs []helper.Package
	for _, meta := range helper.Glob(venv + "/lib/python3*/site-packages/*.dist-info/METADATA") {
		text, err := helper.ReadText(meta)
		if err != nil {
			return nil, err
		}
		h := parseHeaders(text)
		name, version := h.get("Name"), h.get("Version")
		if name != "" && version != "" {
			pkgs = append(pkgs, helper.Package{Name: name, Version: version, License: h.get("License"), PURL: "pkg:pypi/" + normalize(name) + "@" + version})
		}
	}
	return pkgs, nil
}

var nameRuns = regexp.MustCompile(`[-_.]+`)

// normalize is PEP 503's name normalization.
func normalize(name string) string {
	return strings.ToLower(nameRuns.ReplaceAllString(name, "-"))
}

// headers are RFC 822 headers as Python's email parser (compat32 policy,
// headers only) reads them.
type headers [][2]string

// get is the first value of the header name (any case), "" when absent.
func (h headers) get(name string) string {
	for _, kv := range h {
		if strings.EqualFold(kv[0], name) {
			return kv[1]
		}
	}
	return ""
}

// parseHeaders reads the header block of text as Python's
// email.parser.Parser().parse(fh, headersonly=True) does: a value keeps
// its trailing spaces and its continuation lines (with their line ends),
// a line that is not a header ends the block. net/textproto trims values
// and rejects lines Python accepts, so the SBOM would differ.
func parseHeaders(text string) headers {
	var h headers
	var name string
	var value []string
	flush := func() {
		if name != "" {
			first := value[0][len(name)+1:]
			v := strings.TrimLeft(first, " \t") + strings.Join(value[1:], "")
			h = append(h, [2]string{name, strings.TrimRight(v, "\r\n")})
		}
		name, value = "", nil
	}
	for _, line := range helper.Lines(text) {
		if !isHeaderLine(line) {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if name != "" {
				value = append(value, line)
			}
			continue
		}
		flush()
		if strings.HasPrefix(line, "From ") {
			continue // an mbox envelope line
		}
		j := strings.Index(line, ":")
		if j == 0 {
			continue // no header name
		}
		name, value = line[:j], []string{line}
	}
	flush()
	return h
}

// isHeaderLine is the email parser's headerRE: a header (printable ASCII
// name but ':'), a continuation or a "From " line.
func isHeaderLine(line string) bool {
	if strings.HasPrefix(line, "From ") || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
		return true
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == ':' {
			return true
		}
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return false
}
