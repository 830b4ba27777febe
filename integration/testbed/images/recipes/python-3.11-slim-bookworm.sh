# docker.io/library/python:3.11-slim-bookworm stand-in (builder): Debian bookworm's python3.11 moved to
# /usr/local like the official image. 3.11 freezes `site` too, so the same sitecustomize/sysconfig
# fixes as the trixie builder apply (notes: trixie-standins.md §1, buildkit-offline.md).
SUITE=bookworm
IMAGE=library/python:3.11-slim-bookworm
TAR_MTIME=clamp
build_rootfs() {
  # python3-distutils/-lib2to3: part of the stdlib upstream, split out by Debian in bookworm
  mmdeb python3.11 python3-pip python3-venv python3-distutils python3-lib2to3 ca-certificates
  relocate_python 3.11
  check_builder_python 3.11
}
image_config() { CONFIG=(--cmd python3 -e PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        -e LANG=C.UTF-8 -e "PYTHON_VERSION=$(cat "$F/python-version")"); }
