# verifyScript of llb/scripts.go (commit 7f0261e), the Python program the Go
# command replaces: the tests compare the two on the same inputs.
import glob, importlib, json, os, struct, subprocess, sys
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
