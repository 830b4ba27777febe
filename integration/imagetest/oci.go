package imagetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types of Docker's schema 2, which BuildKit writes when asked for
// `oci-mediatypes=false`; they are accepted beside the OCI ones.
const (
	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"

	// annotationReferenceType marks BuildKit's attestation manifests (SBOM,
	// provenance) inside an index; they are not runnable images.
	annotationReferenceType = "vnd.docker.reference.type"
	attestationManifest     = "attestation-manifest"
)

// Image is one platform's image read from an OCI image-layout tarball.
type Image struct {
	// Path is the tarball the image was read from.
	Path string
	// IndexDigest is the digest of the nested image index that holds the
	// manifest (BuildKit writes one when it adds attestations), or "".
	IndexDigest string
	// ManifestDigest is the image's manifest digest, the digest a registry
	// would report for this platform's image.
	ManifestDigest string
	Manifest       ocispec.Manifest
	// ConfigDigest is the digest of the image config blob.
	ConfigDigest string
	// Config is the whole image config blob; Config.Config holds User,
	// Entrypoint, Cmd, Env, WorkingDir, ExposedPorts and Labels.
	Config  ocispec.Image
	History []ocispec.History
	// Layers are in manifest order, base first.
	Layers []Layer

	// files holds every member of the tarball by name (index.json,
	// oci-layout, blobs/sha256/<hex>, ...), so that secret scans see all of it.
	files map[string][]byte

	mergedOnce sync.Once
	merged     map[string]Entry
}

// Layer is one layer of an image, with every tar entry it holds.
type Layer struct {
	Index     int
	Digest    string
	MediaType string
	// DiffID is the digest of the uncompressed tar (checked against the
	// config's rootfs.diff_ids).
	DiffID string
	// CompressedSize is the blob size, UncompressedSize the tar stream size.
	CompressedSize   int64
	UncompressedSize int64
	Entries          []Entry
}

// Entry is one tar header of a layer, with its path made absolute and clean
// ("/usr/bin/python3"). Whiteouts are kept as entries (see IsWhiteout) so the
// raw layer stays inspectable; Image.Files gives the merged view.
type Entry struct {
	Path     string
	Type     byte // a tar.Type* constant; TypeRegA is reported as TypeReg
	Mode     fs.FileMode
	UID, GID int
	Size     int64
	Linkname string
	ModTime  time.Time
	// Xattrs holds the extended attributes recorded in PAX headers
	// (security.capability grants capabilities like a setuid bit does).
	Xattrs map[string]string
	// Layer is the index of the layer the entry comes from.
	Layer int
}

// IsDir, IsRegular and IsSymlink say what the entry is; a hard link counts
// as regular, since it is one more name for a regular file.
func (e Entry) IsDir() bool     { return e.Type == tar.TypeDir }
func (e Entry) IsRegular() bool { return e.Type == tar.TypeReg || e.Type == tar.TypeLink }
func (e Entry) IsSymlink() bool { return e.Type == tar.TypeSymlink }

// IsWhiteout reports whether the entry is an OCI whiteout marker (`.wh.NAME`
// deletes NAME from lower layers, `.wh..wh..opq` empties its directory).
func (e Entry) IsWhiteout() bool { return strings.HasPrefix(path.Base(e.Path), whiteoutPrefix) }

const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// LoadOCITar reads an OCI image-layout tarball as BuildKit exports it and
// returns the image for linux/GOARCH (the only image when there is one).
// Every blob's digest, every layer's diff ID and the blob sizes are checked,
// so a corrupt or inconsistent export fails here rather than later.
func LoadOCITar(p string) (*Image, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading the OCI tarball: %w", p, err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: reading %s: %w", p, h.Name, err)
		}
		files[path.Clean(strings.TrimPrefix(h.Name, "./"))] = b
	}
	img := &Image{Path: p, files: files}
	if err := img.load(); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return img, nil
}

func (img *Image) load() error {
	if _, ok := img.files["oci-layout"]; !ok {
		return errors.New("not an OCI image layout: no oci-layout file")
	}
	raw, ok := img.files["index.json"]
	if !ok {
		return errors.New("not an OCI image layout: no index.json")
	}
	var index ocispec.Index
	if err := json.Unmarshal(raw, &index); err != nil {
		return fmt.Errorf("index.json: %w", err)
	}
	cands, err := img.manifests(index, "", 0)
	if err != nil {
		return err
	}
	want := "linux/" + runtime.GOARCH
	var chosen *candidate
	switch {
	case len(cands) == 0:
		return errors.New("no image manifest in index.json (only attestations or nothing)")
	case len(cands) == 1:
		chosen = &cands[0]
	default:
		for i, c := range cands {
			if c.desc.Platform != nil && c.desc.Platform.OS+"/"+c.desc.Platform.Architecture == want {
				if chosen != nil {
					return fmt.Errorf("more than one image manifest for %s", want)
				}
				chosen = &cands[i]
			}
		}
		if chosen == nil {
			return fmt.Errorf("none of the %d image manifests is for %s", len(cands), want)
		}
	}
	img.IndexDigest = chosen.index
	img.ManifestDigest = string(chosen.desc.Digest)
	mraw, err := img.blob(string(chosen.desc.Digest), chosen.desc.Size)
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if err := json.Unmarshal(mraw, &img.Manifest); err != nil {
		return fmt.Errorf("manifest %s: %w", chosen.desc.Digest, err)
	}
	img.ConfigDigest = string(img.Manifest.Config.Digest)
	craw, err := img.blob(img.ConfigDigest, img.Manifest.Config.Size)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := json.Unmarshal(craw, &img.Config); err != nil {
		return fmt.Errorf("config %s: %w", img.ConfigDigest, err)
	}
	img.History = img.Config.History
	if n, m := len(img.Manifest.Layers), len(img.Config.RootFS.DiffIDs); n != m {
		return fmt.Errorf("the manifest has %d layers but the config has %d diff IDs", n, m)
	}
	for i, d := range img.Manifest.Layers {
		l := Layer{Index: i, Digest: string(d.Digest), MediaType: d.MediaType, CompressedSize: d.Size}
		b, err := img.blob(l.Digest, d.Size)
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		h := sha256.New()
		cr := &countWriter{}
		err = walkLayer(b, func(hdr *tar.Header, _ io.Reader) error {
			e, err := entryOf(hdr, i)
			if err != nil {
				return err
			}
			l.Entries = append(l.Entries, e)
			return nil
		}, io.MultiWriter(h, cr))
		if err != nil {
			return fmt.Errorf("layer %d (%s): %w", i, l.Digest, err)
		}
		l.UncompressedSize = cr.n
		l.DiffID = "sha256:" + hex.EncodeToString(h.Sum(nil))
		if want := string(img.Config.RootFS.DiffIDs[i]); want != l.DiffID {
			return fmt.Errorf("layer %d (%s): uncompressed digest %s, the config says %s", i, l.Digest, l.DiffID, want)
		}
		img.Layers = append(img.Layers, l)
	}
	return nil
}

// candidate is an image manifest found while walking the index tree.
type candidate struct {
	desc  ocispec.Descriptor
	index string // digest of the nested index holding it, "" at top level
}

// manifests walks an index (and nested indexes) and returns the image
// manifests in it, leaving out attestation manifests.
func (img *Image) manifests(index ocispec.Index, parent string, depth int) ([]candidate, error) {
	if depth > 4 {
		return nil, errors.New("image indexes nested too deep")
	}
	var out []candidate
	for _, d := range index.Manifests {
		switch d.MediaType {
		case ocispec.MediaTypeImageManifest, mediaTypeDockerManifest:
			if d.Annotations[annotationReferenceType] == attestationManifest {
				continue
			}
			out = append(out, candidate{desc: d, index: parent})
		case ocispec.MediaTypeImageIndex, mediaTypeDockerManifestList:
			raw, err := img.blob(string(d.Digest), d.Size)
			if err != nil {
				return nil, fmt.Errorf("index: %w", err)
			}
			var sub ocispec.Index
			if err := json.Unmarshal(raw, &sub); err != nil {
				return nil, fmt.Errorf("index %s: %w", d.Digest, err)
			}
			more, err := img.manifests(sub, string(d.Digest), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		}
	}
	return out, nil
}

// blob returns a blob's bytes after checking its size and digest.
func (img *Image) blob(digest string, size int64) ([]byte, error) {
	alg, hexd, ok := strings.Cut(digest, ":")
	if !ok || alg != "sha256" || len(hexd) != 64 {
		return nil, fmt.Errorf("unsupported digest %q", digest)
	}
	b, ok := img.files["blobs/sha256/"+hexd]
	if !ok {
		return nil, fmt.Errorf("blob %s is missing from the tarball", digest)
	}
	if int64(len(b)) != size {
		return nil, fmt.Errorf("blob %s has %d bytes, its descriptor says %d", digest, len(b), size)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != hexd {
		return nil, fmt.Errorf("blob %s has digest sha256:%s", digest, got)
	}
	return b, nil
}

// layerBlob returns layer i's compressed bytes (already verified by load).
func (img *Image) layerBlob(i int) []byte {
	return img.files["blobs/sha256/"+strings.TrimPrefix(img.Layers[i].Digest, "sha256:")]
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// decompress returns a reader of the layer's tar stream. The compression is
// read from the magic bytes rather than the media type, because both OCI and
// Docker names exist for the same formats.
func decompress(b []byte) (io.Reader, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return gzip.NewReader(bytes.NewReader(b))
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return nil, errors.New("zstd-compressed layers are not supported (export with compression=gzip)")
	default:
		return bytes.NewReader(b), nil
	}
}

// walkLayer calls fn for every tar header of a layer blob, with a reader of
// the entry's content. When raw is not nil it receives the whole
// uncompressed tar stream (for diff IDs and sizes).
func walkLayer(blob []byte, fn func(*tar.Header, io.Reader) error, raw io.Writer) error {
	r, err := decompress(blob)
	if err != nil {
		return err
	}
	if raw != nil {
		r = io.TeeReader(r, raw)
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := fn(h, tr); err != nil {
			return err
		}
	}
	if raw != nil {
		// The tar reader stops at the end-of-archive blocks; the diff ID
		// covers the whole stream, padding included.
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	}
	return nil
}

// cleanPath makes a tar entry name absolute and clean, refusing names that
// climb above the root: a runtime would resolve them inside the root, but
// an exporter that writes them is broken and the test should say so.
func cleanPath(name string) (string, error) {
	n := strings.TrimPrefix(name, "./")
	if n == "" || n == "." || n == "/" {
		return "/", nil
	}
	for _, part := range strings.Split(strings.Trim(n, "/"), "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q climbs out of the root", name)
		}
	}
	return path.Clean("/" + n), nil
}

func entryOf(h *tar.Header, layer int) (Entry, error) {
	p, err := cleanPath(h.Name)
	if err != nil {
		return Entry{}, err
	}
	t := h.Typeflag
	if t == tar.TypeRegA {
		t = tar.TypeReg
	}
	e := Entry{
		Path: p, Type: t, Mode: h.FileInfo().Mode(), UID: h.Uid, GID: h.Gid,
		Size: h.Size, Linkname: h.Linkname, ModTime: h.ModTime, Layer: layer,
	}
	if t == tar.TypeLink {
		// Hard link names are paths inside the layer's root too.
		if e.Linkname, err = cleanPath(h.Linkname); err != nil {
			return Entry{}, err
		}
	}
	for k, v := range h.PAXRecords {
		if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			if e.Xattrs == nil {
				e.Xattrs = map[string]string{}
			}
			e.Xattrs[name] = v
		}
	}
	return e, nil
}

// Labels returns the image config's labels (never nil).
func (img *Image) Labels() map[string]string {
	if img.Config.Config.Labels == nil {
		return map[string]string{}
	}
	return img.Config.Config.Labels
}

// CompressedSize is the sum of the layer blob sizes (what a pull transfers,
// leaving out the small config and manifest).
func (img *Image) CompressedSize() int64 {
	var n int64
	for _, l := range img.Layers {
		n += l.CompressedSize
	}
	return n
}

// UncompressedSize is the sum of the layers' uncompressed tar streams.
func (img *Image) UncompressedSize() int64 {
	var n int64
	for _, l := range img.Layers {
		n += l.UncompressedSize
	}
	return n
}

// Files returns the merged view of all layers, as a runtime would see the
// root filesystem: later layers replace earlier entries, whiteouts delete
// them. The map is keyed by absolute path; it is computed once and shared,
// so callers must not modify it.
func (img *Image) Files() map[string]Entry {
	img.mergedOnce.Do(func() { img.merged = mergeLayers(img.Layers) })
	return img.merged
}

func mergeLayers(layers []Layer) map[string]Entry {
	m := map[string]Entry{}
	for _, l := range layers {
		// Opaque markers and whiteouts hide only what lower layers hold, so
		// they are applied before this layer's own entries are added.
		for _, e := range l.Entries {
			dir, base := path.Split(e.Path)
			dir = path.Clean(dir)
			switch {
			case base == whiteoutOpaque:
				removeTree(m, dir, false)
			case strings.HasPrefix(base, whiteoutPrefix):
				removeTree(m, path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix)), true)
			}
		}
		for _, e := range l.Entries {
			if e.IsWhiteout() {
				continue
			}
			if old, ok := m[e.Path]; ok && old.Layer < e.Layer && !(old.IsDir() && e.IsDir()) {
				// A non-directory replacing a lower directory hides its contents.
				removeTree(m, e.Path, true)
			}
			m[e.Path] = e
		}
	}
	return m
}

// removeTree deletes p's descendants from m, and p itself when self is set.
func removeTree(m map[string]Entry, p string, self bool) {
	if self {
		delete(m, p)
	}
	prefix := strings.TrimSuffix(p, "/") + "/"
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			delete(m, k)
		}
	}
}

// SortedFiles returns the merged view sorted by path.
func (img *Image) SortedFiles() []Entry {
	m := img.Files()
	out := make([]Entry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// FileCount is the number of non-directory entries in the merged view.
func (img *Image) FileCount() int {
	n := 0
	for _, e := range img.Files() {
		if !e.IsDir() {
			n++
		}
	}
	return n
}

// ReadFile returns the content of a file of the merged view, following a
// hard link to the entry it names (symlinks are not followed).
func (img *Image) ReadFile(p string) ([]byte, error) {
	files := img.Files()
	e, ok := files[path.Clean("/"+p)]
	if !ok {
		return nil, fmt.Errorf("%s: not in the image", p)
	}
	if e.Type == tar.TypeLink {
		t, ok := files[e.Linkname]
		if !ok {
			return nil, fmt.Errorf("%s: hard link to %s, which is not in the image", p, e.Linkname)
		}
		e = t
	}
	if !e.IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	var out []byte
	found := false
	// A path may appear twice in one tar; the last one wins, as on extraction.
	err := walkLayer(img.layerBlob(e.Layer), func(h *tar.Header, r io.Reader) error {
		if cp, err := cleanPath(h.Name); err == nil && cp == e.Path {
			b, err := io.ReadAll(r)
			out, found = b, true
			return err
		}
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s: not found in layer %d", p, e.Layer)
	}
	return out, nil
}

// Attestation is one in-toto statement attached to the image.
type Attestation struct {
	PredicateType string
	// BoundTo is the image manifest digest the attestation manifest names
	// (annotation vnd.docker.reference.digest).
	BoundTo   string
	Predicate json.RawMessage
}

// Attestations returns the in-toto statements of the export's attestation
// manifests (BuildKit's SBOM and provenance), keyed by predicate type.
func (img *Image) Attestations() (map[string]Attestation, error) {
	out := map[string]Attestation{}
	var walk func(raw []byte) error
	walk = func(raw []byte) error {
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			return err
		}
		for _, m := range idx.Manifests {
			switch {
			case m.MediaType == ocispec.MediaTypeImageIndex:
				b, err := img.blob(string(m.Digest), m.Size)
				if err != nil {
					return err
				}
				if err := walk(b); err != nil {
					return err
				}
			case m.Annotations["vnd.docker.reference.type"] == "attestation-manifest":
				b, err := img.blob(string(m.Digest), m.Size)
				if err != nil {
					return err
				}
				var man ocispec.Manifest
				if err := json.Unmarshal(b, &man); err != nil {
					return fmt.Errorf("attestation manifest %s: %w", m.Digest, err)
				}
				for _, l := range man.Layers {
					lb, err := img.blob(string(l.Digest), l.Size)
					if err != nil {
						return err
					}
					var st struct {
						PredicateType string          `json:"predicateType"`
						Predicate     json.RawMessage `json:"predicate"`
					}
					if err := json.Unmarshal(lb, &st); err != nil {
						return fmt.Errorf("attestation %s: %w", l.Digest, err)
					}
					out[st.PredicateType] = Attestation{PredicateType: st.PredicateType, BoundTo: m.Annotations["vnd.docker.reference.digest"], Predicate: st.Predicate}
				}
			}
		}
		return nil
	}
	if err := walk(img.files["index.json"]); err != nil {
		return nil, fmt.Errorf("%s: %w", img.Path, err)
	}
	return out, nil
}

// DockerConfig is the image config as Docker reads it, with the fields the
// OCI spec lacks (Healthcheck, OnBuild, Shell).
func (img *Image) DockerConfig() (dockerspec.DockerOCIImage, error) {
	var c dockerspec.DockerOCIImage
	raw, ok := img.files["blobs/sha256/"+strings.TrimPrefix(img.ConfigDigest, "sha256:")]
	if !ok {
		return c, fmt.Errorf("config blob %s not in %s", img.ConfigDigest, img.Path)
	}
	return c, json.Unmarshal(raw, &c)
}
