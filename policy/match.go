package policy

import (
	"fmt"
	"strings"

	"golang.org/x/mod/semver"
	"google.golang.org/protobuf/types/known/structpb"
)

// glob is a pattern where "*" matches any run of characters, "/" included, and everything else
// matches itself. It is anchored at both ends. Matching is plain string search, no regexp.
type glob struct {
	text  string
	parts []string // the pattern split at "*"; lower-cased when fold
	fold  bool
}

func compileGlob(p string, fold bool) (glob, error) {
	if p == "" {
		return glob{}, fmt.Errorf("empty pattern")
	}
	pat := p
	if fold {
		pat = strings.ToLower(p)
	}
	return glob{text: p, parts: strings.Split(pat, "*"), fold: fold}, nil
}

func (g glob) match(s string) bool {
	if g.fold {
		s = strings.ToLower(s)
	}
	parts := g.parts
	if len(parts) == 1 {
		return s == parts[0]
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

func anyGlob(gs []glob, s string) (glob, bool) {
	for _, g := range gs {
		if g.match(s) {
			return g, true
		}
	}
	return glob{}, false
}

// semverRange is a conjunction of comparisons such as ">=v1.2.0 <v2.0.0". Versions may omit the
// leading "v".
type semverRange struct {
	text string
	cmps []semverCmp
}

type semverCmp struct {
	op string
	v  string
}

func parseSemverRange(s string) (*semverRange, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("empty version range")
	}
	r := &semverRange{text: s}
	for _, f := range fields {
		op := ""
		for _, o := range []string{">=", "<=", "!=", ">", "<", "="} {
			if strings.HasPrefix(f, o) {
				op = o
				break
			}
		}
		v := canonicalSemver(strings.TrimPrefix(f, op))
		if v == "" {
			return nil, fmt.Errorf("%q is not a semantic version comparison", f)
		}
		if op == "" {
			op = "="
		}
		r.cmps = append(r.cmps, semverCmp{op: op, v: v})
	}
	return r, nil
}

func canonicalSemver(v string) string {
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if !semver.IsValid(v) {
		return ""
	}
	return v
}

// contains reports whether version v (with or without "v") is in the range. A version that is
// not semantic is in no range.
func (r *semverRange) contains(v string) bool {
	v = canonicalSemver(v)
	if v == "" {
		return false
	}
	for _, c := range r.cmps {
		n := semver.Compare(v, c.v)
		ok := false
		switch c.op {
		case "=":
			ok = n == 0
		case "!=":
			ok = n != 0
		case ">":
			ok = n > 0
		case ">=":
			ok = n >= 0
		case "<":
			ok = n < 0
		case "<=":
			ok = n <= 0
		}
		if !ok {
			return false
		}
	}
	return true
}

// lookup follows a path of object keys from s.
func lookup(s *structpb.Struct, path ...string) *structpb.Value {
	if s == nil {
		return nil
	}
	var v *structpb.Value
	cur := s
	for i, k := range path {
		v = cur.GetFields()[k]
		if v == nil {
			return nil
		}
		if i < len(path)-1 {
			cur = v.GetStructValue()
			if cur == nil {
				return nil
			}
		}
	}
	return v
}

func lookupString(s *structpb.Struct, path ...string) string {
	return lookup(s, path...).GetStringValue()
}

// valueString renders a JSON value for evidence: strings as they are, everything else as JSON.
func valueString(v *structpb.Value) string {
	if v == nil {
		return ""
	}
	if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
		return s.StringValue
	}
	b, err := v.MarshalJSON()
	if err != nil {
		return "<unprintable>"
	}
	return string(b)
}

// redact shows enough of a secret to find it, and not enough to use it.
func redact(s string) string {
	r := []rune(s)
	keep := min(4, len(r)/4)
	return fmt.Sprintf("%s…[redacted, %d chars]", string(r[:keep]), len(r))
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
