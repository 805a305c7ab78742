package dashboard

import (
	"html"
	"strings"
	"testing"
	"unicode"
)

// FuzzPicture reads arbitrary Graphviz output: it never panics, and every area it keeps has a
// known shape, numeric coordinates, and the link and title of a node of the drawing.
func FuzzPicture(f *testing.F) {
	f.Add([]byte(`<svg width="62pt" height="44pt"></svg><map id="lineage" name="lineage"><area shape="rect" id="n0" href="#" coords="1,2,3,4"/></map>`))
	f.Add([]byte(`<svg width="10pt" height="10pt"/></svg><map><area shape="poly" id="n1" coords="1,2,3,4,5,6" href="javascript:alert(1)"/><area shape="rect" id="n0" coords="1,2&quot;onclick=&quot;x"/></map>`))
	f.Add([]byte(`<svg></svg>`))
	d := &drawing{nodes: []graphNode{
		{id: "n0", href: "/artifact/sha256:" + strings.Repeat("a", 64), title: "a"},
		{id: "n1", href: "/step/sha256:" + strings.Repeat("b", 64), title: "b", step: true},
	}}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := d.picture(data)
		if err != nil {
			return
		}
		p.mapHTML()
		for _, a := range p.Areas {
			if a.Shape != "rect" && a.Shape != "poly" && a.Shape != "circle" {
				t.Fatalf("area shape %q", a.Shape)
			}
			if !coordsPattern.MatchString(a.Coords) {
				t.Fatalf("area coords %q", a.Coords)
			}
			if a.Href != d.nodes[0].href && a.Href != d.nodes[1].href {
				t.Fatalf("area link %q is not a node's", a.Href)
			}
		}
		if strings.Contains(string(p.Map), "javascript:") || strings.Count(string(p.Map), "<area ") != len(p.Areas) {
			t.Fatalf("map %s", p.Map)
		}
	})
}

// FuzzDOTQuote quotes arbitrary text for DOT: the result reads back, by DOT's rules for quoted
// strings, as the text without its control characters, so no label can end its string early.
func FuzzDOTQuote(f *testing.F) {
	for _, s := range []string{"plain", `a"b`, `a\"b`, "line\nbreak", `\`, `"];evil [URL="javascript:x"`, "\x00\x7f\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := dotQuote(s)
		if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
			t.Fatalf("dotQuote(%q) = %s: not one quoted string", s, q)
		}
		// Read it back: a backslash escapes the next character; \n stands for a line break.
		var b strings.Builder
		body := q[1 : len(q)-1]
		for i := 0; i < len(body); i++ {
			c := body[i]
			switch {
			case c == '\\' && i+1 < len(body):
				i++
				if body[i] == 'n' {
					b.WriteByte('\n')
				} else {
					b.WriteByte(body[i])
				}
			case c == '\\' || c == '"':
				t.Fatalf("dotQuote(%q) = %s: unescaped %q inside", s, q, c)
			default:
				b.WriteByte(c)
			}
		}
		want := strings.Map(func(r rune) rune {
			if r != '\n' && (unicode.IsControl(r) || r == unicode.ReplacementChar) {
				return -1
			}
			return r
		}, s)
		if b.String() != want {
			t.Fatalf("dotQuote(%q) reads back as %q, want %q", s, b.String(), want)
		}
		_ = html.EscapeString(q)
	})
}
