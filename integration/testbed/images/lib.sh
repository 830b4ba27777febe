# Shared helpers for the stand-in image recipes (sourced by build.sh; part of every recipe's hash).
# Expects: W (work dir), NAME, F (fixture dir), R (rootfs), SUITE, A (private apt dir of SUITE).
# shellcheck shell=bash

KEYRING=${DISTILL_APT_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

log() {
  local m; m=$(printf '[%s %s] %s' "$(date -u +%H:%M:%S)" "${NAME:-images}" "$*")
  echo "$m" >&2; if [ -n "${LOG_FD:-}" ]; then echo "$m" >&"$LOG_FD"; fi
}
die() { log "FAIL: $*"; exit 1; }

# chroot without the host's environment (PIP_*, PYTHON* etc. would leak in and change the rootfs)
ch() { env -i PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 /usr/sbin/chroot "$@"; }
# ch_as UID:GID ROOT CMD...: same, as a (possibly passwd-less) numeric user, HOME=/tmp
ch_as() { local u=$1; shift; env -i PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8 \
  SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt /usr/sbin/chroot --userspec="$u" "$@"; }

# A plain chroot has no /dev/null: subprocess(stdin=DEVNULL) and ctypes.util.find_library fail silently
# without it. Create it for the checks only; the layer tar excludes ./dev/* anyway.
devnull_on()  { mkdir -p "$R/dev"; [ -e "$R/dev/null" ] || mknod -m 666 "$R/dev/null" c 1 3; }
devnull_off() { if [ -c "$R/dev/null" ] && [ "${KEEP_DEV:-}" != 1 ]; then rm -f "$R/dev/null"; fi; }

# ---------------------------------------------------------------------------------------------
# apt mirrors: taken from this machine's apt sources (one-line .list and deb822 .sources),
# never hard-coded. Override with DISTILL_APT_MIRROR / DISTILL_APT_SECURITY_MIRROR.
# ---------------------------------------------------------------------------------------------
apt_source_entries() {  # prints "URI SUITE" for every enabled `deb` entry
  local files=() f
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && files+=("$f"); done
  [ ${#files[@]} -gt 0 ] || return 0
  awk '
    function flush(  n, m, i, j, u, s) {
      if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
        n = split(uris, u); m = split(suites, s)
        for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j]
      }
      types = uris = suites = enabled = ""
    }
    FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
    deb822 {
      if ($0 ~ /^[ \t]*#/) next
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      if ($0 ~ /^[ \t]/) next                       # continuation line (e.g. inline Signed-By key)
      key = $0; sub(/:.*/, "", key); key = tolower(key)
      val = $0; sub(/^[^:]*:[ \t]*/, "", val)
      if (key == "types") types = val; else if (key == "uris") uris = val
      else if (key == "suites") suites = val; else if (key == "enabled") enabled = tolower(val)
      next
    }
    {
      line = $0; sub(/#.*/, "", line)
      if (line !~ /^[ \t]*deb[ \t]/) next
      gsub(/\[[^]]*\]/, "", line)                  # [arch=… signed-by=…]
      n = split(line, f); if (n >= 3) print f[2], f[3]
    }
    END { flush() }' "${files[@]}"
}
# sets MIRROR and SECMIRROR
apt_mirrors() {
  local e uri suite codenames='buster|bullseye|bookworm|trixie|forky|duke|sid|stable|oldstable|oldoldstable|testing|unstable'
  MIRROR=${DISTILL_APT_MIRROR:-}; SECMIRROR=${DISTILL_APT_SECURITY_MIRROR:-}
  while read -r uri suite; do
    uri=${uri%/}
    case $uri in http://*|https://*|file:/*) ;; *) continue ;; esac
    if [[ $suite =~ ^($codenames)(-security|/updates)$ ]]; then
      [ -n "$SECMIRROR" ] || SECMIRROR=$uri
    elif [[ $suite =~ ^($codenames)(-updates|-backports|-proposed-updates)?$ ]]; then
      [ -n "$MIRROR" ] || MIRROR=$uri
    fi
  done < <(apt_source_entries)
  [ -n "$MIRROR" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d/*.list,.d/*.sources}; set DISTILL_APT_MIRROR"
  [ -n "$SECMIRROR" ] || SECMIRROR=$MIRROR-security   # the usual layout: <mirror>/debian -> <mirror>/debian-security
  MIRROR=${MIRROR%/}; SECMIRROR=${SECMIRROR%/}
}
# the sources of SUITE as one-line entries (used by mmdebstrap and the private apt dir)
suite_sources() {
  printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$MIRROR" "$1" "$KEYRING" "$MIRROR" "$1-updates" "$KEYRING" "$SECMIRROR" "$1-security"
}

# ---------------------------------------------------------------------------------------------
# private apt dir per suite (no host sources.list.d / preferences / dpkg status): .deb downloads
# and the suite's Release date (pins the mtimes of mmdebstrap rootfs files)
# ---------------------------------------------------------------------------------------------
apt_setup() {  # apt_setup SUITE   (once per build.sh run; serialised with flock)
  local s=$1 a=$W/apt/$1
  mkdir -p "$a"/etc/apt.conf.d "$a"/etc/preferences.d "$a"/etc/sources.list.d "$a"/state/lists/partial "$a"/cache/archives/partial
  (
    flock 9
    [ "$(cat "$a/updated" 2>/dev/null)" = "${RUN_ID:-x}" ] && exit 0
    : > "$a/state/status"
    suite_sources "$s" > "$a/etc/sources.list"
    cat > "$a/apt.conf" <<EOF
Dir::Etc::SourceList "$a/etc/sources.list";
Dir::Etc::SourceParts "$a/etc/sources.list.d";
Dir::Etc::Preferences "$a/etc/preferences";
Dir::Etc::PreferencesParts "$a/etc/preferences.d";
Dir::Etc::Parts "$a/etc/apt.conf.d";
Dir::State "$a/state";
Dir::State::status "$a/state/status";
Dir::Cache "$a/cache";
APT::Architecture "amd64";
APT::Sandbox::User "root";
Acquire::Languages "none";
EOF
    APT_CONFIG=$a/apt.conf apt-get -q update >"$a/update.log" 2>&1 || { cat "$a/update.log" >&2; exit 1; }
    echo "${RUN_ID:-x}" > "$a/updated"
  ) 9>"$a.lock"
}
# newest Release date of the suite (epoch seconds): every file a .deb ships is older
suite_date() {
  sed -n 's/^Date: //p' "$W/apt/$1"/state/lists/*InRelease | while read -r d; do date -d "$d" +%s; done | sort -n | tail -1
}
# debs_fetch PKG... -> prints the paths of the .debs (shared pool per suite, verified by apt)
debs_fetch() {
  local pool=$W/debs/$SUITE files
  mkdir -p "$pool"
  files=$(APT_CONFIG=$A/apt.conf apt-get download -q --print-uris "$@" | awk '{print $2}') || die "apt-get download --print-uris $*"
  [ "$(echo "$files" | wc -l)" -eq $# ] || die "expected $# .debs, apt listed: $files"
  (
    flock 9; cd "$pool"
    local missing=() f
    for f in $files; do [ -s "$f" ] || missing+=("${f%%_*}"); done
    if [ ${#missing[@]} -gt 0 ]; then
      APT_CONFIG=$A/apt.conf apt-get download -q "${missing[@]}" >/dev/null || exit 1
    fi
  ) 9>"$pool.lock" || die "apt-get download failed"
  for f in $files; do [ -s "$pool/$f" ] || die "missing $pool/$f"; echo "$pool/$f"; done
}
# debs_unpack FILE...: base-files first (it ships the merged-/usr links bin, lib, lib64, sbin -> usr/...)
debs_unpack() {
  local d
  mkdir -p "$R"
  for d in "$@"; do case ${d##*/} in base-files_*) dpkg-deb -x "$d" "$R" ;; esac; done
  for d in "$@"; do case ${d##*/} in base-files_*) ;; *) dpkg-deb -x "$d" "$R" ;; esac; done
}
# dpkg_status_d DEB...: one control file per package in /var/lib/dpkg/status.d, as
# distroless writes it (its package database, read by scanners and distill's SBOM)
dpkg_status_d() {
  local d name
  mkdir -p "$R/var/lib/dpkg/status.d"
  for d in "$@"; do
    name=$(dpkg-deb -f "$d" Package)
    dpkg-deb -f "$d" Package Version Architecture Source Maintainer Installed-Size Depends Description \
      > "$R/var/lib/dpkg/status.d/$name"
  done
}
# apk_installed DEB...: the package database of a Wolfi image, /lib/apk/db/installed, in apk's
# v2 installed-database format (apk-tools doc/apk-package.5: one stanza of single-letter fields per
# package, stanzas ended by a blank line): C: Q1+base64 SHA-1 of the control section, P: name,
# V: version, A: arch, S: package file size, I: installed size, T: description, U: url,
# L: license, o: origin (source package), m: maintainer, t: build time, c: commit, D: depends,
# p: provides (so:<soname>=<n> for each shared library), then the package's paths: F: directory
# (M: uid:gid:mode when not 0:0:755), R: file in it (a: uid:gid:mode when not 0:0:644, Z: Q1+base64
# SHA-1 of the content). It lists the Debian packages the Chainguard stand-in is made of, with
# versions in apk's form (apk_version) and only the paths the image still holds.
apk_installed() {
  local d db=$R/lib/apk/db/installed t present
  t=$(suite_date "$SUITE")
  mkdir -p "$R/lib/apk/db"
  present=$(mktemp)
  (cd "$R" && find . -mindepth 1 \( -type d -printf '%P/\n' \) -o -printf '%P\n') > "$present"
  for d in "$@"; do apk_stanza "$d" "$t" "$present"; done > "$db.tmp"
  rm -f "$present"
  mv "$db.tmp" "$db"
}
# apk_version DEBVERSION: apk's number{.number}...{letter}-r<n> from a Debian version: epoch and
# non-numeric upstream suffixes dropped, the revision's leading number as -r (2.41-12+deb13u1 ->
# 2.41-r12, 1:1.3.1.dfsg-1 -> 1.3.1-r1, 2025b-4 -> 2025b-r4, 20250419 -> 20250419-r0)
apk_version() {
  local v=${1#*:} up rev
  case $v in *-*) up=${v%-*}; rev=${v##*-} ;; *) up=$v; rev=0 ;; esac
  up=$(grep -oE '^[0-9]+(\.[0-9]+)*[a-z]?' <<<"$up" | head -1)
  rev=$(grep -oE '^[0-9]+' <<<"$rev" | head -1)
  printf '%s-r%s' "${up:-0}" "${rev:-0}"
}
apk_stanza() {  # apk_stanza DEB BUILDTIME PRESENT-LIST
  local d=$1 t=$2 present=$3 name ver arch src deps sums
  sums=$(mktemp)
  name=$(dpkg-deb -f "$d" Package); ver=$(dpkg-deb -f "$d" Version); src=$(dpkg-deb -f "$d" Source)
  src=${src%% *}; src=${src:-$name}
  case $(dpkg-deb -f "$d" Architecture) in amd64) arch=x86_64 ;; all) arch=noarch ;; *) arch=$(dpkg-deb -f "$d" Architecture) ;; esac
  deps=$(dpkg-deb -f "$d" Pre-Depends Depends | sed -n 's/^[A-Za-z-]*: //p' | tr ',' '\n' \
    | sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | awk 'NF && !seen[$0]++' | tr '\n' ' ')
  printf 'C:Q1%s\n' "$(dpkg-deb --ctrl-tarfile "$d" | sha1sum | cut -c1-40 | xxd -r -p | base64)"
  printf 'P:%s\nV:%s\nA:%s\nS:%s\nI:%s\n' "$name" "$(apk_version "$ver")" "$arch" "$(stat -c %s "$d")" \
    "$(( $(dpkg-deb -f "$d" Installed-Size) * 1024 ))"
  printf 'T:%s\n' "$(dpkg-deb -f "$d" Description | head -1)"
  [ -z "$(dpkg-deb -f "$d" Homepage)" ] || printf 'U:%s\n' "$(dpkg-deb -f "$d" Homepage)"
  printf 'L:NOASSERTION\no:%s\nm:%s\nt:%s\nc:%s\n' "$src" "$(dpkg-deb -f "$d" Maintainer)" "$t" \
    "$(printf '%s %s' "$src" "$ver" | sha1sum | cut -c1-40)"
  [ -z "$deps" ] || printf 'D:%s\n' "${deps% }"
  # regular files the image holds, hashed in one pass
  dpkg-deb --fsys-tarfile "$d" | tar -t | sed -n 's#^\./##; /[^/]$/p' \
    | { grep -Fxf "$present" || true; } \
    | (cd "$R" && while IFS= read -r f; do if [ -f "$f" ] && [ ! -L "$f" ]; then printf '%s\0' "$f"; fi; done) \
    | (cd "$R" && xargs -0r sha1sum --) > "$sums"
  dpkg-deb --fsys-tarfile "$d" | tar -tv --numeric-owner | awk -v present="$present" -v sums="$sums" '
    BEGIN {
      while ((getline l < present) > 0) have[l] = 1
      while ((getline l < sums) > 0) sum[substr(l, 43)] = substr(l, 1, 40)
      B = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"; H = "0123456789abcdef"
    }
    function hx(x) { return (index(H, substr(x, 1, 1)) - 1) * 16 + index(H, substr(x, 2, 1)) - 1 }
    function b64(h,   n, i, v, o) {
      n = length(h) / 2; o = ""
      for (i = 0; i < n; i += 3) {
        v = hx(substr(h, 2*i+1, 2)) * 65536 + (i+1 < n ? hx(substr(h, 2*i+3, 2)) * 256 : 0) + (i+2 < n ? hx(substr(h, 2*i+5, 2)) : 0)
        o = o substr(B, int(v/262144)%64+1, 1) substr(B, int(v/4096)%64+1, 1)
        o = o (i+1 < n ? substr(B, int(v/64)%64+1, 1) : "=") (i+2 < n ? substr(B, v%64+1, 1) : "=")
      }
      return o
    }
    function mode(p,   m) {
      m = 0
      if (substr(p, 2, 1) == "r") m += 256; if (substr(p, 3, 1) == "w") m += 128
      if (substr(p, 4, 1) ~ /[xs]/) m += 64; if (substr(p, 4, 1) ~ /[sS]/) m += 2048
      if (substr(p, 5, 1) == "r") m += 32; if (substr(p, 6, 1) == "w") m += 16
      if (substr(p, 7, 1) ~ /[xs]/) m += 8; if (substr(p, 7, 1) ~ /[sS]/) m += 1024
      if (substr(p, 8, 1) == "r") m += 4; if (substr(p, 9, 1) == "w") m += 2
      if (substr(p, 10, 1) ~ /[xt]/) m += 1; if (substr(p, 10, 1) ~ /[tT]/) m += 512
      return sprintf("%o", m)
    }
    {
      perm = $1; split($2, own, "/")
      path = $0; sub(/^[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +/, "", path)
      sub(/ -> .*$/, "", path); sub(/ link to .*$/, "", path)
      sub(/^\.\//, "", path)
      if (substr(perm, 1, 1) == "d") {
        sub(/\/$/, "", path)
        if (path == "" || !have[path "/"]) next
        if (!(path in dir)) { order[++nd] = path; dir[path] = "" }
        acl[path] = own[1] ":" own[2] ":" mode(perm)
        next
      }
      if (!have[path]) next
      k = path; sub(/\/[^\/]*$/, "", k); if (k == path) k = ""
      f = substr(path, length(k) + (k == "" ? 1 : 2))
      if (!(k in dir)) { order[++nd] = k; dir[k] = "" }
      a = own[1] ":" own[2] ":" mode(perm)
      dir[k] = dir[k] "R:" f "\n" (a != "0:0:644" ? "a:" a "\n" : "") (path in sum ? "Z:Q1" b64(sum[path]) "\n" : "")
      if (f ~ /^lib.*\.so\.[0-9]+$/) { so = f; v = f; sub(/^.*\.so\./, "", v); prov = prov " so:" so "=" v }
    }
    END {
      if (prov != "") print "p:" substr(prov, 2)
      for (i = 1; i <= nd; i++) {
        k = order[i]; if (k == "") { printf "%s", dir[k]; continue }
        printf "F:%s\n", k
        if (k in acl && acl[k] != "0:0:755") printf "M:%s\n", acl[k]
        printf "%s", dir[k]
      }
      print ""
    }'
  rm -f "$sums"
}
# mmdeb PKG...: mmdebstrap --variant=minbase of SUITE into $R, with the machine's mirror
mmdeb() {
  # bookworm: init-system-helpers depends on "usrmerge | usr-is-merged"; a minbase ends up with
  # usrmerge and ~50 MB of perl the official slim images do not have. Include usr-is-merged, purge
  # usrmerge, then autoremove the perl packages unless something else needs them (git does).
  local hooks=()
  if [ "$SUITE" = bookworm ]; then
    set -- "$@" usr-is-merged
    hooks+=(--customize-hook='if chroot "$1" dpkg -s usr-is-merged >/dev/null 2>&1; then chroot "$1" dpkg --purge usrmerge >/dev/null 2>&1 || true; fi
      for p in perl libperl5.36 perl-modules-5.36 libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl; do
        if chroot "$1" dpkg -s "$p" >/dev/null 2>&1; then chroot "$1" apt-mark auto "$p" >/dev/null; fi; done
      chroot "$1" apt-get -y -q -o APT::AutoRemove::RecommendsImportant=false -o APT::AutoRemove::SuggestsImportant=false \
        -o Dpkg::Options::=--force-unsafe-io autoremove --purge >/dev/null')
  fi
  local inc; inc=$(IFS=,; echo "$*")
  local srcs=(); mapfile -t srcs < <(suite_sources "$SUITE")
  # .debs kept between runs (per image: concurrent sync-outs must not share a directory)
  local cache=$W/debs/mmdebstrap-$NAME
  log "mmdebstrap $SUITE: $*"
  TMPDIR=$W/tmp mmdebstrap --quiet --variant=minbase --include="$inc" --aptopt='Acquire::Languages "none"' \
    --dpkgopt=force-unsafe-io \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --skip=download/empty --skip=essential/unlink \
    --setup-hook="mkdir -p '$cache' \"\$1\"/var/cache/apt/archives/" \
    --setup-hook="sync-in '$cache' /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives '$cache'" "${hooks[@]}" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/ldconfig/aux-cache' \
    --customize-hook='find "$1"/var/cache/apt/archives -name "*.deb" -delete; rm -f "$1"/var/cache/apt/archives/lock' \
    "$SUITE" "$R" "${srcs[@]}"
  log "mmdebstrap done"
}

# ---------------------------------------------------------------------------------------------
# pieces shared by the distroless-like images
# ---------------------------------------------------------------------------------------------
ca_bundle() {  # the ca-certificates postinst never runs: concatenate the bundle
  mkdir -p "$R/etc/ssl/certs"
  find "$R/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat > "$R/etc/ssl/certs/ca-certificates.crt"
  rm -f "$R/usr/sbin/update-ca-certificates"
  [ "$(grep -c 'BEGIN CERTIFICATE' "$R/etc/ssl/certs/ca-certificates.crt")" -gt 100 ] || die "CA bundle too small"
}
distroless_accounts() {  # distroless common/variables.bzl: root 0, nobody 65534, nonroot 65532
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$R/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' > "$R/etc/group"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' > "$R/etc/nsswitch.conf"
  mkdir -p "$R/home/nonroot" "$R/root" "$R/tmp"
  chown 65532:65532 "$R/home/nonroot"; chmod 700 "$R/home/nonroot" "$R/root"; chmod 1777 "$R/tmp"
}
strip_docs() { rm -rf "$R"/usr/share/{doc,man,info,lintian,locale,bug}; }
# ldconfig_cache [keep]: /etc/ld.so.cache from libc-bin's static ldconfig (trixie: ldconfig is in
# libc-bin, not libc6); the binary stays only with "keep" (ctypes.util.find_library runs `ldconfig -p`)
ldconfig_cache() {
  local t=$W/tmp/$NAME-libc-bin deb; rm -rf "$t"; mkdir -p "$t"
  deb=$(debs_fetch libc-bin); dpkg-deb -x "$deb" "$t"
  install -m755 -D "$t/usr/sbin/ldconfig" "$R/usr/sbin/ldconfig"
  install -m644 -D "$t/etc/ld.so.conf" "$R/etc/ld.so.conf"
  install -m644 -D "$t/etc/ld.so.conf.d/libc.conf" "$R/etc/ld.so.conf.d/libc.conf"
  ch "$R" /usr/sbin/ldconfig
  rm -f "$R/var/cache/ldconfig/aux-cache"                    # inode data: differs per run
  [ "${1:-}" = keep ] || rm -f "$R/usr/sbin/ldconfig"
  rm -rf "$t"
}
# fail if any shell / package manager is present
assert_no_shell() {
  local p found=
  for p in sh bash dash ash busybox dpkg dpkg-deb apt apt-get apk; do
    for d in usr/bin usr/sbin bin sbin; do [ -e "$R/$d/$p" ] || [ -L "$R/$d/$p" ] && found="$found $d/$p"; done
  done
  [ -z "$found" ] || die "has a shell/package manager:$found"
}

# ---------------------------------------------------------------------------------------------
# pieces shared by the python images
# ---------------------------------------------------------------------------------------------
# a tiny wheel with a console script, for the venv checks: mkwheel -> $R/tmp/whl/thewheel-1.0-py3-none-any.whl
# (written on the host by the standin helper, integration/cmd/standin; owned by the build user 10001)
mkwheel() {
  "$STANDIN" wheel "$R/tmp/whl" >/dev/null || die "standin wheel failed"
  chown -R 10001:10001 "$R/tmp/whl"
}
# site-packages for a Debian interpreter: site is FROZEN (3.11+), so site.py edits do nothing and
# Debian's site only knows dist-packages -> a real sitecustomize adds <base_prefix>/lib/pythonX.Y/site-packages
write_sitecustomize() {  # write_sitecustomize FILE VER
  rm -f "$1"
  cat > "$1" <<EOF
# distill test-bed stand-in: upstream CPython has {prefix}/lib/python$2/site-packages on
# sys.path; Debian's (frozen) site.py only knows dist-packages. Add it wherever the base
# prefix's site dirs apply (the base interpreter and --system-site-packages venvs).
import site, sys
if sys.base_prefix in site.PREFIXES:
    site.addsitedir(sys.base_prefix + "/lib/python$2/site-packages")
EOF
}
# Debian patches sysconfig's default scheme to posix_local ({base}/local/lib/.../dist-packages);
# switch back to upstream's posix_prefix. Keeps the file's mtime; the caller recompiles it.
patch_sysconfig() {  # patch_sysconfig FILE
  touch -r "$1" "$W/tmp/$NAME-mtime-ref"
  sed -i "s/^            prefix_scheme = 'posix_local'\$/            prefix_scheme = 'posix_prefix'  # stand-in/" "$1"
  grep -q "prefix_scheme = 'posix_prefix'  # stand-in" "$1" || die "sysconfig patch did not apply to $1"
  touch -r "$W/tmp/$NAME-mtime-ref" "$1"; rm -f "$W/tmp/$NAME-mtime-ref"
}
write_pip_scripts() {  # write_pip_scripts BINDIR INTERPRETER VER
  local n
  for n in pip pip3 "pip$3"; do
    printf '#!%s\nimport re\nimport sys\nfrom pip._internal.cli.main import main\nif __name__ == "__main__":\n    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])\n    sys.exit(main())\n' "$2" > "$R$1/$n"
    chmod 755 "$R$1/$n"
  done
}

# The official python:X.Y-slim-* treatment of Debian's pythonX.Y: interpreter + stdlib + pip under /usr/local.
relocate_python() {  # relocate_python VER   (rootfs from mmdeb with pythonX.Y, python3-pip, python3-venv)
  local v=$1 L=$R/usr/local/lib/python$1 SDE; SDE=$(suite_date "$SUITE")
  # interpreter + stdlib -> /usr/local (getpath finds the prefix via the landmark lib/pythonX.Y/os.py)
  mv "$R/usr/bin/python$v" "$R/usr/local/bin/python$v"
  rmdir "$L/dist-packages" "$L"      # Debian pre-creates an empty /usr/local/lib/pythonX.Y/dist-packages
  mv "$R/usr/lib/python$v" "$L"
  ln -s "python$v" "$R/usr/local/bin/python3"; ln -s "python$v" "$R/usr/local/bin/python"
  # upstream's compiled-in PREFIX is /usr/local, Debian's is /usr: a venv with home=/usr/bin (the
  # distroless interpreter path) falls back to PREFIX/lib/pythonX.Y. This link stands in for that.
  ln -s "../local/lib/python$v" "$R/usr/lib/python$v"
  # everything Debian put in /usr/lib/python3/dist-packages (pip; on bookworm also setuptools,
  # pkg_resources, wheel, _distutils_hack) -> /usr/local/lib/pythonX.Y/site-packages, like upstream
  mkdir "$L/site-packages"
  find "$R/usr/lib/python3/dist-packages" -mindepth 1 -maxdepth 1 -exec mv -t "$L/site-packages/" {} +
  rm -rf "$R/usr/lib/python3" "$R/usr/bin/python3" "$R"/usr/bin/pip* "$R"/usr/bin/py3* \
         "$R"/usr/bin/pydoc3* "$R"/usr/bin/pygettext3* "$R/etc/python$v" "$L/EXTERNALLY-MANAGED" "$L/sitecustomize.py"
  patch_sysconfig "$(ls -d "$L/sysconfig/__init__.py" "$L/sysconfig.py" 2>/dev/null | head -1)"
  write_sitecustomize "$L/sitecustomize.py" "$v"; touch -d "@$SDE" "$L/sitecustomize.py"
  # -f: compileall compares only mtimes, and the edited sysconfig kept its mtime
  ch "$R" "/usr/local/bin/python$v" -m compileall -q -f "/usr/local/lib/python$v/sitecustomize.py" \
    $(cd "$R" && ls -d "usr/local/lib/python$v/sysconfig" "usr/local/lib/python$v/sysconfig.py" 2>/dev/null | sed 's|^|/|')
  write_pip_scripts /usr/local/bin "/usr/local/bin/python$v" "$v"
  # pip's console scripts etc. from other packages moved along: none expected outside pip
  if ls -d "$R"/usr/bin/python* 2>/dev/null; then die "builder still has /usr/bin/python*"; fi
}
check_builder_python() {  # check_builder_python VER
  local v=$1
  [ -x "$R/bin/sh" ] || die "no /bin/sh"
  ch "$R" /bin/sh -ec "cd /
    python3 -c 'import sys,sysconfig,ssl,sqlite3,ctypes,venv
assert sys.prefix==\"/usr/local\" and sys.base_prefix==\"/usr/local\", sys.prefix
assert sys.executable==\"/usr/local/bin/python3\", sys.executable
assert sys.path[-1]==\"/usr/local/lib/python$v/site-packages\", sys.path
assert sysconfig.get_paths()[\"purelib\"]==\"/usr/local/lib/python$v/site-packages\", sysconfig.get_paths()
assert sysconfig.get_paths()[\"scripts\"]==\"/usr/local/bin\", sysconfig.get_paths()
print(\"builder python ok:\", sys.version.split()[0], sys.executable)'
    python3 -m pip --version | grep -q ' from /usr/local/lib/python$v/site-packages/pip '
    pip --version; pip$v --version >/dev/null; pip3 --version >/dev/null"
  ch "$R" python3 -c 'import platform; print(platform.python_version())' > "$F/python-version"
  mkwheel
  # venv recipes as a passwd-less build user (no writes to the system: stdlib .pyc stay untouched)
  log "venv checks"
  ln -s "/usr/local/bin/python$v" "$R/usr/bin/python$v"
  devnull_on
  ch_as 10001:10001 "$R" /bin/sh -ec "cd /tmp
    python3 -m venv --without-pip /tmp/v1        # (ensurepip is checked once, with v3 below: it is slow)
    grep -qx 'home = /usr/local/bin' /tmp/v1/pyvenv.cfg
    pip --python /tmp/v1/bin/python install -q --no-index --no-cache-dir --disable-pip-version-check /tmp/whl/thewheel-1.0-py3-none-any.whl
    /tmp/v1/bin/thewheel-hello
    /usr/bin/python$v -m venv --without-pip /tmp/v2
    grep -qx 'home = /usr/bin' /tmp/v2/pyvenv.cfg
    pip --python /tmp/v2/bin/python install -q --no-index --no-cache-dir --disable-pip-version-check /tmp/whl/thewheel-1.0-py3-none-any.whl
    head -1 /tmp/v2/bin/thewheel-hello | grep -qx '#!/tmp/v2/bin/python'
    /tmp/v2/bin/python -c 'import thewheel, sys; assert sys.prefix == \"/tmp/v2\"; thewheel.main()'
    /usr/bin/python$v -m venv /tmp/v3 && /tmp/v3/bin/python -m pip --version   # needs the /usr/lib/python$v link
    rm -rf /tmp/v1 /tmp/v2 /tmp/v3"
  devnull_off
  rm -rf "$R/usr/bin/python$v" "$R/tmp/whl"
}

# distroless pythonN-debianNN: the .debs of distroless's own package lists, unpacked.
distroless_python() {  # distroless_python VER PKG...
  local v=$1; shift
  local debs; mapfile -t debs < <(debs_fetch "$@")
  debs_unpack "${debs[@]}"
  dpkg_status_d "${debs[@]}"
  strip_docs; ca_bundle; distroless_accounts
  ln -sf "python$v" "$R/usr/bin/python3"; ln -sf "python$v" "$R/usr/bin/python"
}
check_runtime_python() {  # check_runtime_python VER [find_library]
  local v=$1 fl=${2:-}
  assert_no_shell
  devnull_on
  ch_as 65532:65532 "$R" "/usr/bin/python$v" -c "import os,ssl,sqlite3,ctypes,ctypes.util,decimal,json,zlib,lzma,bz2,uuid,hashlib,venv
import pwd; assert os.getuid()==65532 and pwd.getpwuid(65532).pw_dir=='/home/nonroot', pwd.getpwuid(65532)
assert ssl.create_default_context().cert_store_stats()['x509_ca'] > 100
if '$fl': assert ctypes.util.find_library('c')=='libc.so.6', ctypes.util.find_library('c')
import sys; print('runtime python ok:', sys.version.split()[0], ssl.OPENSSL_VERSION, 'sqlite', sqlite3.sqlite_version)"
  devnull_off
}

# ---------------------------------------------------------------------------------------------
# layer tar: sorted, numeric owners (no --owner: /home/nonroot must stay 65532), fixed mtimes
# ---------------------------------------------------------------------------------------------
tar_layer() {  # tar_layer OUT clamp|zero
  local mt
  if [ "$2" = clamp ]; then mt=(--mtime="@$(suite_date "$SUITE")" --clamp-mtime); else mt=(--mtime=@0); fi
  tar -C "$R" --sort=name --numeric-owner "${mt[@]}" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
    -cf "$1.tmp" . && mv "$1.tmp" "$1"
}

# ---------------------------------------------------------------------------------------------
# Chainguard-like python (cgr.dev/chainguard/python): Wolfi's python is an upstream-layout CPython
# with prefix /usr, i.e. /usr/bin/python3.13, stdlib and site-packages in /usr/lib/python3.13.
# Stand-in: trixie's python3.13 (native at /usr/bin) with site-packages instead of dist-packages.
# ---------------------------------------------------------------------------------------------
CG_PKGS=(base-files netbase tzdata media-types ca-certificates libc6 libssl3t64 libzstd1 zlib1g libgcc-s1 gcc-14-base
  libstdc++6 libbz2-1.0 libexpat1 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libcrypt1 libreadline8t64 readline-common
  libdb5.3t64 libnsl2 libtirpc3t64 libtirpc-common libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libcom-err2
  libffi8 libpython3.13-minimal libpython3.13-stdlib python3.13-minimal python3.13-venv)
chainguard_python() {  # chainguard_python PKG...   (extra packages on top of CG_PKGS)
  local L=$R/usr/lib/python3.13 debs
  mapfile -t debs < <(debs_fetch "${CG_PKGS[@]}" "$@")
  debs_unpack "${debs[@]}"
  strip_docs; ca_bundle
  rm -rf "$R/etc/dpkg" "$R/var/lib/dpkg" "$R/etc/python3.13" "$L/EXTERNALLY-MANAGED"
  apk_installed "${debs[@]}"
  mkdir -p "$L/site-packages"
  patch_sysconfig "$L/sysconfig/__init__.py"            # purelib /usr/lib/python3.13/site-packages, scripts /usr/bin
  write_sitecustomize "$L/sitecustomize.py" 3.13          # replaces Debian's apport-hook symlink
  ln -sf python3.13 "$R/usr/bin/python3"; ln -sf python3.13 "$R/usr/bin/python"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' > "$R/etc/nsswitch.conf"
  mkdir -p "$R/home/nonroot" "$R/root" "$R/tmp"
  chown 65532:65532 "$R/home/nonroot"; chmod 700 "$R/root"; chmod 1777 "$R/tmp"
}
check_chainguard_python() {  # as 65532: interpreter paths, site-packages, libs, CA store
  devnull_on
  ch_as 65532:65532 "$R" /usr/bin/python -c "import os,sys,sysconfig,site,ssl,sqlite3,ctypes,decimal,json,zlib,lzma,bz2,uuid,hashlib,venv
assert os.path.realpath(sys.executable)=='/usr/bin/python3.13', sys.executable
assert sys.prefix=='/usr' and '/usr/lib/python3.13/site-packages' in sys.path, sys.path
assert sysconfig.get_paths()['purelib']=='/usr/lib/python3.13/site-packages', sysconfig.get_paths()
assert sysconfig.get_paths()['scripts']=='/usr/bin', sysconfig.get_paths()
import pwd; assert os.getuid()==65532 and pwd.getpwuid(65532).pw_dir=='/home/nonroot', pwd.getpwuid(65532)
assert ssl.create_default_context().cert_store_stats()['x509_ca'] > 100
print('chainguard python ok:', sys.version.split()[0], ssl.OPENSSL_VERSION)"
  devnull_off
}
# the unpacked .debs ship no .pyc; none may appear during the build (they would not be reproducible)
assert_no_pyc() { local p; p=$(find "$R/usr/lib" -name '*.pyc' -print -quit); [ -z "$p" ] || die "stray .pyc: $p"; }

# ---------------------------------------------------------------------------------------------
# standin_check UID:GID CHECK...: the standin helper (integration/cmd/standin, static, built once per
# build.sh run with this machine's Go: its build cache is warm, compiling inside the image would take
# a minute), copied into the rootfs and run there under chroot as UID:GID. Checks: certs (system CA
# pool), user NAME UID HOME, tz, writable DIR... (see `standin` in integration/cmd/standin).
# ---------------------------------------------------------------------------------------------
standin_check() {
  local u=$1; shift
  install -m755 "$STANDIN" "$R/standin"
  env -i /usr/sbin/chroot --userspec="$u" "$R" /standin check "$@" || { rm -f "$R/standin"; die "standin check $* failed"; }
  rm -f "$R/standin"
}
