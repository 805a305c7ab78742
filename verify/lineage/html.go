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
	"maps"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
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
// JavaScript, no external resources, inline CSS, readable on a wide screen and on a phone
// (wide tables scroll sideways in their own box, digests are shown short with the full digest
// in their title and, for artifacts, in a line that wraps anywhere). It holds the title; what
// verification checked, in words; the graph, rendered by running Graphviz (`dot -Tsvg`) on the
// output of WriteDOT; the steps in time order (started, else signed, then by ID), each with its
// workflow and run, container image, command line, parameters, environment, tool versions,
// start and end, the people who ran it, its signers (SignerLabel), signing time and
// verification status (every step of a Graph is a verified statement); a table of the
// artifacts, with their digests, names and URIs, the steps that produced and used each, and
// their rebuilds; the rebuild checks (outcome, what was compared, what differed, who checked and
// when); and the attestations of r.Rejected with their reasons, each named by the file it was
// about (its manifest's org.opencontainers.image.title annotation, or the graph's name for the
// manifest's digest) when that is known.
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
		Checked    []string
		Artifacts  []artifactRow
		Activities []activityRow
		Rebuilds   []rebuildRow
		Rejected   []rejectedRow
	}
	digestView  struct{ Short, Full string }
	artifactRow struct {
		Anchor, Label      string
		Digests            []digestView
		Names, URIs        []string
		ProducedBy, UsedBy []activityLink
		Rebuilds           []string
	}
	activityLink struct{ Anchor, Name string }
	activityRow  struct {
		Anchor, Name, PredicateType, BuildType, BuilderID, SignedAt string
		ID                                                          digestView
		Workflow, RunID, Image, Command, Started, Finished          string
		ImageDigest                                                 digestView
		Parameters, Environment, Agents, Tools, Signers             []string
		Outputs                                                     []string
		Checked                                                     string
	}
	rebuildRow struct {
		Artifacts                   []string
		Outcome, Summary, CheckedOn string
		Matched                     bool
		Signers                     []string
		Differences                 []digestView
		ID                          digestView
	}
	rejectedRow struct {
		File, MediaType, Reason string
		Subject, Attestation    digestView
	}
)

// longHex matches the part of a digest in text beyond its first 12 hexadecimal digits.
var longHex = regexp.MustCompile(`([0-9a-f]{12})[0-9a-f]{8,}`)

func digestOf(d digest.Digest) digestView {
	if d == "" {
		return digestView{}
	}
	return digestView{Short: short(d) + "…", Full: string(d)}
}

func artifactAnchor(d digest.Digest) string {
	return "artifact-" + strings.ReplaceAll(string(d), ":", "-")
}
func activityAnchor(d digest.Digest) string { return "step-" + strings.ReplaceAll(string(d), ":", "-") }

// when returns the time a step is ordered by: its start, else its signing time.
func when(a *Activity) time.Time {
	if !a.StartedOn.IsZero() {
		return a.StartedOn
	}
	return a.SignedAt
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "not recorded"
	}
	return t.UTC().Format(time.RFC3339)
}

// count says "1 thing" or "N things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// rebuildText says who rebuilt an artifact, when, and the outcome.
func rebuildText(r *Rebuild) string {
	outcome := "matched"
	if !r.Matched() {
		outcome = "differed (" + count(len(r.Differences), "difference") + ")"
	}
	return fmt.Sprintf("rebuilt by %s at %s: %s", strings.Join(r.Signers, ", "), timeText(r.CheckedOn), outcome)
}

// imageRepository is an image reference without its digest, such as "ghcr.io/lab/clean:1.1".
func imageRepository(ref string) string {
	name, _, _ := strings.Cut(ref, "@")
	return name
}

func (g *Graph) reportData(r Report, svg template.HTMLAttr) reportData {
	d := reportData{Title: r.Title, SVG: svg,
		Summary: fmt.Sprintf("%d artifacts, %d steps, %d edges, %d rebuild checks, %d rejected attestations", len(g.order), len(g.actOrder), len(g.edges), len(g.rebuilds), len(r.Rejected))}
	if d.Title == "" {
		d.Title = "Lineage report"
	}
	d.Checked = []string{
		"Every step and rebuild check on this page is a signed in-toto statement whose signature was verified against a trusted signer: the signer named beside it.",
		"Each statement was checked to name, by its digest, the artifact it was fetched for, so it cannot be a statement about something else moved here.",
		"Each statement was parsed and validated before it was read; its inputs, outputs, parameters and times are exactly what was signed.",
		"A signing time is shown only when it was verified (a transparency log or timestamp); otherwise it says not recorded.",
	}
	if len(r.Rejected) > 0 {
		d.Checked = append(d.Checked, "Attestations that failed these checks ("+count(len(r.Rejected), "attestation")+") are listed at the end, with the reason; nothing they claim is in the graph or the tables.")
	} else {
		d.Checked = append(d.Checked, "No attestation given for this report failed the checks.")
	}
	produced := map[digest.Digest][]activityLink{}
	used := map[digest.Digest][]activityLink{}
	acts := g.Activities()
	slices.SortStableFunc(acts, func(x, y *Activity) int {
		return cmp.Or(when(x).Compare(when(y)), strings.Compare(string(x.ID), string(y.ID)))
	})
	for _, a := range acts {
		id := a.ID
		link := activityLink{Anchor: activityAnchor(id), Name: a.Name}
		for _, o := range a.Outputs {
			produced[o] = append(produced[o], link)
		}
		for _, in := range a.Inputs {
			used[in] = append(used[in], link)
		}
		row := activityRow{Anchor: link.Anchor, Name: a.Name, ID: digestOf(id), PredicateType: a.PredicateType,
			BuildType: a.BuildType, BuilderID: a.BuilderID, Signers: a.Signers, SignedAt: timeText(a.SignedAt),
			Workflow: a.Workflow, RunID: a.InvocationID, Command: CommandText(a.Command)}
		if !a.StartedOn.IsZero() {
			row.Started = timeText(a.StartedOn)
		}
		if !a.FinishedOn.IsZero() {
			row.Finished = timeText(a.FinishedOn)
		}
		if a.Image != "" {
			row.Image = imageRepository(a.Image)
			if _, dg, err := workflow.Image(a.Image); err == nil {
				row.ImageDigest = digestOf(dg)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(a.Parameters)) {
			row.Parameters = append(row.Parameters, k+"="+parameterValue(a.Parameters[k]))
		}
		for _, k := range slices.Sorted(maps.Keys(a.Environment)) {
			row.Environment = append(row.Environment, k+"="+a.Environment[k])
		}
		for _, k := range slices.Sorted(maps.Keys(a.ToolVersions)) {
			row.Tools = append(row.Tools, k+" "+a.ToolVersions[k])
		}
		for _, p := range a.Agents {
			label := agentLabel(p)
			if id := p.ID(); id != label {
				label += " (" + strings.TrimPrefix(id, "mailto:") + ")"
			}
			row.Agents = append(row.Agents, label)
		}
		for _, o := range a.Outputs {
			row.Outputs = append(row.Outputs, withoutDigest(g.nodes[o], g.nodes[o].Label()))
		}
		row.Checked = "signature by " + strings.Join(a.Signers, " and ") + " verified; the signed statement names " +
			strings.Join(row.Outputs, ", ") + " by digest"
		d.Activities = append(d.Activities, row)
	}
	for _, key := range g.order {
		n := g.nodes[key]
		row := artifactRow{Anchor: artifactAnchor(key), Label: withoutDigest(n, n.Label()),
			URIs: n.URIs, ProducedBy: produced[key], UsedBy: used[key]}
		for _, name := range n.Names {
			row.Names = append(row.Names, withoutDigest(n, name))
		}
		for _, x := range n.Digests {
			row.Digests = append(row.Digests, digestOf(x))
		}
		for _, rb := range g.rebuildsOf[key] {
			row.Rebuilds = append(row.Rebuilds, rebuildText(rb))
		}
		d.Artifacts = append(d.Artifacts, row)
	}
	for _, rb := range g.rebuilds {
		row := rebuildRow{Outcome: rebuildText(rb), Summary: rb.Summary, CheckedOn: timeText(rb.CheckedOn), Matched: rb.Matched(),
			Signers: rb.Signers, ID: digestOf(rb.ID)}
		for _, a := range rb.Artifacts {
			if n, ok := g.nodes[a]; ok {
				row.Artifacts = append(row.Artifacts, n.Label())
			} else {
				row.Artifacts = append(row.Artifacts, short(a)+"…")
			}
		}
		for _, c := range rb.Differences {
			text := c.Field + ": " + string(c.Kind)
			if c.Baseline != "" || c.Current != "" {
				text += " (recorded " + cmp.Or(c.Baseline, "nothing") + ", rebuilt " + cmp.Or(c.Current, "nothing") + ")"
			}
			row.Differences = append(row.Differences, digestView{Short: longHex.ReplaceAllString(text, "$1…"), Full: text})
		}
		d.Rebuilds = append(d.Rebuilds, row)
	}
	for _, rj := range r.Rejected {
		row := rejectedRow{Subject: digestOf(rj.Subject.Digest), Attestation: digestOf(rj.Attestation.Digest),
			MediaType: cmp.Or(rj.Attestation.ArtifactType, rj.Attestation.MediaType), File: g.rejectedFile(rj)}
		if rj.Err != nil {
			row.Reason = rj.Err.Error()
		}
		d.Rejected = append(d.Rejected, row)
	}
	return d
}

// withoutDigest drops the "@DIGEST" an image reference ends in, which the digests column shows.
func withoutDigest(n *Node, name string) string {
	for _, d := range n.Digests {
		name = strings.TrimSuffix(name, "@"+string(d))
	}
	return name
}

// rejectedFile names the file a rejected attestation was about: the title its manifest
// carries, else the graph's name for the manifest's digest; empty when neither is known.
func (g *Graph) rejectedFile(rj Rejected) string {
	if t := rj.Subject.Annotations[ocispec.AnnotationTitle]; t != "" {
		return t
	}
	if rj.Subject.Digest != "" {
		if n, ok := g.Node(rj.Subject.Digest); ok {
			return n.Label()
		}
	}
	return ""
}

// reportCSS is the page's only style: the policy allows this element, by its hash, and no other.
const reportCSS = `
body { font-family: Helvetica, Arial, sans-serif; margin: 0 auto; padding: 1em 1.5em; max-width: 1400px; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; }
h2 { font-size: 1.2em; margin-top: 2em; }
.lineage-graph { overflow: auto; border: 1px solid #ccc; padding: 1em; }
img.lineage-graph { display: block; max-width: 100%; height: auto; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
code { font-family: Menlo, Consolas, monospace; font-size: 0.9em; overflow-wrap: anywhere; }
code.digest { white-space: nowrap; }
details.digest code { display: inline-block; max-width: 24em; overflow-wrap: anywhere; word-break: break-all; }
td.cmd code { display: inline-block; max-width: 32em; }
ul { margin: 0; padding-left: 1.2em; }
.verified, .matched { color: #176f2c; font-weight: bold; }
.rejected, .differed { color: #a31515; font-weight: bold; }
@media (max-width: 700px) {
  body { padding: 0.5em; font-size: 0.95em; }
  th, td { padding: 0.2em 0.3em; }
  details.digest code { max-width: 14em; }
}
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
{{define "digest"}}<code class="digest" title="{{.Full}}">{{.Short}}</code>{{end}}
{{define "fulldigest"}}<details class="digest"><summary><code class="digest" title="{{.Full}}">{{.Short}}</code></summary><code>{{.Full}}</code></details>{{end}}
<h1>{{.Title}}</h1>
<p>{{.Summary}}</p>
<h2>What verification checked</h2>
<ul class="checked">
{{range .Checked}}<li>{{.}}</li>
{{end}}</ul>
<h2>Graph</h2>
<div class="lineage-graph">
<img class="lineage-graph" alt="The lineage graph: {{.Summary}}" {{.SVG}}>
</div>
<h2>Steps, in the order they ran</h2>
<div class="scroll">
<table>
<tr><th>Step</th><th>Image</th><th>Command and parameters</th><th>Ran</th><th>Run by</th><th>Signed</th><th>Status</th></tr>
{{range .Activities}}<tr id="{{.Anchor}}">
<td><strong>{{.Name}}</strong>{{if .Workflow}}<br>workflow {{.Workflow}}{{end}}{{if .RunID}}<br>run {{.RunID}}{{end}}{{if .Outputs}}<br>made:<ul>{{range .Outputs}}<li>{{.}}</li>{{end}}</ul>{{end}}</td>
<td>{{if .Image}}<code>{{.Image}}</code><br>{{template "digest" .ImageDigest}}{{else}}<code>{{.PredicateType}}</code>{{if .BuilderID}}<br><code>{{.BuilderID}}</code>{{end}}{{end}}</td>
<td class="cmd">{{if .Command}}<code>{{.Command}}</code>{{end}}{{if .Parameters}}<ul>{{range .Parameters}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}{{if .Environment}}environment:<ul>{{range .Environment}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}{{if .Tools}}tools:<ul>{{range .Tools}}<li>{{.}}</li>{{end}}</ul>{{end}}</td>
<td>{{if .Started}}started {{.Started}}{{end}}{{if .Finished}}<br>ended {{.Finished}}{{end}}{{if and (not .Started) (not .Finished)}}not recorded{{end}}{{if .BuilderID}}{{if .Image}}<br>on <code>{{.BuilderID}}</code>{{end}}{{end}}</td>
<td>{{if .Agents}}<ul>{{range .Agents}}<li>{{.}}</li>{{end}}</ul>{{else}}not recorded{{end}}</td>
<td><ul>{{range .Signers}}<li>{{.}}</li>{{end}}</ul>at {{.SignedAt}}<br>record {{template "digest" .ID}}</td>
<td><span class="verified">verified</span><br>{{.Checked}}</td>
</tr>
{{end}}</table>
</div>
<h2>Artifacts</h2>
<div class="scroll">
<table>
<tr><th>Artifact</th><th>Digests</th><th>Names and URIs</th><th>Produced by</th><th>Used by</th><th>Rebuilt</th></tr>
{{range .Artifacts}}<tr id="{{.Anchor}}">
<td>{{.Label}}</td>
<td>{{range .Digests}}{{template "fulldigest" .}}{{end}}</td>
<td><ul>{{range .Names}}<li>{{.}}</li>{{end}}{{range .URIs}}<li><code>{{.}}</code></li>{{end}}</ul></td>
<td><ul>{{range .ProducedBy}}<li><a href="#{{.Anchor}}">{{.Name}}</a></li>{{end}}</ul></td>
<td><ul>{{range .UsedBy}}<li><a href="#{{.Anchor}}">{{.Name}}</a></li>{{end}}</ul></td>
<td>{{if .Rebuilds}}<ul>{{range .Rebuilds}}<li>{{.}}</li>{{end}}</ul>{{else}}not rebuilt{{end}}</td>
</tr>
{{end}}</table>
</div>
<h2>Rebuild checks</h2>
{{if .Rebuilds}}<div class="scroll">
<table>
<tr><th>Rebuilt</th><th>Outcome</th><th>What was compared</th><th>Differences</th><th>Checked</th></tr>
{{range .Rebuilds}}<tr>
<td><ul>{{range .Artifacts}}<li>{{.}}</li>{{end}}</ul></td>
<td class="{{if .Matched}}matched{{else}}differed{{end}}">{{.Outcome}}</td>
<td>{{.Summary}}</td>
<td>{{if .Differences}}<ul>{{range .Differences}}<li><code title="{{.Full}}">{{.Short}}</code></li>{{end}}</ul>{{else}}none{{end}}</td>
<td>{{.CheckedOn}}<br>signed by <ul>{{range .Signers}}<li>{{.}}</li>{{end}}</ul>record {{template "digest" .ID}}</td>
</tr>
{{end}}</table>
</div>
{{else}}<p>None.</p>
{{end}}<h2>Rejected attestations</h2>
{{if .Rejected}}<div class="scroll">
<table>
<tr><th>File</th><th>Attestation</th><th>Type</th><th>Status</th><th>Reason</th></tr>
{{range .Rejected}}<tr>
<td>{{if .File}}{{.File}}<br>{{end}}{{if .Subject.Full}}stored as {{template "digest" .Subject}}{{end}}</td>
<td>{{if .Attestation.Full}}{{template "digest" .Attestation}}{{end}}</td>
<td><code>{{.MediaType}}</code></td>
<td class="rejected">rejected</td>
<td>{{.Reason}}</td>
</tr>
{{end}}</table>
</div>
{{else}}<p>None.</p>
{{end}}</body>
</html>
`)))
