package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"sort"
	"strings"
	"time"
)

// zipTime is every member's timestamp (the zip format's earliest), so the
// same input gives the same bytes.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// recordHash is RECORD's hash format: sha256=<urlsafe base64, no padding>.
func recordHash(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// Zip writes the wheel: members in sorted order with the .dist-info last
// and RECORD as the very last member, fixed timestamps, mode 0644 (0755
// for files Debian shipped executable), deflated. The bytes depend only on
// the files and on Go's compress/flate (the cache key includes the Go
// version for that reason).
func (w *wheel) Zip() ([]byte, error) {
	record := w.DistInfo + "/RECORD"
	paths := make([]string, 0, len(w.Files))
	for p := range w.Files {
		if p == record {
			return nil, fmt.Errorf("RECORD is written by Zip")
		}
		paths = append(paths, p)
	}
	inInfo := func(p string) bool { return strings.HasPrefix(p, w.DistInfo+"/") }
	sort.Slice(paths, func(i, j int) bool {
		if a, b := inInfo(paths[i]), inInfo(paths[j]); a != b {
			return b
		}
		return paths[i] < paths[j]
	})

	var rec bytes.Buffer
	cw := csv.NewWriter(&rec) // RECORD is CSV: a path with a comma gets quoted
	for _, p := range paths {
		d := w.Files[p].data
		if err := cw.Write([]string{p, recordHash(d), fmt.Sprint(len(d))}); err != nil {
			return nil, err
		}
	}
	if err := cw.Write([]string{record, "", ""}); err != nil {
		return nil, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(p string, f wfile) error {
		h := &zip.FileHeader{Name: p, Method: zip.Deflate, Modified: zipTime}
		h.SetMode(0o644)
		if f.exec {
			h.SetMode(0o755)
		}
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = fw.Write(f.data)
		return err
	}
	for _, p := range paths {
		if err := add(p, w.Files[p]); err != nil {
			return nil, err
		}
	}
	if err := add(record, wfile{data: rec.Bytes()}); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
