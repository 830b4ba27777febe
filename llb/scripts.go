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
        dist = os.path.basename(os.path.dirname(rec)).rsplit("-", 1)[0]
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
// argv: VENV APP_DIR SCRATCH [PIP_ARG...]
const projectScript = `import os, shutil, subprocess, sys
venv, app, scratch, pip_args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
src = os.path.join(scratch, "src")
shutil.copytree(app, src, symlinks=True)
env = dict(os.environ, TMPDIR=scratch)
subprocess.run([sys.executable, "-m", "pip", "--python", venv + "/bin/python", "install",
    "--no-deps", "--no-compile", "--no-warn-script-location", "--progress-bar", "off", *pip_args, src],
    check=True, env=env)
`
