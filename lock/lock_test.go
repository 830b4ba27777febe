package lock

import (
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
)

func TestRoundTripAndGet(t *testing.T) {
	f := &File{LockVersion: Version, Bases: []Base{
		{Role: RoleBuilder, Ref: "docker.io/library/python:3.13-slim-trixie", Digest: digest.FromString("b"), Platforms: []string{"linux/amd64"}, Python: "3.13", Resolved: time.Unix(1700000000, 0).UTC()},
		{Role: RoleRuntime, Ref: "gcr.io/distroless/python3-debian13:nonroot", Digest: digest.FromString("r"), Resolved: time.Unix(1700000000, 0).UTC()},
	}}
	dt, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(dt)
	if err != nil {
		t.Fatal(err)
	}
	dt2, _ := g.Marshal()
	if string(dt) != string(dt2) {
		t.Fatalf("round trip changed the lock:\n%s\n%s", dt, dt2)
	}
	if b, ok := g.Get(RoleRuntime, "gcr.io/distroless/python3-debian13:nonroot"); !ok || b.Digest != digest.FromString("r") {
		t.Errorf("Get runtime = %v %v", b, ok)
	}
	if _, ok := g.Get(RoleRuntime, "gcr.io/distroless/python3-debian12:nonroot"); ok {
		t.Error("a lock for another reference must not match (the spec changed: stale)")
	}
	var nilFile *File
	if _, ok := nilFile.Get(RoleBuilder, "x"); ok {
		t.Error("nil lock matched")
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"lockVersion": 2, "bases": []}`, "lockVersion 2 is not supported"},
		{`{"lockVersion": 1, "bases": [], "extra": 1}`, "unknown field"},
		{`{"lockVersion": 1, "bases": [{"role": "tester", "ref": "x", "digest": "sha256:` + strings.Repeat("a", 64) + `"}]}`, `role "tester"`},
		{`{"lockVersion": 1, "bases": [{"role": "builder", "ref": "x", "digest": "md5:abc"}]}`, "builder digest"},
		{`not json`, "distill.lock"},
	} {
		if _, err := Parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v, want error containing %q", tc.in, err, tc.want)
		}
	}
}
