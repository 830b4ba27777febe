// Command bench measures distill against an expert hand-written Dockerfile
// and a naive one (bench/expert, bench/naive), for examples/python-deps, the
// larger bench/apps/large and examples/fastapi-uv (uv.lock; against its own
// expert Dockerfile, bench/expert/fastapi-uv.Dockerfile), on private
// BuildKit engines configured like the test bed's, and writes
// docs/benchmarks.md with docs/benchmarks.svg. It also measures the cost of
// distill's start-up verification: the same spec with policy.verify: off,
// built in the same runs, and whether the verification step came back
// CACHED in each rebuild (read from the --progress rawjson stream).
//
// Run it through `make bench` (the test bed's environment is needed:
// DISTILL_WORK, DISTILL_INDEX_URL, DISTILL_REGISTRY, buildkitd, buildctl and
// crane on PATH). Scenarios: cold build on an empty engine, no-op rebuild,
// one source file changed, one dependency added, runtime base moved to a new
// digest. Systems are measured alternately within each run, so ratios compare
// builds made under the same machine load. -apps, -scenarios and -systems
// select a part of the measurements; by default everything runs.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/distill-build/distill/pydeps"
)

type config struct {
	repo       string
	work       string
	tmp        string
	indexURL   string
	registry   string
	distillBin string
	// mirror is the registry prefix the private engines use as their
	// docker.io and gcr.io mirror (engineConf); builderTag, runtimeTag
	// and naiveTag are the bench-only copies of the stand-ins under it that
	// python:3.13-slim-trixie, gcr.io/distroless/python3-debian13:nonroot
	// and python:3.13-slim resolve to. The base-image scenario moves the
	// runtime and the naive base.
	mirror     string
	engineConf string
	builderTag string
	runtimeTag string
	naiveTag   string
	frontend   string
	runs       int
	coldRuns   int
	keep       bool
	// scenarios and systems, when not nil, restrict what is measured.
	scenarios map[string]bool
	systems   map[system]bool
}

// wantScenario reports whether sc is measured.
func (cfg *config) wantScenario(sc string) bool { return cfg.scenarios == nil || cfg.scenarios[sc] }

// systemsOf gives the systems app a is built with in this invocation.
func (cfg *config) systemsOf(a app) []system {
	var out []system
	for _, sys := range a.systemsOf() {
		if cfg.systems == nil || cfg.systems[sys] {
			out = append(out, sys)
		}
	}
	return out
}

// scenarios in report order.
var scenarios = []string{"cold", "noop", "onefile", "adddep", "base"}

var scenarioTitle = map[string]string{
	"cold":    "cold build (empty engine)",
	"noop":    "no-op rebuild",
	"onefile": "one source file changed",
	"adddep":  "one dependency added",
	"base":    "runtime base has a new digest",
}

// results is everything a run measured; it is saved as JSON beside the
// engine logs so the page can be regenerated with -report.
type results struct {
	Started, Finished time.Time
	Machine           machine
	Runs, ColdRuns    int
	Apps              []appResult
	Frontend          frontendResult
}

type appResult struct {
	Name         string
	Requirements int
	// Lock is the lock file distill installs from ("" for
	// requirements.txt); Requirements then counts the packages it locks
	// for the target.
	Lock        string `json:",omitempty"`
	SourceFiles int
	// Systems are the systems the app was built with (older results: nil,
	// meaning distill, expert and naive).
	Systems []system `json:",omitempty"`
	// Times[scenario][system] holds one wall time per run, in run order,
	// so index i of two systems are builds of the same run.
	Times  map[string]map[system][]float64
	Images map[system]imageFigures
	// DistillRSSKB is the peak RSS of each `distill build` process.
	DistillRSSKB []int64
	// Verify[scenario][system] is, per build of a distill system, what
	// became of the start-up verification step, in run order.
	Verify map[string]map[system][]verifyStep `json:",omitempty"`
	// LoadBefore and LoadAfter are /proc/loadavg's three averages when
	// the app's measurements started and ended.
	LoadBefore, LoadAfter string `json:",omitempty"`
}

func main() {
	var (
		report  = flag.String("report", "", "only regenerate the page from this results JSON")
		out     = flag.String("out", "docs/benchmarks.md", "page to write")
		svg     = flag.String("svg", "docs/benchmarks.svg", "chart to write (linked from the page by its base name)")
		runs    = flag.Int("runs", 5, "runs of each warm scenario (at most 5: the add-a-dependency pool)")
		cold    = flag.Int("cold", 3, "cold builds per app and system")
		only    = flag.String("apps", "", "comma-separated app names (default all: python-http,python-deps,large,fastapi-uv)")
		onlySc  = flag.String("scenarios", "", "comma-separated scenarios (default all: "+strings.Join(scenarios, ",")+")")
		onlySys = flag.String("systems", "", "comma-separated systems (default all: distill,expert,naive,distill-verify-off)")
		keep    = flag.Bool("keep", false, "keep the temporary directory")
		noFront = flag.Bool("skip-frontend", false, "skip the frontend overhead measurements")
	)
	flag.Parse()
	if *report != "" {
		b, err := os.ReadFile(*report)
		check(err)
		var r results
		check(json.Unmarshal(b, &r))
		check(writeReport(&r, *out, *svg))
		return
	}
	if *runs < 1 || *runs > 5 || *cold < 1 {
		fatalf("-runs must be 1..5 and -cold at least 1")
	}
	var scSet map[string]bool
	var sysSet map[system]bool
	if *onlySc != "" {
		scSet = map[string]bool{}
		for _, sc := range strings.Split(*onlySc, ",") {
			if !contains(scenarios, sc) {
				fatalf("-scenarios: unknown %q (known: %s)", sc, strings.Join(scenarios, ","))
			}
			scSet[sc] = true
		}
	}
	if *onlySys != "" {
		sysSet = map[system]bool{}
		for _, s := range strings.Split(*onlySys, ",") {
			if !contains(allSystems, system(s)) {
				fatalf("-systems: unknown %q (known: distill,expert,naive,distill-verify-off)", s)
			}
			sysSet[system(s)] = true
		}
	}
	if *only != "" {
		for _, name := range strings.Split(*only, ",") {
			known := false
			for _, a := range apps {
				known = known || a.Name == name
			}
			if !known {
				fatalf("-apps: unknown %q", name)
			}
		}
	}
	stopAllOnSignal()
	cfg, err := setup(*runs, *cold, *keep)
	check(err)
	cfg.scenarios, cfg.systems = scSet, sysSet
	if !cfg.keep {
		defer os.RemoveAll(cfg.tmp)
	}
	r := &results{Started: time.Now().UTC(), Runs: *runs, ColdRuns: *cold, Machine: describeMachine()}
	for _, a := range apps {
		if *only != "" && !contains(strings.Split(*only, ","), a.Name) {
			continue
		}
		load := loadAvg()
		ar, err := cfg.benchApp(a, r, !*noFront && a.Name == "python-deps")
		check(err)
		ar.LoadBefore, ar.LoadAfter = load, loadAvg()
		r.Apps = append(r.Apps, *ar)
		saveResults(cfg, r)
	}
	r.Machine.LoadAfter = loadAvg()
	r.Finished = time.Now().UTC()
	saveResults(cfg, r)
	check(writeReport(r, *out, *svg))
	logf("wrote %s and %s", *out, *svg)
}

func saveResults(cfg *config, r *results) {
	b, err := json.MarshalIndent(r, "", " ")
	check(err)
	p := filepath.Join(cfg.work, "logs", "bench-results.json")
	check(os.WriteFile(p, b, 0o644))
	logf("results so far: %s", p)
}

func setup(runs, cold int, keep bool) (*config, error) {
	repo, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(repo, "bench", "expert", "Dockerfile")); err != nil {
		return nil, fmt.Errorf("run from the repository root (make bench): %w", err)
	}
	cfg := &config{repo: repo, runs: runs, coldRuns: cold, keep: keep,
		work: os.Getenv("DISTILL_WORK"), indexURL: os.Getenv("DISTILL_INDEX_URL"), registry: os.Getenv("DISTILL_REGISTRY")}
	if cfg.work == "" || cfg.indexURL == "" || cfg.registry == "" {
		return nil, fmt.Errorf("DISTILL_WORK, DISTILL_INDEX_URL and DISTILL_REGISTRY must be set: run through `make bench` (testbed.sh with)")
	}
	for _, tool := range []string{"buildkitd", "buildctl", "crane"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not on PATH: run through `make bench`", tool)
		}
	}
	cfg.tmp, err = os.MkdirTemp(filepath.Join(cfg.work, "tmp"), "bench-")
	if err != nil {
		if err := os.MkdirAll(filepath.Join(cfg.work, "tmp"), 0o755); err != nil {
			return nil, err
		}
		if cfg.tmp, err = os.MkdirTemp(filepath.Join(cfg.work, "tmp"), "bench-"); err != nil {
			return nil, err
		}
	}
	logf("working in %s", cfg.tmp)

	// Bench-only copies of the stand-ins, reset to them at every start (the
	// shared tags may be re-pushed by the test bed while the benchmark
	// runs, and the base-image scenario moves the runtime), under a prefix
	// that the private engines use as their docker.io and gcr.io mirror. So
	// every system builds from the names it would use anywhere: distill
	// from its default pair (no base.builder/base.runtime override, which
	// would make the frontend read both images before the solve), the
	// Dockerfiles from their ARG defaults.
	reg := cfg.registry
	cfg.mirror = reg + "/bench-mirror"
	cfg.builderTag = cfg.mirror + "/library/python:3.13-slim-trixie"
	cfg.runtimeTag = cfg.mirror + "/distroless/python3-debian13:nonroot"
	// the real python:3.13-slim is the same image as 3.13-slim-trixie
	cfg.naiveTag = cfg.mirror + "/library/python:3.13-slim"
	for src, dst := range map[string]string{
		reg + "/library/python:3.13-slim-trixie":     cfg.builderTag,
		reg + "/distroless/python3-debian13:nonroot": cfg.runtimeTag,
		reg + "/library/python:3.13-slim-trixie#":    cfg.naiveTag,
	} {
		if err := run("crane", "--insecure", "copy", strings.TrimSuffix(src, "#"), dst); err != nil {
			return nil, err
		}
	}
	cfg.engineConf = filepath.Join(cfg.tmp, "buildkitd.toml")
	if err := writeEngineConf(filepath.Join(cfg.work, "conf", "buildkitd.toml"), cfg.engineConf, cfg.mirror); err != nil {
		return nil, err
	}
	cfg.frontend = reg + "/distill-build/distill:dev"

	cfg.distillBin = filepath.Join(cfg.tmp, "distill")
	logf("building distill from ./cmd/distill")
	b := exec.Command("go", "build", "-trimpath", "-o", cfg.distillBin, "./cmd/distill")
	b.Env = append(os.Environ(), "CGO_ENABLED=0")
	b.Stdout, b.Stderr = os.Stderr, os.Stderr
	if err := b.Run(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/distill: %w", err)
	}
	return cfg, nil
}

func (cfg *config) benchApp(a app, r *results, frontendToo bool) (*appResult, error) {
	syss := cfg.systemsOf(a)
	ar := &appResult{Name: a.Name, Lock: a.Lock, Systems: syss, Times: map[string]map[system][]float64{},
		Images: map[system]imageFigures{}, Verify: map[string]map[system][]verifyStep{}}
	for _, sc := range scenarios {
		ar.Times[sc] = map[system][]float64{}
		ar.Verify[sc] = map[system][]verifyStep{}
	}
	root := filepath.Join(cfg.tmp, a.Name)
	logs := filepath.Join(root, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}
	dirs := map[system]string{}
	for _, sys := range syss {
		dirs[sys] = filepath.Join(root, string(sys))
		if err := prepare(cfg, a, sys, dirs[sys]); err != nil {
			return nil, err
		}
	}
	if len(syss) == 0 {
		return ar, nil
	}
	ar.Requirements, ar.SourceFiles = countApp(dirs[syss[0]], a)
	record := func(sc string, sys system, br buildResult) {
		ar.Times[sc][sys] = append(ar.Times[sc][sys], br.Seconds)
		if sys == distill {
			ar.DistillRSSKB = append(ar.DistillRSSKB, br.MaxRSSKB)
		}
		if sys == distill || sys == distillVerifyOff {
			ar.Verify[sc][sys] = append(ar.Verify[sc][sys], br.Verify)
		}
		note := ""
		if sys == distill || sys == distillVerifyOff {
			note = " verification " + br.Verify.State
		}
		logf("%-11s %-8s %-18s %6.2fs%s", a.Name, sc, sys, br.Seconds, note)
	}
	n := 0
	tarPath := func(sys system) string {
		n++
		return filepath.Join(root, fmt.Sprintf("%s-%03d.tar", sys, n))
	}
	logPath := func(sc string, sys system) string {
		return filepath.Join(logs, fmt.Sprintf("%03d-%s-%s.log", n, sc, sys))
	}

	coldRuns := cfg.coldRuns
	if a.FiguresOnly {
		coldRuns = 1
	}
	// cold: a new engine with an empty state for every build
	for i := range coldRuns {
		if !cfg.wantScenario("cold") && !a.FiguresOnly {
			break
		}
		for _, sys := range rotate(syss, i) {
			e, err := startEngine(cfg.engineConf, cfg.tmp)
			if err != nil {
				return nil, err
			}
			out := tarPath(sys)
			br, err := cfg.build(sys, dirs[sys], e.addr, out, logPath("cold", sys))
			e.stop()
			if err != nil {
				return nil, err
			}
			record("cold", sys, br)
			if i == 0 && sys != distillVerifyOff {
				fig, err := figures(out)
				if err != nil {
					return nil, err
				}
				ar.Images[sys] = fig
			}
			os.Remove(out)
		}
	}

	if a.FiguresOnly {
		return ar, nil
	}
	warmScenarios := false
	for _, sc := range scenarios[1:] {
		warmScenarios = warmScenarios || cfg.wantScenario(sc)
	}
	if !warmScenarios && !frontendToo {
		return ar, nil
	}
	// warm: one engine for the app's systems, and one of its own for
	// distill-verify-off (its steps are distill's: on a shared engine one
	// would find the other's work cached); every system is built once first
	engines := map[system]*engine{}
	var shared *engine
	for _, sys := range syss {
		if sys == distillVerifyOff || shared == nil {
			e, err := startEngine(cfg.engineConf, cfg.tmp)
			if err != nil {
				return nil, err
			}
			defer e.stop()
			engines[sys] = e
			if sys != distillVerifyOff {
				shared = e
			}
			continue
		}
		engines[sys] = shared
	}
	warm := func(sc string, sys system) error {
		out := tarPath(sys)
		br, err := cfg.build(sys, dirs[sys], engines[sys].addr, out, logPath(sc, sys))
		if err != nil {
			return err
		}
		os.Remove(out)
		if sc != "" {
			record(sc, sys, br)
		}
		return nil
	}
	for _, sys := range syss {
		if err := warm("", sys); err != nil {
			return nil, err
		}
	}
	for i := range cfg.runs {
		if !warmScenarios {
			break
		}
		if cfg.wantScenario("noop") {
			for _, sys := range rotate(syss, i) {
				if err := warm("noop", sys); err != nil {
					return nil, err
				}
			}
		}
		if cfg.wantScenario("onefile") && a.EditFile != "" {
			for _, sys := range rotate(syss, i) {
				if err := editSource(dirs[sys], a, i+1); err != nil {
					return nil, err
				}
				if err := warm("onefile", sys); err != nil {
					return nil, err
				}
			}
		}
		if cfg.wantScenario("adddep") && i < len(a.AddDeps) {
			for _, sys := range rotate(syss, i) {
				if err := addDependency(dirs[sys], a.AddDeps[i]); err != nil {
					return nil, err
				}
				if err := warm("adddep", sys); err != nil {
					return nil, err
				}
			}
		}
		if cfg.wantScenario("base") {
			// a new digest for the runtime (distill, expert) and the naive
			// base: a label changes the config, the layers stay the same
			label := fmt.Sprintf("org.distill.bench.bump=%s-%d-%d", a.Name, i, time.Now().UnixNano())
			for _, ref := range []string{cfg.runtimeTag, cfg.naiveTag} {
				if err := run("crane", "--insecure", "mutate", ref, "--label", label, "-t", ref); err != nil {
					return nil, err
				}
			}
			for _, sys := range rotate(syss, i) {
				if err := warm("base", sys); err != nil {
					return nil, err
				}
			}
		}
	}
	if frontendToo && shared != nil && dirs[expert] != "" {
		fr, err := cfg.measureFrontend(a, shared.addr, dirs[expert], filepath.Join(root, "syntax"), logs)
		if err != nil {
			logf("warning: frontend measurements failed: %v", err)
			r.Frontend.Error = err.Error()
		} else {
			r.Frontend = *fr
		}
	}
	return ar, nil
}

// countApp counts the app's requirement lines (for a lock: the packages it
// locks for the target) and its Python source files (not tests).
func countApp(dir string, a app) (reqs, files int) {
	if a.Lock != "" {
		if b, err := os.ReadFile(filepath.Join(dir, a.Lock)); err == nil {
			if kind, ok := pydeps.KindOf(a.Lock); ok {
				in := pydeps.Inputs{Source: pydeps.Source{Kind: kind, Path: a.Lock}, Data: b}
				if py, err := os.ReadFile(filepath.Join(dir, "pyproject.toml")); err == nil {
					in.Source.Pyproject, in.Pyproject = "pyproject.toml", py
				}
				if plan, err := pydeps.Resolve(in, exportTarget, pydeps.Options{}); err == nil {
					reqs = len(plan.Packages)
				}
			}
		}
	} else if b, err := os.ReadFile(filepath.Join(dir, "requirements.txt")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				reqs++
			}
		}
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() && fi.Name() == "tests" {
			return filepath.SkipDir
		}
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".py") && !strings.HasSuffix(p, "_test.py") {
			files++
		}
		return nil
	})
	return reqs, files
}

func run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(string(b), 10))
	}
	return nil
}

func contains[T comparable](list []T, s T) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func check(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}
