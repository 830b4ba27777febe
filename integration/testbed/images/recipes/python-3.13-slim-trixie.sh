# docker.io/library/python:3.13-slim-trixie stand-in (builder): Debian trixie's python3.13 moved to
# /usr/local like the official image (notes: trixie-standins.md §1).
SUITE=trixie
IMAGE=library/python:3.13-slim-trixie
TAR_MTIME=clamp   # rootfs mtimes clamped to the suite's Release date (shipped .pyc stay valid)
build_rootfs() {
  mmdeb python3.13 python3-pip python3-venv ca-certificates
  relocate_python 3.13
  check_builder_python 3.13
}
image_config() { CONFIG=(--cmd python3 -e PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        -e LANG=C.UTF-8 -e "PYTHON_VERSION=$(cat "$F/python-version")"); }
