package lineage

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance/workflow"
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
// the start of its digest, and one edge per graph edge, labelled with the step and its signers,
// with the step's parameters ("min=-40, seed=42") as the edge's tooltip. Edges from a step's
// tools (its container image) are dashed. The output depends only on the graph: the same graph
// always gives the same bytes.
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
		a := g.activities[e.Activity]
		attrs := ""
		if params := ParameterText(a.Parameters); params != "" {
			attrs += ", tooltip=" + dotQuote(e.Step+": "+params)
		}
		if slices.Contains(a.Instruments, e.From) {
			attrs += ", style=dashed"
		}
		fmt.Fprintf(bw, "\t%s -> %s [label=%s%s];\n", dotQuote(string(e.From)), dotQuote(string(e.To)),
			dotQuote(e.Step+"\n"+strings.Join(e.Signers, ", ")), attrs)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// ParameterText writes parameters as "name=value" pairs sorted by name and separated by ", ":
// strings as they are, other values in JSON ("min=-40, method=mean, layers=[64,32]"). It is
// empty for no parameters.
func ParameterText(params map[string]any) string {
	names := slices.Sorted(maps.Keys(params))
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + "=" + parameterValue(params[k])
	}
	return strings.Join(parts, ", ")
}

// parameterValue is a parameter's value as text: a string as it is, anything else in JSON.
func parameterValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// CommandText joins a command line for reading, quoting the arguments that hold spaces, quotes
// or shell metacharacters in single quotes, as a POSIX shell reads them.
func CommandText(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
		}) {
			parts[i] = a
			continue
		}
		parts[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(parts, " ")
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
	// NamespacePROV is the namespace of the terms WritePROV adds to PROV-O, prefix "provkit":
	// the classes Parameter, ContainerImage, SigningKey and RebuildCheck; the roles input,
	// containerImage, parameter, signer, operator and rebuilt; and the properties digest,
	// commandLine, runId, environment, builder, outcome and compared.
	NamespacePROV = "https://provkit.dev/ns/lineage#"
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

// ParameterIRI returns the IRI the PROV-O export gives parameter name of the statement id.
func ParameterIRI(id digest.Digest, name string) string {
	return ActivityIRI(id) + "/parameter/" + url.PathEscape(name)
}

// PlanIRI returns the IRI of the plan an activity followed (prov:Plan): for a workflow step,
// "urn:provkit:plan:" with its workflow and step name; for another SLSA build, its build type.
// It is empty for statements of other predicate types.
func PlanIRI(a *Activity) string {
	switch {
	case a.BuildType == workflow.BuildType && a.Workflow != "":
		return "urn:provkit:plan:" + url.PathEscape(a.Workflow) + "/" + url.PathEscape(a.Name)
	case a.BuildType == workflow.BuildType:
		return "urn:provkit:plan:" + url.PathEscape(a.Name)
	}
	return a.BuildType
}

// AgentIRI returns the IRI of a person who ran a step: the ORCID URL, else a mailto: URL.
func AgentIRI(a workflow.Agent) string { return a.ID() }

// agentLabel names a person: the name given, else the ORCID iD or email address.
func agentLabel(a workflow.Agent) string {
	switch {
	case a.Name != "":
		return a.Name
	case a.Email != "":
		return a.Email
	}
	return a.ID()
}

// jsonValue is a parameter as a JSON-LD value: a string, number or boolean as it is (JSON-LD
// gives it the XSD type), anything else as its JSON text.
func jsonValue(v any) any {
	switch v.(type) {
	case string, float64, bool:
		return v
	}
	return parameterValue(v)
}

func usage(entity, role string) jsonObj {
	return jsonObj{"@type": "prov:Usage", "prov:entity": ref(entity), "prov:hadRole": ref("provkit:" + role)}
}

// WritePROV writes the graph as JSON-LD in the W3C PROV-O vocabulary
// (https://www.w3.org/TR/prov-o/), with a few terms of NamespacePROV (prefix "provkit") where
// PROV-O has none:
//
//   - Each artifact is a prov:Entity (a container image also a provkit:ContainerImage), with its
//     digests (provkit:digest), prov:wasGeneratedBy the steps that made it, and
//     prov:wasDerivedFrom their data inputs (not their container images, which are the tool,
//     not the source).
//   - Each statement is a prov:Activity: prov:used every input, image and parameter, each also
//     as a prov:qualifiedUsage whose prov:hadRole is provkit:input, provkit:containerImage or
//     provkit:parameter, so a query tells data from tools; prov:generated its subjects;
//     prov:startedAtTime and prov:endedAtTime when recorded; provkit:commandLine, provkit:runId,
//     provkit:builder and provkit:environment ("NAME=value") when recorded.
//   - Each parameter is a prov:Entity and provkit:Parameter (ParameterIRI) with rdfs:label its
//     name and prov:value its value: a string, number or boolean as a typed literal, anything
//     else as its JSON text. To find the steps that ran with min=-40:
//     ?step prov:used ?p . ?p a provkit:Parameter ; rdfs:label "min" ; prov:value -40 .
//   - prov:wasAssociatedWith names the signers (prov:Agent, a key also a provkit:SigningKey) and
//     the people who ran the step (prov:Person, named by ORCID URL or mailto:). Each is also a
//     prov:qualifiedAssociation with prov:hadRole provkit:signer or provkit:operator and
//     prov:hadPlan the step's definition (PlanIRI: a prov:Plan).
//   - A rebuild check (see Rebuild) is a prov:Activity and provkit:RebuildCheck that
//     prov:used the artifacts it rebuilt (role provkit:rebuilt), with prov:endedAtTime when it
//     ran, provkit:outcome "match" or "mismatch", provkit:compared, and its signers; it
//     generates nothing.
//
// Labels are rdfs:label. Object keys are sorted and entities ordered by IRI, so the same graph
// always gives the same bytes.
func (g *Graph) WritePROV(w io.Writer) error {
	generatedBy := map[digest.Digest][]digest.Digest{} // artifact -> activities
	for _, id := range g.actOrder {
		for _, o := range g.activities[id].Outputs {
			generatedBy[o] = append(generatedBy[o], id)
		}
	}
	images := map[digest.Digest]bool{}
	for _, a := range g.activities {
		for _, d := range a.Instruments {
			images[d] = true
		}
	}
	var items []jsonObj
	for _, d := range g.order {
		n := g.nodes[d]
		e := jsonObj{"@id": ArtifactIRI(d), "@type": "prov:Entity", "rdfs:label": n.Label(), "provkit:digest": digestStrings(n.Digests)}
		if images[d] {
			e["@type"] = []string{"prov:Entity", "provkit:ContainerImage"}
		}
		if acts := generatedBy[d]; len(acts) > 0 {
			e["prov:wasGeneratedBy"] = refs(acts, ActivityIRI)
			var from []digest.Digest
			for _, id := range acts {
				a := g.activities[id]
				for _, in := range a.Inputs {
					if !slices.Contains(a.Instruments, in) {
						from = append(from, in)
					}
				}
			}
			slices.Sort(from)
			from = slices.DeleteFunc(slices.Compact(from), func(x digest.Digest) bool { return x == d })
			if len(from) > 0 {
				e["prov:wasDerivedFrom"] = refs(from, ArtifactIRI)
			}
		}
		items = append(items, e)
	}
	signers := map[string]bool{}
	people := map[string]workflow.Agent{}
	plans := map[string]string{} // IRI -> label
	for _, id := range g.actOrder {
		a := g.activities[id]
		act := jsonObj{"@id": ActivityIRI(id), "@type": "prov:Activity", "rdfs:label": a.Name,
			"prov:generated": refs(a.Outputs, ArtifactIRI)}
		var used []jsonObj
		var usages []jsonObj
		for _, in := range a.Inputs {
			used = append(used, ref(ArtifactIRI(in)))
			role := "input"
			if slices.Contains(a.Instruments, in) {
				role = "containerImage"
			}
			usages = append(usages, usage(ArtifactIRI(in), role))
		}
		for _, name := range slices.Sorted(maps.Keys(a.Parameters)) {
			iri := ParameterIRI(id, name)
			used = append(used, ref(iri))
			usages = append(usages, usage(iri, "parameter"))
			items = append(items, jsonObj{"@id": iri, "@type": []string{"prov:Entity", "provkit:Parameter"},
				"rdfs:label": name, "prov:value": jsonValue(a.Parameters[name])})
		}
		if len(used) > 0 {
			act["prov:used"] = used
			act["prov:qualifiedUsage"] = usages
		}
		if !a.StartedOn.IsZero() {
			act["prov:startedAtTime"] = dateTime(a.StartedOn)
		}
		if !a.FinishedOn.IsZero() {
			act["prov:endedAtTime"] = dateTime(a.FinishedOn)
		}
		if len(a.Command) > 0 {
			act["provkit:commandLine"] = CommandText(a.Command)
		}
		if a.InvocationID != "" {
			act["provkit:runId"] = a.InvocationID
		}
		if a.BuilderID != "" {
			act["provkit:builder"] = a.BuilderID
		}
		if len(a.Environment) > 0 {
			var env []string
			for _, k := range slices.Sorted(maps.Keys(a.Environment)) {
				env = append(env, k+"="+a.Environment[k])
			}
			act["provkit:environment"] = env
		}
		plan := PlanIRI(a)
		if plan != "" {
			plans[plan] = a.Name
			if a.Workflow != "" {
				plans[plan] = a.Workflow + ": " + a.Name
			}
		}
		association := func(agent, role string) jsonObj {
			q := jsonObj{"@type": "prov:Association", "prov:agent": ref(agent), "prov:hadRole": ref("provkit:" + role)}
			if plan != "" {
				q["prov:hadPlan"] = ref(plan)
			}
			return q
		}
		var assoc, qualified []jsonObj
		for _, s := range a.Signers {
			assoc = append(assoc, ref(SignerIRI(s)))
			qualified = append(qualified, association(SignerIRI(s), "signer"))
			signers[s] = true
		}
		for _, p := range a.Agents {
			iri := AgentIRI(p)
			assoc = append(assoc, ref(iri))
			qualified = append(qualified, association(iri, "operator"))
			if _, ok := people[iri]; !ok || p.Name != "" && people[iri].Name == "" {
				people[iri] = p
			}
		}
		act["prov:wasAssociatedWith"] = assoc
		act["prov:qualifiedAssociation"] = qualified
		items = append(items, act)
	}
	for _, r := range g.rebuilds {
		check := jsonObj{"@id": ActivityIRI(r.ID), "@type": []string{"prov:Activity", "provkit:RebuildCheck"},
			"rdfs:label": "rebuild check: " + string(r.Outcome), "provkit:outcome": string(r.Outcome), "provkit:compared": r.Compared,
			"prov:endedAtTime": dateTime(r.CheckedOn)}
		var used, usages []jsonObj
		for _, d := range r.Artifacts {
			if _, ok := g.nodes[d]; ok {
				used = append(used, ref(ArtifactIRI(d)))
				usages = append(usages, usage(ArtifactIRI(d), "rebuilt"))
			}
		}
		if len(used) > 0 {
			check["prov:used"] = used
			check["prov:qualifiedUsage"] = usages
		}
		var assoc, qualified []jsonObj
		for _, s := range r.Signers {
			assoc = append(assoc, ref(SignerIRI(s)))
			qualified = append(qualified, jsonObj{"@type": "prov:Association", "prov:agent": ref(SignerIRI(s)), "prov:hadRole": ref("provkit:signer")})
			signers[s] = true
		}
		check["prov:wasAssociatedWith"] = assoc
		check["prov:qualifiedAssociation"] = qualified
		items = append(items, check)
	}
	for _, iri := range slices.Sorted(maps.Keys(plans)) {
		items = append(items, jsonObj{"@id": iri, "@type": []string{"prov:Entity", "prov:Plan"}, "rdfs:label": plans[iri]})
	}
	for _, s := range slices.Sorted(maps.Keys(signers)) {
		types := []string{"prov:Agent"}
		if strings.HasPrefix(s, "key:") {
			types = append(types, "provkit:SigningKey")
		}
		items = append(items, jsonObj{"@id": SignerIRI(s), "@type": types, "rdfs:label": s})
	}
	for _, iri := range slices.Sorted(maps.Keys(people)) {
		items = append(items, jsonObj{"@id": iri, "@type": []string{"prov:Agent", "prov:Person"}, "rdfs:label": agentLabel(people[iri])})
	}
	return writeJSON(w, jsonObj{
		"@context": jsonObj{"prov": nsPROV, "rdfs": nsRDFS, "xsd": nsXSD, "provkit": NamespacePROV},
		"@graph":   items,
	})
}

func digestStrings(ds []digest.Digest) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d)
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
