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

// finalizeScript runs as the build user with no network, after the app and
// its build commands. It removes packaging tools a requirement may have
// pulled into the venv, compiles bytecode with the runtime interpreter in
// unchecked-hash mode (no source mtime inside, so it is reproducible and the
// read-only runtime never tries to rewrite it), and drops group/other write
// bits so nothing is writable by the runtime user.
//
// argv: VENV APPDIR
const finalizeScript = `import glob, os, shutil, subprocess, sys
venv, app = sys.argv[1], sys.argv[2]
tools = [n for n in ("pip", "setuptools", "wheel") if glob.glob(venv + "/lib/python3*/site-packages/" + n + "-*.dist-info")]
if tools:
    subprocess.run([sys.executable, "-m", "pip", "--python", venv + "/bin/python", "uninstall", "-y", "-q", *tools], check=True)
for f in glob.glob(venv + "/bin/pip*") + glob.glob(venv + "/bin/easy_install*"):
    os.remove(f)
compile = [venv + "/bin/python", "-m", "compileall", "-q", "-f", "--invalidation-mode", "unchecked-hash"]
# like pip, tolerate files in installed packages that do not compile (test data, py2 leftovers);
# the app's own sources must compile
subprocess.run(compile + [venv + "/lib"], check=False)
subprocess.run(compile + [app], check=True)
for top in (venv, app):
    for root, dirs, files in os.walk(top):
        for name in [root] + [os.path.join(root, f) for f in files]:
            if not os.path.islink(name):
                mode = os.lstat(name).st_mode
                if mode & 0o022:
                    os.chmod(name, mode & ~0o022 & 0o7777)
`
