#!/usr/bin/env bash
# The real-engine test bed (integration/testbed/README.md): builds integration/cmd/testbed into
# $DISTILL_WORK/bin (under a lock; replaced atomically, only when its sources changed) and runs it.
#   testbed.sh setup | up | down | env [-json] | with CMD... | frontend-image | status | help
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v go >/dev/null || export PATH=/usr/local/go/bin:$PATH
B=${DISTILL_WORK:-$REPO/.work}/bin && mkdir -p "$B"
( flock -w 600 9 && cd "$REPO" && CGO_ENABLED=0 go build -trimpath -o "$B/.testbed.build" ./integration/cmd/testbed &&
	{ cmp -s "$B/.testbed.build" "$B/testbed" || { cp "$B/.testbed.build" "$B/.testbed.tmp" && mv -f "$B/.testbed.tmp" "$B/testbed"; }; }
) 9>"$B/.testbed.lock" || { echo "testbed.sh: building integration/cmd/testbed failed" >&2; exit 1; }
exec "$B/testbed" -repo "$REPO" "$@"
