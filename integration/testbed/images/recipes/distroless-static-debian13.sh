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
  dpkg_status_d "${debs[@]}"   # distroless's package database (/var/lib/dpkg/status.d), as in the python runtimes
  strip_docs; ca_bundle; distroless_accounts
  assert_no_shell
  [ -z "$(find "$R" -type f -perm /111 ! -path "$R/etc/update-motd.d/*")" ] || die "has executables: $(find "$R" -type f -perm /111)"
  [ ! -e "$R/usr/lib/x86_64-linux-gnu/libc.so.6" ] || die "has a libc"
  [ "$(stat -c %a "$R/tmp")" = 1777 ] && [ "$(stat -c %u:%g "$R/home/nonroot")" = 65532:65532 ] || die "tmp/home modes"
  # a static Go program run as 65532: user lookup, CA pool, tzdata, writable /tmp and home
  standin_check 65532:65532 user nonroot 65532 /home/nonroot certs tz writable /tmp /home/nonroot
}
image_config() {
  CONFIG=(-u 65532 -w /home/nonroot -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
}
