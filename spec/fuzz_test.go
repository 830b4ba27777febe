package spec

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to Parse. The seed corpus is
// testdata/fuzz/FuzzParse (run on every go test); explore with
//
//	go test -fuzz=FuzzParse -fuzztime=60s ./spec/
//
// Parse must never panic, every error must carry a position inside the
// file, and a spec that parses must satisfy what consumers rely on.
func FuzzParse(f *testing.F) {
	for _, s := range []string{minimal, designExample, billionLaughs()} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fuzzer has no per-input timeout; a hang would only show as a
		// stalled exec count. Crash instead, so the input is saved.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("Parse of %d bytes took over 10s", len(data))) })
		defer watchdog.Stop()
		s, err := Parse("distill.yaml", data)
		if err != nil {
			checkFuzzErrors(t, data, err)
			return
		}
		checkFuzzSpec(t, s)
		// Parsing is a pure function of the bytes.
		again, err := Parse("distill.yaml", data)
		if err != nil || !slices.Equal(again.App.Entrypoint, s.App.Entrypoint) {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}

func checkFuzzErrors(t *testing.T, data []byte, err error) {
	errs := AsErrors(err)
	if len(errs) == 0 {
		t.Fatalf("error without a position: %v", err)
	}
	if len(errs) > maxErrors+1 {
		t.Fatalf("%d errors, more than the cap", len(errs))
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for i, e := range errs {
		if e.File != "distill.yaml" || e.Line < 1 || e.Column < 0 || e.Msg == "" {
			t.Fatalf("bad error: %+v", e)
		}
		// A file over the limit is not read, so its position is 1:1.
		if len(data) <= MaxSpecSize && e.Line > lines+1 {
			t.Fatalf("line %d past the end (%d lines): %v", e.Line, lines, e)
		}
		if i > 0 && (e.Line < errs[i-1].Line || (e.Line == errs[i-1].Line && e.Column < errs[i-1].Column)) {
			t.Fatalf("errors not sorted: %v then %v", errs[i-1], e)
		}
		if !utf8.ValidString(e.Msg) {
			t.Fatalf("message is not UTF-8: %q", e.Msg)
		}
	}
}

// checkFuzzSpec asserts the guarantees llb and the frontend build on.
func checkFuzzSpec(t *testing.T, s *Spec) {
	if s.APIVersion != APIVersion || s.Language != LanguagePython {
		t.Fatalf("accepted apiVersion %q language %q", s.APIVersion, s.Language)
	}
	if !nameRe.MatchString(s.Name) || len(s.Name) > maxNameLen {
		t.Fatalf("accepted name %q", s.Name)
	}
	if s.Runtime != RuntimeDistroless && s.Runtime != RuntimeChainguard {
		t.Fatalf("accepted runtime %q", s.Runtime)
	}
	if s.Runtime == RuntimeDistroless && !slices.Contains(PythonVersions, s.Python.Version) {
		t.Fatalf("accepted version %q", s.Python.Version)
	}
	if s.Runtime == RuntimeChainguard && (s.Python.Version != "" || len(s.Build.AptPackages) > 0) {
		t.Fatalf("chainguard with version %q apt %v", s.Python.Version, s.Build.AptPackages)
	}
	if len(s.App.Entrypoint) == 0 || s.App.Entrypoint[0] == "" {
		t.Fatalf("accepted entrypoint %q", s.App.Entrypoint)
	}
	for _, argv := range append([][]string{s.App.Entrypoint}, s.Build.Commands...) {
		if len(argv) == 0 || argv[0] == "" {
			t.Fatalf("accepted argv %q", argv)
		}
		for _, a := range argv {
			if strings.ContainsRune(a, 0) {
				t.Fatalf("NUL in argv %q", argv)
			}
		}
	}
	for _, p := range s.Build.AptPackages {
		if strings.HasPrefix(p, "-") || !aptPackageRe.MatchString(p) {
			t.Fatalf("accepted apt package %q", p)
		}
	}
	for _, e := range append(slices.Clone(s.Build.Env), s.App.Env...) {
		if !envNameRe.MatchString(e.Name) || ReservedEnv[e.Name] != "" || strings.ContainsRune(e.Value, 0) {
			t.Fatalf("accepted env %q=%q", e.Name, e.Value)
		}
	}
	paths := append(append([]string{}, s.App.Include...), s.App.Exclude...)
	if f, _ := s.Python.DependencyFile(); f != "" {
		paths = append(paths, f)
	}
	for _, p := range paths {
		p = strings.TrimPrefix(p, "!")
		if p == "" || strings.HasPrefix(p, "/") || escapeRe.MatchString(p) || strings.ContainsAny(p, "\x00\n\r") {
			t.Fatalf("accepted path %q", p)
		}
	}
	if w := s.App.Workdir; !strings.HasPrefix(w, "/") || w == "/" || strings.Contains(w+"/", "/../") {
		t.Fatalf("accepted workdir %q", w)
	}
	if u := s.Python.IndexURL; u != "" && (checkIndexURL(u) != "" || strings.Contains(strings.SplitN(u, "/", 4)[2], "@")) {
		t.Fatalf("accepted index URL %q", u)
	}
	for _, port := range s.App.Ports {
		if port < 1 || port > 65535 {
			t.Fatalf("accepted port %d", port)
		}
	}
	for _, l := range s.App.Labels {
		if !labelKeyRe.MatchString(l.Key) || strings.ContainsRune(l.Value, 0) {
			t.Fatalf("accepted label %q", l.Key)
		}
	}
	if _, ok := s.Positions["app.entrypoint"]; !ok {
		t.Fatal("no position for app.entrypoint")
	}
	for f, p := range s.Positions {
		if p.Line < 1 || p.Column < 1 {
			t.Fatalf("position of %s: %v", f, p)
		}
	}
}
