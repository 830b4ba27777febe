//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/imagetest"
	"github.com/moby/buildkit/client"
)

const epochArg = "SOURCE_DATE_EPOCH=1700000000"

// loadApp is one of the eight specs of TestConcurrentBuilds.
type loadApp struct {
	name    string
	example string
	edit    func(string) string
	reqs    string   // requirements.txt content, for python-deps
	dists   []string // the venv's exact distributions, for python-deps
}

func loadApps() []loadApp {
	rename := func(n string, more func(string) string) func(string) string {
		return func(s string) string {
			s = strings.Replace(s, "\nname: python-http\n", "\nname: "+n+"\n", 1)
			s = strings.Replace(s, "\nname: python-deps\n", "\nname: "+n+"\n", 1)
			if more != nil {
				s = more(s)
			}
			return s
		}
	}
	return []loadApp{
		{name: "load-plain", example: "python-http", edit: rename("load-plain", nil)},
		{name: "load-env", example: "python-http", edit: rename("load-env", func(s string) string {
			return strings.Replace(s, "    PORT: \"8080\"\n", "    PORT: \"8080\"\n    MODE: load\n", 1)
		})},
		{name: "load-entrypoint", example: "python-http", edit: rename("load-entrypoint", func(s string) string {
			return strings.Replace(s, "entrypoint: [python, app.py]", "entrypoint: [python, -u, app.py]", 1)
		})},
		{name: "load-labels", example: "python-http", edit: rename("load-labels", func(s string) string {
			return s + "    org.example.load: \"yes\"\n"
		})},
		{name: "load-command", example: "python-http", edit: rename("load-command", func(s string) string {
			return s + "build:\n  commands:\n    - [python, -c, \"open('generated.txt', 'w').write('load-command')\"]\n"
		})},
		{name: "load-workdir", example: "python-http", edit: rename("load-workdir", func(s string) string {
			return strings.Replace(s, "app:\n", "app:\n  workdir: /srv/app\n", 1)
		})},
		{name: "load-deps-a", example: "python-deps", edit: rename("load-deps-a", nil),
			reqs: "greeting==1.0\ntextutil==0.3\n", dists: []string{"greeting-1.0", "textutil-0.3"}},
		{name: "load-deps-b", example: "python-deps", edit: rename("load-deps-b", nil),
			reqs: "greeting==1.1\npinned-dep==0.1\n", dists: []string{"greeting-1.1", "pinned_dep-0.1"}},
	}
}

// TestConcurrentBuilds runs eight builds of different specs at once on the
// shared engine, without the cache so every step really runs concurrently,
// then each alone; every build succeeds and the digests agree. The two apps
// with dependencies get exactly their own packages.
func TestConcurrentBuilds(t *testing.T) {
	need(t)
	apps := loadApps()
	dirs := make([]app, len(apps))
	for i, la := range apps {
		dirs[i] = copyExample(t, la.example, la.edit)
		if la.reqs != "" {
			dirs[i].write(t, "requirements.txt", la.reqs)
		}
	}
	// the base pair is locked, so a tag moved on the registry meanwhile
	// cannot make "together" and "alone" differ
	lockBases(t, dirs...)
	type result struct {
		digest string
		dists  []string
		took   time.Duration
	}
	// buildOne runs on goroutines: it never calls t, it returns what went
	// wrong and the test goroutine reports it
	buildOne := func(i int, tar string, alone bool) (result, []string, error) {
		start := time.Now()
		var notes []string
		out, err := buildTo(dirs[i], viaCLI, tar, "--no-cache", "--build-arg", epochArg)
		if err != nil {
			return result{}, nil, fmt.Errorf("%s failed: %v\n%s", apps[i].name, err, tail(out, 40))
		}
		if c := cachedSteps(out); len(c) > 0 && alone {
			return result{}, nil, fmt.Errorf("%s: --no-cache build took steps from the cache: %q", apps[i].name, c)
		} else if len(c) > 0 {
			// BuildKit runs a step that concurrent builds have in
			// common (same inputs, same digest) once, for all of them
			notes = append(notes, fmt.Sprintf("%s: shared with a concurrent build: %q", apps[i].name, c))
		}
		img, err := imagetest.LoadOCITar(tar)
		if err != nil {
			return result{}, notes, fmt.Errorf("%s: %v", apps[i].name, err)
		}
		if got := img.Config.Config.Labels["org.opencontainers.image.title"]; got != apps[i].name {
			return result{}, notes, fmt.Errorf("%s: image title %q: outputs crossed", apps[i].name, got)
		}
		return result{digest: img.ManifestDigest, dists: dists(img), took: time.Since(start)}, notes, nil
	}
	tarOf := func(i int, kind string) string {
		return filepath.Join(t.TempDir(), fmt.Sprintf("%s-%s.tar", apps[i].name, kind))
	}

	together := make([]result, len(apps))
	notes := make([][]string, len(apps))
	errs := make([]error, len(apps))
	tars := make([]string, len(apps))
	for i := range apps {
		tars[i] = tarOf(i, "together")
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			together[i], notes[i], errs[i] = buildOne(i, tars[i], false)
		}()
	}
	wg.Wait()
	wallTogether := time.Since(start)
	for i := range apps {
		for _, n := range notes[i] {
			t.Log(n)
		}
		if errs[i] != nil {
			t.Error(errs[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	start = time.Now()
	for i, la := range apps {
		alone, _, err := buildOne(i, tarOf(i, "alone"), true)
		if err != nil {
			t.Error(err)
			continue
		}
		if alone.digest != together[i].digest {
			t.Errorf("%s: built with seven others %s, alone %s", la.name, together[i].digest, alone.digest)
		}
		t.Logf("%-16s %s together %v, alone %v", la.name, alone.digest, together[i].took.Round(time.Second), alone.took.Round(time.Second))
	}
	t.Logf("eight builds at once: %v wall; one after another: %v", wallTogether.Round(time.Second), time.Since(start).Round(time.Second))

	seen := map[string]string{}
	for i, la := range apps {
		if prev, dup := seen[together[i].digest]; dup {
			t.Errorf("%s and %s gave the same image %s", prev, la.name, together[i].digest)
		}
		seen[together[i].digest] = la.name
		if la.dists != nil && !slices.Equal(together[i].dists, la.dists) {
			t.Errorf("%s: venv has %q, want exactly %q (a dependency result was shared)", la.name, together[i].dists, la.dists)
		}
		if la.dists == nil && len(together[i].dists) != 0 {
			t.Errorf("%s: venv has %q, want none", la.name, together[i].dists)
		}
	}
}

// TestCancelBuild interrupts `distill build` while a slow build command
// runs: the CLI says so and exits non-zero within seconds, the engine kills
// the step, stays healthy, and the next build succeeds.
func TestCancelBuild(t *testing.T) {
	need(t)
	marker := "distill-cancel-" + nonce(t)
	a := copyExample(t, "python-http", func(s string) string {
		return s + "build:\n  commands:\n    - [python, -c, \"import time; time.sleep(30)  # " + marker + "\"]\n"
	})
	tar := filepath.Join(t.TempDir(), "image.tar")
	cmd := exec.Command(tb.distill, "build", "--progress", "plain", "-o", "type=oci,dest="+tar, a.dir)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var outMu sync.Mutex
	copied := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			outMu.Lock()
			out.WriteString(sc.Text() + "\n")
			outMu.Unlock()
		}
		close(copied)
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
	output := func() string { outMu.Lock(); defer outMu.Unlock(); return out.String() }

	// wait until the slow step's process really runs
	deadline := time.After(5 * time.Minute)
	for len(procsWith(marker)) == 0 {
		select {
		case err := <-exited:
			t.Fatalf("build ended before the slow step ran: %v\n%s", err, tail(output(), 40))
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("the slow step never started\n%s", tail(output(), 40))
		case <-time.After(200 * time.Millisecond):
		}
	}
	time.Sleep(time.Second)
	sent := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("distill build still running 20s after SIGINT\n%s", tail(output(), 30))
	}
	took := time.Since(sent)
	<-copied
	got := output()
	t.Logf("exited %v after SIGINT: %v", took.Round(10*time.Millisecond), err)
	if err == nil {
		t.Errorf("cancelled build exited 0")
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Errorf("cancelled build: %v, want a non-zero exit status", err)
	}
	if took > 5*time.Second {
		t.Errorf("took %v to exit after SIGINT, want a few seconds", took)
	}
	if !strings.Contains(got, "distill: build cancelled") {
		t.Errorf("output lacks %q:\n%s", "distill: build cancelled", tail(got, 15))
	}
	if strings.Contains(got, "panic") {
		t.Errorf("panic in output:\n%s", tail(got, 40))
	}
	// the engine stops the step: its process is gone well before it would
	// have finished by itself
	for until := time.Now().Add(15 * time.Second); len(procsWith(marker)) > 0 && time.Now().Before(until); {
		time.Sleep(200 * time.Millisecond)
	}
	if pids := procsWith(marker); len(pids) > 0 {
		t.Errorf("the cancelled step still runs 15s after SIGINT: pids %v", pids)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.New(ctx, tb.buildkit)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Info(ctx); err != nil {
		t.Fatalf("engine unhealthy after a cancelled build: %v", err)
	}
	next := copyExample(t, "python-http", nil)
	start := time.Now()
	tarNext, _ := build(t, next, viaCLI)
	checkImage(t, load(t, tarNext))
	t.Logf("next build succeeded in %v", time.Since(start).Round(time.Second))
}

// procsWith lists the pids whose command line contains s.
func procsWith(s string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		dt, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(dt, []byte(s)) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestEngineRestart: build, stop the engine, start it again on the same
// state, build again (from its cache, then without it): the same digest
// every time, with SOURCE_DATE_EPOCH set.
func TestEngineRestart(t *testing.T) {
	need(t)
	dir, err := os.MkdirTemp("", "distill-restart-")
	if err != nil {
		t.Fatal(err)
	}
	// registered first, so it runs after the engines have stopped (the
	// state holds overlay mounts until buildkitd is gone)
	t.Cleanup(func() { os.RemoveAll(dir) })
	a := copyExample(t, "python-http", nil)
	lockBases(t, a)

	e := startEngine(t, dir)
	start := time.Now()
	tar, _ := build(t, a, viaCLI, "--addr", e.Addr, "--build-arg", epochArg)
	firstImg := load(t, tar)
	first := firstImg.ManifestDigest
	t.Logf("first build on a fresh engine: %v", time.Since(start).Round(time.Second))
	e.Stop()

	e = startEngine(t, dir)
	start = time.Now()
	tar, out := build(t, a, viaCLI, "--addr", e.Addr, "--build-arg", epochArg)
	second := load(t, tar).ManifestDigest
	t.Logf("after restart: %v, %d steps cached", time.Since(start).Round(time.Second), strings.Count(out, " CACHED"))
	start = time.Now()
	tar, out = build(t, a, viaCLI, "--addr", e.Addr, "--build-arg", epochArg, "--no-cache")
	if c := cachedSteps(out); len(c) > 0 {
		t.Errorf("--no-cache build took steps from the cache: %q", c)
	}
	thirdImg := load(t, tar)
	third := thirdImg.ManifestDigest
	t.Logf("after restart, --no-cache: %v", time.Since(start).Round(time.Second))
	if first != second || first != third {
		t.Errorf("digests differ across the restart: %s, %s, %s (no cache)", first, second, third)
		describeDiff(t, firstImg, thirdImg)
	}
}

// TestFailedInstallPushesNothing: a requirement the index does not have
// fails the build with pip's own message, and an image output with
// push=true pushes nothing. A good build to the same repository pushes, so
// the check is not vacuous.
func TestFailedInstallPushesNothing(t *testing.T) {
	need(t)
	ctx := context.Background()
	n := nonce(t)
	repo := tb.registry + "/distill-test/failpush"

	good := copyExample(t, "python-deps", nil)
	goodTag := repo + ":good-" + n
	if out, err := run(t, ctx, nil, tb.distill, "build", "--progress", "plain", "-o", "type=image,name="+goodTag+",push=true", good.dir); err != nil {
		t.Fatalf("control build and push failed: %v\n%s", err, tail(out, 30))
	}
	if out, err := run(t, ctx, nil, "crane", "--insecure", "digest", goodTag); err != nil {
		t.Fatalf("control push did not reach the registry: %v %s", err, out)
	}

	bad := copyExample(t, "python-deps", nil)
	bad.write(t, "requirements.txt", "greeting==1.1\ndistill-no-such-package==9.9\n")
	badTag := repo + ":bad-" + n
	out, err := run(t, ctx, nil, tb.distill, "build", "--progress", "plain", "-o", "type=image,name="+badTag+",push=true", bad.dir)
	if err == nil {
		t.Fatalf("build with a missing requirement succeeded:\n%s", tail(out, 30))
	}
	for _, want := range []string{
		"No matching distribution found for distill-no-such-package==9.9",
		"pip install -r requirements.txt",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, tail(out, 30))
		}
	}
	if d, err := run(t, ctx, nil, "crane", "--insecure", "digest", badTag); err == nil {
		t.Errorf("the failed build pushed %s: %s", badTag, d)
	} else if !strings.Contains(d, "MANIFEST_UNKNOWN") && !strings.Contains(d, "NAME_UNKNOWN") && !strings.Contains(d, "404") {
		t.Errorf("crane digest %s failed for another reason than a missing tag: %s", badTag, d)
	}
}

// describeDiff logs where two images that should be identical differ.
func describeDiff(t *testing.T, a, b *imagetest.Image) {
	t.Helper()
	ca, _ := json.MarshalIndent(a.Config, "", " ")
	cb, _ := json.MarshalIndent(b.Config, "", " ")
	if !bytes.Equal(ca, cb) {
		t.Logf("configs differ:\n%s\n---\n%s", ca, cb)
	}
	for i := range min(len(a.Layers), len(b.Layers)) {
		la, lb := a.Layers[i], b.Layers[i]
		if la.Digest == lb.Digest {
			continue
		}
		t.Logf("layer %d differs: %s (diff %s) vs %s (diff %s)", i, la.Digest, la.DiffID, lb.Digest, lb.DiffID)
		fa, fb := map[string]imagetest.Entry{}, map[string]imagetest.Entry{}
		for _, e := range la.Entries {
			fa[e.Path] = e
		}
		for _, e := range lb.Entries {
			fb[e.Path] = e
		}
		shown := 0
		for p, ea := range fa {
			eb, ok := fb[p]
			if shown < 20 && (!ok || ea.Size != eb.Size || ea.Mode != eb.Mode || !ea.ModTime.Equal(eb.ModTime) || ea.Linkname != eb.Linkname || ea.UID != eb.UID) {
				t.Logf("  %s: %+v vs %+v (present %v)", p, ea, eb, ok)
				shown++
			}
		}
		for p := range fb {
			if _, ok := fa[p]; !ok && shown < 20 {
				t.Logf("  only in second: %s", p)
				shown++
			}
		}
	}
}

// lockBases pins the base pair of every app (all on the default pair) to
// the digests the registry serves now, with distill lock.
func lockBases(t *testing.T, apps ...app) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := run(t, ctx, nil, tb.distill, "lock", apps[0].dir); err != nil {
		t.Fatalf("distill lock: %v\n%s", err, out)
	}
	lf, err := os.ReadFile(filepath.Join(apps[0].dir, "distill.lock"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps[1:] {
		if err := os.WriteFile(filepath.Join(a.dir, "distill.lock"), lf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	vertexLine = regexp.MustCompile(`^#(\d+) (\[.*)$`)
	cachedLine = regexp.MustCompile(`^#(\d+) CACHED$`)
)

// cachedSteps lists the distill build steps ("[builder N] ...", "[runtime
// N] ...") that plain progress output reports as CACHED.
func cachedSteps(out string) []string {
	names := map[string]string{}
	var cached []string
	for _, line := range strings.Split(out, "\n") {
		if m := vertexLine.FindStringSubmatch(line); m != nil {
			names[m[1]] = m[2]
		}
		if m := cachedLine.FindStringSubmatch(line); m != nil {
			n := names[m[1]]
			if strings.HasPrefix(n, "[builder ") || strings.HasPrefix(n, "[runtime ") {
				cached = append(cached, n)
			}
		}
	}
	return cached
}
