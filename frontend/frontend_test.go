package frontend

import (
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/gateway/client"
)

func TestExplicitScanner(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"attest:sbom": ""}, false},
		{map[string]string{"attest:sbom": "foo=bar"}, false},
		{map[string]string{"attest:sbom": "generator=registry.example/scanner:1"}, true},
		{map[string]string{"attest:sbom": "foo=bar,generator=x"}, true},
		{map[string]string{"attest:provenance": "generator=x"}, false},
	} {
		if got := explicitScanner(tc.opts); got != tc.want {
			t.Errorf("explicitScanner(%v) = %v, want %v", tc.opts, got, tc.want)
		}
	}
}

type fakeOpts struct {
	client.Client
	opts map[string]string
}

func (f fakeOpts) BuildOpts() client.BuildOpts { return client.BuildOpts{Opts: f.opts} }

func TestDefaultFilename(t *testing.T) {
	orig := map[string]string{"build-arg:X": "1"}
	got := withDefaultFilename{fakeOpts{opts: orig}}.BuildOpts().Opts
	if got["filename"] != DefaultFilename || got["build-arg:X"] != "1" {
		t.Errorf("opts %v, want filename=%s and the rest kept", got, DefaultFilename)
	}
	if _, ok := orig["filename"]; ok {
		t.Error("the client's own options map was modified")
	}
	got = withDefaultFilename{fakeOpts{opts: map[string]string{"filename": "app.yaml"}}}.BuildOpts().Opts
	if got["filename"] != "app.yaml" {
		t.Errorf("an explicit filename was replaced: %v", got)
	}
}

func TestSourceDateEpoch(t *testing.T) {
	if e, err := sourceDateEpoch(map[string]string{}); e != nil || err != nil {
		t.Errorf("no arg: %v %v", e, err)
	}
	e, err := sourceDateEpoch(map[string]string{"SOURCE_DATE_EPOCH": "1700000000"})
	if err != nil || !e.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("epoch: %v %v", e, err)
	}
	if _, err := sourceDateEpoch(map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}); err == nil {
		t.Error("a non-numeric SOURCE_DATE_EPOCH was accepted")
	}
}

func TestLineRange(t *testing.T) {
	r := lineRange(7, 3)
	if r.Start.Line != 7 || r.Start.Character != 2 || r.End.Line != 7 {
		t.Errorf("lineRange(7,3) = %v", r)
	}
	if r := lineRange(0, 0); r.Start.Line != 1 || r.Start.Character != 0 {
		t.Errorf("lineRange(0,0) = %v, want line 1", r)
	}
}
