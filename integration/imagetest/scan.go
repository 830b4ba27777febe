package imagetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ContainsBytes reports every place in the tarball that holds secret:
// every member as stored (index.json, oci-layout, manifests, indexes, the
// config with its history, compressed layer blobs) and every layer's
// uncompressed tar stream, attributed to the files whose name, link target,
// PAX records or content hold it. Each layer of the tarball is searched,
// including layers other images in it refer to and files a later layer
// deletes, because deleted files are still shipped. An empty result means
// the bytes are nowhere.
func (img *Image) ContainsBytes(secret []byte) []string {
	if len(secret) == 0 {
		return nil
	}
	var hits []string
	names := make([]string, 0, len(img.files))
	for n := range img.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b := img.files[n]
		if bytes.Contains(b, secret) {
			hits = append(hits, n+img.describe(n))
		}
		if !strings.HasPrefix(n, "blobs/") || !isTarStream(b) {
			continue
		}
		hits = append(hits, scanLayer(n+img.describe(n), b, secret)...)
	}
	return hits
}

// describe names what a blob is for this image, to make reports readable.
func (img *Image) describe(name string) string {
	d := "sha256:" + strings.TrimPrefix(name, "blobs/sha256/")
	switch d {
	case img.ManifestDigest:
		return " (manifest)"
	case img.IndexDigest:
		return " (image index)"
	case img.ConfigDigest:
		return " (image config)"
	}
	for _, l := range img.Layers {
		if l.Digest == d {
			return fmt.Sprintf(" (layer %d)", l.Index)
		}
	}
	return ""
}

// isTarStream says whether a blob decompresses to a tar archive, so that
// layers of every manifest in the tarball (attestations included) are
// searched without relying on media types.
func isTarStream(b []byte) bool {
	r, err := decompress(b)
	if err != nil {
		return false
	}
	var hdr [512]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return false
	}
	return string(hdr[257:262]) == "ustar"
}

// scanLayer finds secret in a layer's uncompressed stream. The whole stream
// is searched first (headers and padding included), then each entry, to
// say which file holds it.
func scanLayer(label string, blob, secret []byte) []string {
	r, err := decompress(blob)
	if err != nil {
		return []string{fmt.Sprintf("%s: cannot decompress: %v", label, err)}
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return []string{fmt.Sprintf("%s: cannot decompress: %v", label, err)}
	}
	if !bytes.Contains(raw, secret) {
		return nil
	}
	var hits []string
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			hits = append(hits, fmt.Sprintf("%s: unreadable tar: %v", label, err))
			break
		}
		var where []string
		if strings.Contains(h.Name, string(secret)) {
			where = append(where, "name")
		}
		if strings.Contains(h.Linkname, string(secret)) {
			where = append(where, "link target")
		}
		for k, v := range h.PAXRecords {
			if strings.Contains(k, string(secret)) || strings.Contains(v, string(secret)) {
				where = append(where, "PAX record "+k)
			}
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			hits = append(hits, fmt.Sprintf("%s: %s: unreadable: %v", label, h.Name, err))
			break
		}
		if bytes.Contains(content, secret) {
			where = append(where, "content")
		}
		if len(where) > 0 {
			hits = append(hits, fmt.Sprintf("%s: file /%s (%s)", label, strings.TrimPrefix(h.Name, "./"), strings.Join(where, ", ")))
		}
	}
	if len(hits) == 0 {
		hits = append(hits, label+": in the uncompressed tar stream, outside any file")
	}
	return hits
}
