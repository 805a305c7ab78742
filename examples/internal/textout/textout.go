// Package textout writes the text the examples show people, so that no value can draw a line
// of its own. Predicate types, annotations, names, certificate identities, policy reasons and
// error messages come from registries, bundles, statements and certificates: whoever can push
// a referrer chooses them. Printed raw, a newline, a carriage return, an ANSI escape or a
// Unicode bidi control in one of them draws "verified ... signed by ..." or "verdict allow"
// over the real outcome.
//
// A Printer formats lines like fmt.Fprintf, except that every value it is given is escaped
// (Escape): only the format, which is the program's own constant text, is written as it is.
// Every text output of the examples goes through a Printer; TestNoRawOutput fails on a print
// that does not.
package textout

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s as it is when it is valid UTF-8 and every character is printable
// (unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space), and
// otherwise s quoted with strconv.Quote, which escapes exactly the characters that are not.
// Control characters (newline, carriage return, escape, NUL), format characters (the bidi
// controls U+202A..U+202E and U+2066..U+2069, zero-width characters), line and paragraph
// separators and invalid bytes therefore never reach the terminal raw, and a quoted value is
// marked as such by its quotes.
func Escape(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// Literal is text of the program itself, written as it is: an untyped string constant
// converts to it, a string variable does not, so only text written in the source reaches
// Printer.Literal.
type Literal string

// Printer writes text for people to w. Its methods are not safe for concurrent use.
type Printer struct {
	w   io.Writer
	err error
}

// New returns a Printer writing to w.
func New(w io.Writer) *Printer { return &Printer{w: w} }

// Printf writes format, formatted as fmt.Fprintf does, with each of args escaped first:
// numbers and booleans are kept, so that verbs such as %d and %5.2f work, and every other
// value (a string, an error, a digest, a slice) becomes Escape(fmt.Sprint(value)). Use %s or %v
// for them, not %q. Args is modified in place. Printf returns the first write error of p.
func (p *Printer) Printf(format string, args ...any) error {
	for i, a := range args {
		args[i] = escapeArg(a)
	}
	return p.write(func(w io.Writer) error {
		_, err := fmt.Fprintf(w, format, args...)
		return err
	})
}

// Literal writes text as it is: usage messages and other text of the program.
func (p *Printer) Literal(text Literal) error {
	return p.write(func(w io.Writer) error {
		_, err := io.WriteString(w, string(text))
		return err
	})
}

// Write writes b, text that a library has already formatted and escaped (diff.Report's
// WriteText), keeping its newlines and tabs but escaping every other character that is not
// printable, as \r, \u202e and the like: a library that missed one cannot move the cursor or
// reorder a line. It implements io.Writer and always reports len(b) written unless w fails.
func (p *Printer) Write(b []byte) (int, error) {
	err := p.write(func(w io.Writer) error {
		_, err := io.WriteString(w, escapeText(b))
		return err
	})
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// Err returns the first error writing to w.
func (p *Printer) Err() error { return p.err }

func (p *Printer) write(f func(io.Writer) error) error {
	if p.err == nil {
		p.err = f(p.w)
	}
	return p.err
}

// escapeArg returns a as Printf prints it: numbers and booleans as they are, anything else as
// escaped text.
func escapeArg(a any) any {
	if a == nil {
		return Escape(fmt.Sprint(a))
	}
	switch reflect.TypeOf(a).Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return a
	}
	return Escape(fmt.Sprint(a))
}

// escapeText returns b with every character that is neither printable nor a newline or a tab
// escaped: \r as `\r`, other characters of the Basic Multilingual Plane as \uXXXX, others as
// \UXXXXXXXX, and each invalid byte as \xXX.
func escapeText(b []byte) string {
	var out strings.Builder
	out.Grow(len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&out, `\x%02x`, b[0])
		case r == '\n' || r == '\t' || unicode.IsPrint(r):
			out.Write(b[:n])
		default:
			q := strconv.QuoteRune(r)
			out.WriteString(q[1 : len(q)-1])
		}
		b = b[n:]
	}
	return out.String()
}
