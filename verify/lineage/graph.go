package lineage

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/verify"
)

// Graph is the lineage of artifacts recorded by verified provenance. Nodes are artifacts keyed
// by digest; an edge leads from each resolved dependency of a statement to each of its subjects.
// A Graph is immutable once made by New and safe for concurrent use.
type Graph struct {
	nodes      map[digest.Digest]*Node
	alias      map[digest.Digest]digest.Digest // every digest seen -> its node's key
	order      []digest.Digest                 // node keys, sorted
	activities map[digest.Digest]*Activity
	actOrder   []digest.Digest
	edges      []Edge    // sorted by From, To, Activity
	out, in    [][]int32 // adjacent node indexes per node index, in edge order, with the edge index
	outEdge    [][]int32
	index      map[digest.Digest]int
	rebuilds   []*Rebuild                   // sorted by CheckedOn, then ID
	rebuildsOf map[digest.Digest][]*Rebuild // by node key, or digest when no node has it
}

// Node is one artifact (a file, dataset, image or any other thing named by an identifying
// digest) or one source repository at a commit.
type Node struct {
	// Digest is the node's key: for an artifact, its sha256 digest when it has one, else (in
	// order of preference) sha512, sha384, or the first of its digests in lexical order; for a
	// source, its SourceKey.
	Digest digest.Digest
	// Digests are every identifying digest seen for the artifact, Digest included, sorted; for a
	// source, its key alone. Digests of algorithms that do not identify an artifact (md5, sha1,
	// gitCommit, any unknown name: see provenance.IdentifyingAlgorithm) are not kept.
	Digests []digest.Digest
	// Names and URIs are the names and URIs statements gave the artifact, sorted and unique.
	Names, URIs []string
}

// Label returns a short human name for the node: its first name, else its first URI, else its
// digest.
func (n *Node) Label() string {
	switch {
	case len(n.Names) > 0:
		return n.Names[0]
	case len(n.URIs) > 0:
		return n.URIs[0]
	}
	return n.Digest.String()
}

// Activity is one verified statement: a step or build that read its inputs and made its outputs.
type Activity struct {
	// ID is the sha256 digest of the statement in canonical form (provenance.Marshal): the same
	// statement, verified once or many times, is one activity.
	ID digest.Digest
	// Name is the step's name for workflow steps (see package provenance/workflow), else the SLSA
	// buildType, else the predicate type.
	Name string
	// PredicateType is the statement's predicate type.
	PredicateType string
	// BuildType, BuilderID and InvocationID come from a SLSA Provenance v1 predicate, when the
	// statement holds one. For a workflow step, InvocationID is its run ID (workflow.Step.RunID),
	// shared by every step of one run.
	BuildType, BuilderID, InvocationID string
	// Image is the container image reference a workflow step ran in, as recorded.
	Image string
	// Workflow is the workflow a workflow step belongs to, as recorded; empty when none.
	Workflow string
	// Command is the command line a workflow step ran, program first, as recorded; nil when
	// none was.
	Command []string
	// Parameters are a workflow step's parameters, as recorded: JSON values (string, float64,
	// bool, nil, []any, map[string]any); nil when none were.
	Parameters map[string]any
	// Environment holds the environment variables a workflow step recorded; nil when none.
	Environment map[string]string
	// Agents are the people who ran a workflow step, as recorded (see workflow.Step.Agents),
	// in the order recorded, ORCID iDs as their URL; an ORCID iD or email address that is not
	// well formed is left out (and an agent with neither). The signers are in Signers.
	Agents []workflow.Agent
	// ToolVersions are the versions of the tools of a SLSA build (runDetails.builder.version),
	// such as workflow.Step.ToolVersions; nil when none were recorded.
	ToolVersions map[string]string
	// Inputs are the node keys of the resolved dependencies, sorted; Instruments are those of
	// them that are tools rather than data (role provenance.RoleToolchain, such as a step's
	// container image).
	Inputs, Instruments []digest.Digest
	// Outputs are the node keys of the subjects, sorted.
	Outputs []digest.Digest
	// Signers are who signed the statement, by SignerLabel, sorted; a statement verified with
	// several signatures has several.
	Signers []string
	// SignedAt is the earliest verified signing time, zero when no result had one.
	SignedAt time.Time
	// StartedOn and FinishedOn come from the predicate's run metadata; zero when absent.
	StartedOn, FinishedOn time.Time
}

// Edge says that To was made by Activity from From, among other inputs.
type Edge struct {
	// From is the input's node key, To the output's.
	From, To digest.Digest
	// Activity is the ID of the statement that records the step.
	Activity digest.Digest
	// Step is the activity's Name.
	Step string
	// Signers are who signed the statement, by SignerLabel.
	Signers []string
}

// SignerLabel names a verified signer: "key:ID" for a trusted key, "SAN (ISSUER)" for a
// certificate identity.
func SignerLabel(s verify.Signer) string {
	if s.Certificate != nil {
		return s.Certificate.SubjectAlternativeName + " (" + s.Certificate.Issuer + ")"
	}
	return "key:" + s.KeyID
}

// New builds the graph of results. Only verified statements can enter it, since only the
// verify package makes a *verify.Result. For each result, every subject of the statement is
// a node; when the predicate is SLSA Provenance v1, every resolved dependency with a digest is
// a node too, with an edge to each subject (but none to itself, when a step's output is one of
// its inputs).
//
// A descriptor is identified only by its identifying digests, in provenance's normal form
// (provenance.IdentifyingDigests): md5, sha1, gitCommit and made-up algorithms identify nothing,
// so no statement can join two artifacts by giving them a shared weak digest. Descriptors that
// share an identifying digest are one node, so an artifact named by sha256 in one statement and
// by sha256 and sha512 in another is one artifact; when that would join two different values of
// one algorithm, New fails with a *DigestConflictError rather than merge them. A descriptor with
// no identifying digest but a gitCommit and a repository URI is a source node, keyed by
// SourceKey, which never joins an artifact. Other descriptors, and those with a malformed
// identifying digest, are left out.
//
// A nil result, a zero Result, or a SLSA predicate that does not decode fails with a
// *ResultError. Time and memory grow linearly with the number of statements and descriptors.
func New(results []*verify.Result) (*Graph, error) {
	b := builder{parent: map[digest.Digest]digest.Digest{}, namedBy: map[digest.Digest][]digest.Digest{}, acts: map[digest.Digest]*Activity{}, seen: map[digest.Digest]*seen{},
		rebuilds: map[digest.Digest]*pendingRebuild{}}
	for i, r := range results {
		if err := b.add(r); err != nil {
			return nil, &ResultError{Index: i, Err: err}
		}
	}
	return b.finish()
}

type seen struct{ names, uris []string }

type rawEdge struct {
	from, to digest.Digest // any digest of each descriptor
	act      digest.Digest
}

type builder struct {
	parent   map[digest.Digest]digest.Digest   // union-find over identifying digests and source keys
	namedBy  map[digest.Digest][]digest.Digest // the activities that named each digest
	seen     map[digest.Digest]*seen           // names and URIs, by the first digest of a descriptor
	acts     map[digest.Digest]*Activity
	raw      []rawEdge
	actIO    []ioRef
	rebuilds map[digest.Digest]*pendingRebuild
}

// ioRef ties an activity to one of its inputs ('i'), instruments ('t') or outputs ('o').
type ioRef struct {
	act, d digest.Digest
	kind   byte
}

func (b *builder) add(r *verify.Result) error {
	if r == nil || r.Statement() == nil {
		return errors.New("not a result made by verify")
	}
	st := r.Statement()
	canon, err := provenance.Marshal(st)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(canon)
	id := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum[:]))
	signer := SignerLabel(r.Signer())
	signedAt, hasTime := r.SignedAt()
	if st.GetPredicateType() == rebuild.PredicateType {
		return b.addRebuild(st, id, signer, signedAt, hasTime)
	}
	if act, ok := b.acts[id]; ok {
		// The same statement verified again, perhaps with another signature.
		if !slices.Contains(act.Signers, signer) {
			act.Signers = append(act.Signers, signer)
		}
		if hasTime && (act.SignedAt.IsZero() || signedAt.Before(act.SignedAt)) {
			act.SignedAt = signedAt
		}
		return nil
	}
	act := &Activity{ID: id, Name: st.GetPredicateType(), PredicateType: st.GetPredicateType(), Signers: []string{signer}}
	if hasTime {
		act.SignedAt = signedAt
	}
	b.acts[id] = act

	var outputs []digest.Digest
	for _, s := range st.GetSubject() {
		if d, ok := b.descriptor(s, id); ok {
			outputs = append(outputs, d)
			b.actIO = append(b.actIO, ioRef{id, d, 'o'})
		}
	}
	if st.GetPredicateType() != provenance.PredicateSLSAProvenanceV1 {
		return nil
	}
	f, ok := slsaFactsOf(st.GetPredicate())
	if !ok {
		// A predicate of an unusual shape: decode it fully, which fails if it does not decode.
		p, err := r.SLSAProvenance()
		if err != nil {
			return err
		}
		f = slsaFactsFromProvenance(p)
	}
	act.BuildType = f.buildType
	act.Name = act.BuildType
	act.BuilderID = f.builderID
	act.InvocationID = f.invocationID
	act.StartedOn, act.FinishedOn = f.startedOn, f.finishedOn
	if len(f.builderVersion) > 0 {
		act.ToolVersions = f.builderVersion
	}
	if act.BuildType == workflow.BuildType {
		stepFacts(act, f)
	}
	for _, dep := range f.dependencies {
		d, ok := b.descriptor(dep, id)
		if !ok {
			continue
		}
		kind := byte('i')
		if provenance.Role(dep) == provenance.RoleToolchain {
			kind = 't'
		}
		b.actIO = append(b.actIO, ioRef{id, d, kind})
		for _, o := range outputs {
			b.raw = append(b.raw, rawEdge{from: d, to: o, act: id})
		}
	}
	return nil
}

// stepFacts fills in what a workflow step recorded (see package provenance/workflow).
func stepFacts(act *Activity, f slsaFacts) {
	if name := f.external["name"].GetStringValue(); name != "" {
		act.Name = name
	}
	act.Image = f.external["image"].GetStringValue()
	act.Workflow = f.external["workflow"].GetStringValue()
	for _, v := range f.external["command"].GetListValue().GetValues() {
		act.Command = append(act.Command, v.GetStringValue())
	}
	if p := f.external["parameters"].GetStructValue(); len(p.GetFields()) > 0 {
		act.Parameters = p.AsMap()
	}
	if env := f.internal["environment"].GetStructValue(); len(env.GetFields()) > 0 {
		act.Environment = make(map[string]string, len(env.GetFields()))
		for k, v := range env.GetFields() {
			act.Environment[k] = v.GetStringValue()
		}
	}
	if agents := f.internal["agents"].GetListValue(); len(agents.GetValues()) > 0 {
		for _, a := range workflow.AgentsOf(map[string]any{"agents": agents.AsSlice()}) {
			// Only agents the exports can name by an IRI: an ORCID iD or an email address.
			if id, err := workflow.NormalizeORCID(a.ORCID); err == nil {
				a.ORCID = id
			} else {
				a.ORCID = ""
			}
			if strings.ContainsAny(a.Email, " \t\r\n<>\"") || !strings.Contains(a.Email, "@") {
				a.Email = ""
			}
			if a.ORCID != "" || a.Email != "" {
				act.Agents = append(act.Agents, a)
			}
		}
	}
}

// descriptor records rd's identity, names and URIs and returns its node key before joining
// (see New); false when it identifies nothing.
func (b *builder) descriptor(rd *intoto.ResourceDescriptor, act digest.Digest) (digest.Digest, bool) {
	ds, err := provenance.IdentifyingDigests(rd.GetDigest())
	if err != nil {
		return "", false // a malformed strong digest: the descriptor names nothing for sure
	}
	if len(ds) == 0 {
		key, ok := sourceKeyOf(rd)
		if !ok {
			return "", false
		}
		ds = []digest.Digest{key}
	}
	for _, d := range ds {
		if _, ok := b.parent[d]; !ok {
			b.parent[d] = d
		}
		if !slices.Contains(b.namedBy[d], act) {
			b.namedBy[d] = append(b.namedBy[d], act)
		}
	}
	first := ds[0]
	for _, d := range ds[1:] {
		b.union(first, d)
	}
	if rd.GetName() != "" || rd.GetUri() != "" {
		s := b.seen[first]
		if s == nil {
			s = &seen{}
			b.seen[first] = s
		}
		if rd.GetName() != "" {
			s.names = append(s.names, rd.GetName())
		}
		if rd.GetUri() != "" {
			s.uris = append(s.uris, rd.GetUri())
		}
	}
	return first, true
}

// sourceAlgorithm is the algorithm part of the key of a source node (see SourceKey). It is not an
// identifying algorithm, so no artifact key can ever be equal to a source key.
const sourceAlgorithm = "source"

// SourceKey returns the node key of the source repository at uri checked out at commit: the
// node New makes for a descriptor that has no identifying digest (see
// provenance.IdentifyingAlgorithm) but a gitCommit (or, on a git+ URI, a sha1) and a repository URI. The key is
// "source:" + provenance.RepositoryID(uri) + "@" + the commit in lower case: a git commit names
// a tree in one repository and is not a content digest of an artifact, so a source node is never
// joined with an artifact, and the same commit in two repositories is two nodes. The error is a
// *provenance.RepositoryError or *provenance.DigestError.
func SourceKey(uri, commit string) (digest.Digest, error) {
	repo, err := provenance.RepositoryID(uri)
	if err != nil {
		return "", err
	}
	if !validCommit(commit) {
		return "", &provenance.DigestError{Algorithm: "gitCommit", Value: commit, Reason: "want 40 or 64 hexadecimal digits"}
	}
	return digest.Digest(sourceAlgorithm + ":" + repo + "@" + strings.ToLower(commit)), nil
}

func sourceKeyOf(rd *intoto.ResourceDescriptor) (digest.Digest, bool) {
	commit, ok := rd.GetDigest()["gitCommit"]
	if !ok && strings.HasPrefix(rd.GetUri(), "git+") {
		// SLSA Provenance v0.2 and its generators record a git commit as "sha1" on a git+ URI.
		commit, ok = rd.GetDigest()["sha1"]
	}
	if !ok {
		return "", false
	}
	key, err := SourceKey(rd.GetUri(), commit)
	return key, err == nil
}

func validCommit(c string) bool {
	if len(c) != 40 && len(c) != 64 {
		return false
	}
	_, err := provenance.NormalizeDigest("sha256", strings.Repeat("0", 64-len(c))+c)
	return err == nil
}

func (b *builder) find(d digest.Digest) digest.Digest {
	root := d
	for b.parent[root] != root {
		root = b.parent[root]
	}
	for d != root { // path compression
		next := b.parent[d]
		b.parent[d] = root
		d = next
	}
	return root
}

func (b *builder) union(x, y digest.Digest) {
	if rx, ry := b.find(x), b.find(y); rx != ry {
		b.parent[ry] = rx
	}
}

// rank orders algorithms by preference for a node's key.
func rank(d digest.Digest) int {
	switch d.Algorithm() {
	case digest.SHA256:
		return 0
	case digest.SHA512:
		return 1
	case digest.SHA384:
		return 2
	}
	return 3
}

func preferred(a, b digest.Digest) int {
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	return strings.Compare(string(a), string(b))
}

func (b *builder) finish() (*Graph, error) {
	g := &Graph{
		nodes:      map[digest.Digest]*Node{},
		alias:      make(map[digest.Digest]digest.Digest, len(b.parent)),
		activities: b.acts,
	}
	// Group digests by root and choose each group's key.
	groups := map[digest.Digest][]digest.Digest{}
	for d := range b.parent {
		r := b.find(d)
		groups[r] = append(groups[r], d)
	}
	for _, members := range groups {
		if err := b.conflict(members); err != nil {
			return nil, err
		}
		slices.SortFunc(members, preferred)
		n := &Node{Digest: members[0], Digests: slices.Clone(members)}
		slices.Sort(n.Digests)
		for _, d := range members {
			g.alias[d] = n.Digest
			if s := b.seen[d]; s != nil {
				n.Names = append(n.Names, s.names...)
				n.URIs = append(n.URIs, s.uris...)
			}
		}
		slices.Sort(n.Names)
		n.Names = slices.Compact(n.Names)
		slices.Sort(n.URIs)
		n.URIs = slices.Compact(n.URIs)
		g.nodes[n.Digest] = n
		g.order = append(g.order, n.Digest)
	}
	slices.Sort(g.order)
	g.index = make(map[digest.Digest]int, len(g.order))
	for i, d := range g.order {
		g.index[d] = i
	}

	for _, io := range b.actIO {
		a, d := b.acts[io.act], g.alias[io.d]
		switch io.kind {
		case 'o':
			a.Outputs = append(a.Outputs, d)
		case 't':
			a.Instruments = append(a.Instruments, d)
			a.Inputs = append(a.Inputs, d)
		default:
			a.Inputs = append(a.Inputs, d)
		}
	}
	for id, a := range b.acts {
		for _, l := range []*[]digest.Digest{&a.Inputs, &a.Instruments, &a.Outputs} {
			slices.Sort(*l)
			*l = slices.Compact(*l)
		}
		slices.Sort(a.Signers)
		g.actOrder = append(g.actOrder, id)
	}
	slices.Sort(g.actOrder)
	g.finishRebuilds(b)

	g.edges = make([]Edge, 0, len(b.raw))
	for _, e := range b.raw {
		a := b.acts[e.act]
		g.edges = append(g.edges, Edge{From: g.alias[e.from], To: g.alias[e.to], Activity: e.act, Step: a.Name, Signers: a.Signers})
	}
	// A step whose output is one of its inputs (a copy, a no-op) says nothing about lineage.
	g.edges = slices.DeleteFunc(g.edges, func(e Edge) bool { return e.From == e.To })
	slices.SortFunc(g.edges, compareEdges)
	g.edges = slices.CompactFunc(g.edges, func(x, y Edge) bool { return compareEdges(x, y) == 0 })
	g.out = make([][]int32, len(g.order))
	g.outEdge = make([][]int32, len(g.order))
	g.in = make([][]int32, len(g.order))
	for i, e := range g.edges {
		f, t := g.index[e.From], g.index[e.To]
		g.out[f] = append(g.out[f], int32(t))
		g.outEdge[f] = append(g.outEdge[f], int32(i))
		g.in[t] = append(g.in[t], int32(f))
	}
	return g, nil
}

// conflict returns a *DigestConflictError when the digests joined into one artifact hold two
// values of one algorithm.
func (b *builder) conflict(members []digest.Digest) error {
	byAlg := map[digest.Algorithm]digest.Digest{}
	for _, d := range members {
		if other, ok := byAlg[d.Algorithm()]; ok && other != d {
			e := &DigestConflictError{Digests: slices.Clone(members)}
			slices.Sort(e.Digests)
			for _, m := range members {
				e.Statements = append(e.Statements, b.namedBy[m]...)
			}
			slices.Sort(e.Statements)
			e.Statements = slices.Compact(e.Statements)
			return e
		}
		byAlg[d.Algorithm()] = d
	}
	return nil
}

func compareEdges(x, y Edge) int {
	return cmp.Or(strings.Compare(string(x.From), string(y.From)), strings.Compare(string(x.To), string(y.To)),
		strings.Compare(string(x.Activity), string(y.Activity)))
}

// Nodes returns every node, sorted by digest. Nodes, activities and edges returned by a Graph
// are shared with it and with other callers: read them, never modify them.
func (g *Graph) Nodes() []*Node {
	out := make([]*Node, len(g.order))
	for i, d := range g.order {
		out[i] = g.nodes[d]
	}
	return out
}

// Node returns the node holding digest d (any of its digests), and false when there is none.
func (g *Graph) Node(d digest.Digest) (*Node, bool) {
	key, ok := g.alias[normal(d)]
	if !ok {
		return nil, false
	}
	return g.nodes[key], true
}

// Edges returns every edge, sorted by From, To and Activity.
func (g *Graph) Edges() []Edge { return slices.Clone(g.edges) }

// Activities returns every activity, sorted by ID.
func (g *Graph) Activities() []*Activity {
	out := make([]*Activity, len(g.actOrder))
	for i, id := range g.actOrder {
		out[i] = g.activities[id]
	}
	return out
}

// Activity returns the activity of a statement by its ID, and false when there is none.
func (g *Graph) Activity(id digest.Digest) (*Activity, bool) {
	a, ok := g.activities[id]
	return a, ok
}

func (g *Graph) lookup(d digest.Digest) (int, error) {
	key, ok := g.alias[normal(d)]
	if !ok {
		return 0, &UnknownArtifactError{Digest: d}
	}
	return g.index[key], nil
}

// normal returns d in provenance's normal form when it is an identifying digest, else as given
// (a source key, or a digest no node has).
func normal(d digest.Digest) digest.Digest {
	if n, err := provenance.ParseDigest(string(d)); err == nil {
		return n
	}
	return d
}

// String summarises the graph's size.
func (g *Graph) String() string {
	return fmt.Sprintf("lineage graph: %d artifacts, %d edges, %d statements", len(g.order), len(g.edges), len(g.actOrder))
}
