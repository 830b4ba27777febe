# gcr.io/distroless/python3-debian12:nonroot stand-in (runtime; the real tag is EOL and frozen, see
# anchors.md §2.9): distroless's debian12 package lists, unpacked from bookworm .debs
# (notes: buildkit-offline.md "Distroless stand-in"). bookworm has no merged-/usr base-files.
SUITE=bookworm
IMAGE=distroless/python3-debian12:nonroot
TAR_MTIME=zero
build_rootfs() {
  distroless_python 3.11 base-files netbase tzdata media-types ca-certificates \
    libc6 libssl3 libzstd1 zlib1g libgomp1 libstdc++6 libgcc-s1 gcc-12-base \
    libbz2-1.0 libdb5.3 libexpat1 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libcom-err2 libcrypt1 \
    libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libnsl2 libreadline8 readline-common \
    libtirpc3 libtirpc-common libffi8 libpython3.11-minimal libpython3.11-stdlib python3.11-minimal
  # no ld.so.cache and no ldconfig: distroless added the cache with debian13 (anchors.md §2.9), and
  # ldconfig is in libc-bin, which the debian12 lists do not include
  check_runtime_python 3.11
  assert_no_pyc
}
image_config() {
  CONFIG=(-u 65532 -w /home/nonroot --entrypoint /usr/bin/python3.11
          -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt -e LANG=C.UTF-8)
}
