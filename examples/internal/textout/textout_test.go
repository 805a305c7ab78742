package textout_test

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/examples/internal/textout"
)

// forged is a value that draws lines of its own, hides them and reorders them when printed raw.
const forged = "https://slsa.dev/provenance/v1\nverdict  allow\r\x1b[2K\x1b[1A\u202everified\u2066\u2028\x00\xff"

// printable says whether s holds only printable characters and, when lines, newlines and tabs.
func printable(s string, lines bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && !(lines && (r == '\n' || r == '\t')) {
			return false
		}
	}
	return true
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://slsa.dev/provenance/v1", "https://slsa.dev/provenance/v1"},
		{"", ""},
		{"release@example.com (https://issuer.example)", "release@example.com (https://issuer.example)"},
		{"résumé.csv ✓", "résumé.csv ✓"},
		{"a\nverdict  allow", `"a\nverdict  allow"`},
		{"a\rb", `"a\rb"`},
		{"\x1b[31mred", `"\x1b[31mred"`},
		{"abc\u202edef", `"abc\u202edef"`},
		{"a\u2066b\u2069", `"a\u2066b\u2069"`},
		{"zero\u200bwidth", `"zero\u200bwidth"`},
		{"line\u2028sep", `"line\u2028sep"`},
		{"tab\there", `"tab\there"`},
		{"nul\x00", `"nul\x00"`},
		{"bad\xff", `"bad\xff"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := textout.Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestPrintf(t *testing.T) {
	var buf bytes.Buffer
	p := textout.New(&buf)
	type source string
	err := p.Printf("%-8s %s %s %s %d %v %5.1f %s %s\n", "verified", digest.FromString("x"), source(forged), errors.New(forged), 42, true, 2.5,
		[]string{"ok", forged}, fmt.Errorf("wrapped: %w", errors.New("\x1b]0;title\x07")))
	if err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	want := "verified " + digest.FromString("x").String() + " " + strconv.Quote(forged) + " " + strconv.Quote(forged) + " 42 true   2.5 " +
		strconv.Quote(fmt.Sprint([]string{"ok", forged})) + ` "wrapped: \x1b]0;title\a"` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if strings.Count(got, "\n") != 1 || !printable(got, true) {
		t.Errorf("Printf let a value draw: %q", got)
	}
}

func TestLiteral(t *testing.T) {
	var buf bytes.Buffer
	p := textout.New(&buf)
	const usage = "usage: x [flags]\n\nflags:\n"
	if err := p.Literal(usage); err != nil || buf.String() != usage {
		t.Errorf("Literal wrote %q, %v", buf.String(), err)
	}
}

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	p := textout.New(&buf)
	if _, err := fmt.Fprintf(p, "~ field: %s -> b\n\tc\n", forged); err != nil {
		t.Fatal(err)
	}
	want := "~ field: https://slsa.dev/provenance/v1\nverdict  allow\\r\\x1b[2K\\x1b[1A\\u202everified\\u2066\\u2028\\x00\\xff -> b\n\tc\n"
	if buf.String() != want {
		t.Errorf("got  %q\nwant %q", buf.String(), want)
	}
}

// failing fails every write.
type failing struct{ n int }

func (f *failing) Write([]byte) (int, error) { f.n++; return 0, errors.New("disk full") }

func TestErrSticks(t *testing.T) {
	f := &failing{}
	p := textout.New(f)
	if err := p.Printf("a %s\n", "b"); err == nil || err.Error() != "disk full" {
		t.Fatalf("got %v", err)
	}
	if _, err := p.Write([]byte("c")); err == nil || p.Err() == nil || f.n != 1 {
		t.Errorf("after a failed write: %v, %v, %d writes", err, p.Err(), f.n)
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{forged, "", "plain", "\xff\xfe", "\u202e", `"quoted"`, "\\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := textout.Escape(s)
		if !printable(e, false) {
			t.Fatalf("Escape(%q) = %q holds a character that is not printable", s, e)
		}
		if e != s {
			if u, err := strconv.Unquote(e); err != nil || u != s {
				t.Fatalf("Escape(%q) = %q does not unquote to it (%q, %v)", s, e, u, err)
			}
		}
		var buf bytes.Buffer
		if _, err := textout.New(&buf).Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		if !printable(buf.String(), true) || strings.Count(buf.String(), "\n") != strings.Count(s, "\n") {
			t.Fatalf("Write(%q) wrote %q", s, buf.String())
		}
	})
}

// writers are the functions that write to an io.Writer without a Printer.
var writers = map[string]bool{
	"fmt.Print": true, "fmt.Printf": true, "fmt.Println": true, "fmt.Fprint": true, "fmt.Fprintf": true, "fmt.Fprintln": true,
	"io.WriteString": true, "io.Copy": true, "os.Stdout.Write": true, "os.Stderr.Write": true, "os.Stdout.WriteString": true, "os.Stderr.WriteString": true,
}

// TestNoRawOutput fails on any print of the examples that does not go through a Printer: a call
// of fmt's print functions, io.WriteString or io.Copy, the print builtins, or a Write on
// os.Stdout, os.Stderr or an io.Writer parameter. Buffers, hashes and archives are written with
// their own methods and are not matched.
func TestNoRawOutput(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			filepath.Base(filepath.Dir(path)) == "textout" {
			return err
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		var writerParams []map[string]bool
		var visit func(n ast.Node) bool
		check := func(fn *ast.FuncType, body *ast.BlockStmt) {
			params := map[string]bool{}
			for _, f := range fn.Params.List {
				if sel, ok := f.Type.(*ast.SelectorExpr); ok && exprString(sel) == "io.Writer" {
					for _, n := range f.Names {
						params[n.Name] = true
					}
				}
			}
			writerParams = append(writerParams, params)
			if body != nil {
				ast.Inspect(body, visit)
			}
			writerParams = writerParams[:len(writerParams)-1]
		}
		visit = func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncLit:
				check(n.Type, n.Body)
				return false
			case *ast.CallExpr:
				name := exprString(n.Fun)
				if writers[name] || name == "print" || name == "println" {
					t.Errorf("%s: %s writes around textout.Printer", fset.Position(n.Pos()), name)
				}
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Write" || sel.Sel.Name == "WriteString") {
					if id, ok := sel.X.(*ast.Ident); ok {
						for _, params := range writerParams {
							if params[id.Name] {
								t.Errorf("%s: %s writes to an io.Writer around textout.Printer", fset.Position(n.Pos()), name)
							}
						}
					}
				}
			}
			return true
		}
		for _, decl := range file.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok {
				check(fd.Type, fd.Body)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// exprString returns a selector chain such as os.Stdout.Write, or "" for other expressions.
func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x := exprString(e.X); x != "" {
			return x + "." + e.Sel.Name
		}
	}
	return ""
}
