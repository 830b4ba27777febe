package helper

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Package is one package a language inventory found.
type Package struct {
	Name, Version string
	// License is as the package states it; the SBOM itself says
	// NOASSERTION, this only tells otherwise equal packages apart.
	License string
	PURL    string
}

// Inventory reads one language's installed packages from a directory
// (Python's from a venv).
type Inventory struct {
	// Noun counts the packages on the summary line ("Python
	// distributions").
	Noun string
	// Comment is the SPDX package comment ("installed in the venv").
	Comment string
	Read    func(dir string) ([]Package, error)
}

const sbomUsage = "RUNTIME_ROOT OUT IMAGE_NAME RUNTIME_REF EPOCH [KIND=DIR]..."

// SBOM is the sbom command with the given language inventories:
//
//	sbom RUNTIME_ROOT OUT IMAGE_NAME RUNTIME_REF EPOCH [KIND=DIR]...
//
// It writes an SPDX 2.3 JSON document to OUT: the runtime root's OS
// packages (dpkg's status and status.d, apk's installed database) and,
// for each KIND=DIR, what the KIND inventory reads in DIR (pypi=VENV).
// Versions come from the package databases, never from guesses. The
// document is a pure function of its inputs: its namespace is a hash of
// the package list, its creation time EPOCH (seconds) when given, else now.
func SBOM(inventories map[string]Inventory) Command {
	return func(args []string, stdout, stderr io.Writer) error {
		if len(args) < 5 {
			return usage("sbom", sbomUsage)
		}
		root, out, name, base, epoch := args[0], args[1], args[2], args[3], args[4]
		type lang struct {
			kind string
			inv  Inventory
			pkgs []Package
		}
		var langs []lang
		for _, a := range args[5:] {
			kind, dir, ok := strings.Cut(a, "=")
			inv, known := inventories[kind]
			if !ok || !known {
				kinds := make([]string, 0, len(inventories))
				for k := range inventories {
					kinds = append(kinds, k)
				}
				slices.Sort(kinds)
				return fmt.Errorf("distill helper sbom: %q is not KIND=DIR of a known inventory (%s)", a, strings.Join(kinds, ", "))
			}
			pkgs, err := inv.Read(dir)
			if err != nil {
				return err
			}
			langs = append(langs, lang{kind, inv, pkgs})
		}
		created := time.Now()
		if epoch != "" {
			sec, err := strconv.ParseInt(Strip(epoch), 10, 64)
			if err != nil {
				return fmt.Errorf("distill helper sbom: EPOCH %q: %w", epoch, err)
			}
			created = time.Unix(sec, 0)
		}
		osPkgs, distro := OSPackages(root)

		var packages []map[string]any
		seen := map[string]bool{}
		for _, p := range uniqueSorted(osPkgs, compareOS) {
			sid := spdxID(p.Kind, p.Name, p.Version)
			if seen[sid] {
				continue
			}
			seen[sid] = true
			purl := fmt.Sprintf("pkg:%s/%s/%s@%s", p.Kind, distro, p.Name, p.Version)
			if p.Arch != "" {
				purl += "?arch=" + p.Arch
			}
			purpose := "LIBRARY"
			if p.Name == "base-files" {
				purpose = "OPERATING-SYSTEM"
			}
			packages = append(packages, map[string]any{"SPDXID": sid, "name": p.Name, "versionInfo": p.Version, "downloadLocation": "NOASSERTION",
				"licenseConcluded": "NOASSERTION", "copyrightText": "NOASSERTION", "supplier": "NOASSERTION",
				"primaryPackagePurpose": purpose,
				"externalRefs":          []any{map[string]any{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}},
				"comment":               "from the runtime image " + base})
		}
		for _, l := range langs {
			for _, p := range uniqueSorted(l.pkgs, comparePackage) {
				sid := spdxID(l.kind, p.Name, p.Version)
				if seen[sid] {
					continue
				}
				seen[sid] = true
				packages = append(packages, map[string]any{"SPDXID": sid, "name": p.Name, "versionInfo": p.Version, "downloadLocation": "NOASSERTION",
					"licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION", "copyrightText": "NOASSERTION",
					"supplier": "NOASSERTION", "primaryPackagePurpose": "LIBRARY",
					"externalRefs": []any{map[string]any{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p.PURL}},
					"comment":      l.inv.Comment})
			}
		}
		rels := make([]map[string]any, len(packages))
		for i, p := range packages {
			rels[i] = map[string]any{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": p["SPDXID"]}
		}
		if packages == nil {
			packages = []map[string]any{}
		}
		sum := sha256.Sum256([]byte(PyJSON([]any{base, packages}, -1)))
		doc := map[string]any{"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": name,
			"documentNamespace": fmt.Sprintf("https://distill.build/spdx/%s/%s", name, hex.EncodeToString(sum[:])),
			"creationInfo":      map[string]any{"created": created.UTC().Format("2006-01-02T15:04:05Z"), "creators": []string{"Tool: distill"}},
			"packages":          packages, "relationships": rels}
		if err := os.WriteFile(out, []byte(PyJSON(doc, 1)), 0o666); err != nil {
			return err
		}
		line := fmt.Sprintf("sbom: %d OS packages", len(osPkgs))
		for _, l := range langs {
			line += fmt.Sprintf(", %d %s", len(l.pkgs), l.inv.Noun)
		}
		fmt.Fprintln(stdout, line)
		return nil
	}
}

// OSPackage is one package of an OS package database.
type OSPackage struct {
	Kind, Name, Version, Arch, Source string // Kind: deb or apk
}

// OSPackages reads root's installed OS packages: dpkg's status and the
// status.d files distroless images have, and apk's installed database.
// distro is "wolfi" when root has an apk database, else "debian".
func OSPackages(root string) (pkgs []OSPackage, distro string) {
	for _, p := range append([]string{root + "/var/lib/dpkg/status"}, Glob(root+"/var/lib/dpkg/status.d/*")...) {
		if !IsFile(p) || strings.HasSuffix(p, ".md5sums") {
			continue
		}
		text, err := ReadText(p)
		if err != nil {
			continue
		}
		for _, f := range debStanzas(text) {
			src, _, _ := strings.Cut(f["Source"], " ")
			pkgs = append(pkgs, OSPackage{"deb", f["Package"], f["Version"], f["Architecture"], src})
		}
	}
	apk := root + "/lib/apk/db/installed"
	distro = "debian"
	if IsFile(apk) {
		distro = "wolfi"
		text, _ := ReadText(apk)
		for _, block := range strings.Split(text, "\n\n") {
			f := map[string]string{}
			for _, l := range SplitLines(block) {
				r := []rune(l)
				if len(r) > 2 && r[1] == ':' {
					f[string(r[0])] = string(r[2:])
				}
			}
			if p, ok := f["P"]; ok {
				if v, ok := f["V"]; ok {
					pkgs = append(pkgs, OSPackage{"apk", p, v, f["A"], f["o"]})
				}
			}
		}
	}
	return pkgs, distro
}

// debStanzas are the installed packages' fields of a dpkg status file.
func debStanzas(text string) []map[string]string {
	var out []map[string]string
	for _, block := range strings.Split(text, "\n\n") {
		f := map[string]string{}
		for _, line := range SplitLines(block) {
			if !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") && strings.Contains(line, ":") {
				k, v, _ := strings.Cut(line, ":")
				f[Strip(k)] = Strip(v)
			}
		}
		status, ok := f["Status"]
		if !ok {
			status = "install ok installed"
		}
		if f["Package"] != "" && f["Version"] != "" && !strings.Contains(status, "not-installed") {
			out = append(out, f)
		}
	}
	return out
}

var spdxUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]`)

func spdxID(kind, name, version string) string {
	return "SPDXRef-" + kind + "-" + spdxUnsafe.ReplaceAllString(name+"-"+version, "-")
}

func compareOS(a, b OSPackage) int {
	return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version),
		strings.Compare(a.Arch, b.Arch), strings.Compare(a.Source, b.Source))
}

func comparePackage(a, b Package) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version),
		strings.Compare(a.License, b.License), strings.Compare(a.PURL, b.PURL))
}

// uniqueSorted is Python's sorted(set(xs)).
func uniqueSorted[T comparable](xs []T, compare func(a, b T) int) []T {
	out := slices.Clone(xs)
	slices.SortFunc(out, compare)
	return slices.Compact(out)
}
