# sbomScript of llb/scripts.go (commit 7f0261e), the Python program the Go
# command replaces: the tests compare the two on the same inputs.
import email.parser, glob, hashlib, json, os, re, sys, time
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
