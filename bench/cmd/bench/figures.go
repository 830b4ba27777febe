package main

import (
	"path"
	"sort"

	"github.com/distill-build/distill/integration/imagetest"
)

// imageFigures describes a built image as exported (OCI tarball).
type imageFigures struct {
	CompressedBytes   int64
	UncompressedBytes int64
	Layers            int
	Files             int
	User              string
	// Tools lists the shells, package managers and pip found in the merged
	// file view (non-directories by basename), with their paths.
	Tools []string
	// PipModule is set when a pip package directory is importable
	// somewhere (site-packages/pip), even without a pip script.
	PipModule bool
}

// toolNames are the basenames that must not be in a hardened image.
var toolNames = map[string]bool{
	"sh": true, "bash": true, "dash": true, "busybox": true,
	"apt": true, "apt-get": true, "dpkg": true, "apk": true,
	"pip": true, "pip3": true,
}

func figures(tarPath string) (imageFigures, error) {
	img, err := imagetest.LoadOCITar(tarPath)
	if err != nil {
		return imageFigures{}, err
	}
	f := imageFigures{
		CompressedBytes:   img.CompressedSize(),
		UncompressedBytes: img.UncompressedSize(),
		Layers:            len(img.Layers),
		Files:             img.FileCount(),
		User:              img.Config.Config.User,
	}
	for p, e := range img.Files() {
		base := path.Base(p)
		if e.IsDir() {
			if base == "pip" && path.Base(path.Dir(p)) == "site-packages" {
				f.PipModule = true
			}
			continue
		}
		if toolNames[base] {
			f.Tools = append(f.Tools, p)
		}
	}
	sort.Strings(f.Tools)
	return f, nil
}

// toolSet gives which of sh/bash/dash, apt/apt-get/dpkg and pip/pip3 an
// image has, for the table.
func (f imageFigures) toolSet() (shell, pkg, pip bool) {
	for _, p := range f.Tools {
		switch path.Base(p) {
		case "sh", "bash", "dash", "busybox":
			shell = true
		case "apt", "apt-get", "dpkg", "apk":
			pkg = true
		case "pip", "pip3":
			pip = true
		}
	}
	return shell, pkg, pip || f.PipModule
}
