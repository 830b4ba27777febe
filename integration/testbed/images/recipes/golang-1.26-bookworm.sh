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
  # (compiling inside the image would take a minute on a busy 2-core machine: the CA store is
  # checked with the host-built standin helper, the toolchain with commands that need no compiling)
  standin_check 10001:10001 certs writable /tmp /go/src /go/bin
  devnull_on
  # GOROOT: the chroot has no /proc, so go cannot find itself via /proc/self/exe (a container can)
  if ! env -i GOROOT=/usr/local/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp GOPATH=/go GOTOOLCHAIN=local GOPROXY=off CGO_ENABLED=0 \
    /usr/sbin/chroot --userspec=10001:10001 "$R" /bin/sh -ec '
      go version | grep -q "go$(head -1 /usr/local/go/VERSION | sed s/^go//) "
      [ "$(go env GOPATH)" = /go ]
      go list -deps crypto/x509 net/http >/dev/null
      git --version >/dev/null' > "$F/check.log" 2>&1; then
    cat "$F/check.log"; die "go toolchain check failed"
  fi
  devnull_off
  rm -rf "$R"/tmp/go-build* "$R/tmp/.cache" "$R/tmp/.config"
  [ -z "$(ls -A "$R/tmp")" ] || die "leftovers in /tmp: $(ls -A "$R/tmp")"
}
image_config() {
  CONFIG=(-w /go -e PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          -e "GOLANG_VERSION=$(cat "$F/go-version")" -e GOTOOLCHAIN=local -e GOPATH=/go --cmd bash)
}
