package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// cacheControl lets pip's HTTP cache keep pages and files (pip ignores
// responses without caching headers).
const cacheControl = "max-age=600"

// A dist is one file of the index.
type dist struct {
	File           string
	Project        string // normalized project name
	SHA256         string // hex
	RequiresPython string
	Path           string
	ModTime        time.Time
}

type index struct {
	dir string

	mu    sync.Mutex
	cache map[string]cached // file name -> facts, valid while size and mtime match
}

type cached struct {
	size    int64
	modTime time.Time
	d       dist
}

func newIndex(dir string) *index { return &index{dir: dir, cache: map[string]cached{}} }

// projectOf parses the project name from a distribution file name:
// wheels are name-version-tags.whl with "-" escaped in name; sdists are
// name-version.tar.gz / .zip.
func projectOf(file string) (string, bool) {
	switch {
	case strings.HasSuffix(file, ".whl"):
		parts := strings.Split(strings.TrimSuffix(file, ".whl"), "-")
		if len(parts) < 5 {
			return "", false
		}
		return normalize(parts[0]), true
	case strings.HasSuffix(file, ".tar.gz"), strings.HasSuffix(file, ".zip"):
		base := strings.TrimSuffix(strings.TrimSuffix(file, ".tar.gz"), ".zip")
		i := strings.LastIndex(base, "-")
		if i <= 0 {
			return "", false
		}
		return normalize(base[:i]), true
	}
	return "", false
}

// dists scans the directory; hashes and metadata are cached per file.
func (ix *index) dists() ([]dist, error) {
	entries, err := os.ReadDir(ix.dir)
	if err != nil {
		return nil, err
	}
	var out []dist
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		project, ok := projectOf(e.Name())
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		ix.mu.Lock()
		c, hit := ix.cache[e.Name()]
		ix.mu.Unlock()
		if !hit || c.size != info.Size() || !c.modTime.Equal(info.ModTime()) {
			d, err := inspect(filepath.Join(ix.dir, e.Name()))
			if err != nil {
				log.Printf("pyindex: skipping %s: %v", e.Name(), err)
				continue
			}
			d.File, d.Project, d.ModTime = e.Name(), project, info.ModTime()
			c = cached{size: info.Size(), modTime: info.ModTime(), d: d}
			ix.mu.Lock()
			ix.cache[e.Name()] = c
			ix.mu.Unlock()
		}
		out = append(out, c.d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}

// inspect hashes a file and, for a wheel, reads Requires-Python from METADATA.
func inspect(path string) (dist, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return dist{}, err
	}
	sum := sha256.Sum256(b)
	d := dist{SHA256: hex.EncodeToString(sum[:]), Path: path}
	if strings.HasSuffix(path, ".whl") {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return dist{}, fmt.Errorf("not a zip: %w", err)
		}
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, ".dist-info/METADATA") && strings.Count(f.Name, "/") == 1 {
				rc, err := f.Open()
				if err != nil {
					return dist{}, err
				}
				sc := bufio.NewScanner(rc)
				for sc.Scan() {
					line := sc.Text()
					if line == "" {
						break // end of headers
					}
					if v, ok := strings.CutPrefix(line, "Requires-Python:"); ok {
						d.RequiresPython = strings.TrimSpace(v)
					}
				}
				rc.Close()
			}
		}
	}
	return d, nil
}

func (ix *index) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/" || p == "/simple":
		http.Redirect(w, r, "/simple/", http.StatusMovedPermanently)
	case p == "/simple/":
		ix.serveRoot(w, r)
	case strings.HasPrefix(p, "/simple/"):
		name := strings.TrimSuffix(strings.TrimPrefix(p, "/simple/"), "/")
		if name == "" || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		if n := normalize(name); n != name || !strings.HasSuffix(p, "/") {
			http.Redirect(w, r, "/simple/"+n+"/", http.StatusMovedPermanently)
			return
		}
		ix.serveProject(w, r, name)
	case strings.HasPrefix(p, "/files/"):
		ix.serveFile(w, r, strings.TrimPrefix(p, "/files/"))
	default:
		http.NotFound(w, r)
	}
}

const pageHead = `<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.0">
    <title>%s</title>
  </head>
  <body>
`

const pageTail = `  </body>
</html>
`

// RootPage renders /simple/.
func RootPage(ds []dist) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, pageHead, "Simple index")
	seen := map[string]bool{}
	for _, d := range sortedByProject(ds) {
		if seen[d.Project] {
			continue
		}
		seen[d.Project] = true
		fmt.Fprintf(&b, "    <a href=\"/simple/%s/\">%s</a><br/>\n", d.Project, html.EscapeString(d.Project))
	}
	b.WriteString(pageTail)
	return b.Bytes()
}

// ProjectPage renders /simple/<project>/ (ds already filtered to the project).
func ProjectPage(project string, ds []dist) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, pageHead, "Links for "+html.EscapeString(project))
	fmt.Fprintf(&b, "    <h1>Links for %s</h1>\n", html.EscapeString(project))
	for _, d := range ds {
		rp := ""
		if d.RequiresPython != "" {
			rp = fmt.Sprintf(` data-requires-python="%s"`, html.EscapeString(d.RequiresPython))
		}
		fmt.Fprintf(&b, "    <a href=\"/files/%s#sha256=%s\"%s>%s</a><br/>\n",
			html.EscapeString(d.File), d.SHA256, rp, html.EscapeString(d.File))
	}
	b.WriteString(pageTail)
	return b.Bytes()
}

func sortedByProject(ds []dist) []dist {
	out := append([]dist(nil), ds...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Project < out[j].Project })
	return out
}

func (ix *index) serveRoot(w http.ResponseWriter, r *http.Request) {
	ds, err := ix.dists()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	servePage(w, r, RootPage(ds))
}

func (ix *index) serveProject(w http.ResponseWriter, r *http.Request, project string) {
	ds, err := ix.dists()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var mine []dist
	for _, d := range ds {
		if d.Project == project {
			mine = append(mine, d)
		}
	}
	if len(mine) == 0 {
		http.NotFound(w, r)
		return
	}
	servePage(w, r, ProjectPage(project, mine))
}

func servePage(w http.ResponseWriter, r *http.Request, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func (ix *index) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	ds, err := ix.dists()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, d := range ds {
		if d.File != name {
			continue
		}
		f, err := os.Open(d.Path)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		h := w.Header()
		h.Set("Cache-Control", cacheControl)
		h.Set("ETag", `"`+d.SHA256+`"`)
		h.Set("Content-Type", "application/octet-stream")
		// ServeContent answers If-None-Match / If-Modified-Since / Range.
		http.ServeContent(w, r, name, d.ModTime, f)
		return
	}
	http.NotFound(w, r)
}

// goProxy serves a module cache download directory under /goproxy/. The
// checksum database is not proxied (404 on /goproxy/sumdb/...), so the go
// command relies on go.sum.
func goProxy(dir string) http.Handler {
	files := http.StripPrefix("/goproxy", http.FileServer(http.Dir(dir)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/goproxy/")
		if strings.HasPrefix(rest, "sumdb/") || !strings.Contains(rest, "/@") || strings.HasSuffix(rest, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", cacheControl)
		files.ServeHTTP(w, r)
	})
}

// logRequests logs one line per request to stderr.
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Printf("%s %s %d %d %s", r.Method, r.URL.RequestURI(), rec.status, rec.bytes, r.RemoteAddr)
	})
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// ReadFrom keeps http.ServeContent's sendfile path.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	n, err := io.Copy(r.ResponseWriter, src)
	r.bytes += n
	return n, err
}
