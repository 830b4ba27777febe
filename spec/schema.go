package spec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
)

// SchemaID is the schema's $id: the checked-in copy (spec/distill.schema.json)
// on the main branch, so an editor can fetch it with
//
//	# yaml-language-server: $schema=<SchemaID>
const SchemaID = "https://raw.githubusercontent.com/distill-build/distill/main/spec/distill.schema.json"

// sectionDocs describe the sections, whose Go fields carry no doc tag.
var sectionDocs = map[string]string{
	"python": "Python toolchain and dependency install.",
	"build":  "The builder stage: OS packages, environment and extra exec-form steps.",
	"app":    "What goes into the runtime image and how it starts.",
	"base":   "Override of the default builder/runtime image pair (e.g. a company's hardened images).",
	"policy": "How strict the build is.",
}

var defaults = map[string]any{
	"runtime":             RuntimeDistroless,
	"python.version":      DefaultPythonVersion,
	"python.requirements": DefaultRequirements,
	"app.workdir":         DefaultWorkdir,
	"policy.strict":       false,
}

// Schema returns the JSON Schema of distill.yaml v1, generated from the Go
// types, their doc tags and the validation rules, so it cannot disagree with
// Parse about which keys exist. It declares draft 2020-12 but uses only
// keywords that draft-07 shares, because the yaml-language-server validates
// with a draft-07 engine.
//
// Parse checks more than the schema can say (paths must be clean, an index
// URL must parse, image references must be valid); the schema is for
// editors, Parse is the authority.
func Schema() ([]byte, error) {
	s := structSchema(reflect.TypeOf(Spec{}), "")
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = SchemaID
	s["title"] = "distill.yaml v1"
	s["description"] = "A distill build spec: a secure-by-default container image built by the distill BuildKit frontend."
	s["type"] = "object"
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type object = map[string]any

// textSchema is a scalar used as written: Parse accepts numbers and booleans
// where a string is meant (entrypoint: [gunicorn, --workers, 4]).
func textSchema() object { return object{"type": []string{"string", "number", "boolean"}} }

func structSchema(t reflect.Type, path string) object {
	props := object{}
	var required []string
	names, index := yamlFields(t)
	for _, name := range names {
		f := t.Field(index[name])
		fp := joinPath(path, name)
		ps := fieldSchema(f.Type, fp)
		if d := f.Tag.Get("doc"); d != "" {
			ps["description"] = d
		} else if d := sectionDocs[fp]; d != "" {
			ps["description"] = d
		}
		if d, ok := defaults[fp]; ok {
			ps["default"] = d
		}
		props[name] = ps
		if r := rules[fp]; r != nil && r.required {
			required = append(required, name)
		}
	}
	s := object{
		// A section whose keys are all commented out is null in YAML; Parse
		// treats it as empty.
		"type":                 []string{"object", "null"},
		"properties":           props,
		"additionalProperties": false,
		"patternProperties":    object{"^x-": object{}},
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func fieldSchema(t reflect.Type, path string) object {
	r := rules[path]
	switch t {
	case stringType:
		return scalarSchema(r)
	case boolType:
		return object{"type": "boolean"}
	case intType:
		it := object{"type": "integer"}
		if r != nil && r.max > 0 {
			it["minimum"], it["maximum"] = r.min, r.max
		}
		return it
	case stringsType:
		return listSchema(scalarSchema(itemRule(path)), r)
	case commandsType:
		return listSchema(listSchema(textSchema(), r.items), r)
	case intsType:
		it := object{"type": "integer"}
		if ir := itemRule(path); ir != nil {
			it["minimum"], it["maximum"] = ir.min, ir.max
		}
		return listSchema(it, r)
	case envType, labelsType:
		names := object{"pattern": r.keyPattern.String()}
		if len(r.reserved) > 0 {
			var reserved []string
			for k := range r.reserved {
				reserved = append(reserved, k)
			}
			slices.Sort(reserved)
			names["not"] = object{"enum": reserved}
		}
		return object{
			"type":                 []string{"object", "null"},
			"propertyNames":        names,
			"additionalProperties": textSchema(),
		}
	}
	if t.Kind() == reflect.Struct {
		return structSchema(t, path)
	}
	// Unreachable while every field type has a case; TestSchemaCoversTypes
	// fails if one is added without.
	return object{}
}

func scalarSchema(r *fieldRule) object {
	if r == nil {
		return object{"type": "string"}
	}
	if r.text {
		return textSchema()
	}
	s := object{"type": "string"}
	if len(r.enum) > 0 {
		var enum []any
		for _, e := range r.enum {
			enum = append(enum, e)
		}
		if r.numericText {
			// YAML reads an unquoted 3.13 as a number. Only versions whose
			// number prints back as the same text are listed: Parse
			// compares the text, so 3.10 (the number 3.1) is not 3.10.
			delete(s, "type")
			for _, e := range r.enum {
				if f, err := strconv.ParseFloat(e, 64); err == nil && strconv.FormatFloat(f, 'f', -1, 64) == e {
					enum = append(enum, f)
				}
			}
		}
		s["enum"] = enum
	}
	if r.pattern != nil {
		s["pattern"] = r.pattern.String()
	}
	if r.notPattern != nil {
		s["not"] = object{"pattern": r.notPattern.String()}
	}
	if r.maxLength > 0 {
		s["maxLength"] = r.maxLength
	}
	return s
}

func listSchema(items object, r *fieldRule) object {
	s := object{"type": []string{"array", "null"}, "items": items}
	if r != nil {
		if r.minItems > 0 {
			s["minItems"] = r.minItems
			// A nested list (one command) is never null.
			if r.items != nil && r.items.text {
				s["type"] = "array"
			}
		}
		if r.unique {
			s["uniqueItems"] = true
		}
	}
	return s
}
