package lineage_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

// svgImage is the one image of a report: the graph's SVG as a data: URL.
var svgImage = regexp.MustCompile(`<img class="lineage-graph" alt="[^"<>]*" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]*)">`)

// cspMeta is the Content-Security-Policy every report carries: nothing may load or run but
// data: images and the page's own style element.
var cspMeta = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'sha256-[A-Za-z0-9+/=]{44}'; base-uri 'none'; form-action 'none'">`)

// svgOf returns the SVG document a report embeds, decoded from its only image.
func svgOf(t *testing.T, page string) string {
	t.Helper()
	m := svgImage.FindAllStringSubmatch(page, -1)
	if len(m) != 1 {
		t.Fatalf("report holds %d graph images, want 1", len(m))
	}
	svg, err := base64.StdEncoding.DecodeString(m[0][1])
	if err != nil {
		t.Fatalf("graph image: %v", err)
	}
	return string(svg)
}

// xmlText checks that svg is well-formed XML and returns its character data.
func xmlText(t *testing.T, svg string) string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
			text.WriteByte('\n')
		}
	}
	return text.String()
}

// checkStatic fails when the page's markup could run or load anything: it must carry the
// Content-Security-Policy, and hold no script, no handler, no link and no image but the graph's
// data: URL. Text is escaped, so every "<" of the page opens a tag.
func checkStatic(t *testing.T, page string) {
	t.Helper()
	if n := len(cspMeta.FindAllString(page, -1)); n != 1 || !strings.Contains(page[:strings.Index(page, "<title>")], cspMeta.FindString(page)) {
		t.Errorf("page head does not carry the Content-Security-Policy once before its title: %.600s", page)
	}
	rest := cspMeta.ReplaceAllString(svgImage.ReplaceAllString(page, "<img graph>"), "<meta csp>")
	lower := strings.ToLower(rest)
	for _, bad := range []string{"<script", "@import", "url(", "<!--", "<svg"} {
		if strings.Contains(lower, bad) {
			i := strings.Index(lower, bad)
			t.Errorf("page holds %q: ...%s...", bad, rest[max(0, i-80):min(len(rest), i+80)])
		}
	}
	for _, tag := range regexp.MustCompile(`<[^>]*>`).FindAllString(lower, -1) {
		if tag == "<img graph>" || tag == "<meta csp>" {
			continue
		}
		for _, bad := range []string{"<link", "<img", "<iframe", "<object", "<embed", "<meta http-equiv", "<base", "<form", " src=", " on", "\ton", "\non", " style=", "javascript:"} {
			if strings.Contains(tag, bad) {
				t.Errorf("page holds the tag %s", tag)
			}
		}
	}
}

func TestWriteHTML(t *testing.T) {
	dot := testenv.Dot(t)
	p := newPipeline(t)
	results, failed := p.verifyAll(t, "ingest", "clean", "train", "forged")
	g, err := lineage.New(results)
	if err != nil {
		t.Fatal(err)
	}
	rejected := []lineage.Rejected{{
		Subject:     ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: p.model},
		Attestation: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("forged attestation"), ArtifactType: provenance.MediaTypeBundleV03},
		Err:         failed["forged"],
	}}
	var out bytes.Buffer
	if err := g.WriteHTML(t.Context(), &out, lineage.Report{Title: "Survey model", Rejected: rejected, Dot: dot}); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	checkStatic(t, page)
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n") || !strings.Contains(page, "<title>Survey model</title>") {
		t.Errorf("page head: %.300s", page)
	}
	text := xmlText(t, svgOf(t, page))
	for _, want := range []string{"model.json", "clean.csv", "train", "key:bob"} {
		if !strings.Contains(text, want) {
			t.Errorf("the graph's SVG lacks %q", want)
		}
	}

	// One row per artifact, with its digests and the steps that made and used it.
	for _, n := range g.Nodes() {
		row := rowOf(t, page, "artifact-"+strings.ReplaceAll(string(n.Digest), ":", "-"))
		for _, d := range n.Digests {
			if !strings.Contains(row, "<code>"+string(d)+"</code>") {
				t.Errorf("row of %s lacks digest %s", n.Label(), d)
			}
		}
	}
	cleanRow := rowOf(t, page, "artifact-"+strings.ReplaceAll(string(p.clean), ":", "-"))
	if !strings.Contains(cleanRow, "clean.csv") || !strings.Contains(cleanRow, ">clean</a>") || !strings.Contains(cleanRow, ">train</a>") {
		t.Errorf("clean.csv row: %s", cleanRow)
	}
	// One row per step, signed and verified.
	for _, a := range g.Activities() {
		row := rowOf(t, page, "step-"+strings.ReplaceAll(string(a.ID), ":", "-"))
		for _, want := range append([]string{"<strong>" + a.Name + "</strong>", strings.Split(a.Image, "@")[0], `title="` + string(a.ID) + `"`, `<span class="verified">verified</span>`, "at not recorded", "run run-1"}, a.Signers...) {
			if !strings.Contains(row, want) {
				t.Errorf("row of step %s lacks %q: %s", a.Name, want, row)
			}
		}
	}
	// The forgery is listed as rejected, with its reason, and nowhere in the graph.
	if !strings.Contains(page, `class="rejected">rejected<`) || !strings.Contains(page, escaped(failed["forged"].Error())) {
		t.Errorf("page lacks the rejected forgery and its reason %q", failed["forged"])
	}
	if strings.Contains(page, "poisoned.csv") {
		t.Error("the forged input appears in the report")
	}

	// The same graph, built from the results in another order, gives the same bytes.
	g2, err := lineage.New([]*verify.Result{results[2], results[0], results[1]})
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := g2.WriteHTML(t.Context(), &again, lineage.Report{Title: "Survey model", Rejected: rejected, Dot: dot}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), out.Bytes()) {
		t.Error("the same graph gave different HTML")
	}
}

// escaped escapes s as html/template does in text.
func escaped(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;")
	return r.Replace(s)
}

// rowOf returns the table row with the given id.
func rowOf(t *testing.T, page, id string) string {
	t.Helper()
	start := strings.Index(page, `<tr id="`+id+`">`)
	if start < 0 {
		t.Fatalf("no row %s", id)
	}
	end := strings.Index(page[start:], "</tr>")
	return page[start : start+end]
}

// TestWriteHTMLEscapes gives statements names that are markup: they reach the page escaped, in
// the tables and in the SVG.
func TestWriteHTMLEscapes(t *testing.T) {
	dot := testenv.Dot(t)
	p := newPipeline(t)
	const step = `<script>alert(1)</script>`
	const name = `"><img src=x onerror=alert(2)>.csv`
	in := &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": digest.FromString("in").Encoded()}}
	out := &intoto.ResourceDescriptor{Name: "javascript-free.csv", Digest: map[string]string{"sha256": digest.FromString("out").Encoded()}}
	b := signStep(t, p.alice, &workflow.Step{Name: step, Image: "registry.example/x@" + digest.FromString("x").String(),
		Inputs: []*intoto.ResourceDescriptor{in}, Outputs: []*intoto.ResourceDescriptor{out}, BuilderID: "https://ci.example/</td><script>"})
	res, err := p.verifier.Verify(t.Context(), b, digest.FromString("out"), p.identity)
	if err != nil {
		t.Fatal(err)
	}
	g, err := lineage.New([]*verify.Result{res})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rejected := []lineage.Rejected{{Err: errors.New("reason <script>alert(3)</script>")}}
	if err := g.WriteHTML(t.Context(), &buf, lineage.Report{Title: "<script>alert(4)</script>", Rejected: rejected, Dot: dot}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	checkStatic(t, page)
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;.csv", "alert(3)", "<title>&lt;script&gt;alert(4)&lt;/script&gt;</title>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	text := xmlText(t, svgOf(t, page))
	if !strings.Contains(text, step) || !strings.Contains(text, `"><img src=x onerror=alert(2)>.csv`) {
		t.Errorf("the SVG does not draw the names as text: %s", text)
	}
}

// fakeDot writes a shell script standing in for dot. It is used only for what the real dot
// cannot be made to do: fail, hang, write more than MaxSVGBytes, or write SVG with script in it.
// Everything dot does when it works is tested with the real program.
func fakeDot(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dot")
	if err := os.WriteFile(path, []byte("#!/bin/sh\ncat >/dev/null\n"+script+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWriteHTMLErrors(t *testing.T) {
	_, g := pipelineGraph(t)
	svg := func(body string) string {
		return "printf '%s' '" + body + "'"
	}
	tests := []struct {
		name  string
		dot   func(t *testing.T) string
		path  string // PATH, when set
		want  []error
		check func(t *testing.T, err error)
	}{
		{name: "no such program", dot: func(*testing.T) string { return "/nonexistent/dot" }, want: []error{lineage.ErrGraphviz, fs.ErrNotExist},
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "install the graphviz package") {
					t.Errorf("%v does not say how to fix it", err)
				}
			}},
		{name: "not on PATH", dot: func(*testing.T) string { return "" }, path: "empty", want: []error{lineage.ErrGraphviz, exec.ErrNotFound},
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "install the graphviz package") {
					t.Errorf("%v does not say how to fix it", err)
				}
			}},
		{name: "dot fails", dot: func(t *testing.T) string {
			return fakeDot(t, "echo 'Error: <stdin>: syntax error in line 3' >&2; exit 2")
		},
			want: []error{lineage.ErrGraphviz},
			check: func(t *testing.T, err error) {
				var ge *lineage.GraphvizError
				var ee *exec.ExitError
				if !errors.As(err, &ge) || !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(ge.Stderr, "syntax error in line 3") ||
					!strings.Contains(err.Error(), "syntax error in line 3") {
					t.Errorf("%v: want the exit status and stderr", err)
				}
			}},
		{name: "too much output", dot: func(t *testing.T) string { return fakeDot(t, "exec head -c 40000000 /dev/zero") },
			want: []error{lineage.ErrGraphviz, provenance.ErrTooLarge}},
		{name: "no SVG namespace", dot: func(t *testing.T) string { return fakeDot(t, svg(`<svg width="8pt"><text>x</text></svg>`)) }, want: []error{lineage.ErrNotSVG}},
		{name: "not SVG", dot: func(t *testing.T) string { return fakeDot(t, svg(`<html><body>hello</body></html>`)) }, want: []error{lineage.ErrNotSVG}},
		{name: "markup before", dot: func(t *testing.T) string { return fakeDot(t, svg(`<?xml version="1.0"?><b>x</b><svg></svg>`)) }, want: []error{lineage.ErrNotSVG}},
		{name: "markup after", dot: func(t *testing.T) string {
			return fakeDot(t, svg(`<svg xmlns="http://www.w3.org/2000/svg"></svg><b>x</b>`))
		}, want: []error{lineage.ErrNotSVG}},
		{name: "not well-formed", dot: func(t *testing.T) string { return fakeDot(t, svg(`<svg><g></svg>`)) }, want: []error{lineage.ErrNotSVG}},
		{name: "empty", dot: func(t *testing.T) string { return fakeDot(t, "true") }, want: []error{lineage.ErrNotSVG}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path != "" {
				t.Setenv("PATH", t.TempDir())
			}
			var buf bytes.Buffer
			err := g.WriteHTML(t.Context(), &buf, lineage.Report{Dot: tt.dot(t)})
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Fatalf("got %v, want it to wrap %v", err, want)
				}
			}
			if tt.check != nil {
				tt.check(t, err)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes on error", buf.Len())
			}
		})
	}

	t.Run("fake dot with a prolog is embedded", func(t *testing.T) {
		doc := `<?xml version="1.0" encoding="UTF-8" standalone="no"?>` + "\n" +
			`<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">` + "\n" +
			`<!-- Generated by a test -->` + "\n" + `<svg xmlns="http://www.w3.org/2000/svg" width="8pt"><text>ok</text></svg>` + "\n"
		var buf bytes.Buffer
		if err := g.WriteHTML(t.Context(), &buf, lineage.Report{Dot: fakeDot(t, svg(doc))}); err != nil {
			t.Fatal(err)
		}
		page := buf.String()
		checkStatic(t, page)
		if got := svgOf(t, page); got != doc || !strings.Contains(page, "<title>Lineage report</title>") {
			t.Errorf("embedded %q, want dot's output as it is; page: %s", got, page)
		}
	})

	t.Run("context ends", func(t *testing.T) {
		dot := fakeDot(t, "exec sleep 30")
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := g.WriteHTML(ctx, io.Discard, lineage.Report{Dot: dot})
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, lineage.ErrGraphviz) {
			t.Fatalf("got %v, want the context's error", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %v", d)
		}
	})
}

// TestWriteHTMLInertSVG gives WriteHTML SVG that would run script or load resources if it were
// markup of the page: a comment a browser's HTML parser closes early (<!--> ends a comment in
// HTML, not in XML), scripts, handlers, foreign HTML, links and external paint. The report is
// written, and the SVG is only ever an image's data: URL, which a browser neither scripts nor
// lets load anything, under a policy that allows nothing else.
func TestWriteHTMLInertSVG(t *testing.T) {
	_, g := pipelineGraph(t)
	const open = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">`
	for _, tt := range []struct{ name, body string }{
		{"comment closed early by HTML", `<!--><img src=x onerror=alert(1)>-->`},
		{"comment closing a comment", `<!--><script>alert(1)</script>-->`},
		{"script", `<script>alert(1)</script>`},
		{"script in capitals", `<SCRIPT>alert(1)</SCRIPT>`},
		{"javascript URL", `<a xlink:href="JavaScript:alert(1)"><text>x</text></a>`},
		{"event handler", `<g onload="alert(1)"/>`},
		{"foreign object", `<foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(1)"/></div></foreignObject>`},
		{"link", `<a xlink:href="https://evil.example/alert"><text>x</text></a>`},
		{"external paint", `<rect fill="url(https://evil.example/alert.svg#p)"/>`},
		{"end of style", `<text>&lt;/style&gt;&lt;script&gt;alert(1)&lt;/script&gt;</text>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc := open + tt.body + `</svg>`
			var buf bytes.Buffer
			if err := g.WriteHTML(t.Context(), &buf, lineage.Report{Dot: fakeDot(t, "printf '%s' '"+doc+"'")}); err != nil {
				t.Fatalf("WriteHTML: %v", err)
			}
			page := buf.String()
			checkStatic(t, page)
			if got := svgOf(t, page); got != doc {
				t.Errorf("embedded %q, want %q", got, doc)
			}
			if rest := svgImage.ReplaceAllString(page, ""); strings.Contains(rest, "alert") || strings.Contains(rest, "evil.example") {
				t.Errorf("the SVG reaches the page as markup: %s", rest)
			}
		})
	}
}

// TestWriteHTMLJavascriptName draws, with the real dot, statements whose names are javascript:
// URLs and markup: the report is written, and shows them as text.
func TestWriteHTMLJavascriptName(t *testing.T) {
	dot := testenv.Dot(t)
	p := newPipeline(t)
	const step = `javascript:alert(1)`
	const name = `JavaScript:alert(2)<script>alert(3)</script>.csv`
	in := &intoto.ResourceDescriptor{Name: name, Uri: "javascript:alert(4)", Digest: map[string]string{"sha256": digest.FromString("in").Encoded()}}
	out := &intoto.ResourceDescriptor{Name: "out.csv", Digest: map[string]string{"sha256": digest.FromString("out").Encoded()}}
	b := signStep(t, p.alice, &workflow.Step{Name: step, Image: "registry.example/x@" + digest.FromString("x").String(),
		Inputs: []*intoto.ResourceDescriptor{in}, Outputs: []*intoto.ResourceDescriptor{out}, BuilderID: "javascript:alert(5)"})
	res, err := p.verifier.Verify(t.Context(), b, digest.FromString("out"), p.identity)
	if err != nil {
		t.Fatal(err)
	}
	g, err := lineage.New([]*verify.Result{res})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.WriteHTML(t.Context(), &buf, lineage.Report{Title: "javascript:alert(6)", Dot: dot}); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	page := buf.String()
	checkStatic(t, page)
	for _, want := range []string{"<strong>javascript:alert(1)</strong>", "JavaScript:alert(2)&lt;script&gt;alert(3)&lt;/script&gt;.csv",
		"<code>javascript:alert(4)</code>", "<code>javascript:alert(5)</code>", "<title>javascript:alert(6)</title>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Text, not links: no href of the page holds anything but an anchor.
	for _, href := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(href[1], "#") {
			t.Errorf("page links to %s", href[1])
		}
	}
	rest := svgImage.ReplaceAllString(page, "<img graph>")
	if strings.Contains(strings.ToLower(rest), "<script") {
		t.Error("page holds a script element")
	}
	text := xmlText(t, svgOf(t, page))
	if !strings.Contains(text, step) || !strings.Contains(text, name) {
		t.Errorf("the SVG does not draw the names as text: %s", text)
	}
}

// TestWriteHTMLRejectedOrder keeps the rejected attestations in the order given.
func TestWriteHTMLRejectedOrder(t *testing.T) {
	dot := testenv.Dot(t)
	_, g := pipelineGraph(t)
	var rejected []lineage.Rejected
	for _, s := range []string{"b", "a", "c"} {
		rejected = append(rejected, lineage.Rejected{Attestation: ocispec.Descriptor{Digest: digest.FromString(s)}, Err: errors.New("reason " + s)})
	}
	var buf bytes.Buffer
	if err := g.WriteHTML(t.Context(), &buf, lineage.Report{Rejected: rejected, Dot: dot}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	var at []int
	for _, s := range []string{"reason b", "reason a", "reason c"} {
		at = append(at, strings.Index(page, s))
	}
	if slices.Contains(at, -1) || !slices.IsSorted(at) {
		t.Errorf("rejected reasons at %v, want in the order given", at)
	}
}

// TestWriteHTMLEmpty reports a store in which nothing verified: an empty graph, and what was
// rejected.
func TestWriteHTMLEmpty(t *testing.T) {
	dot := testenv.Dot(t)
	g, err := lineage.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rejected := []lineage.Rejected{{Attestation: ocispec.Descriptor{Digest: digest.FromString("a")}, Err: errors.New("signed by an untrusted key")}}
	if err := g.WriteHTML(t.Context(), &buf, lineage.Report{Rejected: rejected, Dot: dot}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	checkStatic(t, page)
	xmlText(t, svgOf(t, page))
	if !strings.Contains(page, "0 artifacts, 0 steps, 0 edges, 0 rebuild checks, 1 rejected attestations") || !strings.Contains(page, "signed by an untrusted key") {
		t.Errorf("page: %s", page)
	}
}
