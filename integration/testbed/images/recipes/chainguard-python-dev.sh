# cgr.dev/chainguard/python:latest-dev stand-in (builder; anchors.md §2.9): like :latest plus pip
# (/usr/bin/pip, in /usr/lib/python3.13/site-packages), a busybox shell (/bin/sh -> busybox, with
# busybox applet links, so `addgroup/adduser`, not useradd) and ldconfig. No apk. The real image
# runs as 65532 by default: so does this one (builds must set their own users per step).
SUITE=trixie
IMAGE=chainguard/python:latest-dev
TAR_MTIME=zero
build_rootfs() {
  local L=$R/usr/lib/python3.13 a
  chainguard_python libc-bin busybox-static python3-pip python3-pip-whl python3-setuptools-whl
  # libc-bin: keep only ldconfig + its config (getconf, ldd etc. need no faking)
  ( cd "$R/usr/bin" && rm -f getconf getent iconv ldd locale localedef pldd tzselect zdump )
  rm -rf "$R/usr/sbin/iconvconfig" "$R/usr/sbin/zic" "$R/usr/lib/locale" "$R/usr/share/i18n"
  ch "$R" /usr/sbin/ldconfig; rm -f "$R/var/cache/ldconfig/aux-cache"
  # pip -> site-packages (Debian ships it in /usr/lib/python3/dist-packages); wheel (a pip dependency
  # in Debian) is not in Chainguard's image and pip runs without it
  mv "$R/usr/lib/python3/dist-packages"/pip "$R/usr/lib/python3/dist-packages"/pip-*.dist-info "$L/site-packages/"
  rm -rf "$R/usr/lib/python3" "$R"/usr/bin/pip* "$R/usr/bin/wheel"
  write_pip_scripts /usr/bin /usr/bin/python3.13 3.13
  # busybox: sh and every applet as a link to /usr/bin/busybox, where no real file exists
  for a in $(ch "$R" /usr/bin/busybox --list-full | LC_ALL=C sort); do
    a=usr/${a#usr/}; case $a in usr/bin/*|usr/sbin/*) ;; *) continue ;; esac
    case ${a##*/} in dpkg|dpkg-deb|rpm|rpm2cpio) continue ;; esac      # no package-manager look-alikes
    [ -e "$R/$a" ] || [ -L "$R/$a" ] || ln -s /usr/bin/busybox "$R/$a"
  done
  [ "$(readlink "$R/usr/bin/sh")" = /usr/bin/busybox ] || die "/bin/sh is not busybox"
  printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\n' > "$R/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$R/etc/group"
  for a in apt apt-get dpkg dpkg-deb apk rpm; do [ ! -e "$R/usr/bin/$a" ] || die "has $a"; done
  check_chainguard_python
  mkwheel
  devnull_on
  ch_as 65532:65532 "$R" /bin/sh -ec 'cd /tmp
    /usr/bin/pip --version | grep -q " from /usr/lib/python3.13/site-packages/pip "
    python -m venv /tmp/v1 && /tmp/v1/bin/pip install -q --no-index --no-cache-dir --disable-pip-version-check /tmp/whl/thewheel-1.0-py3-none-any.whl
    /tmp/v1/bin/thewheel-hello; grep -qx "home = /usr/bin" /tmp/v1/pyvenv.cfg
    python -m venv --without-pip /tmp/v2
    pip --python /tmp/v2/bin/python install -q --no-index --no-cache-dir --disable-pip-version-check /tmp/whl/thewheel-1.0-py3-none-any.whl
    /tmp/v2/bin/python -c "import thewheel; thewheel.main()"
    mkdir -p /tmp/x/y && ls /tmp/x >/dev/null && id -u | grep -qx 65532
    rm -rf /tmp/v1 /tmp/v2 /tmp/x'
  devnull_off
  rm -rf "$R/tmp/whl"
  assert_no_pyc
}
image_config() {
  CONFIG=(-u 65532 -w / --entrypoint /usr/bin/python
          -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          -e SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt -e LANG=C.UTF-8
          -l "dev.distill.testbed.note=stand-in built from Debian trixie packages, not Wolfi")
}
