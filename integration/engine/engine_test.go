package engine

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/distill-build/distill/integration/testbed"
)

// A private engine's config is the test bed's with only its own state,
// socket and OpenTelemetry socket moved into its dir.
func TestWriteConfig(t *testing.T) {
	dir := t.TempDir()
	bed := filepath.Join(dir, "bed.toml")
	orig := testbed.NewBuildkitdConfig("/w/buildkit", "unix:///w/run/buildkitd.sock", "/w/run/otel.sock", "localhost:5100", 5100)
	if err := orig.WriteFile(bed); err != nil {
		t.Fatal(err)
	}
	c, err := testbed.ReadBuildkitdConfig(bed)
	if err != nil {
		t.Fatal(err)
	}
	edir := t.TempDir()
	path, addr, err := WriteConfig(c, edir)
	if err != nil {
		t.Fatal(err)
	}
	if addr != "unix://"+edir+"/buildkitd.sock" || path != edir+"/buildkitd.toml" {
		t.Errorf("addr %s path %s", addr, path)
	}
	got, err := testbed.ReadBuildkitdConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := *orig
	want.Root, want.GRPC.Address, want.OTEL.SocketPath = edir+"/state", []string{addr}, edir+"/otel.sock"
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, &want)
	}
}
