package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The wheel of the venv checks: one module with a console script, so a
// check sees both an import and a generated script's shebang.
const (
	wheelName    = "thewheel"
	wheelVersion = "1.0"
)

// wheelFiles are the wheel's entries in order, RECORD last (it lists the
// others with their sha256, urlsafe base64 without padding, and size, and
// itself with neither).
func wheelFiles() [][2]string {
	di := wheelName + "-" + wheelVersion + ".dist-info"
	files := [][2]string{
		{wheelName + "/__init__.py", "import sys\ndef main():\n    print('thewheel on', sys.executable)\n"},
		{di + "/METADATA", "Metadata-Version: 2.1\nName: " + wheelName + "\nVersion: " + wheelVersion + "\n"},
		{di + "/WHEEL", "Wheel-Version: 1.0\nGenerator: handmade\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
		{di + "/entry_points.txt", "[console_scripts]\n" + wheelName + "-hello = " + wheelName + ":main\n"},
	}
	record := ""
	for _, f := range files {
		sum := sha256.Sum256([]byte(f[1]))
		record += fmt.Sprintf("%s,sha256=%s,%d\n", f[0], base64.RawURLEncoding.EncodeToString(sum[:]), len(f[1]))
	}
	return append(files, [2]string{di + "/RECORD", record + di + "/RECORD,,\n"})
}

// writeWheel writes the wheel into dir, byte for byte the same on every
// run (stored entries, fixed 1980-01-01 times, mode 0644).
func writeWheel(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, wheelName+"-"+wheelVersion+"-py3-none-any.whl")
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	z := zip.NewWriter(f)
	for _, e := range wheelFiles() {
		h := &zip.FileHeader{Name: e[0], Method: zip.Store, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
		h.SetMode(0o644)
		w, err := z.CreateHeader(h)
		if err == nil {
			_, err = w.Write([]byte(e[1]))
		}
		if err != nil {
			f.Close()
			return "", err
		}
	}
	if err := z.Close(); err != nil {
		f.Close()
		return "", err
	}
	return p, f.Close()
}
