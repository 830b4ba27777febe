package imagetest

import (
	"archive/tar"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadOCITar(t *testing.T) {
	img := cleanImage().load(t)
	if img.IndexDigest == "" || img.ManifestDigest == "" || img.ManifestDigest == img.IndexDigest {
		t.Errorf("digests: index %q manifest %q", img.IndexDigest, img.ManifestDigest)
	}
	cfg := img.Config.Config
	if cfg.User != "65532:65532" || !reflect.DeepEqual(cfg.Entrypoint, []string{"/opt/venv/bin/python", "app.py"}) || cfg.WorkingDir != "/app" {
		t.Errorf("config: %+v", cfg)
	}
	if got := img.ExposedTCPPorts(); !reflect.DeepEqual(got, []int{8080}) {
		t.Errorf("ports %v", got)
	}
	if img.Labels()["org.opencontainers.image.base.name"] == "" {
		t.Error("labels lost")
	}
	if len(img.Layers) != 3 {
		t.Fatalf("%d layers, want 3 (the attestation manifest must be skipped)", len(img.Layers))
	}
	l := img.Layers[2]
	if l.CompressedSize <= 0 || l.UncompressedSize <= l.CompressedSize/2 || !strings.HasPrefix(l.DiffID, "sha256:") {
		t.Errorf("layer 2 sizes/diffid: %+v", l)
	}
	want := Entry{Path: "/app/app.py", Type: tar.TypeReg, Mode: 0o644, Size: 12, Layer: 2}
	got := l.Entries[1]
	got.ModTime = want.ModTime
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entry: got %+v want %+v", got, want)
	}
	if img.CompressedSize() <= 0 || img.UncompressedSize() <= 0 {
		t.Error("total sizes")
	}
	// base: 8 files/links; venv: python link, __init__.py, pyvenv.cfg; app: app.py
	if n := img.FileCount(); n != 8 {
		t.Errorf("FileCount %d, want 8", n)
	}
	b, err := img.ReadFile("/app/app.py")
	if err != nil || string(b) != "print('hi')\n" {
		t.Errorf("ReadFile: %q %v", b, err)
	}
	atts, err := img.Attestations()
	if err != nil {
		t.Fatal(err)
	}
	prov, ok := atts["https://slsa.dev/provenance/v1"]
	if !ok || prov.BoundTo != img.ManifestDigest || !strings.Contains(string(prov.Predicate), `"builder"`) {
		t.Errorf("attestations: %+v", atts)
	}
}

func TestLoadOCITarRejectsCorruptExports(t *testing.T) {
	for name, corrupt := range map[string]func(map[string][]byte, []string){
		"blob digest": func(m map[string][]byte, order []string) {
			// the last blob written is the top index; flip a byte of the first layer
			for _, n := range order {
				if b := m[n]; strings.HasPrefix(n, "blobs/") && len(b) > 100 {
					b[50] ^= 0xff
					return
				}
			}
		},
		"missing blob": func(m map[string][]byte, order []string) {
			for _, n := range order {
				if strings.HasPrefix(n, "blobs/") && len(m[n]) > 100 {
					delete(m, n)
					return
				}
			}
		},
		"no oci-layout": func(m map[string][]byte, _ []string) { delete(m, "oci-layout") },
	} {
		t.Run(name, func(t *testing.T) {
			o := cleanImage()
			o.corrupt = corrupt
			if _, err := LoadOCITar(o.write(t)); err == nil {
				t.Fatal("LoadOCITar accepted a corrupt export")
			} else {
				t.Log(err)
			}
		})
	}
}

func TestCheckInvariantsCleanImage(t *testing.T) {
	img := cleanImage().load(t)
	for _, err := range CheckInvariants(img, nil, CheckOptions{AppPaths: []string{"/app", "/opt/venv"}}) {
		t.Errorf("clean image: %v", err)
	}
}

func TestCheckInvariantsFindsEveryViolation(t *testing.T) {
	baseLayer := append(runtimeBase(), file{name: "usr/bin/newgrp", mode: 0o4755, body: "suid in base"})
	base := ociTar{config: cleanConfig(), layers: [][]file{baseLayer}}.load(t)

	cfg := cleanConfig()
	cfg.User = "0"
	cfg.Entrypoint = []string{"/bin/sh", "-c", "python app.py"}
	layers := append([][]file{baseLayer}, appLayers()...)
	layers = append(layers,
		[]file{
			reg("bin/sh", 0o755, "\x7fELF dash"),
			symlink("usr/bin/bash", "/bin/sh"),
			reg("usr/bin/busybox", 0o755, "bb"),
			reg("usr/bin/apt-get", 0o755, "apt"),
			reg("usr/bin/dpkg", 0o755, "dpkg"),
			reg("opt/venv/bin/pip3.13", 0o755, "#!/opt/venv/bin/python\n"),
			dir("opt/venv/lib/python3.13/site-packages/pip", 0o755),
			reg("etc/world", 0o666, "anyone writes"),
			dir("var/spool", 0o777),
			reg("tmp/scratch", 0o666, "ok in /tmp"),
			{name: "usr/bin/sudo-like", mode: 0o4755, body: "suid"},
			{name: "usr/bin/wall-like", mode: 0o2755, body: "sgid"},
			{name: "usr/bin/ping-like", mode: 0o755, body: "caps", xattrs: map[string]string{"security.capability": "\x01\x00\x00\x02"}},
			{name: "app/owned.py", mode: 0o644, uid: 65532, gid: 65532, body: "x"},
			{name: "app/group.py", mode: 0o664, uid: 0, gid: 65532, body: "x"},
			{name: "opt/venv/lib/python3.13/site-packages/flask/w.py", mode: 0o646, body: "x"},
			reg("app/.env", 0o644, "TOKEN=abc"),
			reg("app/.env.production", 0o644, "TOKEN=abc"),
			reg("app/certs/server.pem", 0o644, "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"),
			reg("app/.git/config", 0o644, "[core]"),
			reg("app/.npmrc", 0o644, "//registry:_authToken=x"),
			reg("root/.pypirc", 0o644, "[pypi]"),
			reg("root/.netrc", 0o644, "machine x"),
			reg("home/nonroot/.aws/credentials", 0o600, "[default]"),
			reg("root/.cache/pip/http/x", 0o644, "cached"),
			reg("home/build/.cache/pip/wheels/y", 0o644, "cached"),
			reg("var/cache/apt/archives/gcc_14_amd64.deb", 0o644, "deb"),
			reg("var/lib/apt/lists/mirror.example.invalid_dists_trixie_InRelease", 0o644, "lists"),
			reg("var/lib/apt/lists/lock", 0o640, ""),
			reg("app/id_rsa", 0o600, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n"),
		},
		// A later layer deleting a key does not unship it.
		[]file{reg("app/.wh.id_rsa", 0o644, "")},
	)
	img := ociTar{config: cfg, layers: layers}.load(t)
	errs := CheckInvariants(img, base, CheckOptions{AppPaths: []string{"/app", "/opt/venv"}})
	var all []string
	for _, e := range errs {
		all = append(all, e.Error())
	}
	joined := strings.Join(all, "\n")
	t.Logf("%d violations:\n%s", len(errs), joined)
	for _, want := range []string{
		`User "0" is root`,
		`Entrypoint ["/bin/sh" "-c" "python app.py"] runs a shell`,
		"/bin/sh is in the image",
		"/usr/bin/bash is in the image",
		"/usr/bin/busybox is in the image",
		"/usr/bin/apt-get is in the image",
		"/usr/bin/dpkg is in the image",
		"/opt/venv/bin/pip3.13 is in the image",
		"/opt/venv/lib/python3.13/site-packages/pip is in the image: pip must be removed",
		"/etc/world is world-writable",
		"/var/spool is world-writable",
		"/usr/bin/sudo-like is setuid",
		"/usr/bin/wall-like is setgid",
		"/usr/bin/ping-like is given file capabilities",
		"/app/owned.py is writable by the runtime user 65532:65532 (owned by it",
		"/app/group.py is writable by the runtime user 65532:65532 (its group",
		"/opt/venv/lib/python3.13/site-packages/flask/w.py is writable by the runtime user 65532:65532 (world-writable",
		"/app/.env is in the image: a .env file",
		"/app/.env.production is in the image: a .env file",
		"/app/certs/server.pem holds a PEM private key",
		"/app/.git/config is in the image: a .git directory",
		"/app/.npmrc is in the image: a credentials file",
		"/root/.pypirc is in the image: a credentials file",
		"/root/.netrc is in the image: a credentials file",
		"/home/nonroot/.aws/credentials is in the image: cloud credentials",
		"/root/.cache/pip/http/x is in the image: a pip cache",
		"/root/.cache/pip/http/x is in the image: root's cache directory",
		"/home/build/.cache/pip/wheels/y is in the image: a pip cache",
		"/var/cache/apt/archives/gcc_14_amd64.deb is in the image: a cached .deb",
		"/var/lib/apt/lists/mirror.example.invalid_dists_trixie_InRelease is in the image",
		"/app/id_rsa is in the image (in layer 3, hidden by a later layer but still shipped): an SSH key file",
		"/app/id_rsa holds a PEM private key (in layer 3, hidden by a later layer but still shipped)",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing violation %q", want)
		}
	}
	for _, notWant := range []string{"/tmp/scratch", "/usr/bin/newgrp", "/var/tmp", "/var/lib/apt/lists/lock", "ca-certificates", "/app/app.py"} {
		if strings.Contains(joined, notWant) {
			t.Errorf("false positive on %s", notWant)
		}
	}
	// Without the base, the base's setuid file is new too.
	if !strings.Contains(errString(CheckInvariants(img, nil, CheckOptions{})), "/usr/bin/newgrp is setuid") {
		t.Error("without a base image, every setuid file must be reported")
	}
}

func TestCheckInvariantsUserForms(t *testing.T) {
	for user, want := range map[string]string{
		"":            "has no User",
		"nonroot":     "is not numeric",
		"65532:0":     "root group",
		"0:65532":     "is root",
		"65532":       "",
		"65532:65532": "",
	} {
		cfg := cleanConfig()
		cfg.User = user
		img := ociTar{config: cfg, layers: [][]file{runtimeBase()}}.load(t)
		got := errString(CheckInvariants(img, nil, CheckOptions{}))
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("User %q: got %q, want %q", user, got, want)
		}
	}
}

func errString(errs []error) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}

func TestContainsBytes(t *testing.T) {
	secret := "s3cr3t-index-token-8d2f"
	o := cleanImage()
	o.layers = append(o.layers, []file{reg("app/config.txt", 0o644, "url=https://user:"+secret+"@pypi.example/simple\n")})
	img := o.load(t)
	hits := img.ContainsBytes([]byte(secret))
	t.Log(hits)
	if len(hits) != 1 || !strings.Contains(hits[0], "(layer 3): file /app/config.txt (content)") {
		t.Errorf("hits %q, want the file in layer 3", hits)
	}
	if hits := img.ContainsBytes([]byte("not-anywhere-0b9c")); len(hits) != 0 {
		t.Errorf("false hits %q", hits)
	}

	// In the config (env, history) and in a file name.
	o = cleanImage()
	o.config.Env = append(o.config.Env, "PIP_INDEX_URL=https://"+secret+"@x")
	o.layers = append(o.layers, []file{reg("app/"+secret, 0o644, "")})
	img = o.load(t)
	joined := strings.Join(img.ContainsBytes([]byte(secret)), "\n")
	for _, want := range []string{"(image config)", "file /app/" + secret + " (name)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("hits %q lack %q", joined, want)
		}
	}
}

func TestUnpackRefusesEntriesOutsideTheRoot(t *testing.T) {
	// LoadOCITar already refuses such a layer...
	o := ociTar{config: cleanConfig(), layers: [][]file{{reg("../evil", 0o644, "x")}}}
	if _, err := LoadOCITar(o.write(t)); err == nil || !strings.Contains(err.Error(), "climbs out of the root") {
		t.Errorf("LoadOCITar: %v", err)
	}
	// ...and Unpack does too, on its own, for an Image put together by hand.
	for _, name := range []string{"../evil", "a/../../evil", "/../evil"} {
		blob := layerTar(t, []file{reg(name, 0o644, "x")})
		img := &Image{files: map[string][]byte{"blobs/sha256/00": blob}, Layers: []Layer{{Digest: "sha256:00"}}}
		parent := t.TempDir()
		if err := Unpack(img, filepath.Join(parent, "rootfs")); err == nil || !strings.Contains(err.Error(), "climbs out of the root") {
			t.Errorf("Unpack of %q: %v", name, err)
		}
		if _, err := os.Stat(filepath.Join(parent, "evil")); err == nil {
			t.Errorf("Unpack of %q wrote outside the root", name)
		}
	}
}
