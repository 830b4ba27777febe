package spec

import (
	"regexp"
	"slices"
)

// Limits that keep a hostile spec from costing more than a normal one. A real
// distill.yaml is a few hundred bytes; these are orders of magnitude above it.
const (
	// MaxSpecSize is the largest spec file Parse reads. Callers reading the
	// file from a build context can stop at MaxSpecSize+1 bytes.
	MaxSpecSize = 1 << 20
	// maxDepth bounds YAML nesting (the deepest real field is 4 levels).
	maxDepth = 64
	// maxVisits bounds the values Parse walks (a real spec has under 100),
	// counting each use of an alias again: this is what defeats "billion
	// laughs" documents, whose tree is small but whose expansion is not.
	maxVisits = 10_000
	// maxErrors bounds the error list; a wall of errors helps nobody.
	maxErrors = 50
	// maxNameLen is the longest image name.
	maxNameLen = 128
)

// Patterns shared by validation and the JSON Schema. They are written in the
// common subset of RE2 and ECMA-262 so the schema can carry them verbatim.
var (
	nameRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	envNameRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	secretIDRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)
	labelKeyRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?$`)
	// Debian policy 5.6.1 (names) and 5.6.12 (versions), tightened: apt sees
	// these as argv, and the leading [a-z0-9] / [0-9] means a value can never
	// start with "-" and be read as an option.
	aptPackageRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(=[0-9][A-Za-z0-9.+~:-]*)?$`)
	runtimePackageRe = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	// extraNameRe is a PEP 685 normalized-or-not extra / group name.
	extraNameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)
	// httpPathRe is an absolute URL path with an optional query, printable
	// ASCII only: it becomes one argv element of the healthcheck.
	httpPathRe = regexp.MustCompile(`^/[!-~]*$`)
	// ruleNameRe is a check rule's name (lint.Rules): CamelCase.
	ruleNameRe = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	// durationRe is a Go/Docker duration of whole units, e.g. 30s, 1m30s, 500ms.
	durationRe = regexp.MustCompile(`^([0-9]+(ms|s|m|h))+$`)
	// indexURLRe approximates, for editors, what checkIndexURL checks: http(s),
	// a host without userinfo, no whitespace.
	indexURLRe = regexp.MustCompile(`^[hH][tT][tT][pP][sS]?://[^/?#@\s]+([/?#]\S*)?$`)
	// escapeRe matches a path that is absolute or has a ".." element; the
	// schema uses it under "not".
	escapeRe = regexp.MustCompile(`(^/|(^|/)\.\.(/|$))`)
	// workdirRe is a clean absolute path other than "/".
	workdirRe     = regexp.MustCompile(`^(/[^/]+)+$`)
	dotElementsRe = regexp.MustCompile(`/\.{1,2}(/|$)`)
)

// ReservedEnv are the variable names build.env and app.env may not set, with
// the reason given to the user. distill owns them: the image runs the app from
// a venv at a fixed path, found through PATH, whose interpreter is the runtime
// image's. PYTHONPATH and HOME stay allowed: apps have real uses for both and
// neither can break the venv wiring.
var ReservedEnv = map[string]string{
	"PATH":        "distill sets PATH so the app's venv bin comes first; put tools in the venv or use an absolute path in the entrypoint",
	"VIRTUAL_ENV": "distill sets VIRTUAL_ENV to the venv it builds; the venv path is fixed",
	"PYTHONHOME":  "PYTHONHOME would point the interpreter away from the runtime image's standard library and break the venv",
}

// reservedBuildEnv are reserved in build.env only: the package index is
// configured by python.indexUrl, which is checked for credentials, or by
// python.indexUrlSecret, which keeps them out of the build definition.
var reservedBuildEnv = map[string]string{
	"PIP_INDEX_URL":       "set the index with python.indexUrl, or python.indexUrlSecret when the URL carries credentials",
	"PIP_EXTRA_INDEX_URL": "extra indexes allow dependency confusion; use one index (python.indexUrl or python.indexUrlSecret) that proxies the others",
}

// fieldRule is the part of a field's contract that both validation and the
// JSON Schema state, kept here so the two cannot drift apart.
type fieldRule struct {
	required bool
	enum     []string
	// numericText: a YAML number is accepted, but its written text must be
	// one of enum ("3.10" stays "3.10", never 3.1).
	numericText bool
	pattern     *regexp.Regexp
	notPattern  *regexp.Regexp
	maxLength   int
	// text: scalars of any type (string, number, bool) are accepted and
	// used as written; argv elements and env/label values, where a user
	// writing 8080 or true means the text.
	text bool
	// keys: for NAME: value mappings, the key rules.
	keyPattern *regexp.Regexp
	reserved   map[string]string
	// items applies to each element of a list.
	items *fieldRule
	// minItems, firstNonEmpty, unique and min/max apply to lists and ints.
	minItems      int
	firstNonEmpty bool
	unique        bool
	min, max      int
	example       string
}

// RegisterLanguage adds a language name to the values `language:` accepts
// (and the schema's enum). Package lang calls it for every language it
// registers, so a new language needs no change here; python is built in,
// its section being part of this package.
func RegisterLanguage(name string) {
	r := rules["language"]
	if !slices.Contains(r.enum, name) {
		r.enum = append(r.enum, name)
	}
}

// rules is keyed by field path. Sections without an entry are plain.
var rules = map[string]*fieldRule{
	"apiVersion":            {required: true, enum: []string{APIVersion}, example: "apiVersion: " + APIVersion},
	"name":                  {required: true, pattern: nameRe, maxLength: maxNameLen, example: "name: hello-api"},
	"language":              {required: true, enum: []string{LanguagePython}, example: "language: python"},
	"runtime":               {enum: []string{RuntimeDistroless, RuntimeChainguard}},
	"python.version":        {enum: PythonVersions, numericText: true},
	"python.dependencies":   {pattern: regexp.MustCompile(`^[^-]`), notPattern: escapeRe},
	"python.requirements":   {pattern: regexp.MustCompile(`^[^-]`), notPattern: escapeRe},
	"python.extras":         {unique: true, items: &fieldRule{pattern: extraNameRe}},
	"python.groups":         {unique: true, items: &fieldRule{pattern: extraNameRe}},
	"python.project":        {enum: []string{ProjectAuto, ProjectInstall, ProjectCopy}},
	"python.indexUrl":       {pattern: indexURLRe},
	"python.indexUrlSecret": {pattern: secretIDRe},
	"build.aptPackages":     {items: &fieldRule{pattern: aptPackageRe}},
	"build.env":             {keyPattern: envNameRe, reserved: mergeReasons(ReservedEnv, reservedBuildEnv), items: &fieldRule{text: true}},
	"build.commands": {items: &fieldRule{
		minItems: 1, firstNonEmpty: true, items: &fieldRule{text: true},
		example: "[python, -m, compileall, -q, src]",
	}},
	"app":         {required: true, example: "app: {entrypoint: [python, app.py]}"},
	"app.include": {items: &fieldRule{notPattern: escapeRe}},
	"app.exclude": {items: &fieldRule{notPattern: escapeRe}},
	"app.workdir": {pattern: workdirRe, notPattern: dotElementsRe},
	"app.entrypoint": {
		required: true, minItems: 1, firstNonEmpty: true, items: &fieldRule{text: true},
		example: "[python, app.py]",
	},
	"app.env":    {keyPattern: envNameRe, reserved: ReservedEnv, items: &fieldRule{text: true}},
	"app.ports":  {unique: true, items: &fieldRule{min: 1, max: 65535}},
	"app.labels": {keyPattern: labelKeyRe, items: &fieldRule{text: true}},
	// the same names as build.aptPackages, without a version: the runtime's
	// release decides the version, as apt would in the runtime itself
	"app.runtimePackages":         {unique: true, items: &fieldRule{pattern: runtimePackageRe}},
	"app.healthcheck.http":        {pattern: httpPathRe, example: "http: /healthz"},
	"app.healthcheck.port":        {min: 1, max: 65535},
	"app.healthcheck.command":     {minItems: 1, firstNonEmpty: true, items: &fieldRule{text: true}, example: "[python, -m, app.health]"},
	"app.healthcheck.interval":    {pattern: durationRe, example: "30s"},
	"app.healthcheck.timeout":     {pattern: durationRe, example: "5s"},
	"app.healthcheck.startPeriod": {pattern: durationRe, example: "10s"},
	"app.healthcheck.retries":     {min: 1, max: 100},
	"policy.verify":               {enum: []string{VerifyError, VerifyWarn, VerifyOff}},
	"policy.skip":                 {unique: true, items: &fieldRule{pattern: ruleNameRe}},
}

func mergeReasons(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
