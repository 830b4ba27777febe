# cgr.dev/chainguard/python:latest stand-in (runtime; anchors.md §2.6, §2.9): /usr/bin/python ->
# python3.13, nonroot 65532 with home /home/nonroot, no shell, no apk/apt/dpkg, entrypoint
# /usr/bin/python, User 65532. Built from trixie .debs, not Wolfi apks (labelled as a stand-in).
SUITE=trixie
IMAGE=chainguard/python:latest
TAR_MTIME=zero
build_rootfs() {
  chainguard_python
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$R/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$R/etc/group"
  ldconfig_cache                  # the cache only: no ldconfig binary in the image
  assert_no_shell
  check_chainguard_python
  assert_no_pyc
}
image_config() {
  CONFIG=(-u 65532 -w / --entrypoint /usr/bin/python
          -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt -e LANG=C.UTF-8
          -l "dev.distill.testbed.note=stand-in built from Debian trixie packages, not Wolfi")
}
