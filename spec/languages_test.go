package spec_test

// The languages register themselves with package spec (spec.RegisterLanguage)
// when package lang is loaded, as in every binary that parses specs; the
// tests, the checked-in schema among them, see the same list.
import _ "github.com/distill-build/distill/lang"
