package lineage_test

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

// TestReportStudy reads the report of the study as a researcher would: the steps in the order
// they ran, each with its image, command, parameters, times and the people who ran it; the
// rebuilds of the figure and the model; what verification checked; digests that do not wrap
// over many lines; and a page that fits a phone.
func TestReportStudy(t *testing.T) {
	dot := testDot(t)
	s := newStudy(t)
	g := s.graph(t)
	rejected := []lineage.Rejected{{
		Subject:     ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("file manifest"), Annotations: map[string]string{ocispec.AnnotationTitle: "figure-2.svg"}},
		Attestation: ocispec.Descriptor{Digest: digest.FromString("forged")},
		Err:         errors.New("signed by an untrusted key"),
	}}
	var buf bytes.Buffer
	if err := g.WriteHTML(t.Context(), &buf, lineage.Report{Title: "Heat study", Rejected: rejected, Dot: dot}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	checkStatic(t, page)

	// Steps in time order: ingest, clean, fit, plot (their IDs sort otherwise).
	var at []int
	for _, name := range []string{"ingest", "clean", "fit", "plot"} {
		at = append(at, strings.Index(page, "<strong>"+name+"</strong>"))
	}
	for i := 1; i < len(at); i++ {
		if at[i-1] < 0 || at[i] < at[i-1] {
			t.Fatalf("steps at %v, want in the order they ran", at)
		}
	}
	clean := activityNamed(t, g, "clean")
	row := rowOf(t, page, "step-"+strings.ReplaceAll(string(clean.ID), ":", "-"))
	for _, want := range []string{
		"<code>ghcr.io/lab/clean:1.1</code>",
		`title="` + s.images["clean"].String() + `">sha256:` + s.images["clean"].Encoded()[:12] + "…</code>",
		"<code>clean --min=-40 --max=120 raw.csv -o clean.csv</code>",
		"<code>min=-40</code>", "<code>max=120</code>", "<code>dropIncomplete=true</code>", "<code>LC_ALL=C</code>",
		"started 2026-05-04T14:10:00Z", "ended 2026-05-04T14:15:00Z",
		"Ada Lovelace (https://orcid.org/0000-0002-1825-0097)", "Grace Hopper (grace@lab.example)",
		"workflow heat-study", "run run-7", "key:alice", "signature by key:alice verified; the signed statement names clean.csv by digest", `<span class="verified">verified</span>`,
	} {
		if !strings.Contains(row, want) {
			t.Errorf("clean's row lacks %q:\n%s", want, row)
		}
	}
	if fit := rowOf(t, page, "step-"+strings.ReplaceAll(string(activityNamed(t, g, "fit").ID), ":", "-")); !strings.Contains(fit, "<li>numpy 2.1.0</li><li>python 3.12.1</li>") {
		t.Errorf("fit's row lacks its tool versions: %s", fit)
	}

	// Rebuilds: with the figure and the model, and in their own table; never as a step.
	figRow := rowOf(t, page, "artifact-"+strings.ReplaceAll(string(s.fig), ":", "-"))
	if !strings.Contains(figRow, "rebuilt by key:bob at 2026-05-04T16:00:00Z: matched") || !strings.Contains(figRow, ">plot</a>") {
		t.Errorf("figure row: %s", figRow)
	}
	modelRow := rowOf(t, page, "artifact-"+strings.ReplaceAll(string(s.model), ":", "-"))
	if !strings.Contains(modelRow, "rebuilt by key:alice at 2026-05-04T17:00:00Z: differed (1 difference)") {
		t.Errorf("model row: %s", modelRow)
	}
	if !strings.Contains(page, `class="differed">`) || !strings.Contains(page, "subjects[model.json]: changed") || !strings.Contains(page, "every output matched, but the inputs were not compared") {
		t.Error("the rebuild table lacks the mismatch, its difference or the wording of what was compared")
	}
	if strings.Count(page, `<span class="verified">verified</span>`) != 4 {
		t.Errorf("%d verified steps, want 4", strings.Count(page, `<span class="verified">verified</span>`))
	}

	// What verification checked, in words.
	for _, want := range []string{"What verification checked", "signature was verified against a trusted signer", "name, by its digest, the artifact", "Attestations that failed these checks (1 attestation) are listed at the end"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The rejected attestation is named by its file.
	if !strings.Contains(page, "<td>figure-2.svg<br>stored as") {
		t.Error("the rejected attestation is not named by its file")
	}

	// Digests: short on screen, whole in a title and in a box that wraps anywhere; no text run
	// of the page outside those holds a full digest.
	for _, want := range []string{`<meta name="viewport" content="width=device-width, initial-scale=1">`, "overflow-wrap: anywhere", "@media (max-width: 700px)", `<div class="scroll">`, "max-width: 1400px"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	text := regexp.MustCompile(`<details class="digest">.*?</details>|<[^>]*>`).ReplaceAllString(svgImage.ReplaceAllString(page, ""), " ")
	if m := regexp.MustCompile(`[0-9a-f]{20,}`).FindString(text); m != "" {
		t.Errorf("page text holds a long digest %s", m)
	}
}

// TestReportEscapesStepFacts gives a step parameters, a command, an environment and people whose
// values are markup: they reach the page as text.
func TestReportEscapesStepFacts(t *testing.T) {
	dot := testDot(t)
	p := newPipeline(t)
	out := &intoto.ResourceDescriptor{Name: "out.csv", Digest: map[string]string{"sha256": digest.FromString("out").Encoded()}}
	b := signStep(t, p.alice, &workflow.Step{Name: "s", Image: "registry.example/x:<b>@" + digest.FromString("x").String(),
		Command:     []string{"run", `<script>alert(1)</script>`},
		Parameters:  map[string]any{`<img src=x onerror=alert(2)>`: `"><script>alert(3)</script>`},
		Environment: map[string]string{"X": `</td><script>alert(4)</script>`},
		Agents:      []workflow.Agent{{Name: `<script>alert(5)</script>`, Email: "x@lab.example"}},
		Outputs:     []*intoto.ResourceDescriptor{out}, BuilderID: "https://ci.example"})
	res, err := p.verifier.Verify(t.Context(), b, digest.FromString("out"), p.identity)
	if err != nil {
		t.Fatal(err)
	}
	g, err := lineage.New([]*verify.Result{res})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.WriteHTML(t.Context(), &buf, lineage.Report{Dot: dot}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	checkStatic(t, page)
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;=&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;",
		"X=&lt;/td&gt;&lt;script&gt;alert(4)&lt;/script&gt;", "&lt;script&gt;alert(5)&lt;/script&gt; (x@lab.example)", "registry.example/x:&lt;b&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	text := xmlText(t, svgOf(t, page))
	if !strings.Contains(text, "s") {
		t.Errorf("SVG text %s", text)
	}
}
