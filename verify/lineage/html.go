package lineage

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
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
// JavaScript, no external resources, inline CSS. It holds the title; the graph, rendered by
// running Graphviz (`dot -Tsvg`) on the output of WriteDOT; a table of the artifacts, with their
// digests, names and URIs, and the steps that produced and used each; a table of the steps, with
// name, predicate type, signers (SignerLabel), signing time and verification status (every step
// of a Graph is a verified statement); and the attestations of r.Rejected with their reasons.
//
// Nothing on the page can run or load, whatever the statements hold, by construction rather
// than by inspection: every text from a statement is escaped for HTML; the SVG is never markup
// of the page but an <img> whose source is a data: URL, and a browser runs no script and loads
// no resource of an SVG image; and the page carries a Content-Security-Policy that allows
// nothing but data: images and its own style element. A name such as "javascript:x" is shown as
// the text it is. WriteHTML checks only that dot wrote one well-formed SVG document, so that the
// image renders; otherwise it fails with a *NotSVGError wrapping ErrNotSVG.
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
	return g.writeReport(w, r, svg)
}

// writeReport writes the page of the graph with svg, dot's output, as its image.
func (g *Graph) writeReport(w io.Writer, r Report, svg []byte) error {
	if err := checkSVG(svg); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, g.reportData(r, svgSource(svg))); err != nil {
		return fmt.Errorf("lineage: write HTML: %w", err)
	}
	_, err := w.Write(buf.Bytes())
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

// svgNamespace is the namespace of SVG's root element; without it a browser does not draw the
// document as an image.
const svgNamespace = "http://www.w3.org/2000/svg"

// checkSVG checks that svg is one well-formed XML document whose root is an SVG <svg> element,
// as Graphviz writes it: whatever else it holds, it is only ever shown as an image, which
// cannot run or load anything.
func checkSVG(svg []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(svg))
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &NotSVGError{Reason: "not well-formed XML: " + err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if roots++; roots > 1 {
					return &NotSVGError{Reason: "more than one root element"}
				}
				if t.Name.Local != "svg" || t.Name.Space != svgNamespace {
					return &NotSVGError{Reason: fmt.Sprintf("root element {%s}%s, want {%s}svg", t.Name.Space, t.Name.Local, svgNamespace)}
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) != 0 {
				return &NotSVGError{Reason: "text outside the root element"}
			}
		}
	}
	if roots == 0 {
		return &NotSVGError{Reason: "no root element"}
	}
	return nil
}

// svgSource returns the src attribute of an image showing svg: a data: URL, base64 encoded, so
// the attribute holds nothing but that alphabet whatever svg holds.
func svgSource(svg []byte) template.HTMLAttr {
	return template.HTMLAttr(`src="data:image/svg+xml;base64,` + base64.StdEncoding.EncodeToString(svg) + `"`)
}

// The data the report template reads.
type (
	reportData struct {
		Title      string
		SVG        template.HTMLAttr
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

func (g *Graph) reportData(r Report, svg template.HTMLAttr) reportData {
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

// reportCSS is the page's only style: the policy allows this element, by its hash, and no other.
const reportCSS = `
body { font-family: Helvetica, Arial, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.6em; }
h2 { font-size: 1.2em; margin-top: 2em; }
.lineage-graph { overflow: auto; border: 1px solid #ccc; padding: 1em; }
img.lineage-graph { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
code { font-family: Menlo, Consolas, monospace; font-size: 0.9em; word-break: break-all; }
ul { margin: 0; padding-left: 1.2em; }
.verified { color: #176f2c; font-weight: bold; }
.rejected { color: #a31515; font-weight: bold; }
`

// reportPolicy is the page's Content-Security-Policy: no script, no frame, no font, no
// connection, no form, no base URL; images only from data: URLs; style only reportCSS.
var reportPolicy = func() string {
	sum := sha256.Sum256([]byte(reportCSS))
	return "default-src 'none'; img-src data:; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
}()

// reportTemplate is the page. html/template escapes every value; the graph is an image whose
// data: URL holds dot's SVG, never markup of the page.
var reportTemplate = template.Must(template.New("report").Parse(strings.NewReplacer("{{csp}}", reportPolicy, "{{css}}", reportCSS).Replace(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{csp}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{css}}</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Summary}}</p>
<h2>Graph</h2>
<div class="lineage-graph">
<img class="lineage-graph" alt="The lineage graph: {{.Summary}}" {{.SVG}}>
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
`)))
