package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestWheelIsValidAndRecordMatches(t *testing.T) {
	for _, p := range wheelSet() {
		t.Run(p.Name+"-"+p.Version, func(t *testing.T) {
			b, err := p.Wheel()
			if err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("not a zip: %v", err)
			}
			distInfo := p.distName() + "-" + p.Version + ".dist-info/"
			contents := map[string][]byte{}
			for _, f := range zr.File {
				if !f.Modified.UTC().Equal(zipTime) {
					t.Errorf("%s: mtime %v, want %v", f.Name, f.Modified, zipTime)
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				c, err := io.ReadAll(rc) // also checks the CRC
				rc.Close()
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				contents[f.Name] = c
			}
			if last := zr.File[len(zr.File)-1].Name; last != distInfo+"RECORD" {
				t.Errorf("last member %s, want RECORD", last)
			}
			record := string(contents[distInfo+"RECORD"])
			lines := strings.Split(strings.TrimSuffix(record, "\n"), "\n")
			if len(lines) != len(contents) {
				t.Errorf("RECORD has %d lines, wheel %d members", len(lines), len(contents))
			}
			for _, line := range lines {
				parts := strings.Split(line, ",")
				if len(parts) != 3 {
					t.Fatalf("bad RECORD line %q", line)
				}
				c, ok := contents[parts[0]]
				if !ok {
					t.Errorf("RECORD names %s, not in the wheel", parts[0])
					continue
				}
				if parts[0] == distInfo+"RECORD" {
					if parts[1] != "" || parts[2] != "" {
						t.Errorf("RECORD's own line %q must have no hash", line)
					}
					continue
				}
				if parts[1] != recordHash(c) || parts[2] != fmt.Sprint(len(c)) {
					t.Errorf("%s: RECORD %s,%s; content %s,%d", parts[0], parts[1], parts[2], recordHash(c), len(c))
				}
			}
			md := string(contents[distInfo+"METADATA"])
			for _, want := range append([]string{"Name: " + p.Name, "Version: " + p.Version}, prefixed("Requires-Dist: ", p.Requires)...) {
				if !strings.Contains(md, want+"\n") {
					t.Errorf("METADATA lacks %q:\n%s", want, md)
				}
			}
			if !strings.Contains(string(contents[distInfo+"WHEEL"]), "Root-Is-Purelib: true\n") {
				t.Error("WHEEL is not purelib")
			}
			if len(p.Scripts) > 0 && !strings.HasPrefix(string(contents[distInfo+"entry_points.txt"]), "[console_scripts]\n") {
				t.Error("entry_points.txt missing")
			}
			again, _ := p.Wheel()
			if !bytes.Equal(b, again) {
				t.Error("two builds of the wheel differ")
			}
		})
	}
}

func prefixed(p string, ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, p+s)
	}
	return out
}

func TestWheelSetIsConsistent(t *testing.T) {
	have := map[string]bool{}
	names := map[string]bool{}
	for _, p := range wheelSet() {
		if have[p.wheelName()] {
			t.Errorf("duplicate %s", p.wheelName())
		}
		have[p.wheelName()] = true
		names[normalize(p.Name)] = true
	}
	req := regexp.MustCompile(`^[A-Za-z0-9._-]+`)
	for _, p := range wheelSet() {
		for _, r := range p.Requires {
			if n := normalize(req.FindString(r)); !names[n] {
				t.Errorf("%s requires %s, which the set does not have", p.Name, n)
			}
		}
	}
	for _, want := range []string{"greeting-1.0-py3-none-any.whl", "greeting-1.1-py3-none-any.whl", "tinyweb-2.0-py3-none-any.whl",
		"textutil-0.3-py3-none-any.whl", "pinned_dep-0.1-py3-none-any.whl", "dep01-1.0-py3-none-any.whl", "dep20-1.0-py3-none-any.whl"} {
		if !have[want] {
			t.Errorf("set lacks %s", want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"Pinned_Dep": "pinned-dep", "a.b--c__d": "a-b-c-d", "greeting": "greeting"} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"pinned_dep-0.1-py3-none-any.whl": "pinned-dep", "My.Pkg-1.0.tar.gz": "my-pkg", "x.txt": ""} {
		if got, _ := projectOf(in); got != want {
			t.Errorf("projectOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func serve(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := generate(dir, wheelSet()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(logRequests(newIndex(dir)))
	t.Cleanup(srv.Close)
	return srv, dir
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestIndexPages(t *testing.T) {
	srv, dir := serve(t)

	resp, body := get(t, srv.URL+"/simple/")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "max-age=600" || resp.Header.Get("ETag") == "" {
		t.Fatalf("/simple/: %d %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{`<a href="/simple/greeting/">greeting</a>`, `<a href="/simple/pinned-dep/">pinned-dep</a>`, `<a href="/simple/dep20/">dep20</a>`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/simple/ lacks %s", want)
		}
	}
	if n := bytes.Count(body, []byte(`href="/simple/greeting/"`)); n != 1 {
		t.Errorf("greeting listed %d times", n)
	}

	resp, body = get(t, srv.URL+"/simple/greeting/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/simple/greeting/: %d %v", resp.StatusCode, resp.Header)
	}
	links := regexp.MustCompile(`<a href="/files/([^"#]+)#sha256=([0-9a-f]{64})" data-requires-python="&gt;=3.8">([^<]+)</a>`).FindAllStringSubmatch(string(body), -1)
	if len(links) != 2 {
		t.Fatalf("want 2 greeting links, got %d:\n%s", len(links), body)
	}
	for _, l := range links {
		b, err := os.ReadFile(filepath.Join(dir, l[1]))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != l[2] || l[1] != l[3] {
			t.Errorf("link %s: hash %s, file hash %x", l[1], l[2], sum)
		}
		fresp, fbody := get(t, srv.URL+"/files/"+l[1])
		if fresp.StatusCode != 200 || !bytes.Equal(fbody, b) || fresp.Header.Get("Cache-Control") != "max-age=600" {
			t.Errorf("/files/%s: %d, %d bytes, %v", l[1], fresp.StatusCode, len(fbody), fresp.Header)
		}
		if r, _ := get(t, srv.URL+"/files/"+l[1], "If-None-Match", fresp.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
			t.Errorf("/files/%s with its ETag: %d, want 304", l[1], r.StatusCode)
		}
	}

	// conditional request for a page
	etag := resp.Header.Get("ETag")
	if r, _ := get(t, srv.URL+"/simple/greeting/", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("page with its ETag: %d, want 304", r.StatusCode)
	}

	// non-normalized names and a missing slash redirect to the normalized page
	for path, loc := range map[string]string{"/simple/Pinned_Dep/": "/simple/pinned-dep/", "/simple/greeting": "/simple/greeting/", "/": "/simple/"} {
		if r, _ := get(t, srv.URL+path); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != loc {
			t.Errorf("%s: %d -> %q, want 301 -> %s", path, r.StatusCode, r.Header.Get("Location"), loc)
		}
	}
	for _, path := range []string{"/simple/nope/", "/files/nope.whl", "/files/..%2Fetc%2Fpasswd", "/other"} {
		if r, _ := get(t, srv.URL+path); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, r.StatusCode)
		}
	}

	// a wheel dropped into the directory shows up without a restart
	extra := project{Name: "Extra.Pkg", Version: "9.0", Modules: map[string]string{"extra_pkg/__init__.py": ""}}
	if _, err := generate(dir, []project{extra}); err != nil {
		t.Fatal(err)
	}
	if r, b := get(t, srv.URL+"/simple/extra-pkg/"); r.StatusCode != 200 || !bytes.Contains(b, []byte("Extra_Pkg-9.0-py3-none-any.whl#sha256=")) || bytes.Contains(b, []byte("data-requires-python")) {
		t.Errorf("extra-pkg: %d\n%s", r.StatusCode, b)
	}
}

func TestGenerateIsStable(t *testing.T) {
	dir := t.TempDir()
	names, err := generate(dir, wheelSet())
	if err != nil {
		t.Fatal(err)
	}
	first := map[string][]byte{}
	for _, n := range names {
		first[n], _ = os.ReadFile(filepath.Join(dir, n))
	}
	dir2 := t.TempDir()
	if _, err := generate(dir2, wheelSet()); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, _ := os.ReadFile(filepath.Join(dir2, n))
		if !bytes.Equal(first[n], b) {
			t.Errorf("%s differs between runs", n)
		}
	}
}

func TestGoProxy(t *testing.T) {
	dir := t.TempDir()
	v := filepath.Join(dir, "example.com", "!some", "mod", "@v")
	if err := os.MkdirAll(v, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(v, "v1.0.0.info"), []byte(`{"Version":"v1.0.0"}`), 0o644)
	srv := httptest.NewServer(goProxy(dir))
	defer srv.Close()
	if r, b := get(t, srv.URL+"/goproxy/example.com/!some/mod/@v/v1.0.0.info"); r.StatusCode != 200 || string(b) != `{"Version":"v1.0.0"}` {
		t.Errorf("info: %d %s", r.StatusCode, b)
	}
	for _, p := range []string{"/goproxy/sumdb/sum.golang.org/supported", "/goproxy/example.com/", "/goproxy/example.com/!some/mod/@v/v9.info"} {
		if r, _ := get(t, srv.URL+p); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, r.StatusCode)
		}
	}
}
