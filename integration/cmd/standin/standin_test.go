package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The wheel must be one pip installs: every RECORD line matches its
// entry, RECORD lists itself last without a hash, and two runs give the
// same bytes.
func TestWheelRecordAndReproducible(t *testing.T) {
	d1, d2 := t.TempDir(), t.TempDir()
	p1, err := writeWheel(d1)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := writeWheel(d2)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p1) != "thewheel-1.0-py3-none-any.whl" {
		t.Errorf("name %s", filepath.Base(p1))
	}
	b1, _ := os.ReadFile(p1)
	b2, _ := os.ReadFile(p2)
	if !bytes.Equal(b1, b2) {
		t.Error("two runs wrote different bytes")
	}
	z, err := zip.OpenReader(p1)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	content := map[string]string{}
	var names []string
	for _, f := range z.File {
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		content[f.Name] = string(b)
		names = append(names, f.Name)
		if f.Mode().Perm() != 0o644 || f.Modified.Year() != 1980 {
			t.Errorf("%s: mode %v, time %v", f.Name, f.Mode(), f.Modified)
		}
	}
	record := content["thewheel-1.0.dist-info/RECORD"]
	lines := strings.Split(strings.TrimSuffix(record, "\n"), "\n")
	if len(lines) != len(names) || lines[len(lines)-1] != "thewheel-1.0.dist-info/RECORD,," {
		t.Fatalf("RECORD:\n%s", record)
	}
	for _, l := range lines[:len(lines)-1] {
		parts := strings.Split(l, ",")
		sum := sha256.Sum256([]byte(content[parts[0]]))
		want := fmt.Sprintf("%s,sha256=%s,%d", parts[0], base64.RawURLEncoding.EncodeToString(sum[:]), len(content[parts[0]]))
		if l != want {
			t.Errorf("RECORD line %q, want %q", l, want)
		}
	}
	if !strings.Contains(content["thewheel-1.0.dist-info/entry_points.txt"], "thewheel-hello = thewheel:main") {
		t.Error("no console script")
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	if err := check([]string{"tz", "writable", dir}); err != nil {
		t.Error(err)
	}
	if err := check([]string{"writable", filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing dir is writable")
	}
	if err := check([]string{"user", "nobody-here", "1", "/x"}); err == nil {
		t.Error("wrong user passed")
	}
	if err := check([]string{"bogus"}); err == nil {
		t.Error("unknown check passed")
	}
}
