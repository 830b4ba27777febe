# shellcheck shell=bash
# Functions behind testbed.sh. Sourced, never run; expects REPO to be set.

# ---------------------------------------------------------------- settings

command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH

DISTILL_WORK=${DISTILL_WORK:-$REPO/.work}
mkdir -p "$DISTILL_WORK"
DISTILL_WORK=$(cd "$DISTILL_WORK" && pwd)
export DISTILL_WORK

REG_PORT=${DISTILL_REGISTRY_PORT:-5000}
IDX_PORT=${DISTILL_INDEX_PORT:-3141}
REG=localhost:$REG_PORT
BUILDX_VERSION=v0.38.2         # not in go.mod: buildx is only a test client
BUILDX_BUILDER=distill-testbed
FRONTEND_REPO=distill-build/distill
FRONTEND_TAG=dev
FRONTEND_NAME=ghcr.io/$FRONTEND_REPO:$FRONTEND_TAG   # resolves to $REG through the ghcr.io mirror
# Also tagged as the major version that README.md and examples/ name
# (`# syntax=ghcr.io/distill-build/distill:1`), so unchanged examples build.
FRONTEND_ALIASES=(1)

BIN=$DISTILL_WORK/bin
RUN=$DISTILL_WORK/run
LOGS=$DISTILL_WORK/logs
CONF=$DISTILL_WORK/conf
STAMPS=$DISTILL_WORK/stamps
WHEELS=$DISTILL_WORK/wheels
IMAGES_SH=$REPO/integration/testbed/images/build.sh
REALWHEELS_LIST=$REPO/integration/testbed/realwheels.txt

export PATH=$BIN:$PATH
export DOCKER_CONFIG=$DISTILL_WORK/docker
export BUILDKIT_HOST=unix://$RUN/buildkitd.sock

# APT packages: runc (OCI worker runtime), mmdebstrap (stand-in rootfs),
# docker-registry (Debian's distribution registry; keeps tags across restarts),
# curl (readiness probes), git (source hash of the frontend image).
APT_PACKAGES=(runc mmdebstrap docker-registry curl git ca-certificates)

# ---------------------------------------------------------------- helpers

log() { printf 'testbed: %s\n' "$*" >&2; }
die() { printf 'testbed: error: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# timed LABEL CMD... : run CMD and log how long it took
timed() {
	local label=$1 t0 rc=0
	shift
	t0=$(now)
	"$@" || rc=$?
	log "$label: $(since "$t0")$([ $rc -eq 0 ] || echo " (failed, exit $rc)")"
	return $rc
}

tail_log() { # FILE
	[ -f "$1" ] || return 0
	printf -- '---- last lines of %s ----\n' "$1" >&2
	tail -n 30 "$1" >&2
	printf -- '----\n' >&2
}

dirs() { mkdir -p "$BIN" "$RUN" "$LOGS" "$CONF" "$STAMPS" "$WHEELS" "$DISTILL_WORK/registry" "$DISTILL_WORK/buildkit" "$DOCKER_CONFIG/cli-plugins"; }

# with_lock CMD... : serialize up/down/setup of one work dir
with_lock() {
	dirs
	exec 9>"$RUN/lock"
	if ! flock -n 9; then
		log "waiting for another testbed.sh in $DISTILL_WORK (lock $RUN/lock)"
		flock -w 1800 9 || die "another testbed.sh held $RUN/lock for 30 min"
	fi
	"$@"
	flock -u 9
}

# ---------------------------------------------------------------- setup: OS packages

apt_missing() {
	local p
	for p in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
	done
}

setup_apt() {
	local missing
	missing=$(apt_missing | tr '\n' ' ')
	if [ -z "${missing// /}" ]; then
		log "apt: all present (${APT_PACKAGES[*]})"
		return
	fi
	[ "$(id -u)" = 0 ] || die "need root to install: $missing"
	log "apt: installing $missing"
	# Keep package scripts from starting services (docker-registry would take :5000).
	local own_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=1
	fi
	local rc=0
	{
		apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >"$LOGS/apt.log" 2>&1
	} || rc=$?
	[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
	[ $rc -eq 0 ] || { tail_log "$LOGS/apt.log"; die "apt-get install failed"; }
	# The package enables a system service on :5000; the test bed runs its own.
	if [[ " $missing " == *" docker-registry "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
	fi
}

# ---------------------------------------------------------------- setup: Go tools

# modver MODULE : the version the repo's go.mod pins
modver() {
	(cd "$REPO" && GOWORK=off go list -m -f '{{.Version}}' "$1")
}

# moddir MODULE VERSION : download (outside any module, so no go.mod/go.sum is touched) and print the dir
moddir() {
	(cd / && GOWORK=off GOFLAGS= go mod download "$1@$2") >&2
	printf '%s/%s@%s\n' "$(go env GOMODCACHE)" "$1" "$2"
}

has_version() { # BINARY VERSION ARGS... : does `BINARY ARGS` mention VERSION?
	local b=$1 v=$2
	shift 2
	[ -x "$BIN/$b" ] && "$BIN/$b" "$@" 2>/dev/null | grep -qwF -- "$v"
}

build_buildkit() {
	local v=$1
	if has_version buildkitd "$v" --version && has_version buildctl "$v" --version; then
		log "buildkitd/buildctl $v: present"
		return
	fi
	local dir
	dir=$(moddir github.com/moby/buildkit "$v") || return 1
	# `go install ...@v` is refused (buildkit's go.mod has exclude directives): build in the module dir.
	(cd "$dir" && GOWORK=off GOFLAGS= CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X github.com/moby/buildkit/version.Version=$v" \
		-o "$BIN/" ./cmd/buildkitd ./cmd/buildctl)
}

build_crane() {
	local v=$1
	if has_version crane "$v" version; then
		log "crane $v: present"
		return
	fi
	local dir
	dir=$(moddir github.com/google/go-containerregistry "$v") || return 1
	(cd "$dir" && GOWORK=off GOFLAGS= CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$v" \
		-o "$BIN/crane" ./cmd/crane)
}

build_buildx() {
	if ! has_version buildx "$BUILDX_VERSION" version; then
		(cd / && GOWORK=off GOFLAGS= CGO_ENABLED=0 GOBIN="$BIN" go install -trimpath \
			-ldflags "-s -w -X github.com/docker/buildx/version.Version=$BUILDX_VERSION" \
			"github.com/docker/buildx/cmd/buildx@$BUILDX_VERSION") || return 1
	else
		log "buildx $BUILDX_VERSION: present"
	fi
	# docker CLI plugin location (used as `docker buildx` when a docker CLI exists)
	local plugin=$DOCKER_CONFIG/cli-plugins/docker-buildx
	if ! cmp -s "$BIN/buildx" "$plugin"; then
		rm -f "$plugin" || return 1
		ln "$BIN/buildx" "$plugin" 2>/dev/null || cp "$BIN/buildx" "$plugin" || return 1
	fi
}

build_pyindex() {
	(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -o "$BIN/pyindex" ./integration/cmd/pyindex)
}

# logged NAME FUNC ARGS... : run FUNC with its output in $LOGS/NAME.log; tail it on failure
logged() {
	local name=$1 rc=0
	shift
	("$@") >"$LOGS/$name.log" 2>&1 9>&- || rc=$?
	[ $rc -eq 0 ] || [ -n "${LOGGED_QUIET:-}" ] || tail_log "$LOGS/$name.log"
	return $rc
}

setup_tools() {
	command -v go >/dev/null || die "go not found (expected on PATH or in /usr/local/go/bin)"
	local bk cr bxpid rc=0
	bk=$(modver github.com/moby/buildkit) || die "cannot read the buildkit version from go.mod"
	cr=$(modver github.com/google/go-containerregistry) || die "cannot read the go-containerregistry version from go.mod"
	# buildx downloads and compiles alongside buildkit; the Go caches are safe to share.
	timed "buildx $BUILDX_VERSION" logged build-buildx build_buildx &
	bxpid=$!
	timed "buildkitd+buildctl $bk" logged build-buildkit build_buildkit "$bk" || rc=1
	timed "crane $cr" logged build-crane build_crane "$cr" || rc=1
	timed "pyindex" logged build-pyindex build_pyindex || rc=1
	wait "$bxpid" || rc=1
	[ $rc -eq 0 ] || die "tool build failed (logs in $LOGS)"
}

# ---------------------------------------------------------------- setup: real wheels

# Real Python wheels (Flask, FastAPI, Django, numpy, the build backends ...)
# repacked from Debian trixie .debs by integration/cmd/debwheel into $WHEELS,
# beside pyindex's toy wheels. The list is realwheels.txt; the .debs come
# through images/lib.sh's private trixie apt directory and .deb pool.

build_debwheel() {
	(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -o "$BIN/debwheel" ./integration/cmd/debwheel)
}

# trixie_apt [refresh]: images/lib.sh's apt directory for trixie
# ($DISTILL_WORK/apt/trixie). Lists already there are used as they are (the
# stand-in builds refresh them); they are fetched when missing, or on refresh.
trixie_apt() {
	local a=$DISTILL_WORK/apt/trixie
	if [ -z "${1:-}" ] && [ -s "$a/apt.conf" ] && compgen -G "$a/state/lists/*_Packages" >/dev/null; then
		return 0
	fi
	# in a subshell: images/lib.sh brings its own log/die; a fresh RUN_ID makes apt_setup update
	(
		W=$DISTILL_WORK NAME=realwheels RUN_ID=realwheels-$$-$(date +%s%N)
		# shellcheck source=images/lib.sh
		. "$REPO/integration/testbed/images/lib.sh"
		apt_mirrors
		apt_setup trixie
	)
}

debwheel_run() {
	"$BIN/debwheel" -list "$REALWHEELS_LIST" -out "$WHEELS" -state "$DISTILL_WORK/debwheel" \
		-debs "$DISTILL_WORK/debs/trixie" -apt-config "$DISTILL_WORK/apt/trixie/apt.conf"
}

real_wheels() {
	build_debwheel || return 1
	trixie_apt || return 1
	local rc=0
	debwheel_run || rc=$?
	# 3: apt failed, e.g. a .deb replaced on the mirror since the lists were
	# fetched (a security update): refresh the lists, try once more
	if [ $rc -eq 3 ]; then
		echo "testbed: apt failed; refreshing the trixie lists and retrying"
		trixie_apt refresh || return 1
		rc=0
		debwheel_run || rc=$?
	fi
	return $rc
}

setup_real_wheels() {
	if [ -n "${DISTILL_SKIP_REALWHEELS:-}" ]; then
		log "real wheels: skipped (DISTILL_SKIP_REALWHEELS)"
		return 0
	fi
	timed "real wheels" logged realwheels real_wheels || die "real wheels failed (log: $LOGS/realwheels.log)"
	log "real wheels: $(tail -n 1 "$LOGS/realwheels.log" | sed 's/^debwheel: //')"
}

# ---------------------------------------------------------------- services

# Each service: NAME, a pid file $RUN/NAME.pid, a log $LOGS/NAME.log, a command
# and a readiness probe. Daemons run in their own session (setsid) so a Ctrl-C
# in the terminal that started them does not reach them; the pid file is
# written by the process itself right before exec, so it is the daemon's pid.

svc_pid() { cat "$RUN/$1.pid" 2>/dev/null || true; }

# pid_running PID : alive and not a zombie (an exited daemon stays a zombie until init reaps it)
pid_running() {
	kill -0 "$1" 2>/dev/null || return 1
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# svc_alive NAME : is the pid in NAME.pid alive and still the expected program?
svc_alive() {
	local pid
	pid=$(svc_pid "$1")
	[ -n "$pid" ] && pid_running "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(svc_prog "$1")"
}

svc_prog() {
	case $1 in
	registry) echo docker-registry ;;
	buildkitd) echo "$BIN/buildkitd" ;;
	pyindex) echo "$BIN/pyindex" ;;
	esac
}

probe() {
	case $1 in
	registry) curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$REG_PORT/v2/" ;;
	buildkitd) "$BIN/buildctl" --addr "$BUILDKIT_HOST" --timeout 2 debug workers >/dev/null ;;
	pyindex) curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$IDX_PORT/simple/" ;;
	esac
}

port_of() {
	case $1 in
	registry) echo "$REG_PORT" ;;
	pyindex) echo "$IDX_PORT" ;;
	*) echo ;;
	esac
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# svc_start NAME CMD... : start unless running; wait until it answers. Returns 0 if it
# was already running, 10 if it was started now.
svc_start() {
	local name=$1 pidf=$RUN/$1.pid logf=$LOGS/$1.log
	shift
	if svc_alive "$name"; then
		if probe "$name" 2>/dev/null; then
			return 0
		fi
		log "$name (pid $(svc_pid "$name")) is running but does not answer; waiting"
	else
		rm -f "$pidf"
		local port
		port=$(port_of "$name")
		if [ -n "$port" ] && port_busy "$port"; then
			die "$name: 127.0.0.1:$port is already in use by a process this work dir did not start ($DISTILL_WORK); stop it or set DISTILL_$( [ "$name" = registry ] && echo REGISTRY || echo INDEX)_PORT"
		fi
		setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" >"$logf" 2>&1 </dev/null 9>&- &
		disown $! 2>/dev/null || true
	fi
	local t0 deadline
	t0=$(now)
	deadline=$((SECONDS + 60))
	until probe "$name" 2>/dev/null; do
		if [ -f "$pidf" ] && ! svc_alive "$name"; then
			tail_log "$logf"
			die "$name exited during start-up (log: $logf)"
		fi
		if [ $SECONDS -ge $deadline ]; then
			tail_log "$logf"
			die "$name did not answer within 60s (log: $logf)"
		fi
		sleep 0.1
	done
	log "$name: started, pid $(svc_pid "$name"), ready in $(since "$t0")"
	return 10
}

# svc_stop NAME : TERM, wait up to 20s, KILL
svc_stop() {
	local name=$1 pid i
	if ! svc_alive "$name"; then
		rm -f "$RUN/$name.pid"
		return 0
	fi
	pid=$(svc_pid "$name")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		pid_running "$pid" || break
		sleep 0.1
	done
	if pid_running "$pid"; then
		log "$name (pid $pid) ignored TERM for 20s; killing"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			pid_running "$pid" || break
			sleep 0.1
		done
	fi
	rm -f "$RUN/$name.pid"
	[ "$name" != buildkitd ] || rm -f "$RUN/buildkitd.sock" "$RUN/buildkitd-otel.sock"
	log "$name: stopped (pid $pid)"
}

write_registry_config() {
	cat >"$CONF/registry.yml" <<EOF
# generated by integration/testbed/testbed.sh
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DISTILL_WORK/registry
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$REG_PORT
EOF
}

write_buildkitd_config() {
	local r h
	{
		cat <<EOF
# generated by integration/testbed/testbed.sh
root = "$DISTILL_WORK/buildkit"

[grpc]
  address = ["$BUILDKIT_HOST"]

[otel]
  socketPath = "$RUN/buildkitd-otel.sock"

[cdi]
  disabled = true

[history]
  maxAge = "24h"
  maxEntries = 200

[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  networkMode = "host"
  gc = true
  reservedSpace = "1GB"
  maxUsedSpace = "10GB"
  minFreeSpace = "2GB"

[worker.containerd]
  enabled = false

EOF
		# Real names resolve to the local registry unchanged.
		for r in docker.io gcr.io cgr.dev ghcr.io; do
			printf '[registry."%s"]\n  mirrors = ["%s"]\n\n' "$r" "$REG"
		done
		for h in "$REG" "127.0.0.1:$REG_PORT"; do
			printf '[registry."%s"]\n  http = true\n  insecure = true\n\n' "$h"
		done
	} >"$CONF/buildkitd.toml.new"
	if [ -f "$CONF/buildkitd.toml" ] && ! cmp -s "$CONF/buildkitd.toml" "$CONF/buildkitd.toml.new" && svc_alive buildkitd; then
		log "buildkitd.toml changed while buildkitd runs; run 'testbed.sh down' to apply it"
	fi
	mv "$CONF/buildkitd.toml.new" "$CONF/buildkitd.toml"
}

need_tools() {
	local t
	for t in buildkitd buildctl crane; do
		[ -x "$BIN/$t" ] || die "$BIN/$t missing: run 'testbed.sh setup' first"
	done
	command -v docker-registry >/dev/null || die "docker-registry missing: run 'testbed.sh setup' first"
	command -v runc >/dev/null || die "runc missing: run 'testbed.sh setup' first"
}

# STARTED: services started by this invocation (for `with`)
STARTED=()

start_registry() {
	write_registry_config
	local rc=0
	svc_start registry docker-registry serve "$CONF/registry.yml" || rc=$?
	[ $rc -eq 10 ] && STARTED+=(registry)
	[ $rc -eq 0 ] || [ $rc -eq 10 ] || exit $rc
}

start_buildkitd() {
	write_buildkitd_config
	local rc=0
	svc_start buildkitd "$BIN/buildkitd" --config "$CONF/buildkitd.toml" || rc=$?
	[ $rc -eq 10 ] && STARTED+=(buildkitd)
	[ $rc -eq 0 ] || [ $rc -eq 10 ] || exit $rc
}

start_pyindex() {
	local rc=0
	# rebuild (cheap when cached) so source changes take effect on the next start
	if ! svc_alive pyindex; then
		logged build-pyindex build_pyindex || die "pyindex build failed"
		logged pyindex-generate "$BIN/pyindex" -generate -dir "$WHEELS" || die "pyindex -generate failed"
	fi
	svc_start pyindex "$BIN/pyindex" -dir "$WHEELS" -addr "127.0.0.1:$IDX_PORT" \
		-goproxy "$(go env GOMODCACHE)/cache/download" || rc=$?
	[ $rc -eq 10 ] && STARTED+=(pyindex)
	[ $rc -eq 0 ] || [ $rc -eq 10 ] || exit $rc
}

stop_started() { # stop STARTED in reverse order
	local i
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
		svc_stop "${STARTED[$i]}"
	done
	[[ " ${STARTED[*]} " != *" buildkitd "* ]] || cgroup_cleanup
	STARTED=()
}

# runc leaves empty /sys/fs/cgroup/*/buildkit dirs; rmdir only removes empty ones
cgroup_cleanup() {
	local d
	for d in /sys/fs/cgroup/buildkit /sys/fs/cgroup/*/buildkit; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# ---------------------------------------------------------------- stand-in images

push_images() {
	[ -z "${DISTILL_SKIP_IMAGES:-}" ] || return 0
	if [ ! -x "$IMAGES_SH" ]; then
		log "warning: $IMAGES_SH not found: stand-in base images not built"
		return 0
	fi
	timed "stand-in images" logged images env REG="$REG" DISTILL_WORK="$DISTILL_WORK" PATH="$PATH" "$IMAGES_SH" all && return 0
	# fatal for setup; for up a warning, the images that did build are usable
	[ "${1:-}" = warn ] || die "stand-in images failed (log: $LOGS/images.log)"
	log "WARNING: some stand-in images failed; builds from them will fail (log: $LOGS/images.log)"
}

# ---------------------------------------------------------------- frontend image

# Hash of everything that goes into the frontend binary: the main module's Go
# and embedded files of ./cmd/distill, go.mod, go.sum, Dockerfile, .dockerignore.
frontend_source_hash() {
	(
		cd "$REPO"
		local files
		files=$(GOFLAGS= go list -deps -f '{{if and .Module .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}
{{end}}{{end}}' ./cmd/distill 2>/dev/null) ||
			# does not compile (yet): hash every non-ignored file
			files=$(git ls-files -co --exclude-standard 2>/dev/null | grep -v '^integration/' || true)
		{
			printf '%s\n' "$files" go.mod go.sum Dockerfile .dockerignore | sed "s|^$REPO/||" | sort -u |
				while read -r f; do [ -f "$f" ] && printf '%s  %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"; done
			echo "goproxy=${DISTILL_FRONTEND_GOPROXY:-}"
		} | sha256sum | cut -d' ' -f1
	)
}

tb_frontend_image() {
	need_tools
	probe registry 2>/dev/null || die "registry not answering on $REG: run 'testbed.sh up' first"
	probe buildkitd 2>/dev/null || die "buildkitd not answering on $BUILDKIT_HOST: run 'testbed.sh up' first"
	[ -f "$REPO/Dockerfile" ] || die "no Dockerfile in $REPO"
	local hash args=() v goproxy
	hash=$(frontend_source_hash)
	# The build container fetches modules from the host's module cache through
	# the index's /goproxy/ (plain HTTP on loopback): it gets exactly the
	# sources the host has, and needs neither the internet nor the host's TLS
	# trust store (a machine behind a TLS-inspecting proxy has a CA the
	# stand-in golang image lacks). The host fills its cache first, from its
	# configured GOPROXY. DISTILL_FRONTEND_GOPROXY overrides, e.g. with
	# "$(go env GOPROXY)".
	goproxy=${DISTILL_FRONTEND_GOPROXY:-http://127.0.0.1:$IDX_PORT/goproxy}
	if [ -z "${DISTILL_FRONTEND_GOPROXY:-}" ]; then
		probe pyindex 2>/dev/null || { log "error: package index not answering on 127.0.0.1:$IDX_PORT: run 'testbed.sh up' first"; return 1; }
		timed "go mod download (host)" logged frontend-gomod bash -c 'cd "$1" && GOFLAGS=-mod=readonly go mod download' _ "$REPO" ||
			{ log "error: go mod download failed (log: $LOGS/frontend-gomod.log)"; return 1; }
	fi
	args+=(--opt "build-arg:GOPROXY=$goproxy" --opt "build-arg:VERSION=$FRONTEND_TAG")
	[ -z "$(go env GOPRIVATE)" ] || args+=(--opt "build-arg:GOPRIVATE=$(go env GOPRIVATE)")
	log "frontend image: building $REG/$FRONTEND_REPO:$FRONTEND_TAG (log: $LOGS/frontend-image.log)"
	if ! LOGGED_QUIET=1 timed "frontend image" logged frontend-image fe_build "$(go env GONOSUMDB)" "${args[@]}"; then
		tail_log "$LOGS/frontend-image.log"
		return 1
	fi
	echo "$hash" >"$STAMPS/frontend-image"
	tag_frontend_aliases || return 1
	log "frontend image: pushed $(crane digest --insecure "$REG/$FRONTEND_REPO:$FRONTEND_TAG" 2>/dev/null), use it as $FRONTEND_NAME"
}

fe_build() { # GONOSUMDB ARGS...
	local gonosumdb=$1
	shift
	"$BIN/buildctl" --addr "$BUILDKIT_HOST" build --progress=plain \
		--frontend dockerfile.v0 --local "context=$REPO" --local "dockerfile=$REPO" "$@" \
		${gonosumdb:+--opt "build-arg:GONOSUMDB=${gonosumdb#,}"} \
		--output "type=image,name=$REG/$FRONTEND_REPO:$FRONTEND_TAG,push=true"
}

tag_frontend_aliases() {
	local a want
	want=$(crane digest --insecure "$REG/$FRONTEND_REPO:$FRONTEND_TAG") || return 1
	for a in "${FRONTEND_ALIASES[@]}"; do
		[ "$(crane digest --insecure "$REG/$FRONTEND_REPO:$a" 2>/dev/null)" = "$want" ] && continue
		crane tag --insecure "$REG/$FRONTEND_REPO:$FRONTEND_TAG" "$a" >/dev/null 2>&1 ||
			{ log "error: crane tag $REG/$FRONTEND_REPO:$FRONTEND_TAG $a failed"; return 1; }
	done
}

ensure_frontend_image() {
	if [ -n "${DISTILL_SKIP_FRONTEND:-}" ]; then
		return 0
	fi
	if [ ! -f "$REPO/Dockerfile" ] || [ ! -d "$REPO/cmd/distill" ]; then
		log "warning: no Dockerfile or cmd/distill yet: frontend image not built"
		return 0
	fi
	local hash
	hash=$(frontend_source_hash)
	if crane digest --insecure "$REG/$FRONTEND_REPO:$FRONTEND_TAG" >/dev/null 2>&1 &&
		[ "$(cat "$STAMPS/frontend-image" 2>/dev/null)" = "$hash" ]; then
		tag_frontend_aliases || log "WARNING: could not tag the frontend image aliases (${FRONTEND_ALIASES[*]})"
		return 0
	fi
	# Not fatal for `up`: the rest of the test bed is useful while the frontend does not build.
	tb_frontend_image ||
		log "WARNING: the frontend image did not build; '# syntax=$FRONTEND_NAME' builds will fail (log: $LOGS/frontend-image.log)"
}

# ---------------------------------------------------------------- buildx builder

ensure_buildx_builder() {
	[ -x "$BIN/buildx" ] || { log "warning: buildx missing: no buildx builder"; return 0; }
	if "$BIN/buildx" inspect "$BUILDX_BUILDER" >/dev/null 2>&1; then
		return 0
	fi
	"$BIN/buildx" create --name "$BUILDX_BUILDER" --driver remote --use "$BUILDKIT_HOST" >"$LOGS/buildx-create.log" 2>&1 ||
		{ tail_log "$LOGS/buildx-create.log"; die "buildx create failed"; }
	log "buildx: builder $BUILDX_BUILDER -> $BUILDKIT_HOST"
}

remove_buildx_builder() {
	[ -x "$BIN/buildx" ] || return 0
	if "$BIN/buildx" inspect "$BUILDX_BUILDER" >/dev/null 2>&1; then
		"$BIN/buildx" rm "$BUILDX_BUILDER" >/dev/null 2>&1 || true
	fi
}

# ---------------------------------------------------------------- env

env_lines() {
	local k
	for k in DISTILL_WORK BUILDKIT_HOST DOCKER_CONFIG; do
		printf 'export %s=%q\n' "$k" "${!k}"
	done
	printf 'export BUILDX_BUILDER=%q\n' "$BUILDX_BUILDER"
	printf 'export DISTILL_REGISTRY=%q\n' "$REG"
	printf 'export DISTILL_INDEX_URL=%q\n' "http://127.0.0.1:$IDX_PORT/simple"
	printf 'export DISTILL_INDEX_LOG=%q\n' "$LOGS/pyindex.log"
	printf 'export DISTILL_FRONTEND=%q\n' "$FRONTEND_NAME"
	# unquoted: an assignment is not word-split, and simple parsers (the Go
	# tests read this file) need no quote handling
	printf 'export PATH=%q:$PATH\n' "$BIN"
}

tb_env() { env_lines; }

# ---------------------------------------------------------------- subcommands

do_setup() {
	local t0
	t0=$(now)
	dirs
	timed "apt" setup_apt
	setup_tools
	setup_real_wheels
	# the stand-ins are pushed, so the registry must run; stop it again if setup started it
	need_tools
	trap stop_started EXIT
	start_registry
	push_images
	stop_started
	trap - EXIT
	log "setup done in $(since "$t0")"
}
tb_setup() { with_lock do_setup; }

do_up() {
	local t0
	t0=$(now)
	need_tools
	start_registry
	start_buildkitd
	start_pyindex
	env_lines >"$DISTILL_WORK/testbed.env"
	ensure_buildx_builder
	push_images warn
	ensure_frontend_image
	log "up in $(since "$t0") (env: $DISTILL_WORK/testbed.env)"
}
# An explicit `up` means "keep running": services a `with` handed over stay up.
tb_up() { with_lock up_keep; }
up_keep() {
	rm -f "$RUN/handed-over"
	do_up
}

do_down() {
	remove_buildx_builder
	local s
	for s in pyindex buildkitd registry; do svc_stop "$s"; done
	rm -f "$RUN/handed-over"
	cgroup_cleanup
}
tb_down() { with_lock do_down; }

tb_status() {
	local s
	for s in registry buildkitd pyindex; do
		if svc_alive "$s"; then
			printf '%-10s running, pid %s%s\n' "$s" "$(svc_pid "$s")" "$(probe "$s" 2>/dev/null && echo ", answering" || echo ", NOT answering")"
		else
			printf '%-10s stopped\n' "$s"
		fi
	done
}

tb_with() {
	[ $# -gt 0 ] || die "usage: testbed.sh with CMD..."
	local rc=0 created_builder=
	# shellcheck disable=SC2317
	on_exit() {
		local rc=$?
		trap - EXIT INT TERM
		with_lock with_release "$created_builder"
		exit $rc
	}
	local child=
	# On INT/TERM: pass TERM on to CMD, give it 10s, then clean up (EXIT trap).
	# shellcheck disable=SC2317
	on_signal() {
		if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
			kill -TERM "$child" 2>/dev/null || true
			local i
			for ((i = 0; i < 100; i++)); do
				kill -0 "$child" 2>/dev/null || break
				sleep 0.1
			done
		fi
		exit "$1"
	}
	trap on_exit EXIT
	trap 'on_signal 130' INT
	trap 'on_signal 143' TERM
	"$BIN/buildx" inspect "$BUILDX_BUILDER" >/dev/null 2>&1 || created_builder=1
	with_lock with_acquire
	# shellcheck disable=SC1091
	eval "$(env_lines)"
	log "with: running $*"
	# in the background (stdin kept) so a signal to this script is handled at once
	"$@" <&0 &
	child=$!
	wait "$child" || rc=$?
	child=
	exit $rc
}

# Several `with` runs may share one work dir (two `make test` at once). Each
# registers as a user; the services a `with` started are stopped by the last
# user to leave, so nobody loses the engine in the middle of a run.
with_acquire() {
	do_up
	echo $$ >"$RUN/with.$$"
}

with_release() { # CREATED_BUILDER
	local f pid others=() s
	rm -f "$RUN/with.$$"
	for f in "$RUN"/with.*; do
		[ -e "$f" ] || continue
		pid=${f##*.}
		if pid_running "$pid"; then others+=("$pid"); else rm -f "$f"; fi
	done
	if [ ${#others[@]} -gt 0 ]; then
		if [ ${#STARTED[@]} -gt 0 ]; then
			printf '%s\n' "${STARTED[@]}" >>"$RUN/handed-over"
			log "with: leaving ${STARTED[*]} running for testbed.sh with (pid ${others[*]})"
		fi
		STARTED=()
		return 0
	fi
	if [ -f "$RUN/handed-over" ]; then
		for s in registry buildkitd pyindex; do
			grep -qx "$s" "$RUN/handed-over" && [[ " ${STARTED[*]:-} " != *" $s "* ]] && STARTED+=("$s")
		done
		rm -f "$RUN/handed-over"
	fi
	[ -z "$1" ] || remove_buildx_builder
	if [ ${#STARTED[@]} -gt 0 ]; then
		# stop in start order reversed: index, engine, registry
		local ordered=()
		for s in registry buildkitd pyindex; do [[ " ${STARTED[*]} " != *" $s "* ]] || ordered+=("$s"); done
		STARTED=("${ordered[@]}")
		log "with: stopping what it started: ${STARTED[*]}"
		stop_started
	fi
}
