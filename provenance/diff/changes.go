package diff

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// fields maps a field path to its value in one artifact.
type fields map[string]string

// compare returns the changes between two flattened artifacts, unsorted.
func compare(baseline, current fields, out []Change) []Change {
	for f, b := range baseline {
		c, ok := current[f]
		switch {
		case !ok:
			out = append(out, Change{Field: f, Kind: Removed, Baseline: b})
		case b != c:
			out = append(out, Change{Field: f, Kind: Changed, Baseline: b, Current: c})
		}
	}
	for f, c := range current {
		if _, ok := baseline[f]; !ok {
			out = append(out, Change{Field: f, Kind: Added, Current: c})
		}
	}
	return out
}

// sorted orders changes by Field (see Sort) and returns nil for no changes.
func sorted(changes []Change) []Change {
	if len(changes) == 0 {
		return nil
	}
	Sort(changes)
	return changes
}

// Sort orders changes by Field, comparing runs of digits as numbers so that "layers[2]" comes
// before "layers[10]". Every function of this package returns its changes in this order.
func Sort(changes []Change) {
	slices.SortFunc(changes, func(a, b Change) int { return compareFields(a.Field, b.Field) })
}

// compareFields compares two field paths byte by byte, except that runs of ASCII digits are
// compared by their numeric value (ties broken by length, so "01" follows "1").
func compareFields(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na, nb := strings.TrimLeft(a[si:i], "0"), strings.TrimLeft(b[sj:j], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			if c := (i - si) - (j - sj); c != 0 {
				return c
			}
			continue
		}
		if a[i] != b[j] {
			return int(a[i]) - int(b[j])
		}
		i++
		j++
	}
	return (len(a) - i) - (len(b) - j)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// jsonValue encodes v as compact JSON without HTML escaping.
func jsonValue(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
