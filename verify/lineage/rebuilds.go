package lineage

import (
	"cmp"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
	"github.com/provkit/provkit/provenance/rebuild"
)

// Rebuild is one verified rebuild check (a statement of package provenance/rebuild): someone
// rebuilt artifacts from their provenance and compared the result with them. A rebuild is not
// a step that produced the artifacts it rebuilt, so it is no Activity of the graph and adds no
// edge: Graph.Rebuilds finds the checks of an artifact.
type Rebuild struct {
	// ID is the sha256 digest of the rebuild statement in canonical form.
	ID digest.Digest
	// Outcome is rebuild.Match or rebuild.Mismatch.
	Outcome rebuild.Outcome
	// Original is the ID of the statement the rebuild was checked against (the Activity of
	// that statement, when the graph has it).
	Original digest.Digest
	// OriginalPredicateType is the original statement's predicate type.
	OriginalPredicateType string
	// Artifacts are the node keys of the artifacts rebuilt (the original statement's
	// subjects), sorted; an artifact no node of the graph holds is named by its preferred
	// identifying digest.
	Artifacts []digest.Digest
	// Rebuilt are the preferred identifying digests of what the rebuild made (the rebuild
	// statement's subjects), sorted: the artifacts again on a match.
	Rebuilt []digest.Digest
	// RebuilderID is the builder of the rebuild's own provenance, when it was compared.
	RebuilderID string
	// Compared says what was compared, in the words of package provenance/rebuild:
	// "subjects" always, then "inputs", "materials", "parameters" and "image" when they were.
	Compared []string
	// Summary says in words what was compared and what the outcome was, as
	// rebuild.Result.Summary words it: "rebuilt from the same inputs, and every output matched"
	// only when the inputs were compared too.
	Summary string
	// Differences are what differed, sorted by field; empty on a match.
	Differences []diff.Change
	// CheckedOn is when the check ran, as its statement records it.
	CheckedOn time.Time
	// Signers are who signed the rebuild statement, by SignerLabel, sorted.
	Signers []string
	// SignedAt is the earliest verified signing time, zero when no result had one.
	SignedAt time.Time
}

// Matched reports whether the rebuild reproduced the artifacts.
func (r *Rebuild) Matched() bool { return r.Outcome == rebuild.Match }

// pendingRebuild is a rebuild before the graph's nodes are joined.
type pendingRebuild struct {
	r        *Rebuild
	original [][]digest.Digest // the identifying digests of each original subject
}

func (b *builder) addRebuild(st *intoto.Statement, id digest.Digest, signer string, signedAt time.Time, hasTime bool) error {
	if p, ok := b.rebuilds[id]; ok {
		if !slices.Contains(p.r.Signers, signer) {
			p.r.Signers = append(p.r.Signers, signer)
		}
		if hasTime && (p.r.SignedAt.IsZero() || signedAt.Before(p.r.SignedAt)) {
			p.r.SignedAt = signedAt
		}
		return nil
	}
	res, err := rebuild.Parse(st)
	if err != nil {
		return err
	}
	r := &Rebuild{ID: id, Outcome: res.Outcome, Original: res.Original.Statement, OriginalPredicateType: res.Original.PredicateType,
		RebuilderID: res.RebuilderID, Compared: res.Compared, Summary: res.Summary(), Differences: res.Differences, CheckedOn: res.CheckedOn, Signers: []string{signer}}
	if hasTime {
		r.SignedAt = signedAt
	}
	p := &pendingRebuild{r: r}
	for _, s := range res.Original.Subjects {
		if ds, err := provenance.IdentifyingDigests(s.GetDigest()); err == nil && len(ds) > 0 {
			p.original = append(p.original, ds)
		}
	}
	for _, s := range res.Rebuilt {
		if ds, err := provenance.IdentifyingDigests(s.GetDigest()); err == nil && len(ds) > 0 {
			slices.SortFunc(ds, preferred)
			r.Rebuilt = append(r.Rebuilt, ds[0])
		}
	}
	slices.Sort(r.Rebuilt)
	r.Rebuilt = slices.Compact(r.Rebuilt)
	b.rebuilds[id] = p
	return nil
}

// finishRebuilds names the rebuilt artifacts by node key and indexes the rebuilds by them.
func (g *Graph) finishRebuilds(b *builder) {
	g.rebuildsOf = map[digest.Digest][]*Rebuild{}
	for _, p := range b.rebuilds {
		r := p.r
		slices.Sort(r.Signers)
		var keys []digest.Digest
		for _, ds := range p.original {
			slices.SortFunc(ds, preferred)
			key := ds[0]
			for _, d := range ds {
				if k, ok := g.alias[d]; ok {
					key = k
					break
				}
			}
			r.Artifacts = append(r.Artifacts, key)
			keys = append(keys, key)
			if _, isNode := g.nodes[key]; !isNode {
				keys = append(keys, ds...) // found by any of its digests
			}
		}
		slices.Sort(r.Artifacts)
		r.Artifacts = slices.Compact(r.Artifacts)
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			g.rebuildsOf[k] = append(g.rebuildsOf[k], r)
		}
		g.rebuilds = append(g.rebuilds, r)
	}
	slices.SortFunc(g.rebuilds, compareRebuilds)
	for _, rs := range g.rebuildsOf {
		slices.SortFunc(rs, compareRebuilds)
	}
}

func compareRebuilds(x, y *Rebuild) int {
	return cmp.Or(x.CheckedOn.Compare(y.CheckedOn), strings.Compare(string(x.ID), string(y.ID)))
}

// Rebuilds returns the verified rebuild checks of the artifact holding digest d (any of its
// digests), oldest first (by CheckedOn, then ID): who rebuilt it, when, what was compared and
// whether it matched. It is empty when none was given to New. The rebuilds are shared: read
// them, never modify them.
func (g *Graph) Rebuilds(d digest.Digest) []*Rebuild {
	n := normal(d)
	if key, ok := g.alias[n]; ok {
		n = key
	}
	return slices.Clone(g.rebuildsOf[n])
}

// AllRebuilds returns every verified rebuild check, oldest first.
func (g *Graph) AllRebuilds() []*Rebuild { return slices.Clone(g.rebuilds) }
