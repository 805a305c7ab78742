package lineage

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
)

// MaxSVGBytes is the most SVG WriteHTML reads from Graphviz: 32 MiB.
const MaxSVGBytes = 32 << 20

// maxStderrBytes is how much of dot's standard error a GraphvizError keeps.
const maxStderrBytes = 64 << 10

// Report configures WriteHTML.
type Report struct {
	// Title heads the page; empty means "Lineage report".
	Title string
	// Rejected are attestations to list as rejected, with their reasons (see Collection).
	Rejected []Rejected
	// Dot is the path of Graphviz's dot program; empty means "dot", looked up on PATH when
	// WriteHTML runs.
	Dot string
}

// WriteHTML writes a report of the graph as one static, self-contained HTML page: no
// JavaScript, no external resources, inline CSS. It holds the title; the graph as inline SVG,
// rendered by running Graphviz (`dot -Tsvg`) on the output of WriteDOT; a table of the
// artifacts, with their digests, names and URIs, and the steps that produced and used each;
// a table of the steps, with name, predicate type, signers (SignerLabel), signing time and
// verification status (every step of a Graph is a verified statement); and the attestations of
// r.Rejected with their reasons.
//
// Every text from a statement is escaped for HTML. The SVG is embedded only when it starts
// with an <svg> element or an XML prolog and holds no "<script" and no "javascript:" (in any
// case); otherwise WriteHTML fails with an *UnsafeSVGError wrapping ErrUnsafeSVG. Graphviz
// escapes the labels it draws, so a statement's text never reaches the page as markup.
//
// WriteHTML runs dot, with ctx bounding it, and reads at most MaxSVGBytes of its output. When
// dot is not installed, fails or writes more, the error is a *GraphvizError wrapping
// ErrGraphviz. Nothing is written to w before dot has succeeded. The output depends only on
// the graph, r and the version of dot: the same inputs give the same bytes.
func (g *Graph) WriteHTML(ctx context.Context, w io.Writer, r Report) error {
	var dotIn bytes.Buffer
	if err := g.WriteDOT(&dotIn); err != nil {
		return err
	}
	svg, err := renderSVG(ctx, r.Dot, &dotIn)
	if err != nil {
		return err
	}
	embedded, err := safeSVG(svg)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, g.reportData(r, embedded)); err != nil {
		return fmt.Errorf("lineage: write HTML: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// renderSVG runs dot -Tsvg on the DOT in in.
func renderSVG(ctx context.Context, dot string, in io.Reader) ([]byte, error) {
	path := dot
	if path == "" {
		p, err := exec.LookPath("dot")
		if err != nil {
			return nil, &GraphvizError{Path: "dot", Err: err}
		}
		path = p
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(cctx, path, "-Tsvg")
	cmd.Stdin = in
	stderr := &cappedBuffer{limit: maxStderrBytes}
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, &GraphvizError{Path: path, Err: err}
	}
	if err := cmd.Start(); err != nil {
		return nil, &GraphvizError{Path: path, Err: err}
	}
	svg, readErr := io.ReadAll(io.LimitReader(out, MaxSVGBytes+1))
	tooLarge := len(svg) > MaxSVGBytes
	if tooLarge {
		cancel() // stop dot rather than read on
	}
	waitErr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("lineage: render graph: %w", ctx.Err())
	case tooLarge:
		return nil, &GraphvizError{Path: path, Err: &provenance.SizeError{What: "SVG from Graphviz", Limit: MaxSVGBytes, Size: -1}}
	case waitErr != nil:
		return nil, &GraphvizError{Path: path, Stderr: stderr.String(), Err: waitErr}
	case readErr != nil:
		return nil, &GraphvizError{Path: path, Stderr: stderr.String(), Err: readErr}
	}
	return svg, nil
}

// cappedBuffer keeps the first limit bytes written to it and drops the rest.
type cappedBuffer struct {
	bytes.Buffer
	limit int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// safeSVG checks dot's output and returns the <svg> element to embed, without the XML prolog
// and doctype, which have no place inside HTML.
func safeSVG(svg []byte) (template.HTML, error) {
	s := strings.TrimLeft(string(svg), " \t\r\n\ufeff")
	if !strings.HasPrefix(s, "<svg") && !strings.HasPrefix(s, "<?xml") {
		return "", &UnsafeSVGError{Reason: "output does not start with <svg or an XML prolog"}
	}
	lower := strings.ToLower(s)
	for _, bad := range []string{"<script", "javascript:"} {
		if strings.Contains(lower, bad) {
			return "", &UnsafeSVGError{Reason: "output holds " + bad}
		}
	}
	start := strings.Index(s, "<svg")
	end := strings.LastIndex(s, "</svg>")
	if start < 0 || end < start {
		return "", &UnsafeSVGError{Reason: "output holds no complete <svg> element"}
	}
	// Only the prolog, doctype and comments may come before the element.
	head := s[:start]
	for head = strings.TrimSpace(head); head != ""; head = strings.TrimSpace(head) {
		var closing string
		switch {
		case strings.HasPrefix(head, "<?"):
			closing = "?>"
		case strings.HasPrefix(head, "<!--"):
			closing = "-->"
		case strings.HasPrefix(head, "<!DOCTYPE"):
			closing = ">"
		default:
			return "", &UnsafeSVGError{Reason: "unexpected content before the <svg> element"}
		}
		i := strings.Index(head, closing)
		if i < 0 {
			return "", &UnsafeSVGError{Reason: "unterminated markup before the <svg> element"}
		}
		head = head[i+len(closing):]
	}
	if strings.TrimSpace(s[end+len("</svg>"):]) != "" {
		return "", &UnsafeSVGError{Reason: "content after the <svg> element"}
	}
	elem := s[start : end+len("</svg>")]
	if err := checkSVGMarkup(elem); err != nil {
		return "", err
	}
	return template.HTML(elem), nil
}

// svgElements are the elements Graphviz's SVG output is made of, and all WriteHTML embeds.
var svgElements = map[string]bool{
	"svg": true, "g": true, "title": true, "desc": true, "polygon": true, "polyline": true, "path": true,
	"ellipse": true, "circle": true, "rect": true, "line": true, "text": true, "tspan": true,
	"defs": true, "linearGradient": true, "radialGradient": true, "stop": true,
}

// checkSVGMarkup parses svg as XML and accepts only one well-formed <svg> element made of
// Graphviz's drawing elements, with no event handler, no link and no reference outside the
// document: whatever a browser would run or load is refused.
func checkSVGMarkup(svg string) error {
	dec := xml.NewDecoder(strings.NewReader(svg))
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &UnsafeSVGError{Reason: "not well-formed XML: " + err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 && t.Name.Local != "svg" || !svgElements[t.Name.Local] {
				return &UnsafeSVGError{Reason: fmt.Sprintf("element <%s>", t.Name.Local)}
			}
			depth++
			for _, a := range t.Attr {
				name := strings.ToLower(a.Name.Local)
				value := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' || r == 0x7f {
						return -1
					}
					return r
				}, a.Value))
				switch {
				case strings.HasPrefix(name, "on"), name == "href", name == "src", name == "style" && strings.Contains(value, "url("):
					return &UnsafeSVGError{Reason: fmt.Sprintf("attribute %s", a.Name.Local)}
				case strings.Contains(value, "javascript:"),
					strings.Contains(value, "url(") && !strings.HasPrefix(value, "url(#"):
					return &UnsafeSVGError{Reason: fmt.Sprintf("attribute %s=%q", a.Name.Local, a.Value)}
				}
			}
		case xml.EndElement:
			depth--
		case xml.ProcInst, xml.Directive:
			return &UnsafeSVGError{Reason: "markup declaration inside the <svg> element"}
		}
	}
	return nil
}

// The data the report template reads.
type (
	reportData struct {
		Title      string
		SVG        template.HTML
		Summary    string
		Artifacts  []artifactRow
		Activities []activityRow
		Rejected   []rejectedRow
	}
	artifactRow struct {
		Anchor, Label      string
		Digests            []digest.Digest
		Names, URIs        []string
		ProducedBy, UsedBy []activityLink
	}
	activityLink struct{ Anchor, Name string }
	activityRow  struct {
		Anchor, Name, ID, PredicateType, BuildType, BuilderID, SignedAt string
		Signers                                                         []string
	}
	rejectedRow struct{ Subject, Attestation, MediaType, Reason string }
)

func artifactAnchor(d digest.Digest) string {
	return "artifact-" + strings.ReplaceAll(string(d), ":", "-")
}
func activityAnchor(d digest.Digest) string { return "step-" + strings.ReplaceAll(string(d), ":", "-") }

func (g *Graph) reportData(r Report, svg template.HTML) reportData {
	d := reportData{Title: r.Title, SVG: svg,
		Summary: fmt.Sprintf("%d artifacts, %d steps, %d edges, %d rejected attestations", len(g.order), len(g.actOrder), len(g.edges), len(r.Rejected))}
	if d.Title == "" {
		d.Title = "Lineage report"
	}
	produced := map[digest.Digest][]activityLink{}
	used := map[digest.Digest][]activityLink{}
	for _, id := range g.actOrder {
		a := g.activities[id]
		link := activityLink{Anchor: activityAnchor(id), Name: a.Name}
		for _, o := range a.Outputs {
			produced[o] = append(produced[o], link)
		}
		for _, in := range a.Inputs {
			used[in] = append(used[in], link)
		}
		row := activityRow{Anchor: link.Anchor, Name: a.Name, ID: string(id), PredicateType: a.PredicateType,
			BuildType: a.BuildType, BuilderID: a.BuilderID, Signers: a.Signers, SignedAt: "not recorded"}
		if !a.SignedAt.IsZero() {
			row.SignedAt = a.SignedAt.UTC().Format(time.RFC3339)
		}
		d.Activities = append(d.Activities, row)
	}
	for _, key := range g.order {
		n := g.nodes[key]
		d.Artifacts = append(d.Artifacts, artifactRow{Anchor: artifactAnchor(key), Label: n.Label(), Digests: n.Digests,
			Names: n.Names, URIs: n.URIs, ProducedBy: produced[key], UsedBy: used[key]})
	}
	for _, rj := range r.Rejected {
		row := rejectedRow{Subject: string(rj.Subject.Digest), Attestation: string(rj.Attestation.Digest),
			MediaType: cmp.Or(rj.Attestation.ArtifactType, rj.Attestation.MediaType)}
		if rj.Err != nil {
			row.Reason = rj.Err.Error()
		}
		d.Rejected = append(d.Rejected, row)
	}
	return d
}

// reportTemplate is the page. html/template escapes every value but SVG, which safeSVG checked.
var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.6em; }
h2 { font-size: 1.2em; margin-top: 2em; }
.lineage-graph { overflow: auto; border: 1px solid #ccc; padding: 1em; }
.lineage-graph svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
code { font-family: Menlo, Consolas, monospace; font-size: 0.9em; word-break: break-all; }
ul { margin: 0; padding-left: 1.2em; }
.verified { color: #176f2c; font-weight: bold; }
.rejected { color: #a31515; font-weight: bold; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Summary}}</p>
<h2>Graph</h2>
<div class="lineage-graph">
{{.SVG}}
</div>
<h2>Artifacts</h2>
<table>
<tr><th>Artifact</th><th>Digests</th><th>Names and URIs</th><th>Produced by</th><th>Used by</th></tr>
{{range .Artifacts}}<tr id="{{.Anchor}}">
<td>{{.Label}}</td>
<td><ul>{{range .Digests}}<li><code>{{.}}</code></li>{{end}}</ul></td>
<td><ul>{{range .Names}}<li>{{.}}</li>{{end}}{{range .URIs}}<li><code>{{.}}</code></li>{{end}}</ul></td>
<td><ul>{{range .ProducedBy}}<li><a href="#{{.Anchor}}">{{.Name}}</a></li>{{end}}</ul></td>
<td><ul>{{range .UsedBy}}<li><a href="#{{.Anchor}}">{{.Name}}</a></li>{{end}}</ul></td>
</tr>
{{end}}</table>
<h2>Steps</h2>
<table>
<tr><th>Step</th><th>Predicate type</th><th>Build type and builder</th><th>Signers</th><th>Signed at</th><th>Status</th><th>Statement</th></tr>
{{range .Activities}}<tr id="{{.Anchor}}">
<td>{{.Name}}</td>
<td><code>{{.PredicateType}}</code></td>
<td>{{if .BuildType}}<code>{{.BuildType}}</code>{{end}}{{if .BuilderID}}<br><code>{{.BuilderID}}</code>{{end}}</td>
<td><ul>{{range .Signers}}<li>{{.}}</li>{{end}}</ul></td>
<td>{{.SignedAt}}</td>
<td class="verified">verified</td>
<td><code>{{.ID}}</code></td>
</tr>
{{end}}</table>
<h2>Rejected attestations</h2>
{{if .Rejected}}<table>
<tr><th>Subject</th><th>Attestation</th><th>Type</th><th>Status</th><th>Reason</th></tr>
{{range .Rejected}}<tr>
<td><code>{{.Subject}}</code></td>
<td><code>{{.Attestation}}</code></td>
<td><code>{{.MediaType}}</code></td>
<td class="rejected">rejected</td>
<td>{{.Reason}}</td>
</tr>
{{end}}</table>
{{else}}<p>None.</p>
{{end}}</body>
</html>
`))
