package lineage

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// IRIs of the exported linked data. Artifacts and statements are named by digest, signers by
// SignerLabel, in provkit's URN namespace, so the same artifact has the same IRI in every export.
const (
	iriArtifact  = "urn:provkit:artifact:"
	iriStatement = "urn:provkit:statement:"
	iriSigner    = "urn:provkit:signer:"
)

// ArtifactIRI returns the IRI the PROV-O and RO-Crate exports give the artifact of digest d:
// "urn:provkit:artifact:" followed by the digest.
func ArtifactIRI(d digest.Digest) string { return iriArtifact + string(d) }

// ActivityIRI returns the IRI the exports give the activity of a statement ID.
func ActivityIRI(id digest.Digest) string { return iriStatement + string(id) }

// SignerIRI returns the IRI the exports give a signer, by its SignerLabel.
func SignerIRI(label string) string { return iriSigner + url.PathEscape(label) }

// WriteDOT writes the graph in Graphviz DOT: one box per artifact, labelled with its name and
// the start of its digest, and one edge per graph edge, labelled with the step and its signers.
// Edges from a step's tools (its container image) are dashed. The output depends only on the
// graph: the same graph always gives the same bytes.
func (g *Graph) WriteDOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("digraph lineage {\n\trankdir=LR;\n\tnode [shape=box, fontname=\"Helvetica\"];\n\tedge [fontname=\"Helvetica\", fontsize=10];\n")
	for _, d := range g.order {
		n := g.nodes[d]
		// An image's name ends in its digest ("REPOSITORY@sha256:…"): the short digest below it says the same.
		label := strings.TrimSuffix(n.Label(), "@"+string(d))
		fmt.Fprintf(bw, "\t%s [label=%s];\n", dotQuote(string(d)), dotQuote(label+"\n"+short(d)))
	}
	for _, e := range g.edges {
		style := ""
		if slices.Contains(g.activities[e.Activity].Instruments, e.From) {
			style = ", style=dashed"
		}
		fmt.Fprintf(bw, "\t%s -> %s [label=%s%s];\n", dotQuote(string(e.From)), dotQuote(string(e.To)),
			dotQuote(e.Step+"\n"+strings.Join(e.Signers, ", ")), style)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// short abbreviates a digest to its algorithm and first 12 characters.
func short(d digest.Digest) string {
	alg, enc, _ := strings.Cut(string(d), ":")
	if len(enc) > 12 {
		enc = enc[:12]
	}
	return alg + ":" + enc
}

// dotQuote returns s as a DOT quoted string; line breaks become DOT's centred "\n".
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Namespaces of the PROV-O export.
const (
	nsPROV = "http://www.w3.org/ns/prov#"
	nsRDFS = "http://www.w3.org/2000/01/rdf-schema#"
	nsXSD  = "http://www.w3.org/2001/XMLSchema#"
)

type jsonObj = map[string]any

func ref(iri string) jsonObj { return jsonObj{"@id": iri} }

func refs(ds []digest.Digest, iri func(digest.Digest) string) []jsonObj {
	out := make([]jsonObj, len(ds))
	for i, d := range ds {
		out[i] = ref(iri(d))
	}
	return out
}

func dateTime(t time.Time) jsonObj {
	return jsonObj{"@value": t.UTC().Format(time.RFC3339Nano), "@type": "xsd:dateTime"}
}

// WritePROV writes the graph as JSON-LD in the W3C PROV-O vocabulary
// (https://www.w3.org/TR/prov-o/): each artifact a prov:Entity, with prov:wasGeneratedBy its
// steps and prov:wasDerivedFrom their inputs; each statement a prov:Activity with prov:used
// (its inputs and tools), prov:generated (its subjects), prov:startedAtTime and
// prov:endedAtTime when recorded, and prov:wasAssociatedWith its signers, each a prov:Agent.
// Labels are rdfs:label. IRIs are ArtifactIRI, ActivityIRI and SignerIRI. Object keys are
// sorted and entities ordered by IRI, so the same graph always gives the same bytes.
func (g *Graph) WritePROV(w io.Writer) error {
	generatedBy := map[digest.Digest][]digest.Digest{} // artifact -> activities
	for _, id := range g.actOrder {
		for _, o := range g.activities[id].Outputs {
			generatedBy[o] = append(generatedBy[o], id)
		}
	}
	var items []jsonObj
	for _, d := range g.order {
		n := g.nodes[d]
		e := jsonObj{"@id": ArtifactIRI(d), "@type": "prov:Entity", "rdfs:label": n.Label()}
		if acts := generatedBy[d]; len(acts) > 0 {
			e["prov:wasGeneratedBy"] = refs(acts, ActivityIRI)
			var from []digest.Digest
			for _, id := range acts {
				from = append(from, g.activities[id].Inputs...)
			}
			slices.Sort(from)
			from = slices.DeleteFunc(slices.Compact(from), func(x digest.Digest) bool { return x == d })
			if len(from) > 0 {
				e["prov:wasDerivedFrom"] = refs(from, ArtifactIRI)
			}
		}
		items = append(items, e)
	}
	agents := map[string]bool{}
	for _, id := range g.actOrder {
		a := g.activities[id]
		act := jsonObj{"@id": ActivityIRI(id), "@type": "prov:Activity", "rdfs:label": a.Name,
			"prov:generated": refs(a.Outputs, ArtifactIRI)}
		if len(a.Inputs) > 0 {
			act["prov:used"] = refs(a.Inputs, ArtifactIRI)
		}
		if !a.StartedOn.IsZero() {
			act["prov:startedAtTime"] = dateTime(a.StartedOn)
		}
		if !a.FinishedOn.IsZero() {
			act["prov:endedAtTime"] = dateTime(a.FinishedOn)
		}
		assoc := make([]jsonObj, len(a.Signers))
		for i, s := range a.Signers {
			assoc[i] = ref(SignerIRI(s))
			agents[s] = true
		}
		act["prov:wasAssociatedWith"] = assoc
		items = append(items, act)
	}
	labels := make([]string, 0, len(agents))
	for s := range agents {
		labels = append(labels, s)
	}
	slices.Sort(labels)
	for _, s := range labels {
		items = append(items, jsonObj{"@id": SignerIRI(s), "@type": "prov:Agent", "rdfs:label": s})
	}
	return writeJSON(w, jsonObj{
		"@context": jsonObj{"prov": nsPROV, "rdfs": nsRDFS, "xsd": nsXSD},
		"@graph":   items,
	})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
