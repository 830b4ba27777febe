package srcpos

import "testing"

func TestFormat(t *testing.T) {
	tests := []struct {
		file      string
		line, col int
		want      string
	}{
		{"distill.yaml", 3, 7, "distill.yaml:3:7: msg"},
		{"distill.yaml", 3, 0, "distill.yaml:3: msg"},
		{"distill.yaml", 0, 0, "distill.yaml: msg"},
		{"distill.yaml", 0, 5, "distill.yaml: msg"},
		{"", 3, 7, "msg"},
		{"dir/uv.lock", 12, 1, "dir/uv.lock:12:1: msg"},
	}
	for _, tt := range tests {
		if got := Format(tt.file, tt.line, tt.col, "msg"); got != tt.want {
			t.Errorf("Format(%q, %d, %d) = %q, want %q", tt.file, tt.line, tt.col, got, tt.want)
		}
	}
}
