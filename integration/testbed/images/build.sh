#!/usr/bin/env bash
# Build the test bed's stand-in base images from Debian packages and push them to $REG.
#
#   build.sh all | build.sh <name>... | build.sh list
#   build.sh apt SUITE    (re)fetch the lists of SUITE's private apt dir $DISTILL_WORK/apt/SUITE
#                         (the test bed's real wheels take trixie .debs through it)
#
# Env: REG (plain-http registry, e.g. localhost:5000), DISTILL_WORK (default <repo>/.work),
#      PATH with crane (default $DISTILL_WORK/bin is prepended), optional DISTILL_IMAGES_JOBS (parallel
#      builds, default 4), DISTILL_APT_MIRROR / DISTILL_APT_SECURITY_MIRROR (default: this machine's
#      apt sources).
# Each image is built under $DISTILL_WORK/fixtures/<name>/ (rootfs/, layer.tar) and cached by the
# hash of its recipe (recipes/<name>.sh + lib.sh + the standin helper's Go source + suite + extra
# inputs); the push is skipped when the registry already serves the digest pushed last time. Needs
# root (chroot, mknod, chown). The standin helper (integration/cmd/standin: the venv checks' wheel,
# the static Go checks) is built once per run into $DISTILL_WORK/bin with this machine's Go.
set -euo pipefail
# Everything runs from main(), called on the last line: bash reads a script while running it, so
# an edit to this file during a run must not change the run.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ALL=(golang-1.26-bookworm python-3.13-slim-trixie python-3.11-slim-bookworm chainguard-python-dev
     distroless-python3-debian13 distroless-python3-debian12 chainguard-python distroless-static-debian13)

usage() { echo "usage: $0 all | list | apt SUITE | <name>...   (names: ${ALL[*]})" >&2; exit 2; }

recipe_hash() {  # recipe text + shared helpers + standin source + suite + the recipe's extra inputs
  ( source "$HERE/recipes/$1.sh"
    { cat "$HERE/lib.sh" "$HERE/recipes/$1.sh" "$REPO"/integration/cmd/standin/*.go; echo "suite=$SUITE"; if declare -F extra_inputs >/dev/null; then extra_inputs; fi; } \
      | sha256sum | cut -d' ' -f1 )
}

# one image: build (unless cached) + push (unless the registry has it). Runs in its own process.
job() {
  NAME=$1; F=$W/fixtures/$NAME; R=$F/rootfs
  source "$HERE/recipes/$NAME.sh"
  A=$W/apt/$SUITE
  local h img=$REG/$IMAGE t0=$SECONDS d
  h=$(recipe_hash "$NAME")
  if [ "$(cat "$F/recipe.sha256" 2>/dev/null)" = "$h" ] && [ -s "$F/layer.tar" ]; then
    log "cached (recipe ${h:0:12})"
  else
    log "building (recipe ${h:0:12})"
    rm -f "$F/recipe.sha256" "$F/pushed"; rm -rf "$R"; mkdir -p "$F"
    apt_setup "$SUITE"
    build_rootfs
    tar_layer "$F/layer.tar" "$TAR_MTIME"
    echo "$h" > "$F/recipe.sha256"
    log "built in $((SECONDS - t0))s: $(du -sh "$F/layer.tar" | cut -f1) layer"
  fi
  d=$(crane --insecure digest "$img" 2>/dev/null || true)
  if [ -n "$d" ] && [ "$(cat "$F/pushed" 2>/dev/null)" = "$h $d" ]; then
    log "registry has $img@$d"
    return 0
  fi
  t0=$SECONDS
  image_config
  crane --insecure append --oci-empty-base -f "$F/layer.tar" -t "$img" >/dev/null
  # crane append leaves os/architecture empty: without --set-platform, export fails (missing architecture)
  crane --insecure mutate "$img" --set-platform linux/amd64 "${CONFIG[@]}" \
    -l "dev.distill.testbed.stand-in=$NAME" -l "dev.distill.testbed.recipe=$h" -t "$img" >/dev/null
  d=$(crane --insecure digest "$img")
  echo "$h $d" > "$F/pushed"
  log "pushed $img@$d in $((SECONDS - t0))s"
}

declare -A PIDS=()
fail=0
reap() {  # wait for one job, report it
  local pid n rc
  wait -n -p pid "${!PIDS[@]}" && rc=0 || rc=$?
  n=${PIDS[$pid]}; unset "PIDS[$pid]"
  if [ $rc -ne 0 ]; then
    fail=1; echo "=== $n FAILED (rc $rc), last lines of $W/logs/images/$n.log:" >&2
    tail -25 "$W/logs/images/$n.log" >&2
  fi
}

main() {
  [ $# -gt 0 ] || usage
  REPO=$(cd "$HERE/../../.." && pwd)
  export W=${DISTILL_WORK:-$REPO/.work}
  export PATH=$W/bin:$PATH
  case $1 in
    all) set -- "${ALL[@]}" ;;
    list) for n in "${ALL[@]}"; do (source "$HERE/recipes/$n.sh"; echo "$n $IMAGE"); done; return 0 ;;
    apt)
      [ $# -eq 2 ] || usage
      mkdir -p "$W/apt"
      # shellcheck source=lib.sh
      NAME=apt-$2; source "$HERE/lib.sh"
      apt_mirrors
      RUN_ID="apt-$$-$(date +%s%N)" apt_setup "$2"
      return 0 ;;
  esac
  local n
  for n in "$@"; do [ -f "$HERE/recipes/$n.sh" ] || usage; done
  REG=${REG:?set REG, e.g. localhost:5000}
  JOBS=${DISTILL_IMAGES_JOBS:-4}
  export RUN_ID="$$-$(date +%s%N)"
  [ "$(id -u)" = 0 ] || { echo "build.sh: needs root (chroot, mknod, chown)" >&2; exit 1; }
  command -v crane >/dev/null || { echo "build.sh: crane not in PATH (expected at $W/bin/crane)" >&2; exit 1; }
  if ! command -v mmdebstrap >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
  fi
  mkdir -p "$W"/{bin,fixtures,tmp,logs/images,apt,debs}
  # one build.sh per work dir at a time (a second one waits, then finds everything cached)
  exec 8>"$W/fixtures/.build.lock"
  flock -w 1800 8 || { echo "build.sh: $W/fixtures/.build.lock is held by another build.sh" >&2; exit 1; }

  # shellcheck source=lib.sh
  source "$HERE/lib.sh"
  apt_mirrors; export MIRROR SECMIRROR
  command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
  export STANDIN=$W/bin/standin
  (cd "$REPO" && env -u GOFLAGS CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -o "$STANDIN" ./integration/cmd/standin) \
    || { echo "build.sh: building the standin helper (integration/cmd/standin) failed" >&2; exit 1; }

  local start=$SECONDS
  exec 3>&2; export LOG_FD=3   # log() lines also go to the console
  for n in "$@"; do
    while [ ${#PIDS[@]} -ge "$JOBS" ]; do reap; done
    ( job "$n" ) >"$W/logs/images/$n.log" 2>&1 &
    PIDS[$!]=$n
  done
  while [ ${#PIDS[@]} -gt 0 ]; do reap; done
  [ $fail = 0 ] || { echo "build.sh: some images failed (logs in $W/logs/images/)" >&2; exit 1; }
  echo "build.sh: $* done in $((SECONDS - start))s" >&2
  for n in "$@"; do (source "$HERE/recipes/$n.sh"; echo "$REG/$IMAGE@$(cut -d' ' -f2 "$W/fixtures/$n/pushed")"); done
}

main "$@"
