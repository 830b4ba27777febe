# docker.io/library/golang:1.26-bookworm stand-in (builder of distill's own frontend image, see the
# repo's Dockerfile): bookworm minbase + ca-certificates, netbase, git, and this machine's Go
# toolchain copied from /usr/local/go. Modules come through the Go module proxy at build time, so
# the CA store must work.
SUITE=bookworm
IMAGE=library/golang:1.26-bookworm
TAR_MTIME=clamp
GOROOT_HOST=${DISTILL_GOROOT:-/usr/local/go}
extra_inputs() { head -1 "$GOROOT_HOST/VERSION"; }
build_rootfs() {
  [ -x "$GOROOT_HOST/bin/go" ] || die "no Go toolchain at $GOROOT_HOST"
  mmdeb ca-certificates netbase git
  cp -a "$GOROOT_HOST" "$R/usr/local/go"
  rm -rf "$R/usr/local/go/pkg/obj" "$R/usr/local/go/pkg/bootstrap" "$R/usr/local/go/.git"
  # official image: GOPATH=/go with src and bin, mode 1777 (any build user can use it)
  mkdir -p "$R/go/src" "$R/go/bin"; chmod -R 1777 "$R/go"
  head -1 "$R/usr/local/go/VERSION" | sed 's/^go//' > "$F/go-version"
  # checks: as a passwd-less build user, like the frontend Dockerfile's USER 10001:10001
  [ "$(grep -c 'BEGIN CERTIFICATE' "$R/etc/ssl/certs/ca-certificates.crt")" -gt 100 ] || die "CA bundle missing"
  devnull_on
  mkdir -p "$R/tmp/gocheck"
  cat > "$R/tmp/gocheck/main.go" <<'GO'
package main

import (
	"crypto/x509"
	"fmt"
	"runtime"
)

func main() {
	pool, err := x509.SystemCertPool()
	if err != nil || len(pool.Subjects()) < 100 { //nolint:staticcheck
		panic(fmt.Sprint("system cert pool: ", err))
	}
	fmt.Println("go ok:", runtime.Version(), len(pool.Subjects()), "CAs")
}
GO
  printf 'module gocheck\n\ngo 1.21\n' > "$R/tmp/gocheck/go.mod"
  chown -R 10001:10001 "$R/tmp/gocheck"
  # GOROOT: the chroot has no /proc, so go cannot find itself via /proc/self/exe (a container can)
  env -i GOROOT=/usr/local/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp/gocheck \
    GOPATH=/go GOTOOLCHAIN=local GOPROXY=off CGO_ENABLED=0 GOCACHE=/tmp/gocheck/.cache GOFLAGS=-buildvcs=false \
    /usr/sbin/chroot --userspec=10001:10001 "$R" /bin/sh -ec '
      go version | grep -q "go$(cat /usr/local/go/VERSION | head -1 | sed s/^go//) "
      [ "$(go env GOROOT)" = /usr/local/go ]; [ "$(go env GOPATH)" = /go ]
      git --version >/dev/null
      cd /tmp/gocheck && go run .'
  devnull_off
  rm -rf "$R/tmp/gocheck"
}
image_config() {
  CONFIG=(-w /go -e PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          -e "GOLANG_VERSION=$(cat "$F/go-version")" -e GOTOOLCHAIN=local -e GOPATH=/go --cmd bash)
}
