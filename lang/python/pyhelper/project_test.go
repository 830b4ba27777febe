package pyhelper

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProject(t *testing.T) {
	dir := t.TempDir()
	// python3 on PATH stands in for the builder's pip: it records how it was run
	bin, record := dir+"/bin", dir+"/argv"
	writeFile(t, bin+"/python3", "#!/bin/sh\nprintf '%s\\n' \"$@\" > "+record+"\necho \"TMPDIR=$TMPDIR\" >> "+record+"\nexit ${FAKE_PIP_EXIT:-0}\n", 0o755)
	t.Setenv("PATH", bin+":/usr/bin:/bin")
	app, scratch := dir+"/app", dir+"/scratch"
	writeFile(t, app+"/pyproject.toml", "[project]\nname = 'app'\n", 0o644)
	writeFile(t, app+"/src/app/__init__.py", "", 0o644)
	os.Symlink("src/app", app+"/link")
	writeFile(t, app+"/libs/util/pyproject.toml", "[project]\nname = 'util'\n", 0o644)
	os.MkdirAll(scratch, 0o755)

	args := []string{"/opt/venv", scratch, "2", app, app + "/libs/util", "--no-build-isolation", "--config-settings", "x=y"}
	if err := Project(args, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(record)
	want := strings.Join([]string{"-m", "pip", "--python", "/opt/venv/bin/python", "install", "--no-deps", "--no-compile", "--no-warn-script-location", "--progress-bar", "off",
		"--no-build-isolation", "--config-settings", "x=y", scratch + "/src0", scratch + "/src1", "TMPDIR=" + scratch}, "\n") + "\n"
	if string(got) != want {
		t.Errorf("pip ran as\n%s\nwant\n%s", got, want)
	}
	if l, err := os.Readlink(scratch + "/src0/link"); err != nil || l != "src/app" {
		t.Errorf("a link was not copied as a link: %q %v", l, err)
	}
	for _, f := range []string{"/src0/pyproject.toml", "/src0/src/app/__init__.py", "/src0/libs/util/pyproject.toml", "/src1/pyproject.toml"} {
		if _, err := os.Stat(scratch + f); err != nil {
			t.Errorf("not copied: %v", err)
		}
	}

	// pip's failure fails; a directory without pyproject.toml is named
	t.Setenv("FAKE_PIP_EXIT", "3")
	if err := Project([]string{"/opt/venv", t.TempDir(), "1", app}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "returned non-zero exit status 3") {
		t.Errorf("pip failing: %v", err)
	}
	err := Project([]string{"/opt/venv", t.TempDir(), "1", filepath.Join(app, "src")}, io.Discard, io.Discard)
	want = "python.project: " + app + "/src has no pyproject.toml in the image's app directory (is it left out by app.include or app.exclude?)"
	if err == nil || err.Error() != want {
		t.Errorf("no pyproject.toml: %v\nwant %s", err, want)
	}
	for _, bad := range [][]string{{"/v", "/s"}, {"/v", "/s", "x"}, {"/v", "/s", "2", app}} {
		if err := Project(bad, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("Project(%q) = %v", bad, err)
		}
	}
}
