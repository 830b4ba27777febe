//go:build integration

package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/bedenv"
)

// TestDemo runs the program behind `make demo`, the README's first command,
// so the newcomer's path is tested by `make test` too.
func TestDemo(t *testing.T) {
	need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := run(t, ctx, nil, "go", "run", "./cmd/demo",
		"-distill", tb.distill,
		"-example", filepath.Join("..", "examples", "python-http"),
		"-env", bedenv.Path(tb.work),
		"-out", t.TempDir())
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, tail(out, 40))
	}
	for _, want := range []string{"invariants  OK", `-> 200 "hello from python-http"`, `user        "65532:65532"`, "base        gcr.io/distroless/python3-debian13:nonroot@sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo summary lacks %q:\n%s", want, tail(out, 20))
		}
	}
}
