package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode"
)

// ReportSchema identifies the JSON form of a Report.
const ReportSchema = "https://provkit.dev/diff/v1"

// Report is the result of a drift check, for a machine (encoding/json) and for a person
// (WriteText). A Report is a plain value: safe for concurrent use while not modified.
type Report struct {
	// Schema is ReportSchema.
	Schema string `json:"schema"`
	// Baseline names what was compared against, such as an image reference or an environment.
	Baseline string `json:"baseline"`
	// Current names what was compared.
	Current string `json:"current"`
	// Changes are the differences, sorted by Field (see Sort); none when nothing drifted.
	Changes []Change `json:"changes"`
}

// MarshalJSON encodes the report, writing no changes as an empty list rather than null.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	if r.Changes == nil {
		r.Changes = []Change{}
	}
	return json.Marshal(plain(r))
}

// Drifted reports whether the current artifact differs from the baseline.
func (r *Report) Drifted() bool { return len(r.Changes) > 0 }

// WriteText writes the report for a person: a header line naming the baseline and the current
// artifact, then "no differences" or one line per change: "~ FIELD: BASELINE -> CURRENT" for a
// changed field, "+ FIELD: CURRENT" for an added one and "- FIELD: BASELINE" for a removed one
// (without ": " and a value when the value is empty). Fields and values come from documents an
// attacker may write, so any holding a control or non-printing character, or a leading or
// trailing space, is written quoted, as strconv.Quote does, and cannot move the terminal's cursor.
func (r *Report) WriteText(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "baseline %s, current %s: ", safe(r.Baseline), safe(r.Current)); err != nil {
		return err
	}
	switch n := len(r.Changes); n {
	case 0:
		_, err := io.WriteString(w, "no differences\n")
		return err
	case 1:
		if _, err := io.WriteString(w, "1 difference\n"); err != nil {
			return err
		}
	default:
		if _, err := fmt.Fprintf(w, "%d differences\n", n); err != nil {
			return err
		}
	}
	for _, c := range r.Changes {
		var err error
		switch c.Kind {
		case Changed:
			_, err = fmt.Fprintf(w, "~ %s: %s -> %s\n", safe(c.Field), safe(c.Baseline), safe(c.Current))
		case Added:
			_, err = fmt.Fprintf(w, "+ %s%s\n", safe(c.Field), value(c.Current))
		case Removed:
			_, err = fmt.Fprintf(w, "- %s%s\n", safe(c.Field), value(c.Baseline))
		default:
			_, err = fmt.Fprintf(w, "? %s %s: %s -> %s\n", safe(string(c.Kind)), safe(c.Field), safe(c.Baseline), safe(c.Current))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func value(v string) string {
	if v == "" {
		return ""
	}
	return ": " + safe(v)
}

// safe returns s as it is when every character is printable and it neither starts nor ends
// with a space, and quoted otherwise.
func safe(s string) string {
	if s == "" {
		return `""`
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
