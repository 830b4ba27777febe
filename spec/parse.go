package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/linter"
	dfparser "github.com/moby/buildkit/frontend/dockerfile/parser"
	"go.yaml.in/yaml/v3"
)

// Parse parses, defaults and validates a distill.yaml. filename is used only
// in messages. On failure the error is an ErrorList holding every problem
// found, each with its line and column; the *Spec is nil.
//
// The YAML is walked as a node tree rather than decoded into the structs so
// that unknown keys, duplicates and wrong kinds are caught with their
// positions, and so that alias expansion is under this package's control.
func Parse(filename string, data []byte) (*Spec, error) {
	s, _, err := parseSpec(filename, data)
	return s, err
}

// parseSpec is Parse that also returns the parser, whose walk counters
// the tests read.
func parseSpec(filename string, data []byte) (*Spec, *parser, error) {
	p := &parser{
		file:   filename,
		pos:    map[Path]Position{},
		keyPos: map[Path]Position{},
		failed: map[Path]bool{},
		visits: maxVisits,
	}
	s := &Spec{File: filename}
	if !p.parse(s, data) {
		return nil, p, p.result()
	}
	applyDefaults(s, p)
	p.validate(s)
	if len(p.errs) > 0 {
		return nil, p, p.result()
	}
	s.Positions = make(map[string]Position, len(p.pos))
	for f, pos := range p.pos {
		s.Positions[f.String()] = pos
	}
	return s, p, nil
}

type parser struct {
	file   string
	errs   ErrorList
	nerrs  int // including those dropped past maxErrors
	pos    map[Path]Position
	keyPos map[Path]Position
	failed map[Path]bool
	// visits is the remaining budget of values to walk; see maxVisits.
	visits  int
	aborted bool
	// walked counts every visit asked for, past the budget too, so a test
	// can see what a hostile document cost.
	walked int
}

func (p *parser) errorf(pos Position, field Path, format string, args ...any) {
	p.nerrs++
	if !field.IsZero() {
		p.failed[field] = true
	}
	if len(p.errs) >= maxErrors {
		return
	}
	// Messages quote user text with %q, but a message must be valid UTF-8
	// whatever slipped through: it ends up in gRPC status strings.
	msg := strings.ToValidUTF8(fmt.Sprintf(format, args...), "\uFFFD")
	p.errs = append(p.errs, &Error{File: p.file, Line: pos.Line, Column: pos.Column, Field: field, Msg: msg})
}

func (p *parser) result() ErrorList {
	p.errs.sort()
	if p.nerrs > len(p.errs) {
		last := p.errs[len(p.errs)-1]
		p.errs = append(p.errs, &Error{File: p.file, Line: last.Line, Column: last.Column,
			Msg: fmt.Sprintf("too many errors; %d more not shown", p.nerrs-len(p.errs))})
	}
	return p.errs
}

func nodePos(n *yaml.Node) Position { return Position{Line: n.Line, Column: n.Column} }

// parse runs the checks on the raw bytes and the YAML structure, then walks
// the document into s. It reports false when the document could not be
// walked at all.
func (p *parser) parse(s *Spec, data []byte) bool {
	if len(data) > MaxSpecSize {
		p.errorf(Position{1, 1}, Path{}, "spec is %d bytes; the limit is %d (1 MiB), and a distill.yaml is normally under 2 KiB", len(data), MaxSpecSize)
		return false
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !p.checkText(data) {
		return false
	}
	s.Syntax = syntaxDirective(data)
	s.Check = p.checkDirective(data)

	root, ok := p.decodeYAML(data)
	if !ok {
		return false
	}
	if root == nil || isNull(root) {
		p.errorf(Position{1, 1}, Path{}, "empty spec: expected apiVersion: %s, name, language and app.entrypoint, e.g.\n  apiVersion: %s\n  name: hello-api\n  language: python\n  app:\n    entrypoint: [python, app.py]", APIVersion, APIVersion)
		return false
	}
	if !p.checkShape(root) {
		return false
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(nodePos(root), Path{}, "a spec must be a mapping of keys (apiVersion: %s, name: ..., ...), got %s", APIVersion, describe(root))
		return false
	}
	p.decodeStruct(root, reflect.ValueOf(s).Elem(), Path{})
	return !p.aborted
}

// checkText rejects what YAML would either refuse with a vague message or,
// worse, accept: NUL bytes, invalid UTF-8 and control characters.
func (p *parser) checkText(data []byte) bool {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			p.errorf(Position{line, col}, Path{}, "invalid UTF-8 (byte 0x%02x): a spec must be UTF-8 text", data[i])
			return false
		case r == 0:
			p.errorf(Position{line, col}, Path{}, "NUL byte: a spec must be text")
			return false
		case r == '\n':
			line, col = line+1, 0
		case r == '\r' && (i+1 >= len(data) || data[i+1] != '\n'),
			r == 0x85, r == 0x2028, r == 0x2029:
			// YAML counts these as line breaks, editors and BuildKit's
			// source view do not: positions would point at the wrong line.
			p.errorf(Position{line, col}, Path{}, "line break U+%04X: end lines with LF or CRLF (inside a double-quoted string, write it as an escape)", r)
			return false
		case r < 0x20 && r != '\t' && r != '\r', r == 0x7f, r >= 0x80 && r < 0xa0 && r != 0x85,
			r == 0xfffe, r == 0xffff, r >= 0xd800 && r <= 0xdfff:
			// YAML's printable set (1.2 §5.1); anything else is a control
			// character the YAML library rejects without a line number.
			p.errorf(Position{line, col}, Path{}, "control character U+%04X: a spec must be printable text (use a \\u escape in a double-quoted string)", r)
			return false
		}
		i += size
		col++
	}
	return true
}

var syntaxRe = regexp.MustCompile(`^#\s*syntax\s*=\s*(\S+)\s*$`)

// syntaxDirective returns the image of a first-line "# syntax=" comment,
// which BuildKit reads to pick the frontend.
func syntaxDirective(data []byte) string {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	m := syntaxRe.FindSubmatch(bytes.TrimSuffix(first, []byte("\r")))
	if m == nil {
		return ""
	}
	return string(m[1])
}

// directiveNameRe is the name of a directive line, as BuildKit's directive
// parser reads it.
var directiveNameRe = regexp.MustCompile(`^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=`)

// checkDirective reads the "# check=" directive from the directive lines
// at the top of the file, with BuildKit's own directive parser: they are
// the leading lines of the form "# name=value" (syntax, check, escape); the
// first other line ends them, so a "# check=" below a plain comment or
// below the YAML is a comment, as in a Dockerfile. The value is read with
// BuildKit's linter.ParseLintOptions; a malformed one is an error at the
// part that is wrong. Unlike BuildKit, which ignores whatever follows a
// space in the value, the spec rejects it: "skip=A; error=true" would
// otherwise silently drop error=true.
func (p *parser) checkDirective(data []byte) *CheckDirective {
	var dp dfparser.DirectiveParser
	var found *CheckDirective
	for i, rest := 0, data; len(rest) > 0; i++ {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		d, err := dp.ParseLine(line)
		if err != nil {
			// a second directive of one name; only check is ours to reject
			if m := directiveNameRe.FindSubmatch(line); m != nil && strings.EqualFold(string(m[1]), "check") {
				p.errorf(Position{i + 1, 1}, Path{}, "a second # check= directive (the first is on line %d): write one, e.g. # check=skip=RootUser;error=true", found.Pos.Line)
			}
			continue
		}
		if d == nil {
			break
		}
		if d.Name != "check" {
			continue
		}
		// the value starts after the first "=" and the spaces after it
		eq := bytes.IndexByte(line, '=')
		off := eq + 1 + len(line[eq+1:]) - len(bytes.TrimLeft(line[eq+1:], " \t"))
		found = &CheckDirective{Value: d.Value, Pos: Position{i + 1, utf8.RuneCount(line[:off]) + 1}}
		p.parseCheck(found, line, off)
	}
	return found
}

// parseCheck fills d.Config and d.SkipPos from d.Value, which starts at
// byte off of line, reporting a malformed value at the part that is wrong.
func (p *parser) parseCheck(d *CheckDirective, line []byte, off int) {
	col := func(at int) Position { return Position{d.Pos.Line, utf8.RuneCount(line[:off+at]) + 1} }
	const example = "e.g. # check=skip=PrivilegedPort,RootUser;error=true"
	if i := strings.IndexAny(d.Value, " \t"); i >= 0 {
		p.errorf(col(i), Path{}, "# check=%s: the value must not contain spaces (BuildKit ignores everything after one); %s", truncate(d.Value, 60), example)
		return
	}
	// each part alone is a valid value, so the first one BuildKit rejects
	// on its own is where the error is
	at := 0
	seen := map[string]bool{}
	for _, part := range strings.Split(d.Value, ";") {
		if _, err := linter.ParseLintOptions(part); err != nil {
			p.errorf(col(at), Path{}, "# check=%s: %v; %s", truncate(d.Value, 60), err, example)
			return
		}
		k, v, _ := strings.Cut(part, "=")
		if seen[k] {
			p.errorf(col(at), Path{}, "# check=%s: %s= is given twice; %s", truncate(d.Value, 60), k, example)
			return
		}
		seen[k] = true
		if k == "skip" && v != "all" {
			nameAt := at + len(k) + 1
			for _, name := range strings.Split(v, ",") {
				d.SkipPos = append(d.SkipPos, col(nameAt))
				nameAt += len(name) + 1
			}
		}
		at += len(part) + 1
	}
	cfg, err := linter.ParseLintOptions(d.Value)
	if err != nil { // not reached: each part parsed, and each key once
		p.errorf(d.Pos, Path{}, "# check=%s: %v; %s", truncate(d.Value, 60), err, example)
		return
	}
	d.Config = *cfg
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeYAML parses exactly one YAML document into a node tree; nil when the
// file holds no document (empty, or only comments).
func (p *parser) decodeYAML(data []byte) (root *yaml.Node, ok bool) {
	defer func() {
		// yaml.v3 turns its own failures into errors; this only guards
		// against a bug in it taking the frontend down with a hostile spec.
		if r := recover(); r != nil {
			p.errorf(Position{1, 1}, Path{}, "invalid YAML: the parser failed (%v)", r)
			root, ok = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		p.yamlError(err)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.yamlError(err)
		return nil, false
	default:
		p.errorf(Position{next.Line, next.Column}, Path{}, "a second YAML document (after ---): a spec is one document")
		return nil, false
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, true
		}
		return doc.Content[0], true
	}
	if doc.Kind == 0 {
		return nil, true
	}
	return &doc, true
}

func (p *parser) yamlError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
			line = n
		}
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	// Column 0: yaml.v3 reports the line only.
	p.errorf(Position{line, 0}, Path{}, "invalid YAML: %s", msg)
}

// checkShape bounds nesting depth and rejects constructs a spec never needs
// before any field is read. Aliases are not followed here, so the walk is
// linear in the size of the file.
func (p *parser) checkShape(root *yaml.Node) bool {
	type item struct {
		n     *yaml.Node
		depth int
	}
	stack := []item{{root, 1}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > maxDepth {
			p.errorf(nodePos(it.n), Path{}, "nesting deeper than %d levels: a spec is at most 4 levels deep", maxDepth)
			return false
		}
		for _, c := range it.n.Content {
			stack = append(stack, item{c, it.depth + 1})
		}
	}
	return true
}

// resolve follows an alias to the node it names, counting the visit.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// visit spends one unit of the walk budget; false (once, with an error) when
// the document expands to more values than any real spec has.
func (p *parser) visit(n *yaml.Node) bool {
	p.walked++
	if p.aborted {
		return false
	}
	p.visits--
	if p.visits < 0 {
		p.aborted = true
		p.errorf(nodePos(n), Path{}, "spec expands to more than %d values (YAML aliases?); refusing to read further", maxVisits)
		return false
	}
	return true
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return fmt.Sprintf("the string %q", truncate(n.Value, 40))
		case "!!int", "!!float":
			return "the number " + token(n.Value)
		case "!!bool":
			return "the boolean " + token(n.Value)
		default:
			// Tags are %-decoded by the YAML library and may hold any byte.
			return fmt.Sprintf("a %s value", token(n.ShortTag()))
		}
	case yaml.AliasNode:
		return "an alias"
	}
	return "an unknown node"
}

// token returns s as is when it is a short plain word, quoted otherwise:
// an explicit tag (!!int "a\nb") can put any text where a number is expected.
func token(s string) string {
	ok := len(s) > 0 && len(s) <= 40
	for _, r := range s {
		if !(r == '!' || r == '.' || r == '_' || r == '+' || r == '-' || r == ':' || r == '/' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strconv.Quote(truncate(s, 40))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// joinPath joins rule keys (the display form of a Path), for the tables
// keyed by field (rules, the schema's docs and defaults).
func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// ruleFor is the rule of the field at path (nil for plain fields).
func ruleFor(path Path) *fieldRule { return rules[path.String()] }

var (
	stringType   = reflect.TypeOf("")
	intType      = reflect.TypeOf(0)
	boolType     = reflect.TypeOf(false)
	stringsType  = reflect.TypeOf([]string(nil))
	commandsType = reflect.TypeOf([][]string(nil))
	intsType     = reflect.TypeOf([]int(nil))
	envType      = reflect.TypeOf([]EnvVar(nil))
	labelsType   = reflect.TypeOf([]Label(nil))
)

// yamlFields lists the keys of a spec struct in declaration order, from the
// same yaml tags the JSON Schema is generated from.
func yamlFields(t reflect.Type) (names []string, index map[string]int) {
	index = map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

// decodeStruct walks a mapping into a section struct. A null value is an
// empty section (every key in it commented out).
func (p *parser) decodeStruct(n *yaml.Node, v reflect.Value, path Path) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(nodePos(n), path, "%s must be a mapping of keys, got %s", path, describe(n))
		return
	}
	names, index := yamlFields(v.Type())
	seen := map[string]Position{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !p.visit(k) {
			return
		}
		key, ok := p.key(k, path)
		if !ok {
			continue
		}
		if strings.HasPrefix(key, "x-") {
			continue
		}
		if first, dup := seen[key]; dup {
			p.errorf(nodePos(k), path.Key(key), "duplicate key %q (first at line %d)", truncate(key, 60), first.Line)
			continue
		}
		seen[key] = nodePos(k)
		fi, known := index[key]
		if !known {
			p.unknownKey(k, key, path, names)
			continue
		}
		fp := path.Key(key)
		p.keyPos[fp] = nodePos(k)
		p.pos[fp] = nodePos(val)
		p.decodeValue(val, v.Field(fi), fp)
	}
}

// key returns a mapping key's text; keys are plain strings in a spec.
func (p *parser) key(k *yaml.Node, path Path) (string, bool) {
	k = p.resolve(k)
	if k.Kind != yaml.ScalarNode {
		p.errorf(nodePos(k), path, "a key must be a plain string, got %s", describe(k))
		return "", false
	}
	if k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0) {
		p.errorf(nodePos(k), path, "merge keys (<<) are not supported: write the keys out (an alias for a whole value, *name, works)")
		return "", false
	}
	return k.Value, true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func (p *parser) unknownKey(k *yaml.Node, key string, path Path, allowed []string) {
	where := "at the top level"
	if !path.IsZero() {
		where = "in " + path.String()
	}
	hint := ""
	if s := suggest(key, allowed); s != "" {
		hint = fmt.Sprintf("; did you mean %q?", s)
	} else if other := elsewhere(key, path.String()); other != "" {
		hint = fmt.Sprintf("; did you mean %s?", other)
	}
	p.errorf(nodePos(k), path.Key(key), "unknown key %q %s%s (allowed: %s; keys starting with x- are ignored)",
		truncate(key, 60), where, hint, strings.Join(allowed, ", "))
}

// fieldPaths is every key path Parse accepts ("app.entrypoint"), from the
// types, for suggesting where a misplaced key belongs.
var fieldPaths = func() []string {
	var out []string
	var walk func(t reflect.Type, at string)
	walk = func(t reflect.Type, at string) {
		names, index := yamlFields(t)
		for _, name := range names {
			fp := joinPath(at, name)
			out = append(out, fp)
			if f := t.Field(index[name]); f.Type.Kind() == reflect.Struct {
				walk(f.Type, fp)
			}
		}
	}
	walk(reflect.TypeOf(Spec{}), "")
	return out
}()

// elsewhere finds a misplaced key in the other sections ("entrypoint" at the
// top level → "app.entrypoint"), returning the quoted paths or "".
func elsewhere(key, path string) string {
	var found []string
	nk := normKey(key)
	for _, fp := range fieldPaths {
		parent, name := "", fp
		if i := strings.LastIndexByte(fp, '.'); i >= 0 {
			parent, name = fp[:i], fp[i+1:]
		}
		if parent != path && normKey(name) == nk {
			found = append(found, strconv.Quote(fp))
		}
	}
	return strings.Join(found, " or ")
}

// normKey folds case and separators: entryPoint, entry_point → entrypoint.
func normKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r != '_' && r != '-' {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// suggest returns the allowed key closest to key when it is close enough to
// be a typo or a case/separator slip (entryPoint, index_url).
func suggest(key string, allowed []string) string {
	best, bestD := "", -1
	for _, a := range allowed {
		if normKey(a) == normKey(key) {
			return a
		}
		d := editDistance(strings.ToLower(key), strings.ToLower(a))
		if bestD < 0 || d < bestD {
			best, bestD = a, d
		}
	}
	limit := len(key) / 3
	if limit < 1 {
		limit = 1
	}
	if limit > 3 {
		limit = 3
	}
	if bestD >= 0 && bestD <= limit {
		return best
	}
	return ""
}

// editDistance is the optimal-string-alignment distance: Levenshtein plus
// adjacent transpositions, the commonest typo ("nmae").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Keys are short; a hostile 1 MiB key must not cost len² time.
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 20
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// kindHints say what to write when a value has the wrong shape, where a
// plain "must be a list" would leave the user guessing.
var kindHints = map[string]string{
	"app.entrypoint":    "a list of strings (exec form), e.g. [python, app.py]",
	"build.commands[]":  "a list of strings (exec form), e.g. [python, -m, compileall, -q, src]",
	"build.commands":    "a list of commands, each a list of strings, e.g. [[python, -m, compileall, -q, src]]",
	"build.env":         "a mapping of NAME: value, e.g. {PIP_NO_CACHE_DIR: \"1\"}",
	"app.env":           "a mapping of NAME: value, e.g. {PORT: \"8080\"}",
	"app.labels":        "a mapping of key: value, e.g. {org.opencontainers.image.source: https://example.com/repo}",
	"app.ports":         "a list of port numbers, e.g. [8080]",
	"app.include":       "a list of paths, e.g. [app.py, src/]",
	"app.exclude":       "a list of .dockerignore patterns, e.g. [tests/, \"*.md\"]",
	"build.aptPackages": "a list of Debian package names, e.g. [gcc, libpq-dev]",
}

func (p *parser) kindError(n *yaml.Node, path Path, hintKey string) {
	what, ok := kindHints[hintKey]
	if !ok {
		what = "a list"
	}
	msg := fmt.Sprintf("%s must be %s, got %s", path, what, describe(n))
	if strings.HasSuffix(hintKey, "entrypoint") || strings.HasPrefix(hintKey, "build.commands[") {
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
			msg += ": a string would need a shell, which distill never runs"
			if argv := strings.Fields(n.Value); len(argv) > 0 && len(argv) <= 16 && !strings.ContainsAny(n.Value, "$`|&;<>()*?'\"\\{}[],#") {
				msg += "; write [" + strings.Join(argv, ", ") + "]"
			}
		}
	}
	p.errorf(nodePos(n), path, "%s", msg)
}

func (p *parser) decodeValue(n *yaml.Node, v reflect.Value, path Path) {
	n = p.resolve(n)
	switch v.Type() {
	case stringType:
		if s, ok := p.scalar(n, path, ruleFor(path)); ok {
			v.SetString(s)
		}
	case intType:
		if x, ok := p.integer(n, path, ruleFor(path)); ok {
			v.SetInt(int64(x))
		}
	case boolType:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			p.errorf(nodePos(n), path, "%s must be true or false, got %s", path, describe(n))
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			p.errorf(nodePos(n), path, "%s must be true or false, got %s", path, describe(n))
			return
		}
		v.SetBool(b)
	case stringsType:
		items, ok := p.list(n, path, path.String())
		if !ok {
			return
		}
		out := make([]string, 0, len(items))
		for i, it := range items {
			ip := path.Index(i)
			p.pos[ip] = nodePos(it)
			// A value that could not be read keeps its slot (and has its
			// error), so later indexes still match the file.
			s, _ := p.scalar(p.resolve(it), ip, itemRule(path.String()))
			out = append(out, s)
		}
		v.Set(reflect.ValueOf(out))
	case commandsType:
		items, ok := p.list(n, path, path.String())
		if !ok {
			return
		}
		out := make([][]string, 0, len(items))
		for i, it := range items {
			ip := path.Index(i)
			p.pos[ip] = nodePos(it)
			args, ok := p.list(p.resolve(it), ip, path.String()+"[]")
			if !ok {
				out = append(out, nil)
				continue
			}
			argv := make([]string, 0, len(args))
			for j, a := range args {
				ap := ip.Index(j)
				p.pos[ap] = nodePos(a)
				s, _ := p.scalar(p.resolve(a), ap, &fieldRule{text: true})
				argv = append(argv, s)
			}
			out = append(out, argv)
		}
		v.Set(reflect.ValueOf(out))
	case intsType:
		items, ok := p.list(n, path, path.String())
		if !ok {
			return
		}
		out := make([]int, 0, len(items))
		for i, it := range items {
			ip := path.Index(i)
			p.pos[ip] = nodePos(it)
			x, _ := p.port(p.resolve(it), ip) // 0 when unreadable
			out = append(out, x)
		}
		v.Set(reflect.ValueOf(out))
	case envType:
		var out []EnvVar
		p.pairs(n, path, func(k, val string) { out = append(out, EnvVar{Name: k, Value: val}) })
		v.Set(reflect.ValueOf(out))
	case labelsType:
		var out []Label
		p.pairs(n, path, func(k, val string) { out = append(out, Label{Key: k, Value: val}) })
		v.Set(reflect.ValueOf(out))
	default:
		if v.Kind() == reflect.Struct {
			p.decodeStruct(n, v, path)
			return
		}
		// Reached only if a field type is added to types.go without a case
		// here; the schema test catches that too.
		p.errorf(nodePos(n), path, "%s: internal error: no decoder for %s", path, v.Type())
	}
}

func itemRule(key string) *fieldRule {
	if r := rules[key]; r != nil {
		return r.items
	}
	return nil
}

// list returns a sequence's items; null is an empty list.
func (p *parser) list(n *yaml.Node, path Path, hintKey string) ([]*yaml.Node, bool) {
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		p.kindError(n, path, hintKey)
		return nil, false
	}
	var items []*yaml.Node
	for _, it := range n.Content {
		if !p.visit(it) {
			return nil, false
		}
		items = append(items, it)
	}
	return items, true
}

// scalar returns a scalar's text as written. Only strings are accepted
// unless the rule says the field is free text (argv, env and label values,
// where 8080 or true mean their text) or a numeric version.
func (p *parser) scalar(n *yaml.Node, path Path, r *fieldRule) (string, bool) {
	text := r != nil && r.text
	numeric := r != nil && r.numericText
	want := "a string"
	if text {
		want = "a string (or a number or boolean, used as written)"
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(nodePos(n), path, "%s must be %s, got %s", path, want, describe(n))
		return "", false
	}
	switch tag := n.ShortTag(); {
	case tag == "!!str":
	case tag == "!!null":
		p.errorf(nodePos(n), path, "%s is empty: give a value or remove the key", path)
		return "", false
	case (tag == "!!int" || tag == "!!float") && (text || numeric):
	case tag == "!!bool" && text:
	case tag == "!!int" || tag == "!!float" || tag == "!!bool":
		p.errorf(nodePos(n), path, "%s must be %s, got %s; quote it: \"%s\"", path, want, describe(n), truncate(n.Value, 40))
		return "", false
	default:
		p.errorf(nodePos(n), path, "%s must be %s, got %s (YAML tags are not supported)", path, want, describe(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) port(n *yaml.Node, path Path) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.errorf(nodePos(n), path, "%s must be a port number (1-65535), got %s", path, describe(n))
		return 0, false
	}
	var x int64
	if err := n.Decode(&x); err != nil {
		p.errorf(nodePos(n), path, "%s must be a port number (1-65535), got %q", path, truncate(n.Value, 40))
		return 0, false
	}
	if x < 1 || x > 65535 {
		p.errorf(nodePos(n), path, "%s: port %d is out of range; allowed: 1-65535", path, x)
		return 0, false
	}
	return int(x), true
}

// integer reads a bounded integer field (its rule's min and max).
func (p *parser) integer(n *yaml.Node, path Path, r *fieldRule) (int, bool) {
	lo, hi := 0, 1<<31-1
	if r != nil && r.max > 0 {
		lo, hi = r.min, r.max
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.errorf(nodePos(n), path, "%s must be a whole number (%d-%d), got %s", path, lo, hi, describe(n))
		return 0, false
	}
	var x int64
	if err := n.Decode(&x); err != nil || x < int64(lo) || x > int64(hi) {
		p.errorf(nodePos(n), path, "%s: %s is out of range; allowed: %d-%d", path, truncate(n.Value, 40), lo, hi)
		return 0, false
	}
	return int(x), true
}

// pairs walks a NAME: value mapping in file order. Its keys are data (env
// names, label keys), so x- keys are not skipped here.
func (p *parser) pairs(n *yaml.Node, path Path, add func(k, v string)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.SequenceNode && len(n.Content) > 0 && strings.Contains(p.resolve(n.Content[0]).Value, "=") {
			ps := path.String()
			p.errorf(nodePos(n), path, "%s must be a mapping of NAME: value, not a list of NAME=value items; write\n  %s:\n    %s", path, ps[strings.LastIndexByte(ps, '.')+1:],
				strings.Replace(truncate(p.resolve(n.Content[0]).Value, 60), "=", ": ", 1))
			return
		}
		p.kindError(n, path, path.String())
		return
	}
	seen := map[string]Position{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !p.visit(k) {
			return
		}
		key, ok := p.key(k, path)
		if !ok {
			continue
		}
		fp := path.Key(key)
		if first, dup := seen[key]; dup {
			p.errorf(nodePos(k), fp, "duplicate key %q (first at line %d)", truncate(key, 60), first.Line)
			continue
		}
		seen[key] = nodePos(k)
		p.keyPos[fp] = nodePos(k)
		p.pos[fp] = nodePos(val)
		if s, ok := p.scalar(p.resolve(val), fp, &fieldRule{text: true}); ok {
			add(key, s)
		}
	}
}
