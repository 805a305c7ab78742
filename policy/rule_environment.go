package policy

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
)

// environmentRule looks through the parameters of every verified SLSA provenance for leaked
// variables and secret values, and for required build parameters: v1's externalParameters and
// internalParameters, v0.2's invocation.parameters and invocation.environment.
type environmentRule struct {
	forbiddenVars   []glob // case-insensitive
	forbiddenValues []*regexp.Regexp
	required        [][]string // each starts with externalParameters or internalParameters
}

func (r *environmentRule) eval(ec *evalContext) check {
	views, failed := ec.slsaProvenances()
	if failed != nil {
		return *failed
	}
	var bad []Evidence
	var reasons []string
	for _, v := range views {
		f, sh := v.facts, v.facts.shape
		report := func(field, value, msg string) {
			bad = append(bad, Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: field, Value: value, Message: msg})
			reasons = append(reasons, fmt.Sprintf("%s: %s", field, msg))
		}
		tops := []struct {
			path   []string
			params *structpb.Struct
		}{{sh.external, f.external}, {sh.internal, f.internal}}
		for _, top := range tops {
			if top.params != nil {
				w := walker{rule: r, report: report, path: []string{fieldPath(top.path)}}
				w.walk(structpb.NewStructValue(top.params))
			}
		}
		for _, path := range r.required {
			top, params := sh.external, f.external
			if path[0] == "internalParameters" {
				top, params = sh.internal, f.internal
			}
			if got := lookup(params, path[1:]...); got == nil || isNull(got) {
				report(fieldPath(top, path[1:]...), "", "required parameter missing")
			}
		}
	}
	if len(bad) > 0 {
		return fail(joinReasons(reasons), bad...)
	}
	return pass(fmt.Sprintf("%d SLSA provenance attestation(s): no forbidden variables or values, required parameters present", len(views)))
}

func isNull(v *structpb.Value) bool {
	_, ok := v.GetKind().(*structpb.Value_NullValue)
	return ok
}

// walker visits every key and string below a value. A key matching a forbidden variable is a
// leak whatever its value; so is a "NAME=value" string whose NAME matches; so is any string a
// forbidden value pattern matches. The path is kept as pieces and joined only to report.
type walker struct {
	rule   *environmentRule
	report func(field, value, msg string)
	path   []string
}

func (w *walker) field() string { return strings.Join(w.path, "") }

func (w *walker) walk(v *structpb.Value) {
	r := w.rule
	switch k := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		fields := k.StructValue.GetFields()
		keys := make([]string, 0, len(fields))
		for key := range fields {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			child := fields[key]
			w.path = append(w.path, ".", key)
			if g, ok := anyGlob(r.forbiddenVars, key); ok {
				w.report(w.field(), redact(valueString(child)), fmt.Sprintf("forbidden variable %s (matches %q)", key, g.text))
			} else {
				w.walk(child)
			}
			w.path = w.path[:len(w.path)-2]
		}
	case *structpb.Value_ListValue:
		for i, child := range k.ListValue.GetValues() {
			w.path = append(w.path, "[", strconv.Itoa(i), "]")
			w.walk(child)
			w.path = w.path[:len(w.path)-3]
		}
	case *structpb.Value_StringValue:
		s := k.StringValue
		if name, _, ok := strings.Cut(s, "="); ok && name != "" {
			if g, ok := anyGlob(r.forbiddenVars, name); ok {
				w.report(w.field(), redact(s), fmt.Sprintf("forbidden variable %s (matches %q)", name, g.text))
				return
			}
		}
		for _, re := range r.forbiddenValues {
			if re.MatchString(s) {
				w.report(w.field(), redact(s), fmt.Sprintf("value matches forbidden pattern %q", re.String()))
				return
			}
		}
	}
}
