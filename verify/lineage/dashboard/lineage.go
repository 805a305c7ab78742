package dashboard

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify/lineage/index"
)

// lineagePage is the lineage graph of one artifact, drawn and listed.
type lineagePage struct {
	Digest    digest.Digest
	Name      string
	Dir       string
	Picture   *picture
	NoDrawing string
	Artifacts []lineageNode
	Steps     []lineageNode
	Truncated bool
	Up, Down  string
	Both      string
	Href      string
}

func (p lineagePage) title() string { return "Lineage of " + cmp.Or(p.Name, shortDigest(p.Digest)) }

// lineageNode is one node of the graph, listed below the drawing.
type lineageNode struct {
	Link    link
	Detail  string
	Focus   bool
	Signers []string
}

// maxLinks bounds the links a lineage page reads in each direction.
const maxLinks = 20_000

func (h *Handler) lineage(r *http.Request) (string, any, error) {
	ctx := r.Context()
	d, err := pathDigest(r, "digest")
	if err != nil {
		return "", nil, err
	}
	dir, err := value(r, "dir")
	if err != nil {
		return "", nil, err
	}
	switch dir {
	case "":
		dir = "both"
	case "both", "up", "down":
	default:
		return "", nil, &RequestError{Param: "dir", Reason: `"up", "down" or "both"`}
	}
	var links []index.Link
	truncated := false
	if dir != "down" {
		up, t, err := h.ix.Upstream(ctx, d, maxLinks)
		if err != nil {
			return "", nil, err
		}
		links, truncated = append(links, up...), t
	}
	if dir != "up" {
		down, t, err := h.ix.Downstream(ctx, d, maxLinks)
		if err != nil {
			return "", nil, err
		}
		links, truncated = append(links, down...), truncated || t
	}
	base := lineageHref(d)
	p := lineagePage{Digest: d, Dir: dir, Truncated: truncated, Href: artifactHref(d),
		Up: base + "?dir=up", Down: base + "?dir=down", Both: base}

	// The steps, with their names, signers and outputs' names, and the names their
	// statements give their inputs.
	stmtSet := map[digest.Digest]bool{}
	var stmts []digest.Digest
	for _, l := range links {
		if !stmtSet[l.Statement] {
			stmtSet[l.Statement] = true
			stmts = append(stmts, l.Statement)
		}
	}
	recs, err := h.ix.Records(ctx, stmts...)
	if err != nil {
		return "", nil, err
	}
	if len(recs) == 0 {
		found, err := h.ix.Find(ctx, index.Query{Subject: d})
		if err != nil {
			return "", nil, err
		}
		if len(found) == 0 {
			return "", nil, &NotFoundError{Kind: "artifact", Key: d.String()}
		}
	}
	bodies, err := h.ix.StatementsJSON(ctx, stmts...)
	if err != nil {
		return "", nil, err
	}
	names := map[digest.Digest]string{}
	images := map[digest.Digest]bool{}
	for id, body := range bodies {
		// Only the names and roles of the dependencies: far cheaper than decoding the whole
		// statement, and read from the statement as verified.
		var st struct {
			PredicateType string `json:"predicateType"`
			Predicate     struct {
				BuildDefinition struct {
					ResolvedDependencies []struct {
						Name, URI   string
						Digest      map[string]string
						Annotations map[string]any
					} `json:"resolvedDependencies"`
				} `json:"buildDefinition"`
			} `json:"predicate"`
		}
		if err := json.Unmarshal(body, &st); err != nil {
			h.log(r, "statement "+id.String(), err)
			continue
		}
		if st.PredicateType != provenance.PredicateSLSAProvenanceV1 {
			continue
		}
		for _, rd := range st.Predicate.BuildDefinition.ResolvedDependencies {
			ds, _ := provenance.IdentifyingDigests(rd.Digest)
			for _, x := range ds {
				if names[x] == "" {
					names[x] = cmp.Or(rd.Name, rd.URI)
				}
				if role, _ := rd.Annotations[provenance.AnnotationRole].(string); role == provenance.RoleToolchain {
					images[x] = true
				}
			}
		}
	}
	byID := map[digest.Digest]index.Record{}
	for _, rec := range recs {
		byID[rec.ID] = rec
		for _, s := range rec.Subjects {
			if s.Name != "" {
				names[s.Digest] = s.Name
			}
		}
	}
	p.Name = names[d]

	// The drawing: artifacts and steps as nodes, input -> step -> output.
	var dr drawing
	artifactNode := map[digest.Digest]int{}
	stepNode := map[digest.Digest]int{}
	addArtifact := func(x digest.Digest) int {
		label := shortDigest(x)
		if n := names[x]; n != "" {
			// A pinned reference's digest is on the second line already.
			if at := strings.LastIndex(n, "@"); at > 0 && strings.HasPrefix(n[at+1:], string(x.Algorithm())+":") {
				n = n[:at]
			}
			label = clip(n, 40) + "\n" + label
		}
		title := x.String()
		if images[x] {
			title = "container image " + title
		}
		dr.nodes = append(dr.nodes, graphNode{id: fmt.Sprintf("n%d", len(dr.nodes)), label: label, title: title,
			href: artifactHref(x), focus: x == d})
		return len(dr.nodes) - 1
	}
	artifact := func(x digest.Digest) int {
		if i, ok := artifactNode[x]; ok {
			return i
		}
		i := addArtifact(x)
		artifactNode[x] = i
		return i
	}
	step := func(id digest.Digest) int {
		if i, ok := stepNode[id]; ok {
			return i
		}
		rec := byID[id]
		label := clip(cmp.Or(rec.Name, "step"), 40)
		if s := signerLabels(rec.Signatures); len(s) > 0 {
			label += "\nsigned by " + clip(strings.Join(s, ", "), 40)
		}
		dr.nodes = append(dr.nodes, graphNode{id: fmt.Sprintf("n%d", len(dr.nodes)), label: label,
			title: "step " + rec.Name + " (" + id.String() + ")", href: stepHref(id), step: true})
		stepNode[id] = len(dr.nodes) - 1
		return len(dr.nodes) - 1
	}
	// How many steps read each artifact: one read by many is drawn beside each.
	readers := map[digest.Digest]map[digest.Digest]bool{}
	for _, l := range links {
		if readers[l.From] == nil {
			readers[l.From] = map[digest.Digest]bool{}
		}
		readers[l.From][l.Statement] = true
	}
	artifact(d)
	edgeSet := map[[2]int]bool{}
	edge := func(a, b int) {
		if k := [2]int{a, b}; !edgeSet[k] {
			edgeSet[k] = true
			dr.edges = append(dr.edges, k)
		}
	}
	copies := map[[2]digest.Digest]int{}
	for _, l := range links {
		s := step(l.Statement)
		edge(s, artifact(l.To))
		from := 0
		if len(readers[l.From]) > maxFanOut && l.From != d {
			k := [2]digest.Digest{l.From, l.Statement}
			i, ok := copies[k]
			if !ok {
				i = addArtifact(l.From)
				copies[k] = i
			}
			from = i
		} else {
			from = artifact(l.From)
		}
		edge(from, s)
	}

	// The lists below the drawing, and the drawing itself.
	for x := range artifactNode {
		detail := ""
		if images[x] {
			detail = "container image"
		}
		p.Artifacts = append(p.Artifacts, lineageNode{Link: link{Href: artifactHref(x), Text: cmp.Or(names[x], shortDigest(x)), Title: x.String()},
			Detail: detail, Focus: x == d})
	}
	slices.SortFunc(p.Artifacts, func(x, y lineageNode) int {
		return cmp.Or(cmp.Compare(x.Link.Text, y.Link.Text), cmp.Compare(x.Link.Title, y.Link.Title))
	})
	for id := range stepNode {
		rec := byID[id]
		p.Steps = append(p.Steps, lineageNode{Link: link{Href: stepHref(id), Text: cmp.Or(rec.Name, shortDigest(id)), Title: id.String()},
			Detail: kindOf(rec), Signers: signerLabels(rec.Signatures)})
	}
	slices.SortFunc(p.Steps, func(x, y lineageNode) int {
		return cmp.Or(cmp.Compare(x.Link.Text, y.Link.Text), cmp.Compare(x.Link.Title, y.Link.Title))
	})
	switch {
	case len(dr.nodes) > h.maxNodes:
		p.NoDrawing = fmt.Sprintf("The graph has %d nodes, more than the %d this dashboard draws; its artifacts and steps are listed below.", len(dr.nodes), h.maxNodes)
	case h.dot == "":
		p.NoDrawing = "Graphviz (dot) is not installed, so the graph is not drawn; its artifacts and steps are listed below."
	default:
		pic, err := dr.render(ctx, h.dot, h.pictures)
		if err != nil {
			if ctx.Err() != nil {
				return "", nil, ctx.Err()
			}
			h.log(r, "graphviz", err)
			p.NoDrawing = "Graphviz could not draw the graph; its artifacts and steps are listed below."
		} else {
			p.Picture = pic
		}
	}
	return "lineage", p, nil
}

// clip shortens s to at most n characters, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
