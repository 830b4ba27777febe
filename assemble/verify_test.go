package assemble

import (
	"reflect"
	"testing"

	"github.com/distill-build/distill/helper"
	"github.com/distill-build/distill/lint"
)

func TestLintVerification(t *testing.T) {
	pair := Pair{Builder: "b", Runtime: "r"}
	r := &Report{
		Errors:   []helper.Problem{{Kind: "library", Object: "x.so", Missing: []string{"libpq.so.5"}}},
		Warnings: []helper.Problem{{Kind: "fallback", Module: "yaml._yaml", Package: "yaml", Error: "e"}},
	}
	want := lint.Verification{Builder: "b", Runtime: "r", User: RuntimeUser,
		Errors:   []lint.Problem{{Kind: "library", Object: "x.so", Missing: []string{"libpq.so.5"}}},
		Warnings: []lint.Problem{{Kind: "fallback", Module: "yaml._yaml", Package: "yaml", Error: "e"}},
	}
	if got := LintVerification(pair, r); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
