package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// tq writes a TOML basic string.
func tq(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func tqList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = tq(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// project is the root of a uv.lock: the pyproject's own package.
type project struct {
	name, version string
	editable      bool // a package (build-system): uv installs it editable
	deps          []edge
	optional      map[string][]edge
	groups        map[string][]edge
	// requiresDist and requiresDev are the declarations as written
	// (uv's [package.metadata]), extras of requiresDist in provides.
	requiresDist []declared
	requiresDev  map[string][]declared
	provides     []string
}

// declared is one dependency of [package.metadata] requires-dist.
type declared struct {
	name   string
	extras []string
	marker string
	spec   string
}

func (d declared) inline() string {
	parts := []string{"name = " + tq(d.name)}
	if len(d.extras) > 0 {
		parts = append(parts, "extras = "+tqList(d.extras))
	}
	if d.marker != "" {
		parts = append(parts, "marker = "+tq(d.marker))
	}
	if d.spec != "" {
		parts = append(parts, "specifier = "+tq(d.spec))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

func (e edge) inline() string {
	parts := []string{"name = " + tq(e.name)}
	if len(e.extras) > 0 {
		parts = append(parts, "extra = "+tqList(e.extras))
	}
	if !e.marker.IsZero() {
		parts = append(parts, "marker = "+tq(e.marker.Canonical()))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// array writes key = [ one entry per line ].
func array(b *bytes.Buffer, key string, items []string) {
	fmt.Fprintf(b, "%s = [\n", key)
	for _, it := range items {
		fmt.Fprintf(b, "    %s,\n", it)
	}
	b.WriteString("]\n")
}

// shortArray writes one entry inline, more one per line (uv's metadata
// arrays).
func shortArray(b *bytes.Buffer, key string, items []string) {
	switch len(items) {
	case 0:
		fmt.Fprintf(b, "%s = []\n", key)
	case 1:
		fmt.Fprintf(b, "%s = [%s]\n", key, items[0])
	default:
		array(b, key, items)
	}
}

func edgeItems(es []edge) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.inline()
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// writeUV writes a uv.lock (version 1, revision 3): the packages sorted by
// name, the project among them with source virtual or editable.
func writeUV(indexURL, requiresPython string, root *project, nodes []*node) []byte {
	var b bytes.Buffer
	b.WriteString("version = 1\nrevision = 3\n")
	fmt.Fprintf(&b, "requires-python = %s\n", tq(requiresPython))
	type entry struct {
		name  string
		write func()
	}
	var entries []entry
	for _, n := range nodes {
		n := n
		entries = append(entries, entry{n.rel.Name, func() {
			fmt.Fprintf(&b, "name = %s\nversion = %s\n", tq(n.rel.Name), tq(n.rel.Version.String()))
			fmt.Fprintf(&b, "source = { registry = %s }\n", tq(indexURL))
			if len(n.deps) > 0 {
				array(&b, "dependencies", edgeItems(n.deps))
			}
			if sd := n.rel.sdist(); sd != nil {
				fmt.Fprintf(&b, "sdist = { url = %s, hash = %s, size = %d }\n", tq(sd.URL), tq("sha256:"+sd.SHA256), sd.Size)
			}
			if ws := n.rel.wheels(); len(ws) > 0 {
				var items []string
				for _, w := range ws {
					items = append(items, fmt.Sprintf("{ url = %s, hash = %s, size = %d }", tq(w.URL), tq("sha256:"+w.SHA256), w.Size))
				}
				array(&b, "wheels", items)
			}
			if len(n.optional) > 0 {
				b.WriteString("\n[package.optional-dependencies]\n")
				for _, x := range sortedKeys(n.optional) {
					array(&b, x, edgeItems(n.optional[x]))
				}
			}
		}})
	}
	if root != nil {
		entries = append(entries, entry{root.name, func() {
			fmt.Fprintf(&b, "name = %s\n", tq(root.name))
			if root.version != "" {
				fmt.Fprintf(&b, "version = %s\n", tq(root.version))
			}
			if root.editable {
				b.WriteString("source = { editable = \".\" }\n")
			} else {
				b.WriteString("source = { virtual = \".\" }\n")
			}
			if len(root.deps) > 0 {
				array(&b, "dependencies", edgeItems(root.deps))
			}
			if len(root.optional) > 0 {
				b.WriteString("\n[package.optional-dependencies]\n")
				for _, x := range sortedKeys(root.optional) {
					array(&b, x, edgeItems(root.optional[x]))
				}
			}
			if len(root.groups) > 0 {
				b.WriteString("\n[package.dev-dependencies]\n")
				for _, g := range sortedKeys(root.groups) {
					array(&b, g, edgeItems(root.groups[g]))
				}
			}
			b.WriteString("\n[package.metadata]\n")
			var items []string
			for _, d := range root.requiresDist {
				items = append(items, d.inline())
			}
			shortArray(&b, "requires-dist", items)
			if len(root.provides) > 0 {
				fmt.Fprintf(&b, "provides-extras = %s\n", tqList(root.provides))
			}
			if len(root.requiresDev) > 0 {
				b.WriteString("\n[package.metadata.requires-dev]\n")
				for _, g := range sortedKeys(root.requiresDev) {
					var items []string
					for _, d := range root.requiresDev[g] {
						items = append(items, d.inline())
					}
					shortArray(&b, g, items)
				}
			}
		}})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	for _, e := range entries {
		b.WriteString("\n[[package]]\n")
		e.write()
	}
	return b.Bytes()
}

// writePylock writes a PEP 751 lock: every package with the marker under
// which it is installed (the disjunction over the paths that reach it).
func writePylock(indexURL, requiresPython string, extras, groups []string, nodes []*node, markers map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("lock-version = \"1.0\"\n")
	if requiresPython != "" {
		fmt.Fprintf(&b, "requires-python = %s\n", tq(requiresPython))
	}
	if len(extras) > 0 {
		fmt.Fprintf(&b, "extras = %s\n", tqList(extras))
	}
	if len(groups) > 0 {
		fmt.Fprintf(&b, "dependency-groups = %s\n", tqList(groups))
	}
	b.WriteString("created-by = \"mklock\"\n")
	for _, n := range nodes {
		b.WriteString("\n[[packages]]\n")
		fmt.Fprintf(&b, "name = %s\nversion = %s\n", tq(n.rel.Name), tq(n.rel.Version.String()))
		if m := markers[n.rel.Name]; m != "" {
			fmt.Fprintf(&b, "marker = %s\n", tq(m))
		}
		if ws := n.rel.wheels(); len(ws) > 0 && ws[0].RequiresPython != "" {
			fmt.Fprintf(&b, "requires-python = %s\n", tq(ws[0].RequiresPython))
		}
		fmt.Fprintf(&b, "index = %s\n", tq(indexURL))
		if sd := n.rel.sdist(); sd != nil {
			fmt.Fprintf(&b, "sdist = { name = %s, url = %s, size = %d, hashes = { sha256 = %s } }\n", tq(sd.Filename), tq(sd.URL), sd.Size, tq(sd.SHA256))
		}
		if ws := n.rel.wheels(); len(ws) > 0 {
			var items []string
			for _, w := range ws {
				items = append(items, fmt.Sprintf("{ name = %s, url = %s, size = %d, hashes = { sha256 = %s } }", tq(w.Filename), tq(w.URL), w.Size, tq(w.SHA256)))
			}
			array(&b, "wheels", items)
		}
	}
	return b.Bytes()
}

// writeRequirements writes a pip requirements file with every file's
// hash, pip-compile's layout: each pin, its hashes, and who needs it.
func writeRequirements(header []string, nodes []*node, via map[string][]string) []byte {
	var b bytes.Buffer
	for _, h := range header {
		if h == "" {
			b.WriteString("#\n")
		} else {
			b.WriteString("# " + h + "\n")
		}
	}
	for _, n := range nodes {
		fmt.Fprintf(&b, "%s==%s", n.rel.Name, n.rel.Version.String())
		var hashes []string
		for _, f := range n.rel.Files {
			hashes = append(hashes, "sha256:"+f.SHA256)
		}
		sort.Strings(hashes)
		for _, h := range hashes {
			fmt.Fprintf(&b, " \\\n    --hash=%s", h)
		}
		b.WriteString("\n")
		if v := via[n.rel.Name]; len(v) == 1 {
			fmt.Fprintf(&b, "    # via %s\n", v[0])
		} else if len(v) > 1 {
			b.WriteString("    # via\n")
			for _, p := range v {
				fmt.Fprintf(&b, "    #   %s\n", p)
			}
		}
	}
	return b.Bytes()
}
