package imagetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specsgo "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// file is one tar entry of a test layer.
type file struct {
	name     string
	typ      byte // tar.TypeReg when 0
	mode     int64
	uid, gid int
	body     string
	link     string
	xattrs   map[string]string
}

func dir(name string, mode int64) file              { return file{name: name, typ: tar.TypeDir, mode: mode} }
func reg(name string, mode int64, body string) file { return file{name: name, mode: mode, body: body} }
func symlink(name, target string) file {
	return file{name: name, typ: tar.TypeSymlink, mode: 0o777, link: target}
}

// layerTar writes entries into an uncompressed tar, as BuildKit's
// differ does (relative names, PAX for xattrs).
func layerTar(t testing.TB, files []file) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Name: f.name, Typeflag: f.typ, Mode: f.mode, Uid: f.uid, Gid: f.gid,
			Linkname: f.link, ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX,
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(f.body))
		}
		for k, v := range f.xattrs {
			if h.PAXRecords == nil {
				h.PAXRecords = map[string]string{}
			}
			h.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(f.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ociTar builds an OCI image-layout tarball the way BuildKit exports one
// with attestations: index.json -> image index -> {image manifest for
// linux/amd64, attestation manifest}. Layers are gzipped.
type ociTar struct {
	config  ocispec.ImageConfig
	layers  [][]file
	history []ocispec.History
	// corrupt, when set, edits the tarball's members before writing.
	corrupt func(members map[string][]byte, order []string)
}

func (o ociTar) write(t testing.TB) string {
	t.Helper()
	members := map[string][]byte{}
	var order []string
	put := func(b []byte, mt string) ocispec.Descriptor {
		d := digest.FromBytes(b)
		name := "blobs/sha256/" + d.Encoded()
		if _, ok := members[name]; !ok {
			order = append(order, name)
		}
		members[name] = b
		return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(b))}
	}
	img := ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config:   o.config,
		RootFS:   ocispec.RootFS{Type: "layers"},
		History:  o.history,
	}
	var layerDescs []ocispec.Descriptor
	for _, files := range o.layers {
		raw := layerTar(t, files)
		sum := sha256.Sum256(raw)
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, digest.Digest("sha256:"+hex.EncodeToString(sum[:])))
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		layerDescs = append(layerDescs, put(gz.Bytes(), ocispec.MediaTypeImageLayerGzip))
	}
	cfg, _ := json.Marshal(img)
	manifest := ocispec.Manifest{
		Versioned: specsgo.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: put(cfg, ocispec.MediaTypeImageConfig), Layers: layerDescs,
	}
	mb, _ := json.Marshal(manifest)
	md := put(mb, ocispec.MediaTypeImageManifest)
	md.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}

	// An attestation manifest, as BuildKit adds for provenance: an in-toto
	// layer, platform unknown/unknown.
	att := ocispec.Manifest{
		Versioned: specsgo.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: put([]byte(`{"architecture":"unknown","os":"unknown","rootfs":{"type":"layers","diff_ids":[]}}`), ocispec.MediaTypeImageConfig),
		Layers: []ocispec.Descriptor{put([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v1","predicate":{"builder":{"id":"test"}}}`), "application/vnd.in-toto+json")},
	}
	ab, _ := json.Marshal(att)
	ad := put(ab, ocispec.MediaTypeImageManifest)
	ad.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	ad.Annotations = map[string]string{annotationReferenceType: attestationManifest, "vnd.docker.reference.digest": string(md.Digest)}

	idx := ocispec.Index{Versioned: specsgo.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{md, ad}}
	ib, _ := json.Marshal(idx)
	top := ocispec.Index{
		Versioned: specsgo.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{put(ib, ocispec.MediaTypeImageIndex)},
	}
	members["index.json"], _ = json.Marshal(top)
	members["oci-layout"] = []byte(`{"imageLayoutVersion":"1.0.0"}`)
	order = append([]string{"oci-layout", "index.json"}, order...)
	if o.corrupt != nil {
		o.corrupt(members, order)
	}

	p := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, n := range order {
		b, ok := members[n]
		if !ok {
			continue // deleted by corrupt
		}
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func (o ociTar) load(t testing.TB) *Image {
	t.Helper()
	img, err := LoadOCITar(o.write(t))
	if err != nil {
		t.Fatalf("LoadOCITar: %v", err)
	}
	return img
}

// runtimeBase is a distroless-like base layer: no shell, a nonroot home,
// /tmp 1777, /var/tmp 1777 (sticky), a CA bundle.
func runtimeBase() []file {
	return []file{
		dir("./", 0o755),
		dir("bin", 0o755), dir("usr", 0o755), dir("usr/bin", 0o755),
		reg("usr/bin/python3.13", 0o755, "\x7fELF python"),
		symlink("usr/bin/python3", "python3.13"),
		dir("etc", 0o755), reg("etc/passwd", 0o644, "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
		dir("etc/ssl/certs", 0o755), reg("etc/ssl/certs/ca-certificates.crt", 0o644, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
		dir("tmp", 0o1777), dir("var", 0o755), dir("var/tmp", 0o1777),
		{name: "home/nonroot", typ: tar.TypeDir, mode: 0o700, uid: 65532, gid: 65532},
		dir("root", 0o700),
	}
}

// appLayers are what distill adds: a venv and the app, owned by root.
func appLayers() [][]file {
	return [][]file{
		{dir("opt", 0o755), dir("opt/venv", 0o755), dir("opt/venv/bin", 0o755),
			symlink("opt/venv/bin/python", "/usr/bin/python3.13"),
			dir("opt/venv/lib/python3.13/site-packages/flask", 0o755),
			reg("opt/venv/lib/python3.13/site-packages/flask/__init__.py", 0o644, "# flask\n"),
			reg("opt/venv/pyvenv.cfg", 0o644, "home = /usr/bin\n")},
		{dir("app", 0o755), reg("app/app.py", 0o644, "print('hi')\n")},
	}
}

func cleanConfig() ocispec.ImageConfig {
	return ocispec.ImageConfig{
		User:         "65532:65532",
		Entrypoint:   []string{"/opt/venv/bin/python", "app.py"},
		Env:          []string{"PATH=/opt/venv/bin:/usr/bin", "PORT=8080"},
		WorkingDir:   "/app",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Labels: map[string]string{
			"org.opencontainers.image.base.name":   "gcr.io/distroless/python3-debian13:nonroot",
			"org.opencontainers.image.base.digest": "sha256:" + hex.EncodeToString(make([]byte, 32)),
		},
	}
}

func cleanImage() ociTar {
	return ociTar{config: cleanConfig(), layers: append([][]file{runtimeBase()}, appLayers()...)}
}
