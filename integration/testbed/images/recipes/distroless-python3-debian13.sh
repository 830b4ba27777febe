# gcr.io/distroless/python3-debian13:nonroot stand-in (runtime): distroless's own debian13 package
# lists (static + base + cc + python3 config.bzl, t64 names), unpacked from trixie .debs
# (notes: trixie-standins.md §2; anchors.md §2.9).
SUITE=trixie
IMAGE=distroless/python3-debian13:nonroot
TAR_MTIME=zero
build_rootfs() {
  distroless_python 3.13 base-files netbase tzdata media-types ca-certificates \
    libc6 libssl3t64 libzstd1 zlib1g libgomp1 libstdc++6 libgcc-s1 gcc-14-base \
    libbz2-1.0 libdb5.3t64 libexpat1 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libcom-err2 libcrypt1 \
    libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libnsl2 libreadline8t64 readline-common \
    libtirpc3t64 libtirpc-common libffi8 libpython3.13-minimal libpython3.13-stdlib python3.13-minimal python3.13-venv
  # distroless ships a pre-generated ld.so.cache and runs /sbin/ldconfig in the image
  # (python3/ldconfig/ldconfig.sh): ctypes.util.find_library needs both
  ldconfig_cache keep
  check_runtime_python 3.13 find_library
  assert_no_pyc
}
image_config() {
  CONFIG=(-u 65532 -w /home/nonroot --entrypoint /usr/bin/python3.13
          -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt -e LANG=C.UTF-8)
}
