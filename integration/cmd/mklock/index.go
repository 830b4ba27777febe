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
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/distill-build/distill/pydeps"
)

// maxFile bounds one download (a wheel or a project page).
const maxFile = 256 << 20

// dist is one file an index lists for a project.
type dist struct {
	Filename       string
	URL            string // absolute, without the #sha256= fragment
	SHA256         string // hex, from the link's fragment, checked on download
	RequiresPython string // data-requires-python, "" when absent
	Version        string // as the file name spells it
	Wheel          bool
	Size           int64 // known after download
}

// release is one version of a project and its files.
type release struct {
	Name    string // normalized project name
	Version pydeps.Version
	Files   []*dist // wheels sorted by file name, then the sdists
	// Requires are the Requires-Dist lines of the release's metadata (read
	// from its first wheel); nil until metadataOf reads them.
	Requires []string
	read     bool
}

func (r *release) wheels() []*dist {
	var out []*dist
	for _, f := range r.Files {
		if f.Wheel {
			out = append(out, f)
		}
	}
	return out
}

func (r *release) sdist() *dist {
	for _, f := range r.Files {
		if !f.Wheel {
			return f
		}
	}
	return nil
}

// index is a PEP 503 simple index read over HTTP, with every page and
// file fetched at most once.
type index struct {
	base   *url.URL // ends in "/"
	client *http.Client
	pages  map[string][]*release
	files  map[string][]byte
}

func newIndex(base string) (*index, error) {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("index %q: want an http(s) URL such as http://127.0.0.1:3141/simple/", base)
	}
	return &index{base: u, client: &http.Client{Timeout: 2 * time.Minute}, pages: map[string][]*release{}, files: map[string][]byte{}}, nil
}

// URL is the index URL as locks record it, without the trailing slash
// (uv and Poetry write https://pypi.org/simple).
func (ix *index) URL() string { return strings.TrimSuffix(ix.base.String(), "/") }

func (ix *index) get(u string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/html")
	resp, err := ix.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %v", u, err)
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", u, maxFile)
	}
	return b, nil
}

var anchorRE = regexp.MustCompile(`(?is)<a\s([^>]*)>([^<]*)</a>`)
var attrRE = regexp.MustCompile(`(?is)([a-z-]+)\s*=\s*"([^"]*)"`)

// releases lists the versions of a project, newest first. A project the
// index does not have is an error naming it.
func (ix *index) releases(name string) ([]*release, error) {
	name = pydeps.NormalizeName(name)
	if rs, ok := ix.pages[name]; ok {
		return rs, nil
	}
	page, err := ix.base.Parse(name + "/")
	if err != nil {
		return nil, err
	}
	body, err := ix.get(page.String())
	if err != nil {
		return nil, fmt.Errorf("project %q: %v", name, err)
	}
	byVersion := map[string]*release{}
	for _, m := range anchorRE.FindAllSubmatch(body, -1) {
		attrs := map[string]string{}
		for _, a := range attrRE.FindAllSubmatch(m[1], -1) {
			attrs[strings.ToLower(string(a[1]))] = html.UnescapeString(string(a[2]))
		}
		href, ok := attrs["href"]
		if !ok {
			continue
		}
		if _, yanked := attrs["data-yanked"]; yanked {
			continue
		}
		u, err := page.Parse(href)
		if err != nil {
			return nil, fmt.Errorf("project %q: link %q: %v", name, href, err)
		}
		frag := u.Fragment
		u.Fragment = ""
		fn := html.UnescapeString(strings.TrimSpace(string(m[2])))
		if fn == "" {
			fn = u.Path[strings.LastIndex(u.Path, "/")+1:]
		}
		d, ok := parseFilename(fn)
		if !ok || pydeps.NormalizeName(d.project) != name {
			continue
		}
		algo, sum, _ := strings.Cut(frag, "=")
		if algo != "sha256" || len(sum) != 64 {
			return nil, fmt.Errorf("project %q: %s has no #sha256= in its link; a lock needs every file's hash", name, fn)
		}
		v, err := pydeps.ParseVersion(d.version)
		if err != nil {
			continue // not a PEP 440 version: no locker picks it
		}
		key := v.String()
		r := byVersion[key]
		if r == nil {
			r = &release{Name: name, Version: v}
			byVersion[key] = r
		}
		r.Files = append(r.Files, &dist{
			Filename: fn, URL: u.String(), SHA256: strings.ToLower(sum),
			RequiresPython: attrs["data-requires-python"], Version: d.version, Wheel: d.wheel,
		})
	}
	var rs []*release
	for _, r := range byVersion {
		sort.Slice(r.Files, func(i, j int) bool {
			if r.Files[i].Wheel != r.Files[j].Wheel {
				return r.Files[i].Wheel
			}
			return r.Files[i].Filename < r.Files[j].Filename
		})
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Version.Compare(rs[j].Version) > 0 })
	if len(rs) == 0 {
		return nil, fmt.Errorf("project %q: the index lists no files for it", name)
	}
	ix.pages[name] = rs
	return rs, nil
}

type filename struct {
	project, version string
	wheel            bool
}

// parseFilename reads a wheel name (PEP 427: name-version[-build]-py-abi-plat.whl)
// or an sdist name (name-version.tar.gz / .zip).
func parseFilename(fn string) (filename, bool) {
	if s, ok := strings.CutSuffix(fn, ".whl"); ok {
		parts := strings.Split(s, "-")
		if len(parts) != 5 && len(parts) != 6 {
			return filename{}, false
		}
		return filename{project: parts[0], version: parts[1], wheel: true}, true
	}
	for _, ext := range []string{".tar.gz", ".zip"} {
		if s, ok := strings.CutSuffix(fn, ext); ok {
			i := strings.LastIndexByte(s, '-')
			if i <= 0 {
				return filename{}, false
			}
			return filename{project: s[:i], version: s[i+1:]}, true
		}
	}
	return filename{}, false
}

// download fetches a file once and checks its sha256 against the index's.
func (ix *index) download(d *dist) ([]byte, error) {
	if b, ok := ix.files[d.URL]; ok {
		return b, nil
	}
	b, err := ix.get(d.URL)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != d.SHA256 {
		return nil, fmt.Errorf("%s: sha256 %s, the index says %s", d.Filename, got, d.SHA256)
	}
	d.Size = int64(len(b))
	ix.files[d.URL] = b
	return b, nil
}

// sizes downloads every file of a release (the lock records their sizes,
// and each download checks the index's hash).
func (ix *index) sizes(r *release) error {
	for _, f := range r.Files {
		if _, err := ix.download(f); err != nil {
			return err
		}
	}
	return nil
}

// metadataOf reads the Requires-Dist lines of a release from the METADATA
// of its first wheel.
func (ix *index) metadataOf(r *release) ([]string, error) {
	if r.read {
		return r.Requires, nil
	}
	ws := r.wheels()
	if len(ws) == 0 {
		return nil, fmt.Errorf("%s %s has no wheel; mklock reads dependencies from wheel metadata only", r.Name, r.Version)
	}
	b, err := ix.download(ws[0])
	if err != nil {
		return nil, err
	}
	meta, err := wheelMetadata(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ws[0].Filename, err)
	}
	r.Requires = headerValues(meta, "Requires-Dist")
	r.read = true
	return r.Requires, nil
}

// wheelMetadata returns the METADATA file of a wheel's top-level
// .dist-info directory.
func wheelMetadata(whl []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(whl), int64(len(whl)))
	if err != nil {
		return nil, err
	}
	for _, f := range zr.File {
		dir, base, ok := strings.Cut(f.Name, "/")
		if !ok || base != "METADATA" || !strings.HasSuffix(dir, ".dist-info") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, 16<<20))
	}
	return nil, fmt.Errorf("no *.dist-info/METADATA")
}

// headerValues returns the values of one header of a core metadata file
// (RFC 822 style: continuation lines start with whitespace, the headers
// end at the first empty line).
func headerValues(meta []byte, key string) []string {
	var out []string
	var cur *string
	sc := bufio.NewScanner(bytes.NewReader(meta))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != nil {
				*cur += " " + strings.TrimSpace(line)
			}
			continue
		}
		cur = nil
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), key) {
			out = append(out, strings.TrimSpace(v))
			cur = &out[len(out)-1]
		}
	}
	return out
}
