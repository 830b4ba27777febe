// Package lang is the registry of distill's languages. A language is one
// folder under lang/ implementing assemble.Language, and one line in
// languages below.
package lang

import (
	"slices"

	"github.com/distill-build/distill/assemble"
	"github.com/distill-build/distill/lang/python"
	"github.com/distill-build/distill/lang/static"
	"github.com/distill-build/distill/spec"
)

var languages = []assemble.Language{
	python.Language{},
	static.Language{},
}

func init() {
	for _, l := range languages {
		spec.RegisterLanguage(l.Name())
	}
}

// Names are the registered languages' names, in registration order.
func Names() []string {
	out := make([]string, len(languages))
	for i, l := range languages {
		out[i] = l.Name()
	}
	return out
}

// For returns the spec's language. spec.Parse accepts only registered
// names, so an error here means the spec was not parsed by it.
func For(s *spec.Spec) (assemble.Language, error) {
	i := slices.IndexFunc(languages, func(l assemble.Language) bool { return l.Name() == s.Language })
	if i < 0 {
		return nil, s.Errorf(spec.Field("language"), "language %q is not supported; allowed: %v", s.Language, Names())
	}
	return languages[i], nil
}
