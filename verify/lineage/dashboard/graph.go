package dashboard

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/opencontainers/go-digest"
)

// maxGraphOutput is the most output read from Graphviz: an SVG image and its image map.
const maxGraphOutput = 32 << 20

// maxFanOut is how many steps may read one drawn artifact: an artifact read by more (a shared
// dataset, a step's container image) is drawn once beside each step that reads it, so that
// Graphviz does not route long edges across the whole graph.
const maxFanOut = 4

// graphNode is one node of a drawn graph: an artifact or a step.
type graphNode struct {
	id    string // the DOT node id and image map area id: "n" and a number
	label string // what the node says, before DOT escaping
	title string // the tooltip
	href  string // the link, built by the dashboard from a digest
	step  bool
	focus bool
}

// drawing is a graph ready for Graphviz.
type drawing struct {
	nodes []graphNode
	edges [][2]int
}

// area is one clickable region of the drawn graph.
type area struct {
	Shape, Coords string
	Href, Title   string
}

// picture is a drawn graph: the SVG as a data: URL for an <img>, which browsers never script,
// and the areas of its image map, whose links the dashboard built.
type picture struct {
	Image         template.URL
	Width, Height int
	Areas         []area
	// Map is the <map> element of Areas, written by mapHTML.
	Map template.HTML
}

// mapHTML writes the image map of the areas: shapes and coordinates that render checked, and
// links and titles escaped as HTML attribute values. Written here rather than by a template,
// which costs a hundred times more for a large graph, with the same escaping.
func (p *picture) mapHTML() {
	var b strings.Builder
	b.WriteString(`<map name="lineage" id="lineage">`)
	for _, a := range p.Areas {
		fmt.Fprintf(&b, `<area shape="%s" coords="%s" href="%s" title="%s" alt="%s">`, a.Shape, a.Coords,
			html.EscapeString(a.Href), html.EscapeString(a.Title), html.EscapeString(a.Title))
	}
	b.WriteString(`</map>`)
	p.Map = template.HTML(b.String())
}

// dotQuote writes s as a DOT quoted string, with control characters dropped and backslashes
// and quotes escaped, so that dot reads it as plain text.
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsControl(r) || r == unicode.ReplacementChar:
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// dot writes the DOT text of d. Every string in it is quoted by dotQuote; node URLs are
// placeholders, needed for Graphviz to emit image map areas, and never shown.
func (d *drawing) dot(w io.Writer) {
	fmt.Fprint(w, "digraph lineage {\nrankdir=TB;\nnodesep=0.3;\nranksep=0.35;\nbgcolor=\"transparent\";\n"+
		"node [fontname=\"sans-serif\" fontsize=10 style=\"filled\" fillcolor=\"#eef3fb\" color=\"#4a6fa5\"];\n"+
		"edge [color=\"#6b7a90\" arrowsize=0.7];\n")
	for _, n := range d.nodes {
		attrs := "id=" + dotQuote(n.id) + " label=" + dotQuote(n.label) + " tooltip=" + dotQuote(n.title) + " URL=\"#\""
		switch {
		case n.step:
			attrs += ` shape=box fillcolor="#fff6e0" color="#b07a00"`
		case n.focus:
			attrs += ` penwidth=2.5 fillcolor="#d9f2e3" color="#1d7a46"`
		}
		fmt.Fprintf(w, "%s [%s];\n", n.id, attrs)
	}
	for _, e := range d.edges {
		fmt.Fprintf(w, "%s -> %s;\n", d.nodes[e[0]].id, d.nodes[e[1]].id)
	}
	fmt.Fprint(w, "}\n")
}

// coordsPattern is what image map coordinates may hold.
var coordsPattern = regexp.MustCompile(`^[0-9]+(,[0-9]+)*$`)

// render runs dot once for the SVG image and the client-side image map, and returns the
// picture: the image as a data: URL, and one area per node, with the links and titles taken
// from d, never from dot's output.
func (d *drawing) render(ctx context.Context, dotPath string, cache *pictureCache) (*picture, error) {
	var in bytes.Buffer
	d.dot(&in)
	key := sha256.Sum256(in.Bytes())
	if p := cache.get(key); p != nil {
		return p, nil
	}
	cmd := exec.CommandContext(ctx, dotPath, "-Tsvg", "-Tcmapx")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4 << 10}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, &GraphvizError{Err: err}
	}
	if err := cmd.Start(); err != nil {
		return nil, &GraphvizError{Err: err}
	}
	data, readErr := io.ReadAll(io.LimitReader(out, maxGraphOutput+1))
	waitErr := cmd.Wait()
	switch {
	case readErr != nil:
		return nil, &GraphvizError{Err: readErr}
	case waitErr != nil:
		return nil, &GraphvizError{Err: waitErr, Stderr: stderr.String()}
	case len(data) > maxGraphOutput:
		return nil, &GraphvizError{Err: fmt.Errorf("output over %d bytes", maxGraphOutput)}
	}
	p, err := d.picture(data)
	if err != nil {
		return nil, err
	}
	p.mapHTML()
	cache.put(key, p)
	return p, nil
}

// picture reads dot's output, an SVG document followed by a client-side image map, into a
// picture of d: the image as a data: URL, and an area for each region of the map that names a
// node of d by id, with a known shape and coordinates that are numbers. Links and titles come
// from d, never from the output.
func (d *drawing) picture(data []byte) (*picture, error) {
	end := bytes.LastIndex(data, []byte("</svg>"))
	if end < 0 {
		return nil, &GraphvizError{Err: errors.New("no SVG in dot's output")}
	}
	svg, cmapx := data[:end+len("</svg>")], data[end+len("</svg>"):]
	w, h, err := svgSize(svg)
	if err != nil {
		return nil, &GraphvizError{Err: err}
	}
	p := &picture{
		Image: template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg)),
		Width: w, Height: h,
	}
	byID := make(map[string]*graphNode, len(d.nodes))
	for i := range d.nodes {
		byID[d.nodes[i].id] = &d.nodes[i]
	}
	dec := xml.NewDecoder(bytes.NewReader(cmapx))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &GraphvizError{Err: fmt.Errorf("image map: %w", err)}
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "area" {
			continue
		}
		var shape, id, coords string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "shape":
				shape = a.Value
			case "id":
				id = a.Value
			case "coords":
				coords = a.Value
			}
		}
		n := byID[id]
		if n == nil || (shape != "rect" && shape != "poly" && shape != "circle") || !coordsPattern.MatchString(coords) {
			continue
		}
		p.Areas = append(p.Areas, area{Shape: shape, Coords: coords, Href: n.href, Title: n.title})
	}
	return p, nil
}

// pictureCache keeps the latest drawings by the sha256 of their DOT text, which holds every
// label, link and title drawn: the same text always gives the same picture. A nil cache keeps
// nothing. Safe for concurrent use.
type pictureCache struct {
	mu    sync.Mutex
	max   int
	order [][32]byte
	byKey map[[32]byte]*picture
}

func newPictureCache(n int) *pictureCache {
	if n <= 0 {
		return nil
	}
	return &pictureCache{max: n, byKey: map[[32]byte]*picture{}}
}

func (c *pictureCache) get(key [32]byte) *picture {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byKey[key]
}

func (c *pictureCache) put(key [32]byte, p *picture) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; ok {
		return
	}
	if len(c.order) == c.max {
		delete(c.byKey, c.order[0])
		c.order = c.order[1:]
	}
	c.order = append(c.order, key)
	c.byKey[key] = p
}

// svgSize reads the width and height of an SVG document in CSS pixels, from its points.
func svgSize(svg []byte) (int, int, error) {
	dec := xml.NewDecoder(bytes.NewReader(svg))
	dec.Strict = false
	for {
		tok, err := dec.Token()
		if err != nil {
			return 0, 0, fmt.Errorf("SVG: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "svg" {
			continue
		}
		var w, h float64
		for _, a := range se.Attr {
			v, err := strconv.ParseFloat(strings.TrimSuffix(a.Value, "pt"), 64)
			if err != nil {
				continue
			}
			switch a.Name.Local {
			case "width":
				w = v
			case "height":
				h = v
			}
		}
		if w <= 0 || h <= 0 {
			return 0, 0, errors.New("SVG has no size")
		}
		// Graphviz writes points; its image map is in pixels at 96 per inch.
		return int(w*96/72 + 0.5), int(h*96/72 + 0.5), nil
	}
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(l.n, len(p))
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// shortDigest is a digest's algorithm and first 12 hex digits, for labels.
func shortDigest(d digest.Digest) string {
	s := d.String()
	if i := strings.IndexByte(s, ':'); i >= 0 && len(s) > i+13 {
		return s[:i+13] + "…"
	}
	return s
}
