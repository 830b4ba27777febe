package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// frontendResult is the overhead of distill itself.
type frontendResult struct {
	Error string `json:",omitempty"`
	// LLB is `go test -bench BenchmarkSpecToLLB -benchmem ./lang/python`.
	LLB []llbBench
	// Image is the frontend image in the test bed's registry.
	ImageRef          string
	ImageDigest       string
	ImageCompressed   int64
	ImageUncompressed int64
	BinaryBytes       int64
	// FirstBuildVertex*: seconds from the client's start to the first
	// vertex of the app's build graph ("[build…" — the builder's FROM),
	// i.e. what a frontend costs before the solve starts, on no-op builds
	// of python-deps: `# syntax=` + the distill frontend image against
	// dockerfile.v0 on the expert Dockerfile. Total* are the whole builds.
	FirstBuildVertexSyntax     []float64
	FirstBuildVertexDockerfile []float64
	TotalSyntax                []float64
	TotalDockerfile            []float64
	// FirstSyntaxBuild is the first `# syntax=` build on the engine (it
	// pulls the frontend image).
	FirstSyntaxBuild float64
	// FrontendPeakRSSKB is the highest VmHWM of the `/usr/bin/distill
	// frontend` process seen during `# syntax=` builds (one of them after
	// a source change, so the frontend does a real build).
	FrontendPeakRSSKB int64
	FrontendSamples   int
}

type llbBench struct {
	Name        string
	NsPerOp     float64
	BytesPerOp  float64
	AllocsPerOp float64
}

func (cfg *config) measureFrontend(a app, addr, expertDir, syntaxDir, logs string) (*frontendResult, error) {
	fr := &frontendResult{ImageRef: cfg.frontend}
	var errs []string
	if b, err := runLLBBench(cfg.repo); err != nil {
		errs = append(errs, err.Error())
	} else {
		fr.LLB = b
	}
	if err := fr.imageSize(cfg.frontend); err != nil {
		errs = append(errs, err.Error())
		fr.Error = strings.Join(errs, "; ")
		return fr, nil // no image: the # syntax= path cannot be measured
	}

	if err := copyTree(filepath.Join(cfg.repo, a.Src), syntaxDir); err != nil {
		return nil, err
	}
	if err := writeSpec(filepath.Join(syntaxDir, "distill.yaml"), cfg.frontend, cfg.indexURL, ""); err != nil {
		return nil, err
	}
	syntaxCmd := func(out string) *exec.Cmd {
		return exec.Command("buildctl", "--addr", addr, "build", "--progress", "rawjson", "--frontend", "dockerfile.v0",
			"--local", "context="+syntaxDir, "--local", "dockerfile="+syntaxDir, "--opt", "filename=distill.yaml",
			"--output", "type=oci,dest="+out)
	}
	dockerfileCmd := func(out string) *exec.Cmd {
		return cfg.command(expert, expertDir, addr, out) // --progress rawjson
	}
	out := filepath.Join(filepath.Dir(syntaxDir), "syntax.tar")
	defer os.Remove(out)

	// two sampled builds: the first pulls the frontend image, the second
	// follows a source change
	for i, name := range []string{"syntax-first", "syntax-edit"} {
		if i == 1 {
			if err := editSource(syntaxDir, a, 99); err != nil {
				return nil, err
			}
		}
		stop := sampleFrontendRSS(fr)
		t, _, err := timedRawJSON(syntaxCmd(out), filepath.Join(logs, name+".log"))
		stop()
		if err != nil {
			return nil, err
		}
		if i == 0 {
			fr.FirstSyntaxBuild = t
		}
		logf("frontend  %-12s %6.2fs (frontend VmHWM so far %d kB)", name, t, fr.FrontendPeakRSSKB)
	}
	for i := range cfg.runs {
		order := []string{"syntax", "dockerfile"}
		if i%2 == 1 {
			order = []string{"dockerfile", "syntax"}
		}
		for _, which := range order {
			cmd := syntaxCmd(out)
			if which == "dockerfile" {
				cmd = dockerfileCmd(out)
			}
			stop := func() {}
			if which == "syntax" {
				stop = sampleFrontendRSS(fr)
			}
			t, first, err := timedRawJSON(cmd, filepath.Join(logs, fmt.Sprintf("first-vertex-%d-%s.log", i, which)))
			stop()
			if err != nil {
				return nil, err
			}
			if first < 0 {
				return nil, fmt.Errorf("%s build: no [build… vertex in the rawjson progress", which)
			}
			if which == "syntax" {
				fr.FirstBuildVertexSyntax = append(fr.FirstBuildVertexSyntax, first)
				fr.TotalSyntax = append(fr.TotalSyntax, t)
			} else {
				fr.FirstBuildVertexDockerfile = append(fr.FirstBuildVertexDockerfile, first)
				fr.TotalDockerfile = append(fr.TotalDockerfile, t)
			}
			logf("frontend  %-10s first build vertex %5.3fs, total %5.2fs", which, first, t)
		}
	}
	fr.Error = strings.Join(errs, "; ")
	return fr, nil
}

// timedRawJSON runs a buildctl build with --progress rawjson and returns
// its wall time and the seconds from its start to the first vertex whose
// name starts with "[build" (-1 when there is none).
func timedRawJSON(cmd *exec.Cmd, logPath string) (total, first float64, err error) {
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	err = cmd.Run()
	total = time.Since(start).Seconds()
	os.WriteFile(logPath, stderr.Bytes(), 0o644)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, tail(stderr.String(), 20))
	}
	first = -1
	sc := bufio.NewScanner(&stderr)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var st struct {
			Vertexes []struct {
				Name    string     `json:"name"`
				Started *time.Time `json:"started"`
			} `json:"vertexes"`
		}
		if json.Unmarshal(sc.Bytes(), &st) != nil {
			continue
		}
		for _, v := range st.Vertexes {
			if v.Started == nil || !strings.HasPrefix(v.Name, "[build") {
				continue
			}
			if d := v.Started.Sub(start).Seconds(); first < 0 || d < first {
				first = d
			}
		}
	}
	return total, first, nil
}

// sampleFrontendRSS watches /proc for the frontend process (its cmdline is
// `/usr/bin/distill frontend`; it runs in a container on this host) and
// keeps the highest VmHWM seen, until the returned function is called.
func sampleFrontendRSS(fr *frontendResult) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, kb := range frontendHWM() {
				mu.Lock()
				fr.FrontendSamples++
				if kb > fr.FrontendPeakRSSKB {
					fr.FrontendPeakRSSKB = kb
				}
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func frontendHWM() []int64 {
	ents, _ := os.ReadDir("/proc")
	var out []int64
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cl, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.HasPrefix(cl, []byte("/usr/bin/distill\x00frontend")) {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(st), "\n") {
			if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				f := strings.Fields(rest)
				if len(f) > 0 {
					if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
						out = append(out, kb)
					}
				}
			}
		}
	}
	return out
}

// imageSize reads the frontend image's manifest (compressed size: config
// plus layers) and its flattened filesystem (uncompressed size, and the
// size of the distill binary in it).
func (fr *frontendResult) imageSize(ref string) error {
	b, err := exec.Command("crane", "--insecure", "manifest", ref).Output()
	if err != nil {
		return fmt.Errorf("frontend image %s not in the registry (make image): %v", ref, err)
	}
	var m struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			Size int64 `json:"size"`
		} `json:"config"`
		Layers []struct {
			Size int64 `json:"size"`
		} `json:"layers"`
		Manifests []struct {
			Digest   string `json:"digest"`
			Platform *struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	name := ref
	if len(m.Manifests) > 0 {
		for _, d := range m.Manifests {
			if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == "amd64" {
				repo := ref
				if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
					repo = ref[:i]
				}
				name = repo + "@" + d.Digest
				break
			}
		}
		if b, err = exec.Command("crane", "--insecure", "manifest", name).Output(); err != nil {
			return err
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
	}
	fr.ImageCompressed = m.Config.Size
	for _, l := range m.Layers {
		fr.ImageCompressed += l.Size
	}
	if d, err := exec.Command("crane", "--insecure", "digest", ref).Output(); err == nil {
		fr.ImageDigest = strings.TrimSpace(string(d))
	}
	cmd := exec.Command("crane", "--insecure", "export", name, "-")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	cw := &countingReader{r: pipe}
	tr := tar.NewReader(cw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			cmd.Wait()
			return err
		}
		if strings.TrimPrefix(h.Name, "/") == "usr/bin/distill" {
			fr.BinaryBytes = h.Size
		}
	}
	io.Copy(io.Discard, cw)
	if err := cmd.Wait(); err != nil {
		return err
	}
	fr.ImageUncompressed = cw.n
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var benchLine = regexp.MustCompile(`^BenchmarkSpecToLLB/(\S+?)-\d+\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) B/op\s+([\d.]+) allocs/op`)

// runLLBBench runs the spec → LLB Go benchmark three times and keeps the
// median of each sub-benchmark.
func runLLBBench(repo string) ([]llbBench, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "BenchmarkSpecToLLB", "-benchmem", "-count", "3", "./lang/python")
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench ./lang/python: %v\n%s", err, tail(string(out), 20))
	}
	byName := map[string][][3]float64{}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		m := benchLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var v [3]float64
		for i := range 3 {
			v[i], _ = strconv.ParseFloat(m[i+2], 64)
		}
		if _, ok := byName[m[1]]; !ok {
			names = append(names, m[1])
		}
		byName[m[1]] = append(byName[m[1]], v)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("go test -bench ./lang/python printed no results:\n%s", tail(string(out), 20))
	}
	var res []llbBench
	for _, n := range names {
		col := func(i int) float64 {
			var xs []float64
			for _, v := range byName[n] {
				xs = append(xs, v[i])
			}
			sort.Float64s(xs)
			return median(xs)
		}
		res = append(res, llbBench{Name: n, NsPerOp: col(0), BytesPerOp: col(1), AllocsPerOp: col(2)})
	}
	return res, nil
}
