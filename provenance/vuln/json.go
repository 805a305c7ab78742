package vuln

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// decode reads one JSON value, numbers kept as written. Anything that is not exactly one JSON
// value is not a report of any format Parse reads.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &FormatError{Reason: "not JSON: " + err.Error(), Err: ErrUnknownFormat}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &FormatError{Reason: "not JSON: more than one value", Err: ErrUnknownFormat}
	}
	return v, nil
}

// node is a decoded JSON value and its path in the document. A node of a field that is absent
// holds nil, as does one of a JSON null: Parse reads both as "not given".
type node struct {
	v      any
	path   string
	format Format
}

// malformed returns the *FormatError of n's field not being what the format gives it.
func (n node) malformed(format string, args ...any) error {
	return &FormatError{Format: n.format, Path: n.path, Reason: fmt.Sprintf(format, args...), Err: ErrMalformed}
}

func (n node) absent() bool { return n.v == nil }

// key returns the node of the field named exactly name (encoding/json alone would match it
// regardless of case); n must be an object or absent.
func (n node) key(name string) node {
	p := name
	if n.path != "" {
		p = n.path + "." + name
	}
	m, _ := n.v.(map[string]any)
	return node{v: m[name], path: p, format: n.format}
}

// has says whether the object n has a field named exactly name, null or not.
func (n node) has(name string) bool {
	m, _ := n.v.(map[string]any)
	_, ok := m[name]
	return ok
}

// object requires n to be an object.
func (n node) object(what string) (node, error) {
	if _, ok := n.v.(map[string]any); !ok {
		return n, n.malformed("%s, not %s", describe(n.v), what)
	}
	return n, nil
}

// optObject requires n to be an object or not given.
func (n node) optObject(what string) (node, bool, error) {
	if n.absent() {
		return n, false, nil
	}
	_, err := n.object(what)
	return n, err == nil, err
}

// list requires n to be a list, and returns its elements.
func (n node) list(what string) ([]node, error) {
	l, ok := n.v.([]any)
	if !ok {
		return nil, n.malformed("%s, not %s", describe(n.v), what)
	}
	out := make([]node, len(l))
	for i, e := range l {
		out[i] = node{v: e, path: fmt.Sprintf("%s[%d]", n.path, i), format: n.format}
	}
	return out, nil
}

// optList requires n to be a list or not given.
func (n node) optList(what string) ([]node, error) {
	if n.absent() {
		return nil, nil
	}
	return n.list(what)
}

// str requires n to be a non-empty string.
func (n node) str(what string) (string, error) {
	s, ok := n.v.(string)
	if !ok || s == "" {
		return "", n.malformed("%s, not %s", describe(n.v), what)
	}
	return s, nil
}

// optStr requires n to be a string or not given; not given is "".
func (n node) optStr(what string) (string, error) {
	if n.absent() {
		return "", nil
	}
	s, ok := n.v.(string)
	if !ok {
		return "", n.malformed("%s, not %s", describe(n.v), what)
	}
	return s, nil
}

// optStrings requires n to be a list of non-empty strings or not given.
func (n node) optStrings(what string) ([]string, error) {
	items, err := n.optList("a list of " + what)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		s, err := it.str(what)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// optBool requires n to be a boolean or not given.
func (n node) optBool(what string) (value, given bool, err error) {
	if n.absent() {
		return false, false, nil
	}
	b, ok := n.v.(bool)
	if !ok {
		return false, false, n.malformed("%s, not %s", describe(n.v), what)
	}
	return b, true, nil
}

// optNumber requires n to be a number or not given, and returns it as written.
func (n node) optNumber(what string) (json.Number, bool, error) {
	if n.absent() {
		return "", false, nil
	}
	num, ok := n.v.(json.Number)
	if !ok {
		return "", false, n.malformed("%s, not %s", describe(n.v), what)
	}
	return num, true, nil
}

// optTime requires n to be an RFC 3339 time or not given (an empty string counts as not
// given, as grype writes it when told not to record the time). The time is in UTC, within
// the years 1 to 9999 that a statement can carry.
func (n node) optTime() (time.Time, error) {
	s, err := n.optStr("an RFC 3339 time")
	if err != nil || s == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, n.malformed("%q is not an RFC 3339 time", s)
	}
	t = t.UTC()
	if !inYearRange(t) {
		return time.Time{}, n.malformed("%q is outside the years 1 to 9999", s)
	}
	return t, nil
}

func inYearRange(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// describe names the JSON type of v for an error message.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "missing"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		if x == "" {
			return "an empty string"
		}
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return "the string " + strconv.Quote(x)
	case json.Number:
		return "the number " + x.String()
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("a %T", v)
}
