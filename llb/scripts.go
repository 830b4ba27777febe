package llb

// The builder stage runs a few fixed Python programs instead of shell
// scripts: every builder image has Python, not every one has the same shell,
// and a program whose inputs arrive as argv can never have a spec value
// spliced into its code. Nothing from the spec is ever part of these texts.

// prepareScript runs as root with no network. It makes the runtime's
// interpreter path exist in the builder (the official python images keep
// Python under /usr/local, distroless under /usr/bin), so a venv created
// through that path records it in pyvenv.cfg and its bin/ links, and then
// works unchanged in the runtime image. It also creates the directories the
// build user owns.
//
// argv: RUNTIME_PYTHON UID GID DIR...
const prepareScript = `import os, sys
rt, uid, gid, dirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
if not os.path.lexists(rt):
    os.makedirs(os.path.dirname(rt), exist_ok=True)
    os.symlink(os.path.realpath(sys.executable), rt)
for d in dirs:
    os.makedirs(d, mode=0o755, exist_ok=True)
    os.chown(d, uid, gid)
`

// aptScript runs as root with the network on and the apt caches mounted.
// One process keeps "update" and "install" in one cached step, so the
// package lists can never be older than the install that uses them.
//
// argv: PACKAGE...
const aptScript = `import os, subprocess, sys
env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
keep = ["-o", "APT::Keep-Downloaded-Packages=true"]
subprocess.run(["apt-get", "-q", *keep, "update"], check=True, env=env)
subprocess.run(["apt-get", "-q", "-y", "--no-install-recommends", *keep, "install", *sys.argv[1:]], check=True, env=env)
`

// finalizeScript runs as the build user with no network. For each target
// it is given: "venv" removes packaging tools a requirement may have pulled
// into the venv and compiles the venv's bytecode; a directory compiles that
// app directory. Bytecode is compiled with the runtime interpreter in
// unchecked-hash mode (no source mtime inside, so it is reproducible and the
// read-only runtime never tries to rewrite it); group/other write bits are
// dropped so nothing is writable by the runtime user. The venv is finalized
// right after the install and the app after its copy, so a code change does
// not recompile the venv.
//
// argv: VENV TARGET...
const finalizeScript = `import glob, os, subprocess, sys
venv, targets = sys.argv[1], sys.argv[2:]
compile = [venv + "/bin/python", "-m", "compileall", "-q", "-f", "--invalidation-mode", "unchecked-hash"]

def drop_write_bits(top):
    for root, dirs, files in os.walk(top) if os.path.isdir(top) else [(os.path.dirname(top), [], [os.path.basename(top)])]:
        for name in [root] + [os.path.join(root, f) for f in files]:
            if not os.path.islink(name):
                mode = os.lstat(name).st_mode
                if mode & 0o022:
                    os.chmod(name, mode & ~0o022 & 0o7777)

def project_files(name):
    # the files pip recorded for the project (its RECORD), so only they are
    # compiled: recompiling the whole venv would cost every code change
    norm = lambda n: n.replace("-", "_").replace(".", "_").lower()
    for rec in glob.glob(venv + "/lib/python3*/site-packages/*.dist-info/RECORD"):
        dist = os.path.basename(os.path.dirname(rec))[:-len(".dist-info")].rsplit("-", 1)[0]
        if norm(dist) == norm(name):
            site = os.path.dirname(os.path.dirname(rec))
            with open(rec, encoding="utf-8") as fh:
                paths = [line.rsplit(",", 2)[0] for line in fh.read().splitlines() if line]
            return [os.path.normpath(os.path.join(site, p)) for p in paths]
    sys.exit("project %s is not installed in %s (no dist-info RECORD)" % (name, venv))

for target in targets:
    if target.startswith("project="):
        files = project_files(target[len("project="):])
        sources = [f for f in files if f.endswith(".py") and os.path.isfile(f)]
        if sources:
            subprocess.run(compile + sources, check=False)
        for f in sources:
            files += glob.glob(os.path.join(os.path.dirname(f), "__pycache__", os.path.basename(f)[:-3] + ".*.pyc"))
        for f in files:
            if os.path.lexists(f):
                drop_write_bits(f)
    elif target == "venv":
        tools = [n for n in ("pip", "setuptools", "wheel") if glob.glob(venv + "/lib/python3*/site-packages/" + n + "-*.dist-info")]
        if tools:
            subprocess.run([sys.executable, "-m", "pip", "--python", venv + "/bin/python", "uninstall", "-y", "-q", *tools], check=True)
        for f in glob.glob(venv + "/bin/pip*") + glob.glob(venv + "/bin/easy_install*"):
            os.remove(f)
        # like pip, tolerate files in installed packages that do not compile
        # (test data, py2 leftovers)
        subprocess.run(compile + [venv + "/lib"], check=False)
        drop_write_bits(venv)
    else:
        # the app's own sources must compile
        subprocess.run(compile + [target], check=True)
        drop_write_bits(target)
`

// sbomScript writes an SPDX 2.3 JSON document. Inputs are read-only mounts
// of the runtime base and the venv; versions come from the package
// databases and dist-info METADATA, never from guesses. The document is a
// pure function of those inputs (its namespace is a hash of the package
// list; its creation time is SOURCE_DATE_EPOCH when given).
//
// argv: RUNTIME_ROOT VENV OUT IMAGE_NAME RUNTIME_REF EPOCH
const sbomScript = `import email.parser, glob, hashlib, json, os, re, sys, time
root, venv, out, name, base, epoch = sys.argv[1:7]

def deb_stanzas(text):
    for block in text.split("\n\n"):
        f = {}
        for line in block.splitlines():
            if line[:1] not in (" ", "\t") and ":" in line:
                k, v = line.split(":", 1)
                f[k.strip()] = v.strip()
        if f.get("Package") and f.get("Version") and "not-installed" not in f.get("Status", "install ok installed"):
            yield f

os_pkgs = []
dpkg = [root + "/var/lib/dpkg/status"] + sorted(glob.glob(root + "/var/lib/dpkg/status.d/*"))
for p in dpkg:
    if os.path.isfile(p) and not p.endswith(".md5sums"):
        with open(p, encoding="utf-8", errors="replace") as fh:
            for f in deb_stanzas(fh.read()):
                arch = f.get("Architecture", "")
                os_pkgs.append(("deb", f["Package"], f["Version"], arch, f.get("Source", "").split(" ")[0]))
apk = root + "/lib/apk/db/installed"
if os.path.isfile(apk):
    with open(apk, encoding="utf-8", errors="replace") as fh:
        for block in fh.read().split("\n\n"):
            f = dict((l[0], l[2:]) for l in block.splitlines() if len(l) > 2 and l[1] == ":")
            if "P" in f and "V" in f:
                os_pkgs.append(("apk", f["P"], f["V"], f.get("A", ""), f.get("o", "")))

py_pkgs = []
for meta in sorted(glob.glob(venv + "/lib/python3*/site-packages/*.dist-info/METADATA")):
    with open(meta, encoding="utf-8", errors="replace") as fh:
        m = email.parser.Parser().parse(fh, headersonly=True)
    if m.get("Name") and m.get("Version"):
        py_pkgs.append((m["Name"], m["Version"], m.get("License", "") or ""))

def spdx_id(kind, n, v):
    return "SPDXRef-" + kind + "-" + re.sub(r"[^A-Za-z0-9.-]", "-", n + "-" + v)

def norm(n):
    return re.sub(r"[-_.]+", "-", n).lower()

distro = "wolfi" if os.path.isfile(apk) else "debian"
packages, rels, seen = [], [], set()
for kind, n, v, arch, src in sorted(set(os_pkgs)):
    sid = spdx_id(kind, n, v)
    if sid in seen:
        continue
    seen.add(sid)
    purl = "pkg:%s/%s/%s@%s" % (kind, distro, n, v) + ("?arch=" + arch if arch else "")
    packages.append({"SPDXID": sid, "name": n, "versionInfo": v, "downloadLocation": "NOASSERTION",
        "licenseConcluded": "NOASSERTION", "copyrightText": "NOASSERTION", "supplier": "NOASSERTION",
        "primaryPackagePurpose": "OPERATING-SYSTEM" if n in ("base-files",) else "LIBRARY",
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}],
        "comment": "from the runtime image " + base})
for n, v, lic in sorted(set(py_pkgs)):
    sid = spdx_id("pypi", n, v)
    if sid in seen:
        continue
    seen.add(sid)
    packages.append({"SPDXID": sid, "name": n, "versionInfo": v, "downloadLocation": "NOASSERTION",
        "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION", "copyrightText": "NOASSERTION",
        "supplier": "NOASSERTION", "primaryPackagePurpose": "LIBRARY",
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/%s@%s" % (norm(n), v)}],
        "comment": "installed in the venv"})
for p in packages:
    rels.append({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": p["SPDXID"]})
digest = hashlib.sha256(json.dumps([base, packages], sort_keys=True).encode()).hexdigest()
created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch) if epoch else time.time()))
doc = {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": name,
    "documentNamespace": "https://distill.build/spdx/%s/%s" % (name, digest),
    "creationInfo": {"created": created, "creators": ["Tool: distill"]},
    "packages": packages, "relationships": rels}
with open(out, "w") as fh:
    json.dump(doc, fh, indent=1, sort_keys=True)
print("sbom: %d OS packages, %d Python distributions" % (len(os_pkgs), len(py_pkgs)))
`

// projectScript runs as the build user with the network on (pip's build
// isolation fetches the project's build backend from the index). It copies
// the app directory to a scratch directory (on a tmpfs), so an in-tree
// build (setuptools' build/, *.egg-info) never lands in the app, and
// installs it into the venv non-editable and without dependencies: those
// came from the dependency step, pinned.
//
// argv: VENV SCRATCH N PROJECT_DIR×N [PIP_ARG...]
const projectScript = `import os, shutil, subprocess, sys
venv, scratch, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
dirs, pip_args = sys.argv[4:4 + n], sys.argv[4 + n:]
srcs = []
for i, d in enumerate(dirs):
    if not os.path.isfile(os.path.join(d, "pyproject.toml")):
        sys.exit("python.project: %s has no pyproject.toml in the image's app directory (is it left out by app.include or app.exclude?)" % d)
    src = os.path.join(scratch, "src%d" % i)
    shutil.copytree(d, src, symlinks=True)
    srcs.append(src)
env = dict(os.environ, TMPDIR=scratch)
subprocess.run([sys.executable, "-m", "pip", "--python", venv + "/bin/python", "install",
    "--no-deps", "--no-compile", "--no-warn-script-location", "--progress-bar", "off", *pip_args, *srcs],
    check=True, env=env)
`

// runtimePackagesScript runs as root in the builder with the network on. It
// adds Debian packages to a Debian-based runtime without apt or dpkg ever
// entering the image: apt resolves the closure against a status file made
// from the runtime's own package database (so what the runtime has is not
// fetched again), from the runtime's own release, and downloads it into a
// cache mount; each .deb is unpacked (no maintainer scripts), recorded in
// status.d like distroless records its own packages, and the alternatives
// its postinst would make (libblas.so.3 -> blas/libblas.so.3) are made as
// links. A package that would bring a shell, a package manager or a
// setuid/setgid file is refused, naming it.
//
// With --which SONAME... instead of packages, it only answers which
// package of the runtime's release ships each shared library (confirmed by
// the package's file list), as OUT/which.json, for the MissingLibrary
// message.
//
// argv: RUNTIME_ROOT OUT APT_CACHE PACKAGE... | RUNTIME_ROOT OUT APT_CACHE --which SONAME...
const runtimePackagesScript = `import glob, json, os, re, shutil, subprocess, sys, tempfile
root, out, cache, wanted = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
which = wanted[:1] == ["--which"]
if which:
    wanted = wanted[1:]

def fail(msg):
    sys.stderr.write("app.runtimePackages: " + msg + "\n")
    sys.exit(1)

def os_release(base):
    for p in ("usr/lib/os-release", "etc/os-release"):
        f = os.path.join(base, p)
        if os.path.isfile(f) and not (os.path.islink(f) and os.readlink(f).startswith("/")):
            vals = {}
            for line in open(f, encoding="utf-8", errors="replace"):
                k, sep, v = line.strip().partition("=")
                if sep:
                    vals[k] = v.strip().strip('"')
            return vals
    return {}

rt, bl = os_release(root), os_release("/")
if rt.get("ID") != "debian" and "debian" not in rt.get("ID_LIKE", "").split():
    fail("the runtime image is %s, not Debian: runtime packages are Debian packages unpacked from the runtime's release" % (rt.get("PRETTY_NAME") or "of unknown origin (no /etc/os-release)"))
suite, own = rt.get("VERSION_CODENAME", ""), bl.get("VERSION_CODENAME", "")
if not suite:
    fail("the runtime's /etc/os-release names no VERSION_CODENAME, so its Debian release is unknown")

tmp = tempfile.mkdtemp()
# the runtime's package database as dpkg status: apt then fetches only what it lacks
status = []
for f in sorted(glob.glob(root + "/var/lib/dpkg/status.d/*")) + [root + "/var/lib/dpkg/status"]:
    if os.path.isfile(f) and not f.endswith(".md5sums"):
        for block in open(f, encoding="utf-8", errors="replace").read().split("\n\n"):
            # installed as they are: distroless images carry packages
            # without all their dependencies (tzdata without debconf), which
            # apt would otherwise try to repair
            lines, skip = [], False
            for l in block.splitlines():
                if l[:1] in (" ", "\t"):
                    if not skip:
                        lines.append(l)
                    continue
                skip = l.split(":", 1)[0] in ("Status", "Depends", "Pre-Depends", "Recommends", "Conflicts", "Breaks")
                if l and not skip:
                    lines.append(l)
            if any(l.startswith("Package:") for l in lines):
                status.append("\n".join(lines[:1] + ["Status: install ok installed"] + lines[1:]))
open(tmp + "/status", "w").write("\n\n".join(status) + "\n")

# the builder's own sources, pointed at the runtime's release
os.makedirs(tmp + "/sources.list.d")
os.makedirs(tmp + "/empty")
srcs = glob.glob("/etc/apt/sources.list.d/*.list") + glob.glob("/etc/apt/sources.list.d/*.sources") + ["/etc/apt/sources.list"]
for f in srcs:
    if os.path.isfile(f):
        text = open(f).read()
        if own and own != suite:
            text = re.sub(r"(?m)(^(deb\s.*|Suites:.*))", lambda m: re.sub(r"\b" + re.escape(own) + r"\b", suite, m.group(1)), text)
        open(os.path.join(tmp, "sources.list.d", os.path.basename(f) if f.endswith((".list", ".sources")) else "main.list"), "w").write(text)
arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
apt = ["-o", "Dir::State::status=" + tmp + "/status", "-o", "Dir::State::Lists=" + cache + "/lists",
       "-o", "Dir::Cache=" + cache + "/cache", "-o", "Dir::Etc::SourceList=/dev/null",
       "-o", "Dir::Etc::SourceParts=" + tmp + "/sources.list.d", "-o", "Dir::Etc::Preferences=/dev/null",
       "-o", "Dir::Etc::PreferencesParts=" + tmp + "/empty", "-o", "Debug::NoLocking=1", "-o", "APT::Architecture=" + arch,
       "-o", "APT::Install-Recommends=false", "-o", "Acquire::Languages=none", "-o", "APT::Keep-Downloaded-Packages=true"]
for d in (cache + "/lists/partial", cache + "/cache/archives/partial"):
    os.makedirs(d, exist_ok=True)
env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
subprocess.run(["apt-get", "-q", *apt, "update"], check=True, env=env, stdout=subprocess.DEVNULL)
if which:
    found = {}
    for soname in wanted:
        stem = soname.split(".so")[0]
        names = subprocess.run(["apt-cache", *apt, "pkgnames", stem], capture_output=True, text=True, env=env).stdout.split()
        # the Debian policy name (libpq5, libyaml-0-2, libxcb1) first
        names = sorted((n for n in names if not re.search(r"-(dev|dbg|doc|bin|tools|utils)$|-dbgsym$", n)),
                       key=lambda n: (not re.match(re.escape(stem) + r"-?[0-9]", n), len(n), n))[:8]
        for n in names:
            d = os.path.join(tmp, "w-" + n)
            os.makedirs(d, exist_ok=True)
            if subprocess.run(["apt-get", "-q", *apt, "download", n], cwd=d, capture_output=True, env=env).returncode != 0:
                continue
            for deb in glob.glob(d + "/*.deb"):
                files = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True).stdout
                if re.search(r"/" + re.escape(soname) + r"( |$)", files, re.M):
                    found[soname] = n
            if soname in found:
                break
    with open(os.path.join(out, "which.json"), "w") as fh:
        json.dump(found, fh, sort_keys=True)
    print("shared libraries in Debian %s: %s" % (suite, found))
    sys.exit(0)
for name in wanted:
    r = subprocess.run(["apt-cache", *apt, "show", "--no-all-versions", name], capture_output=True, text=True, env=env)
    if r.returncode != 0 or "Package: " not in r.stdout:
        fail("%s is not a package of Debian %s (the runtime's release); check the name with apt-cache search, or https://packages.debian.org/%s" % (name, suite, suite))
sim = subprocess.run(["apt-get", "-q", "-s", *apt, "install", *wanted], capture_output=True, text=True, env=env)
if sim.returncode != 0:
    fail("apt cannot install %s on Debian %s next to the runtime's packages:\n%s" % (" ".join(wanted), suite, sim.stdout + sim.stderr))
plan = re.findall(r"(?m)^Inst (\S+) (?:\[[^]]*\] )?\((\S+) ", sim.stdout)
refused = {"bash", "dash", "busybox", "busybox-static", "zsh", "ksh", "mksh", "posh", "yash", "apt", "dpkg", "python3-pip", "apk-tools"}
for name in wanted:
    if name in refused:
        fail("%s is a shell or package manager, which the runtime must not have" % name)
for name, ver in plan:
    if name.split(":")[0] in refused:
        fail("%s would bring %s (a shell or package manager), which the runtime must not have; the packages that need it cannot be used without one" % (" ".join(wanted), name))
subprocess.run(["apt-get", "-q", "-y", *apt, "install", "--download-only", *wanted], check=True, env=env, stdout=subprocess.DEVNULL)

bad = {"sh", "bash", "dash", "zsh", "ksh", "busybox", "apt", "apt-get", "dpkg", "pip", "pip3", "apk", "su", "sudo"}
links = {}
for name, ver in sorted(plan):
    n = name.split(":")[0]
    debs = glob.glob(cache + "/cache/archives/" + n + "_" + ver.replace(":", "%3a") + "_*.deb")
    if not debs:
        fail("apt did not download %s %s" % (n, ver))
    deb, unpack = debs[0], os.path.join(tmp, "x-" + n)
    subprocess.run(["dpkg-deb", "-x", deb, unpack], check=True)
    for d, dirs, files in os.walk(unpack):
        for f in files + dirs:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, unpack)
            if os.path.basename(rel) in bad and os.path.basename(os.path.dirname(rel)) in ("bin", "sbin") and not os.path.isdir(p):
                fail("%s ships %s (a shell or package manager), which the runtime must not have" % (n, "/" + rel))
            if not os.path.islink(p) and os.lstat(p).st_mode & 0o6000:
                fail("%s ships the setuid/setgid file %s, which the runtime must not have" % (n, "/" + rel))
    for doc in glob.glob(unpack + "/usr/share/doc/*"):
        if os.path.islink(doc) or not os.path.isdir(doc):
            continue
        for f in os.listdir(doc):
            if f != "copyright":
                p = os.path.join(doc, f)
                shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
    for d in ("usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/locale", "usr/share/bug"):
        shutil.rmtree(os.path.join(unpack, d), ignore_errors=True)
    # merged /usr: a runtime whose /lib is a link to usr/lib must keep it
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        src = os.path.join(unpack, top)
        if os.path.isdir(src) and not os.path.islink(src) and os.path.islink(os.path.join(root, top)):
            shutil.copytree(src, os.path.join(unpack, "usr", top), symlinks=True, dirs_exist_ok=True)
            shutil.rmtree(src)
    shutil.copytree(unpack, out, symlinks=True, dirs_exist_ok=True)
    os.makedirs(out + "/var/lib/dpkg/status.d", exist_ok=True)
    fields = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Source", "Maintainer",
                             "Installed-Size", "Depends", "Pre-Depends", "Description"], capture_output=True, text=True, check=True).stdout
    open(out + "/var/lib/dpkg/status.d/" + n, "w").write(fields)
    control = os.path.join(tmp, "c-" + n)
    subprocess.run(["dpkg-deb", "-e", deb, control], check=True)
    if os.path.isfile(control + "/postinst"):
        script = open(control + "/postinst", encoding="utf-8", errors="replace").read().replace("\\\n", " ")
        for link, alt, target, prio in re.findall(r"update-alternatives\s+(?:--\S+\s+)*--install\s+(/\S+)\s+(\S+)\s+(/\S+)\s+(\d+)", script):
            if "$" not in link + target and (link not in links or int(prio) > links[link][1]):
                links[link] = (target, int(prio))
for link, (target, prio) in sorted(links.items()):
    p = out + link
    if not os.path.lexists(p) and not os.path.lexists(root + link):
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(os.path.relpath(target, os.path.dirname(link)), p)
print("runtime packages for Debian %s: %s" % (suite, " ".join("%s=%s" % p for p in sorted(plan))))
`

// verifyScript runs in the assembled runtime image (its base, runtime
// packages, venv and project, not the app's code), as the runtime user with
// no network, through the venv's interpreter: the runtime's own. It writes a
// JSON report and always exits 0, so the frontend can turn each problem
// into a message at the spec line it concerns:
//   - the entrypoint's program resolves on PATH (or as a path) and is
//     executable, and so is its #! interpreter;
//   - the venv was made for this interpreter's minor version;
//   - every ELF object of the venv, the runtime packages and the app finds
//     its libraries, asked of the runtime's own dynamic loader;
//   - every top-level module of every installed distribution imports, and
//     an extension module that fails while its package imports (a silent
//     pure-Python fallback) is reported as a warning.
//
// argv: REPORT VENV APP_ELF_DIR PATH ENTRYPOINT...
const verifyScript = `import glob, importlib, json, os, struct, subprocess, sys
report_path, venv, app_dir, path, entry = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
report = {"python": "%d.%d.%d" % sys.version_info[:3], "errors": [], "warnings": []}

def problem(kind, level, **kw):
    kw["kind"] = kind
    report["errors" if level == "error" else "warnings"].append(kw)

# the entrypoint
prog = entry[0] if entry else ""
if prog:
    found = None
    if "/" in prog:
        cand = prog if prog.startswith("/") else os.path.join(app_dir, prog)
        found = cand if os.path.exists(cand) else None
        shown = prog
    else:
        for d in path.split(":"):
            if d and os.path.exists(os.path.join(d, prog)):
                found = os.path.join(d, prog)
                break
        shown = prog
    if found is None:
        scripts = sorted(f for f in os.listdir(venv + "/bin") if not f.startswith(("python", "activate", "Activate")))
        problem("entrypoint", "error", program=shown, path=path, scripts=scripts)
    elif not os.access(found, os.X_OK) or os.path.isdir(found):
        problem("entrypoint-exec", "error", program=shown, file=found)
    else:
        with open(found, "rb") as fh:
            head = fh.read(256)
        if head.startswith(b"#!"):
            interp = head[2:].split(b"\n")[0].strip().split()
            if interp and not os.access(interp[0].decode(errors="replace"), os.X_OK):
                problem("entrypoint-interpreter", "error", program=shown, file=found, interpreter=interp[0].decode(errors="replace"))

# the venv's interpreter
cfg = {}
try:
    for line in open(venv + "/pyvenv.cfg", encoding="utf-8"):
        k, sep, v = line.partition("=")
        if sep:
            cfg[k.strip()] = v.strip()
except OSError:
    pass
built = cfg.get("version_info") or cfg.get("version") or ""
if built and built.split(".")[:2] != report["python"].split(".")[:2]:
    problem("python-minor", "error", builder=built, runtime=report["python"])

# shared libraries, asked of the runtime's dynamic loader (PT_INTERP of python)
def elf_interp(f):
    with open(f, "rb") as fh:
        h = fh.read(64)
        if h[:4] != b"\x7fELF" or h[4] != 2:
            return None
        end = "<" if h[5] == 1 else ">"
        phoff, = struct.unpack(end + "Q", h[32:40])
        phentsize, phnum = struct.unpack(end + "HH", h[54:58])
        for i in range(phnum):
            fh.seek(phoff + i * phentsize)
            ptype, = struct.unpack(end + "I", fh.read(4))
            if ptype == 3:
                fh.seek(phoff + i * phentsize + 8)
                off, = struct.unpack(end + "Q", fh.read(8))
                fh.seek(phoff + i * phentsize + 32)
                size, = struct.unpack(end + "Q", fh.read(8))
                fh.seek(off)
                return fh.read(size).rstrip(b"\0").decode()
    return None

def is_elf(f):
    try:
        with open(f, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False

loader = elf_interp(os.path.realpath(sys.executable))
checked, flagged = 0, set()
if loader:
    objs = []
    for top in (venv, app_dir):
        for d, dirs, files in os.walk(top):
            for f in files:
                p = os.path.join(d, f)
                if not os.path.islink(p) and (".so" in f or os.access(p, os.X_OK)) and is_elf(p):
                    objs.append(p)
    for p in sorted(objs):
        checked += 1
        # ldd's way: the loader lists what it would load, marking what it
        # cannot find, for every missing library (--list stops at the first)
        env = {"LD_TRACE_LOADED_OBJECTS": "1", "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", "")}
        r = subprocess.run([loader, p], capture_output=True, text=True, timeout=30, env=env)
        missing = []
        for line in (r.stdout + r.stderr).splitlines():
            line = line.strip()
            if "=> not found" in line:
                missing.append(line.split()[0])
            elif "version" in line and "not found" in line:
                missing.append(line.split(": ", 1)[-1])
            elif "error while loading shared libraries: " in line:
                missing.append(line.split("error while loading shared libraries: ", 1)[1].split(":")[0])
        if missing:
            flagged.add(p)
            shown = p[len(app_dir):] if p.startswith(app_dir + "/") else p
            problem("library", "error", object=shown, missing=missing)
report["elf_objects"] = checked

# imports
site = glob.glob(venv + "/lib/python3*/site-packages")
# packages with a missing library are reported as such, not again as fallbacks
flagged_pkgs = {os.path.relpath(f, sp).split("/")[0] for f in flagged for sp in site if f.startswith(sp + "/")}
def top_levels(dist):
    tl = os.path.join(dist, "top_level.txt")
    names = set()
    if os.path.isfile(tl):
        names = {l.strip().replace("/", ".") for l in open(tl, encoding="utf-8") if l.strip()}
    else:
        rec = os.path.join(dist, "RECORD")
        if os.path.isfile(rec):
            for line in open(rec, encoding="utf-8"):
                p = line.rsplit(",", 2)[0]
                first = p.split("/")[0]
                if p.startswith(("../", "/")) or first.endswith((".dist-info", ".data")) or first == "__pycache__":
                    continue
                if "/" in p:
                    if p.split("/")[1] == "__init__.py" or p.endswith(".py") or ".so" in p:
                        names.add(first)
                elif p.endswith(".py"):
                    names.add(p[:-3])
                elif ".so" in p:
                    names.add(p.split(".")[0])
    return sorted(n for n in names if n and n.isidentifier() and not n.startswith("_distutils"))

imported, modules = {}, 0
for sp in site:
    for dist in sorted(glob.glob(sp + "/*.dist-info")):
        dname = os.path.basename(dist)[:-len(".dist-info")].rsplit("-", 1)[0]
        for mod in top_levels(dist):
            if mod in imported:
                continue
            # top_level.txt may name modules the distribution does not ship
            # (a build-time shim); only what is there is meant to import
            if not any(os.path.exists(os.path.join(sp, mod + ext)) for ext in ("", ".py")) and not glob.glob(os.path.join(sp, mod + ".*.so")):
                continue
            modules += 1
            try:
                importlib.import_module(mod)
                imported[mod] = True
            except BaseException as e:
                imported[mod] = False
                problem("import", "error", distribution=dname, module=mod, error="%s: %s" % (type(e).__name__, str(e)[:400]))
    # extension modules that fail although their package imported: a fallback hides them
    for so in sorted(glob.glob(sp + "/**/*.so", recursive=True)):
        rel = os.path.relpath(so, sp)
        parts = rel.split("/")
        if not all(p.isidentifier() for p in parts[:-1]):
            continue
        name = ".".join(parts[:-1] + [parts[-1].split(".")[0]])
        if imported.get(parts[0]) is not True or name == parts[0] or parts[0] in flagged_pkgs:
            continue
        try:
            importlib.import_module(name)
        except ImportError as e:
            problem("fallback", "warning", module=name, package=parts[0], error=str(e)[:400])
        except BaseException:
            pass
report["modules"] = modules
with open(report_path, "w") as fh:
    json.dump(report, fh, indent=1, sort_keys=True)
print("verified: %d modules, %d ELF objects, %d errors, %d warnings" % (modules, checked, len(report["errors"]), len(report["warnings"])))
`

// healthScript is the HTTP healthcheck: the runtime image has no shell and
// no curl, but it has the interpreter. Healthy on a 2xx or 3xx answer.
//
// argv: URL TIMEOUT_SECONDS
const healthScript = `import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as r:
        sys.exit(0 if 200 <= r.status < 400 else 1)
except Exception as e:
    print(e, file=sys.stderr)
    sys.exit(1)
`
