package pydeps

import "testing"

// TestErrorFormat: pydeps errors read like spec errors and lint findings.
func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "uv.lock", Line: 12, Column: 3, Msg: "bad"}, "uv.lock:12:3: bad"},
		{Error{File: "uv.lock", Line: 12, Msg: "bad"}, "uv.lock:12: bad"},
		{Error{File: "uv.lock", Msg: "bad"}, "uv.lock: bad"},
		{Error{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}
