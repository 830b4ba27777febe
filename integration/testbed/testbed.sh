#!/usr/bin/env bash
# The real-engine test bed: a local registry, buildkitd (OCI worker, runc) and a
# loopback Python package index, all on 127.0.0.1 and all state under
# $DISTILL_WORK (default <repo>/.work). See integration/testbed/README.md.
#
#   testbed.sh setup           install OS packages, build tools, real wheels, build+push stand-in images (idempotent)
#   testbed.sh up              start what is not running, push stand-ins, (re)build the frontend image (idempotent)
#   testbed.sh down            stop everything this work dir runs
#   testbed.sh env             print the shell exports for the test bed
#   testbed.sh with CMD...     up, run CMD with the env, stop what `up` had to start (the last of
#                              concurrent `with` runs does); exit with CMD's status
#   testbed.sh frontend-image  build and push the frontend image from the repo's Dockerfile
#   testbed.sh status          show what is running
#
# Environment: DISTILL_WORK, DISTILL_REGISTRY_PORT (5000), DISTILL_INDEX_PORT (3141),
# DISTILL_SKIP_IMAGES=1 (setup/up do not build or push the stand-in images),
# DISTILL_SKIP_FRONTEND=1 (up does not build the frontend image),
# DISTILL_SKIP_REALWHEELS=1 (setup does not repack the real wheels from Debian .debs),
# DISTILL_FRONTEND_GOPROXY (GOPROXY for the frontend image build; default: the
# host's module cache served by the index at /goproxy/).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; }

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
setup)          tb_setup ;;
up)             tb_up ;;
down)           tb_down ;;
env)            tb_env ;;
with)           tb_with "$@" ;;
frontend-image) tb_frontend_image ;;
status)         tb_status ;;
-h|--help|help) usage ;;
*)              usage; exit 2 ;;
esac
