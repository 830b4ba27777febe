package helper

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

const runtimePackagesUsage = "RUNTIME_ROOT OUT APT_CACHE PACKAGE... | RUNTIME_ROOT OUT APT_CACHE --which SONAME..."

// RuntimePackages runs as root in the builder with the network on:
//
//	runtime-packages RUNTIME_ROOT OUT APT_CACHE PACKAGE...
//	runtime-packages RUNTIME_ROOT OUT APT_CACHE --which SONAME...
//
// It adds Debian packages to a Debian-based runtime without apt or dpkg
// ever entering the image: apt resolves the closure against a status file
// made from the runtime's own package database (so what the runtime has
// is not fetched again), from the runtime's own release, and downloads it
// into a cache mount; each .deb is unpacked (no maintainer scripts),
// recorded in status.d like distroless records its own packages, and the
// alternatives its postinst would make (libblas.so.3 ->
// blas/libblas.so.3) are made as links. A package that would bring a
// shell, a package manager or a setuid/setgid file is refused, naming it.
//
// With --which SONAME... instead of packages, it only answers which
// package of the runtime's release ships each shared library (confirmed
// by the package's file list), as OUT/which.json, for the MissingLibrary
// message.
func RuntimePackages(args []string, stdout, stderr io.Writer) error {
	if len(args) < 3 {
		return usage("runtime-packages", runtimePackagesUsage)
	}
	rp := &runtimePkgs{root: args[0], out: args[1], cache: args[2], host: "/", stdout: stdout, stderr: stderr}
	wanted := args[3:]
	if len(wanted) > 0 && wanted[0] == "--which" {
		return rp.run(wanted[1:], true)
	}
	return rp.run(wanted, false)
}

type runtimePkgs struct {
	root, out, cache string
	host             string // the builder's root: its os-release and apt sources
	stdout, stderr   io.Writer

	tmp, suite string
	apt, env   []string
}

func fail(format string, a ...any) error {
	return errors.New("app.runtimePackages: " + fmt.Sprintf(format, a...))
}

// runtimeRefused are the packages the runtime must never get.
var runtimeRefused = map[string]bool{"bash": true, "dash": true, "busybox": true, "busybox-static": true, "zsh": true, "ksh": true, "mksh": true, "posh": true, "yash": true, "apt": true, "dpkg": true, "python3-pip": true, "apk-tools": true}

// runtimeBadFiles are the programs no package may ship in a bin or sbin.
var runtimeBadFiles = map[string]bool{"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "busybox": true, "apt": true, "apt-get": true, "dpkg": true, "pip": true, "pip3": true, "apk": true, "su": true, "sudo": true}

func (rp *runtimePkgs) run(wanted []string, which bool) error {
	rt, bl := osRelease(rp.root), osRelease(rp.host)
	if rt["ID"] != "debian" && !slices.Contains(Fields(rt["ID_LIKE"]), "debian") {
		name := rt["PRETTY_NAME"]
		if name == "" {
			name = "of unknown origin (no /etc/os-release)"
		}
		return fail("the runtime image is %s, not Debian: runtime packages are Debian packages unpacked from the runtime's release", name)
	}
	suite, own := rt["VERSION_CODENAME"], bl["VERSION_CODENAME"]
	if suite == "" {
		return fail("the runtime's /etc/os-release names no VERSION_CODENAME, so its Debian release is unknown")
	}
	rp.suite = suite
	tmp, err := os.MkdirTemp("", "distill-runtime-packages")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	rp.tmp = tmp
	// the runtime's package database as dpkg status: apt then fetches only what it lacks
	if err := os.WriteFile(tmp+"/status", []byte(dpkgStatus(rp.root)), 0o666); err != nil {
		return err
	}
	// the builder's own sources, pointed at the runtime's release
	for _, d := range []string{tmp + "/sources.list.d", tmp + "/empty"} {
		if err := os.Mkdir(d, 0o777); err != nil {
			return err
		}
	}
	etc := filepath.Join(rp.host, "etc/apt")
	srcs := append(append(Glob(etc+"/sources.list.d/*.list"), Glob(etc+"/sources.list.d/*.sources")...), etc+"/sources.list")
	for _, f := range srcs {
		if !IsFile(f) {
			continue
		}
		text, err := ReadText(f)
		if err != nil {
			return err
		}
		if own != "" && own != suite {
			text = rewriteSources(text, own, suite)
		}
		if err := os.WriteFile(filepath.Join(tmp, "sources.list.d", sourcesName(f)), []byte(text), 0o666); err != nil {
			return err
		}
	}
	arch, _, err := Proc{Argv: []string{"dpkg", "--print-architecture"}}.Output()
	if err != nil {
		return err
	}
	rp.apt = []string{"-o", "Dir::State::status=" + tmp + "/status", "-o", "Dir::State::Lists=" + rp.cache + "/lists",
		"-o", "Dir::Cache=" + rp.cache + "/cache", "-o", "Dir::Etc::SourceList=/dev/null",
		"-o", "Dir::Etc::SourceParts=" + tmp + "/sources.list.d", "-o", "Dir::Etc::Preferences=/dev/null",
		"-o", "Dir::Etc::PreferencesParts=" + tmp + "/empty", "-o", "Debug::NoLocking=1", "-o", "APT::Architecture=" + Strip(arch),
		"-o", "APT::Install-Recommends=false", "-o", "Acquire::Languages=none", "-o", "APT::Keep-Downloaded-Packages=true"}
	for _, d := range []string{rp.cache + "/lists/partial", rp.cache + "/cache/archives/partial"} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			return err
		}
	}
	rp.env = []string{"DEBIAN_FRONTEND=noninteractive"}
	if err := (Proc{Argv: rp.aptArgv([]string{"apt-get", "-q"}, "update"), Env: rp.env, Stderr: rp.stderr}).Run(); err != nil {
		return err
	}
	if which {
		return rp.which(wanted)
	}
	return rp.install(wanted)
}

// aptArgv is HEAD... -o ...(the runtime's apt options) TAIL...
func (rp *runtimePkgs) aptArgv(head []string, tail ...string) []string {
	return append(append(slices.Clone(head), rp.apt...), tail...)
}

func (rp *runtimePkgs) which(sonames []string) error {
	found := map[string]string{}
	for _, soname := range sonames {
		stem, _, _ := strings.Cut(soname, ".so")
		out, _, _ := Proc{Argv: rp.aptArgv([]string{"apt-cache"}, "pkgnames", stem), Env: rp.env}.Output()
		has := regexp.MustCompile(`(?m)/` + regexp.QuoteMeta(soname) + `( |$)`)
		for _, n := range whichCandidates(stem, Fields(out)) {
			d := filepath.Join(rp.tmp, "w-"+n)
			if err := os.MkdirAll(d, 0o777); err != nil {
				return err
			}
			if _, _, err := (Proc{Argv: rp.aptArgv([]string{"apt-get", "-q"}, "download", n), Dir: d, Env: rp.env}).Output(); err != nil {
				continue
			}
			for _, deb := range Glob(d + "/*.deb") {
				files, _, _ := Proc{Argv: []string{"dpkg-deb", "-c", deb}}.Output()
				if has.MatchString(files) {
					found[soname] = n
				}
			}
			if _, ok := found[soname]; ok {
				break
			}
		}
	}
	if err := os.WriteFile(filepath.Join(rp.out, "which.json"), []byte(PyJSON(found, -1)), 0o666); err != nil {
		return err
	}
	fmt.Fprintf(rp.stdout, "shared libraries in Debian %s: %s\n", rp.suite, pyDictRepr(found))
	return nil
}

// whichCandidates are the packages apt-cache pkgnames STEM listed that may
// ship STEM.so: the Debian policy name (libpq5, libyaml-0-2, libxcb1)
// first, at most 8, never -dev, -dbg, -doc, -bin, -tools, -utils or -dbgsym.
func whichCandidates(stem string, names []string) []string {
	skip := regexp.MustCompile(`-(dev|dbg|doc|bin|tools|utils)$|-dbgsym$`)
	policy := regexp.MustCompile(`^` + regexp.QuoteMeta(stem) + `-?[0-9]`)
	var out []string
	for _, n := range names {
		if !skip.MatchString(n) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		pa, pb := policy.MatchString(a), policy.MatchString(b)
		if pa != pb {
			if pa {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(len([]rune(a)), len([]rune(b))), strings.Compare(a, b))
	})
	return out[:min(len(out), 8)]
}

// pyDictRepr is Python's repr of a dict of plain strings, in key order
// (Python printed them in the order asked, which the frontend sorts).
func pyDictRepr(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = "'" + k + "': '" + m[k] + "'"
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// aptPlan is the (package, version) pairs of apt-get -s install's "Inst"
// lines.
func aptPlan(sim string) [][2]string {
	var plan [][2]string
	for _, m := range regexp.MustCompile(`(?m)^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) `).FindAllStringSubmatch(sim, -1) {
		plan = append(plan, [2]string{m[1], m[2]})
	}
	return plan
}

func (rp *runtimePkgs) install(wanted []string) error {
	suite := rp.suite
	for _, name := range wanted {
		out, _, err := Proc{Argv: rp.aptArgv([]string{"apt-cache"}, "show", "--no-all-versions", name), Env: rp.env}.Output()
		if err != nil || !strings.Contains(out, "Package: ") {
			return fail("%s is not a package of Debian %s (the runtime's release); check the name with apt-cache search, or https://packages.debian.org/%s", name, suite, suite)
		}
	}
	simOut, simErr, err := Proc{Argv: rp.aptArgv([]string{"apt-get", "-q", "-s"}, append([]string{"install"}, wanted...)...), Env: rp.env}.Output()
	if err != nil {
		return fail("apt cannot install %s on Debian %s next to the runtime's packages:\n%s", strings.Join(wanted, " "), suite, simOut+simErr)
	}
	plan := aptPlan(simOut)
	if err := refusePlan(wanted, plan); err != nil {
		return err
	}
	download := rp.aptArgv([]string{"apt-get", "-q", "-y"}, append([]string{"install", "--download-only"}, wanted...)...)
	if err := (Proc{Argv: download, Env: rp.env, Stderr: rp.stderr}).Run(); err != nil {
		return err
	}

	sorted := slices.Clone(plan)
	slices.SortFunc(sorted, func(a, b [2]string) int { return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1])) })
	links := map[string]alternative{}
	for _, p := range sorted {
		n, ver := strings.Split(p[0], ":")[0], p[1]
		debs := Glob(rp.cache + "/cache/archives/" + n + "_" + strings.ReplaceAll(ver, ":", "%3a") + "_*.deb")
		if len(debs) == 0 {
			return fail("apt did not download %s %s", n, ver)
		}
		deb, unpack := debs[0], filepath.Join(rp.tmp, "x-"+n)
		if err := (Proc{Argv: []string{"dpkg-deb", "-x", deb, unpack}, Stdout: rp.stdout, Stderr: rp.stderr}).Run(); err != nil {
			return err
		}
		if err := checkUnpacked(n, unpack); err != nil {
			return err
		}
		if err := trimUnpacked(unpack); err != nil {
			return err
		}
		// merged /usr: a runtime whose /lib is a link to usr/lib must keep it
		for _, top := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
			src := filepath.Join(unpack, top)
			if IsDir(src) && !IsLink(src) && IsLink(filepath.Join(rp.root, top)) {
				if err := CopyTree(src, filepath.Join(unpack, "usr", top), true); err != nil {
					return err
				}
				if err := os.RemoveAll(src); err != nil {
					return err
				}
			}
		}
		if err := CopyTree(unpack, rp.out, true); err != nil {
			return err
		}
		if err := os.MkdirAll(rp.out+"/var/lib/dpkg/status.d", 0o777); err != nil {
			return err
		}
		fields, _, err := Proc{Argv: []string{"dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Source", "Maintainer",
			"Installed-Size", "Depends", "Pre-Depends", "Description"}}.Output()
		if err != nil {
			return err
		}
		if err := os.WriteFile(rp.out+"/var/lib/dpkg/status.d/"+n, []byte(fields), 0o666); err != nil {
			return err
		}
		control := filepath.Join(rp.tmp, "c-"+n)
		if err := (Proc{Argv: []string{"dpkg-deb", "-e", deb, control}, Stdout: rp.stdout, Stderr: rp.stderr}).Run(); err != nil {
			return err
		}
		if IsFile(control + "/postinst") {
			script, err := ReadText(control + "/postinst")
			if err != nil {
				return err
			}
			postinstAlternatives(script, links)
		}
	}
	if err := rp.makeAlternatives(links); err != nil {
		return err
	}
	shown := make([]string, len(sorted))
	for i, p := range sorted {
		shown[i] = p[0] + "=" + p[1]
	}
	fmt.Fprintf(rp.stdout, "runtime packages for Debian %s: %s\n", suite, strings.Join(shown, " "))
	return nil
}

// refusePlan refuses a wanted package or a planned one that is a shell
// or a package manager.
func refusePlan(wanted []string, plan [][2]string) error {
	for _, name := range wanted {
		if runtimeRefused[name] {
			return fail("%s is a shell or package manager, which the runtime must not have", name)
		}
	}
	for _, p := range plan {
		if runtimeRefused[strings.Split(p[0], ":")[0]] {
			return fail("%s would bring %s (a shell or package manager), which the runtime must not have; the packages that need it cannot be used without one", strings.Join(wanted, " "), p[0])
		}
	}
	return nil
}

// checkUnpacked refuses a package n, unpacked in unpack, that ships a
// shell or package manager in a bin or sbin, or a setuid/setgid file.
func checkUnpacked(n, unpack string) error {
	return filepath.WalkDir(unpack, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == unpack {
			return err
		}
		rel, _ := filepath.Rel(unpack, p)
		if runtimeBadFiles[filepath.Base(rel)] && slices.Contains([]string{"bin", "sbin"}, filepath.Base(filepath.Dir(rel))) && !IsDir(p) {
			return fail("%s ships %s (a shell or package manager), which the runtime must not have", n, "/"+rel)
		}
		if d.Type()&fs.ModeSymlink == 0 {
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			if unixMode(fi)&0o6000 != 0 {
				return fail("%s ships the setuid/setgid file %s, which the runtime must not have", n, "/"+rel)
			}
		}
		return nil
	})
}

// trimUnpacked removes documentation but the copyright files, and the
// manuals, info pages, lintian overrides, translations and bug scripts.
func trimUnpacked(unpack string) error {
	for _, doc := range Glob(unpack + "/usr/share/doc/*") {
		if IsLink(doc) || !IsDir(doc) {
			continue
		}
		entries, err := os.ReadDir(doc)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Name() == "copyright" {
				continue
			}
			p := filepath.Join(doc, e.Name())
			if IsDir(p) && !IsLink(p) {
				err = os.RemoveAll(p)
			} else {
				err = os.Remove(p)
			}
			if err != nil {
				return err
			}
		}
	}
	for _, d := range []string{"usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/locale", "usr/share/bug"} {
		RemoveTree(filepath.Join(unpack, d))
	}
	return nil
}

// alternative is the link target a postinst would choose, by priority.
type alternative struct {
	target string
	prio   int64
}

// postinstAlternatives adds to links the update-alternatives --install
// links a postinst script makes: the highest priority wins, the first on
// a tie; links or targets made of shell variables are left out.
func postinstAlternatives(script string, links map[string]alternative) {
	script = strings.ReplaceAll(script, "\\\n", " ")
	re := regexp.MustCompile(`update-alternatives\s+(?:--\S+\s+)*--install\s+(/\S+)\s+(\S+)\s+(/\S+)\s+(\d+)`)
	for _, m := range re.FindAllStringSubmatch(script, -1) {
		link, target := m[1], m[3]
		prio, _ := strconv.ParseInt(m[4], 10, 64) // out of range: the largest
		if strings.Contains(link+target, "$") {
			continue
		}
		if cur, ok := links[link]; !ok || prio > cur.prio {
			links[link] = alternative{target, prio}
		}
	}
}

// makeAlternatives makes each link, relative, unless the packages or the
// runtime already have that path.
func (rp *runtimePkgs) makeAlternatives(links map[string]alternative) error {
	names := make([]string, 0, len(links))
	for l := range links {
		names = append(names, l)
	}
	slices.Sort(names)
	for _, link := range names {
		p := rp.out + link
		if Lexists(p) || Lexists(rp.root+link) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			return err
		}
		rel, err := filepath.Rel(filepath.Dir(link), links[link].target)
		if err != nil {
			return err
		}
		if err := os.Symlink(rel, p); err != nil {
			return err
		}
	}
	return nil
}

// osRelease reads base's usr/lib/os-release, else etc/os-release; a link
// to an absolute path is not followed (it would name the builder's).
func osRelease(base string) map[string]string {
	for _, p := range []string{"usr/lib/os-release", "etc/os-release"} {
		f := filepath.Join(base, p)
		if !IsFile(f) {
			continue
		}
		if t, err := os.Readlink(f); err == nil && strings.HasPrefix(t, "/") {
			continue
		}
		text, err := ReadText(f)
		if err != nil {
			continue
		}
		return parseOSRelease(text)
	}
	return map[string]string{}
}

func parseOSRelease(text string) map[string]string {
	vals := map[string]string{}
	for _, line := range Lines(text) {
		k, v, ok := strings.Cut(Strip(line), "=")
		if ok {
			vals[k] = strings.Trim(Strip(v), `"`)
		}
	}
	return vals
}

// dpkgStatus is the runtime's package database (status.d, then status) as
// one dpkg status file of installed packages. They are installed as they
// are: distroless images carry packages without all their dependencies
// (tzdata without debconf), which apt would otherwise try to repair.
func dpkgStatus(root string) string {
	files := append(Glob(root+"/var/lib/dpkg/status.d/*"), root+"/var/lib/dpkg/status")
	var status []string
	for _, f := range files {
		if !IsFile(f) || strings.HasSuffix(f, ".md5sums") {
			continue
		}
		text, err := ReadText(f)
		if err != nil {
			continue
		}
		for _, block := range strings.Split(text, "\n\n") {
			if s, ok := statusStanza(block); ok {
				status = append(status, s)
			}
		}
	}
	return strings.Join(status, "\n\n") + "\n"
}

// statusStanza is a package's stanza without its status and dependency
// fields, marked installed.
func statusStanza(block string) (string, bool) {
	var lines []string
	skip := false
	for _, l := range SplitLines(block) {
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			if !skip {
				lines = append(lines, l)
			}
			continue
		}
		key, _, _ := strings.Cut(l, ":")
		skip = slices.Contains([]string{"Status", "Depends", "Pre-Depends", "Recommends", "Conflicts", "Breaks"}, key)
		if l != "" && !skip {
			lines = append(lines, l)
		}
	}
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Package:") }) {
		return "", false
	}
	return strings.Join(append(append(lines[:1:1], "Status: install ok installed"), lines[1:]...), "\n"), true
}

// rewriteSources points the deb lines and Suites fields of an apt source
// file at the suite instead of own (the builder's release).
func rewriteSources(text, own, suite string) string {
	word := regexp.MustCompile(`\b` + regexp.QuoteMeta(own) + `\b`)
	return regexp.MustCompile(`(?m)^(deb\s.*|Suites:.*)`).ReplaceAllStringFunc(text, func(line string) string {
		return word.ReplaceAllLiteralString(line, suite)
	})
}

// sourcesName is the name a source file gets in the sources.list.d given
// to apt.
func sourcesName(f string) string {
	if strings.HasSuffix(f, ".list") || strings.HasSuffix(f, ".sources") {
		return filepath.Base(f)
	}
	return "main.list"
}
