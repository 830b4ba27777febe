#!/usr/bin/env bash
# Regenerates the lock files of the examples (and of one test fixture) against
# the test bed's package index (real wheels repacked from Debian trixie), for
# when Debian updates a package and the pins or hashes no longer match the
# index.
#
#   relock.sh [all|uv|requirements|poetry|pylock]...     (default: all)
#
#   uv            examples/fastapi-uv/uv.lock                 (go run ./integration/cmd/mklock -uv)
#   requirements  examples/django-gunicorn/requirements.txt   (go run ./integration/cmd/mklock -requirements)
#   poetry        examples/poetry-app/poetry.lock             (Poetry itself, from Debian trixie's
#                 python3-poetry, in a throwaway mmdebstrap rootfs that is removed afterwards)
#   pylock        integration/testdata/pylock-fastapi/pylock.toml (pip lock of pip 25.1.1, in the
#                 builder stand-in rootfs, which is never written; pyproject.toml and app/ are
#                 refreshed from examples/fastapi-uv first)
#
# The index must be reachable at $DISTILL_INDEX_URL (default
# http://127.0.0.1:3141/simple); when it is not, the script runs itself under
# `testbed.sh with`, which starts the test bed and stops only what it started.
# Runs as root (mmdebstrap, chroot, unshare). Idempotent: every run resolves
# afresh and rewrites the files; `git diff examples/ integration/testdata/`
# shows what the index changed. The pylock step needs the stand-in rootfs
# that `testbed.sh setup` makes.
# Environment: DISTILL_WORK (default <repo>/.work), DISTILL_INDEX_URL.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export DISTILL_WORK=${DISTILL_WORK:-$REPO/.work}
INDEX=${DISTILL_INDEX_URL:-http://127.0.0.1:${DISTILL_INDEX_PORT:-3141}/simple}
INDEX=${INDEX%/}

say() { printf '[relock %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(all)
for s in "${steps[@]}"; do
	case $s in all | uv | requirements | poetry | pylock) ;; *) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;; esac
done
want() { local s; for s in "${steps[@]}"; do [ "$s" = all ] || [ "$s" = "$1" ] && return 0; done; return 1; }

if ! curl -fsS -o /dev/null "$INDEX/"; then
	[ -z "${RELOCK_UNDER_TESTBED:-}" ] || fail "the index $INDEX/ does not answer, even under testbed.sh with"
	say "index $INDEX/ not reachable: running under testbed.sh with"
	RELOCK_UNDER_TESTBED=1 DISTILL_SKIP_FRONTEND=1 exec "$HERE/testbed.sh" with "$0" "$@"
fi

mklock() { (cd "$REPO" && go run ./integration/cmd/mklock -index "$INDEX/" "$@"); }

if want uv; then
	say "uv.lock of examples/fastapi-uv"
	mklock -uv examples/fastapi-uv/uv.lock examples/fastapi-uv
fi

if want requirements; then
	say "requirements.txt of examples/django-gunicorn"
	mklock -header "regenerate: integration/testbed/relock.sh requirements" \
		-requirements examples/django-gunicorn/requirements.txt examples/django-gunicorn/requirements.in
fi

# Poetry resolves for every platform and Python its constraint allows, so
# the index must hold what the project needs on any of them (colorama for
# click on Windows). The index is added as the primary source of a copy of
# pyproject.toml inside the rootfs: the example's own pyproject.toml names no
# index (users lock against PyPI or their own), and only poetry.lock comes back.
relock_poetry() {
	local ex=$REPO/examples/poetry-app
	local R
	mkdir -p "$DISTILL_WORK/tmp"
	R=$(mktemp -d "$DISTILL_WORK/tmp/relock-poetry.XXXXXX")
	cleanup_rootfs() {
		local m
		# nothing is mounted by this script; this only guards against a chroot left busy
		for m in $(findmnt -rn -o TARGET | grep -F "$R" | sort -r); do umount -l "$m" || true; done
		rm -rf --one-file-system "$R"
	}
	trap cleanup_rootfs EXIT
	# images/lib.sh: the machine's own apt sources (apt_mirrors) and mmdeb
	(
		W=$DISTILL_WORK NAME=relock-poetry SUITE=trixie
		# shellcheck source=images/lib.sh
		. "$HERE/images/lib.sh"
		apt_mirrors
		mmdeb python3-poetry ca-certificates
	) || fail "mmdebstrap of trixie with python3-poetry"
	mkdir -p "$R/dev" "$R/src/poetry-app"
	[ -e "$R/dev/null" ] || mknod -m 666 "$R/dev/null" c 1 3
	cp "$ex/pyproject.toml" "$R/src/poetry-app/"
	# env -i: this machine's shell sets PIP_* and PYTHON*, which would leak into Poetry
	env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
		POETRY_NO_INTERACTION=1 POETRY_CACHE_DIR=/tmp/poetry-cache POETRY_VIRTUALENVS_CREATE=false \
		PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring \
		/usr/sbin/chroot "$R" /bin/sh -ec '
			cd /src/poetry-app
			poetry --version
			poetry source add --priority=primary testbed "$1/"
			poetry lock
			poetry check --lock
		' relock "$INDEX" >&2 || fail "poetry lock"
	cp "$R/src/poetry-app/poetry.lock" "$ex/poetry.lock"
	say "wrote examples/poetry-app/poetry.lock ($(grep -c '^\[\[package\]\]' "$ex/poetry.lock") packages)"
	cleanup_rootfs
	trap - EXIT
}

if want poetry; then
	say "poetry.lock of examples/poetry-app (mmdebstrap trixie + python3-poetry)"
	relock_poetry
fi
# pip lock (experimental in pip 25.1) locks for the Python and platform it
# runs on: here CPython 3.13 on linux/x86_64, the builder stand-in's pip
# 25.1.1. Its input is a requirements file made from [project].dependencies
# of the example's pyproject.toml, not the project directory: `pip lock .`
# builds the project's metadata and locks the project itself as a
# [packages.directory] entry, which distill would then install from the
# context, while the example says [tool.uv] package = false (only its
# dependencies are installed). The stand-in rootfs is shared, so it is never
# written: pip runs in a private mount namespace (the mounts end with it)
# where a throwaway directory is the rootfs's /tmp and a tmpfs /dev holds the
# devices Python needs, under env -i (this machine's shell sets PIP_*) as a
# passwd-less uid, as integration/cmd/debwheel's TestRealWheelsInBuilder does.
relock_pylock() {
	local ex=$REPO/examples/fastapi-uv
	local fx=$REPO/integration/testdata/pylock-fastapi
	local root=$DISTILL_WORK/fixtures/python-3.13-slim-trixie/rootfs
	local T
	[ -x "$root/usr/local/bin/python3.13" ] || fail "no builder stand-in rootfs at $root: run integration/testbed/testbed.sh setup"
	mkdir -p "$DISTILL_WORK/tmp"
	cp "$ex/pyproject.toml" "$fx/pyproject.toml"
	T=$(mktemp -d "$DISTILL_WORK/tmp/relock-pylock.XXXXXX")
	# shellcheck disable=SC2064 # expand T now
	trap "rm -rf --one-file-system '$T'" EXIT
	chmod 1777 "$T"
	mkdir "$T/project"
	cp "$fx/pyproject.toml" "$T/project/"
	chown -R 10001:10001 "$T/project"
	# run inside the rootfs as uid 10001, with the index URL as $1
	local script
	script=$(
		cat <<'EOF'
cd /tmp/project
python3 -m pip --version
python3 - >/tmp/requirements.in <<'PY'
import tomllib
with open("pyproject.toml", "rb") as f:
    print(*tomllib.load(f)["project"]["dependencies"], sep="\n")
PY
cat /tmp/requirements.in
python3 -m pip --disable-pip-version-check --no-cache-dir lock --index-url "$1/" -r /tmp/requirements.in -o pylock.toml
EOF
	)
	unshare --mount --propagation private /bin/sh -ec '
		R=$1 T=$2
		mount --bind "$T" "$R/tmp"
		mount -t tmpfs -o mode=755,size=1m relock-dev "$R/dev"
		for d in null zero random urandom; do : >"$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
		exec env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8 PIP_CONFIG_FILE=/dev/null \
			/usr/sbin/chroot --userspec=10001:10001 "$R" /bin/sh -ec "$4" relock "$3"
	' relock "$root" "$T" "$INDEX" "$script" >&2 || fail "pip lock"
	cp "$T/project/pylock.toml" "$fx/pylock.toml"
	rm -rf --one-file-system "$T"
	trap - EXIT
	say "wrote integration/testdata/pylock-fastapi/pylock.toml ($(grep -c '^\[\[packages\]\]' "$fx/pylock.toml") packages)"
}

if want pylock; then
	say "pylock.toml of integration/testdata/pylock-fastapi (pip lock in the builder stand-in)"
	relock_pylock
fi
say "done; review with: git diff --stat examples/ integration/testdata/"
