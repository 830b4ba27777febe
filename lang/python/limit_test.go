package python_test

import (
	"testing"

	"github.com/distill-build/distill/inputs"
	"github.com/distill-build/distill/pydeps"
)

// The inputs reader stops one byte past what pydeps accepts, so a file
// over the limit is refused by the parser, not cut off unnoticed.
func TestReadLimitMatchesParsers(t *testing.T) {
	if inputs.MaxFileSize != pydeps.MaxFileSize+1 {
		t.Errorf("inputs.MaxFileSize %d, want pydeps.MaxFileSize+1 (%d)", inputs.MaxFileSize, pydeps.MaxFileSize+1)
	}
}
