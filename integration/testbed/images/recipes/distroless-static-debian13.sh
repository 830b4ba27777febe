# gcr.io/distroless/static-debian13:nonroot stand-in (runtime of distill's own frontend image):
# base-files, netbase, tzdata, media-types, the CA bundle, passwd/group with nonroot 65532,
# /tmp 1777, /home/nonroot owned by 65532, no shell, no libc (anchors.md §2.9; the static package
# set of distroless's base/config.bzl as cited in trixie-standins.md §2).
SUITE=trixie
IMAGE=distroless/static-debian13:nonroot
TAR_MTIME=zero
build_rootfs() {
  local debs; mapfile -t debs < <(debs_fetch base-files netbase tzdata media-types ca-certificates)
  debs_unpack "${debs[@]}"
  strip_docs; ca_bundle; distroless_accounts
  assert_no_shell
  [ -z "$(find "$R" -type f -perm /111 ! -path "$R/etc/update-motd.d/*")" ] || die "has executables: $(find "$R" -type f -perm /111)"
  [ ! -e "$R/usr/lib/x86_64-linux-gnu/libc.so.6" ] || die "has a libc"
  [ "$(stat -c %a "$R/tmp")" = 1777 ] && [ "$(stat -c %u:%g "$R/home/nonroot")" = 65532:65532 ] || die "tmp/home modes"
  # a static Go program (built with this machine's Go) run as 65532: user lookup, CA pool, tzdata, /tmp
  local t=$W/tmp/$NAME-check go; go=$(command -v go || echo /usr/local/go/bin/go); rm -rf "$t"; mkdir -p "$t"
  cat > "$t/main.go" <<'GO'
package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"os/user"
	"time"
)

func main() {
	u, err := user.Current()
	if err != nil || u.Uid != "65532" || u.Username != "nonroot" || u.HomeDir != "/home/nonroot" {
		panic(fmt.Sprint("user: ", u, err))
	}
	pool, err := x509.SystemCertPool()
	if err != nil || len(pool.Subjects()) < 100 { //nolint:staticcheck
		panic(fmt.Sprint("cert pool: ", err))
	}
	if _, err := time.LoadLocation("Europe/Berlin"); err != nil {
		panic(err)
	}
	for _, d := range []string{"/tmp", "/home/nonroot"} {
		f, err := os.CreateTemp(d, "w")
		if err != nil {
			panic(err)
		}
		f.Close()
		os.Remove(f.Name())
	}
	fmt.Println("static ok:", u.Username, u.HomeDir, len(pool.Subjects()), "CAs")
}
GO
  printf 'module staticcheck\n\ngo 1.21\n' > "$t/go.mod"
  (cd "$t" && env -u GOFLAGS CGO_ENABLED=0 GOTOOLCHAIN=local GOPROXY=off "$go" build -trimpath -o check .)
  install -m755 "$t/check" "$R/check"
  env -i /usr/sbin/chroot --userspec=65532:65532 "$R" /check || { rm -f "$R/check"; die "static check failed"; }
  rm -rf "$R/check" "$t"
}
image_config() {
  CONFIG=(-u 65532 -w /home/nonroot -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
}
