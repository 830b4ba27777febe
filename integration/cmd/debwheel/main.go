// Command debwheel makes real Python wheels for the test bed's package index
// by repacking Debian python3-* .debs: PyPI is out of reach, Debian's archive
// is not, and Debian trixie builds the Python ecosystem for CPython 3.13.
//
// It reads a list of distributions (integration/testbed/realwheels.txt: the
// Debian packages that make each one), asks apt which .debs those are (a
// private apt directory, APT_CONFIG, as integration/testbed/images/lib.sh
// sets it up), downloads the missing ones into a pool shared with the
// stand-in image recipes, and writes one wheel per distribution into -out,
// the flat directory cmd/pyindex serves.
//
// A wheel is rebuilt only when its cache key changes: the SHA256 of its
// input .debs (taken from apt's lists, so a cached run reads no .deb),
// its line in the list, formatVersion and the Go version (compress/flate
// output). Wheels are byte-reproducible: sorted members, fixed timestamps
// and modes, RECORD with every file's sha256 and size.
//
// The repack handles what Debian's packaging does differently from a PyPI
// wheel (see /work/shared/notes/real-wheels.md): the version comes from
// METADATA (a ".devN" Debian packaged as the release loses its suffix), an
// egg-info becomes a .dist-info (requires.txt sections become Requires-Dist
// markers), symlinks out of the package are replaced by the files they
// point at (from the packages named with fill=), split packages merge,
// "name @ URL" requirements become plain names, the tag comes from the
// extension modules' names, /usr/bin goes (pip recreates console scripts
// from entry_points.txt), byte code goes.
//
// After writing, it checks that every distribution of the set installs from
// the set alone (Requires-Dist closure on CPython 3.13 / Linux x86_64).
//
// Usage:
//
//	debwheel -list realwheels.txt -out DIR -state DIR -debs POOL -apt-config APT_CONF [-j N]
//
// Exit status 3 means apt failed (lists missing or stale, mirror
// unreachable); testbed.sh then refreshes the lists and tries once more.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/distill-build/distill/pydeps"
)

func main() {
	var o options
	flag.StringVar(&o.list, "list", "", "distribution list (integration/testbed/realwheels.txt)")
	flag.StringVar(&o.out, "out", "", "wheel directory (served by pyindex; other files in it are left alone)")
	flag.StringVar(&o.state, "state", "", "directory for debwheel's cache state")
	flag.StringVar(&o.apt.pool, "debs", "", "pool of downloaded .debs (e.g. $DISTILL_WORK/debs/trixie)")
	flag.StringVar(&o.apt.config, "apt-config", os.Getenv("APT_CONFIG"), "private apt configuration (e.g. $DISTILL_WORK/apt/trixie/apt.conf)")
	flag.IntVar(&o.jobs, "j", runtime.NumCPU(), "wheels built at once")
	flag.Parse()
	if o.list == "" || o.out == "" || o.state == "" || o.apt.pool == "" || o.apt.config == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: debwheel -list FILE -out DIR -state DIR -debs DIR -apt-config FILE [-j N]")
		os.Exit(2)
	}
	if _, err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "debwheel:", err)
		if errors.As(err, new(errApt)) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

type options struct {
	list, out, state string
	apt              apt
	jobs             int
}

// state records the wheels debwheel wrote, so it knows which files in the
// shared directory are its own (to replace or remove) and when one is
// current.
type state struct {
	Wheels map[string]stateEntry `json:"wheels"` // by normalized distribution name
}

type stateEntry struct {
	Key    string `json:"key"`
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

func cacheKey(s spec, files map[string]debFile) string {
	h := sha256.New()
	fmt.Fprintf(h, "debwheel %d %s\n%s\n", formatVersion, runtime.Version(), s.canonical())
	for _, p := range s.debs() {
		fmt.Fprintf(h, "%s %s %s\n", p, files[p].File, files[p].SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// result counts what a run did.
type result struct{ Built, Cached int }

func run(o options) (result, error) {
	var res result
	t0 := time.Now()
	specs, err := readList(o.list)
	if err != nil {
		return res, err
	}
	for _, d := range []string{o.out, o.state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return res, err
		}
	}
	unlock, err := lockFile(filepath.Join(o.state, "lock"))
	if err != nil {
		return res, err
	}
	defer unlock()
	old, err := loadState(o.state)
	if err != nil {
		return res, err
	}

	seen := map[string]bool{}
	var pkgs []string
	for _, s := range specs {
		for _, p := range s.debs() {
			if !seen[p] {
				seen[p] = true
				pkgs = append(pkgs, p)
			}
		}
	}
	sort.Strings(pkgs)
	files, err := o.apt.resolve(pkgs)
	if err != nil {
		return res, err
	}

	// what is current, what needs building
	next := state{Wheels: map[string]stateEntry{}}
	var todo []spec
	for _, s := range specs {
		name, key := pydeps.NormalizeName(s.Name), cacheKey(s, files)
		if e, ok := old.Wheels[name]; ok && e.Key == key && sameFile(filepath.Join(o.out, e.File), e) {
			next.Wheels[name] = e
			continue
		}
		todo = append(todo, s)
	}

	if len(todo) > 0 {
		need := map[string]bool{}
		var fetch []debFile
		for _, s := range todo {
			for _, p := range s.debs() {
				if !need[p] {
					need[p] = true
					fetch = append(fetch, files[p])
				}
			}
		}
		paths, err := o.apt.fetch(fetch)
		if err != nil {
			return res, err
		}
		built, err := buildAll(todo, files, paths, o.jobs)
		if err != nil {
			return res, err
		}
		for _, b := range built {
			e, err := install(o.out, b, old)
			if err != nil {
				return res, err
			}
			e.Key = cacheKey(b.spec, files)
			next.Wheels[pydeps.NormalizeName(b.spec.Name)] = e
			fmt.Printf("debwheel: built %s (%s, %.1fs)%s\n", e.File, size(e.Size), b.took.Seconds(), notes(b.w.Notes))
		}
	}

	// Remove the wheels debwheel wrote before and no longer makes (an old
	// version, a distribution taken off the list); never anyone else's.
	for name, e := range old.Wheels {
		if cur, ok := next.Wheels[name]; ok && cur.File == e.File {
			continue
		}
		p := filepath.Join(o.out, e.File)
		if sameFile(p, e) {
			if err := os.Remove(p); err != nil {
				return res, err
			}
			fmt.Printf("debwheel: removed %s\n", e.File)
		}
	}
	if err := saveState(o.state, next); err != nil {
		return res, err
	}
	if err := checkClashes(o.out, next); err != nil {
		return res, err
	}

	set := map[string]dist{}
	var total int64
	for name, e := range next.Wheels {
		d, err := distOf(filepath.Join(o.out, e.File))
		if err != nil {
			return res, err
		}
		set[name] = d
		total += e.Size
	}
	if problems := checkClosure(set); len(problems) > 0 {
		return res, fmt.Errorf("the set does not install from itself:\n  %s", strings.Join(problems, "\n  "))
	}
	res = result{Built: len(todo), Cached: len(next.Wheels) - len(todo)}
	fmt.Printf("debwheel: %d wheels (%d built, %d cached), %s, in %.1fs; every Requires-Dist resolves within the set\n",
		len(next.Wheels), res.Built, res.Cached, size(total), time.Since(t0).Seconds())
	return res, nil
}

type built struct {
	spec spec
	w    *wheel
	zip  []byte
	took time.Duration
}

// buildAll reads the .debs and repacks the specs, jobs at a time (reading
// a .deb is dpkg-deb's decompression; zipping is deflate: both CPU-bound).
func buildAll(todo []spec, files map[string]debFile, paths map[string]string, jobs int) ([]built, error) {
	if jobs < 1 {
		jobs = 1
	}
	out := make([]built, len(todo))
	errs := make([]error, len(todo))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, s := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t0 := time.Now()
			debs := map[string]*deb{}
			for _, p := range s.debs() {
				d, err := readDeb(paths[p])
				if err != nil {
					errs[i] = err
					return
				}
				if d.SHA256 != files[p].SHA256 {
					errs[i] = fmt.Errorf("%s: sha256 %s, apt's lists say %s", paths[p], d.SHA256, files[p].SHA256)
					return
				}
				if d.Package != p {
					errs[i] = fmt.Errorf("%s: is package %s, not %s", paths[p], d.Package, p)
					return
				}
				debs[p] = d
			}
			w, err := repack(s, debs)
			if err != nil {
				errs[i] = fmt.Errorf("%s (line %d): %w", s.Name, s.Line, err)
				return
			}
			z, err := w.Zip()
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", s.Name, err)
				return
			}
			out[i] = built{spec: s, w: w, zip: z, took: time.Since(t0)}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// install writes a built wheel into dir atomically (pyindex serves only
// *.whl names, so the temporary name is invisible to it). A file of that
// name that debwheel did not write is someone else's: identical content is
// adopted, different content is an error.
func install(dir string, b built, old state) (stateEntry, error) {
	sum := sha256.Sum256(b.zip)
	e := stateEntry{File: b.w.FileName(), SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b.zip))}
	p := filepath.Join(dir, e.File)
	if cur, err := os.ReadFile(p); err == nil {
		if bytes.Equal(cur, b.zip) {
			return e, nil
		}
		if !ownedBefore(old, e.File) {
			return e, fmt.Errorf("%s exists and debwheel did not write it (a clash with another wheel set?)", p)
		}
	}
	tmp := filepath.Join(dir, "."+e.File+".tmp")
	if err := os.WriteFile(tmp, b.zip, 0o644); err != nil {
		return e, err
	}
	return e, os.Rename(tmp, p)
}

func ownedBefore(old state, file string) bool {
	for _, e := range old.Wheels {
		if e.File == file {
			return true
		}
	}
	return false
}

// checkClashes: no other wheel in the directory may be of a distribution
// debwheel makes (pip would see two sources of one project, e.g. a toy
// wheel and a real one).
func checkClashes(dir string, st state) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var clashes []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasSuffix(n, ".whl") || strings.HasPrefix(n, ".") {
			continue
		}
		project, _, _ := strings.Cut(n, "-")
		if mine, ok := st.Wheels[pydeps.NormalizeName(project)]; ok && mine.File != n {
			clashes = append(clashes, n)
		}
	}
	if len(clashes) > 0 {
		return fmt.Errorf("%s has wheels of distributions debwheel makes, not written by it: %s", dir, strings.Join(clashes, ", "))
	}
	return nil
}

// sameFile: the file is there with the recorded size and hash (a cheap
// guard against a wheel edited or truncated behind debwheel's back).
func sameFile(p string, e stateEntry) bool {
	st, err := os.Stat(p)
	if err != nil || st.Size() != e.Size {
		return false
	}
	sum, err := fileSHA256(p)
	return err == nil && sum == e.SHA256
}

func loadState(dir string) (state, error) {
	st := state{Wheels: map[string]stateEntry{}}
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s/state.json: %w (delete it to rebuild)", dir, err)
	}
	if st.Wheels == nil {
		st.Wheels = map[string]stateEntry{}
	}
	return st, nil
}

func saveState(dir string, st state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "state.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "state.json"))
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func notes(ns []string) string {
	if len(ns) == 0 {
		return ""
	}
	return "; " + strings.Join(ns, "; ")
}
