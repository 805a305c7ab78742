package rebuild

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
)

// wirePredicate is the predicate's JSON form, documented in doc.go.
type wirePredicate struct {
	Outcome     Outcome       `json:"outcome"`
	Original    wireOriginal  `json:"original"`
	Rebuilt     wireRebuilt   `json:"rebuilt"`
	Compared    []string      `json:"compared"`
	Differences []diff.Change `json:"differences"`
	CheckedOn   string        `json:"checkedOn"`
}

type wireOriginal struct {
	Digest        map[string]string `json:"digest"`
	PredicateType string            `json:"predicateType"`
	Subjects      []wireDescriptor  `json:"subjects"`
}

type wireRebuilt struct {
	Subjects  []wireDescriptor `json:"subjects"`
	Inputs    []wireDescriptor `json:"inputs,omitempty"`
	BuilderID string           `json:"builderId,omitempty"`
}

type wireDescriptor struct {
	Name   string            `json:"name,omitempty"`
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest"`
}

func toWire(rds []*intoto.ResourceDescriptor) []wireDescriptor {
	out := make([]wireDescriptor, len(rds))
	for i, rd := range rds {
		out[i] = wireDescriptor{Name: rd.GetName(), URI: rd.GetUri(), Digest: rd.GetDigest()}
	}
	return out
}

func toWireOrNil(rds []*intoto.ResourceDescriptor) []wireDescriptor {
	if len(rds) == 0 {
		return nil
	}
	return toWire(rds)
}

func fromWire(ws []wireDescriptor) []*intoto.ResourceDescriptor {
	out := make([]*intoto.ResourceDescriptor, len(ws))
	for i, w := range ws {
		out[i] = &intoto.ResourceDescriptor{Name: w.Name, Uri: w.URI, Digest: w.Digest}
	}
	return out
}

// predicate returns r's predicate in its JSON form.
func (r *Result) predicate() *wirePredicate {
	differences := r.Differences
	if differences == nil {
		differences = []diff.Change{}
	}
	return &wirePredicate{
		Outcome: r.Outcome,
		Original: wireOriginal{
			Digest:        map[string]string{r.Original.Statement.Algorithm().String(): r.Original.Statement.Encoded()},
			PredicateType: r.Original.PredicateType,
			Subjects:      toWire(r.Original.Subjects),
		},
		Rebuilt:     wireRebuilt{Subjects: toWire(r.Rebuilt), Inputs: toWireOrNil(r.Inputs), BuilderID: r.RebuilderID},
		Compared:    r.Compared,
		Differences: differences,
		CheckedOn:   r.CheckedOn.UTC().Format(time.RFC3339Nano),
	}
}

// proto returns the predicate as a Struct, built directly: the same document encoding/json
// would write, without a detour through JSON text.
func (p *wirePredicate) proto() *structpb.Struct {
	str := structpb.NewStringValue
	obj := func(fields map[string]*structpb.Value) *structpb.Value {
		return structpb.NewStructValue(&structpb.Struct{Fields: fields})
	}
	list := func(vs []*structpb.Value) *structpb.Value {
		return structpb.NewListValue(&structpb.ListValue{Values: vs})
	}
	digests := func(set map[string]string) *structpb.Value {
		fields := make(map[string]*structpb.Value, len(set))
		for k, v := range set {
			fields[k] = str(v)
		}
		return obj(fields)
	}
	descriptors := func(ws []wireDescriptor) *structpb.Value {
		vs := make([]*structpb.Value, len(ws))
		for i, w := range ws {
			fields := map[string]*structpb.Value{"digest": digests(w.Digest)}
			if w.Name != "" {
				fields["name"] = str(w.Name)
			}
			if w.URI != "" {
				fields["uri"] = str(w.URI)
			}
			vs[i] = obj(fields)
		}
		return list(vs)
	}
	compared := make([]*structpb.Value, len(p.Compared))
	for i, c := range p.Compared {
		compared[i] = str(c)
	}
	differences := make([]*structpb.Value, len(p.Differences))
	for i, c := range p.Differences {
		fields := map[string]*structpb.Value{"field": str(c.Field), "kind": str(string(c.Kind))}
		if c.Baseline != "" {
			fields["baseline"] = str(c.Baseline)
		}
		if c.Current != "" {
			fields["current"] = str(c.Current)
		}
		differences[i] = obj(fields)
	}
	rebuilt := map[string]*structpb.Value{"subjects": descriptors(p.Rebuilt.Subjects)}
	if len(p.Rebuilt.Inputs) > 0 {
		rebuilt["inputs"] = descriptors(p.Rebuilt.Inputs)
	}
	if p.Rebuilt.BuilderID != "" {
		rebuilt["builderId"] = str(p.Rebuilt.BuilderID)
	}
	return &structpb.Struct{Fields: map[string]*structpb.Value{
		"outcome": str(string(p.Outcome)),
		"original": obj(map[string]*structpb.Value{
			"digest":        digests(p.Original.Digest),
			"predicateType": str(p.Original.PredicateType),
			"subjects":      descriptors(p.Original.Subjects),
		}),
		"rebuilt":     obj(rebuilt),
		"compared":    list(compared),
		"differences": list(differences),
		"checkedOn":   str(p.CheckedOn),
	}}
}

// Statement returns the result as a validated in-toto statement, ready to sign: its subjects
// are the original artifacts (the original statement's subjects), whatever the outcome, and
// its predicate, of type PredicateType, is r, with the rebuilt artifacts' digests in
// rebuilt.subjects. So a rebuild that differs is, like one that matched, a statement about the
// artifact it was checked against: attached to that artifact, it verifies against the
// artifact's digest. The result must be consistent (as Check makes it); otherwise the error
// wraps ErrInvalidPredicate.
func (r *Result) Statement() (*intoto.Statement, error) {
	p := r.predicate()
	if err := p.check(); err != nil {
		return nil, err
	}
	st, err := provenance.NewStatement(r.Original.Subjects, PredicateType, p.proto())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPredicate, err)
	}
	return st, nil
}

// Parse reads a rebuild statement back, such as one a verifier returned, and returns its
// Result. Parse is strict: the predicate type must be PredicateType; the predicate must have
// every required field, no other field, and field names and values exactly as Statement writes
// them; outcome must agree with differences; and the statement's subjects must be the
// predicate's original subjects, as Statement writes them (or, as statements written before
// subjects named the original were, its rebuilt subjects). A rejected statement fails with a
// *PredicateError wrapping ErrInvalidPredicate. Parse checks the document, not its signature:
// verify it first.
func Parse(st *intoto.Statement) (*Result, error) {
	if st.GetPredicateType() != PredicateType {
		return nil, &PredicateError{Field: "predicateType", Reason: fmt.Sprintf("is %q, not %q", st.GetPredicateType(), PredicateType)}
	}
	if st.GetPredicate() == nil {
		return nil, &PredicateError{Field: "predicate", Reason: "missing"}
	}
	raw, err := json.Marshal(st.GetPredicate().AsMap())
	if err != nil {
		return nil, &PredicateError{Field: "predicate", Reason: err.Error()}
	}
	var p wirePredicate
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, &PredicateError{Field: "predicate", Reason: err.Error()}
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	checkedOn, _ := time.Parse(time.RFC3339Nano, p.CheckedOn)
	var stmt digest.Digest
	for alg, hex := range p.Original.Digest {
		stmt = digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)
	}
	r := &Result{
		Outcome: p.Outcome,
		Original: Original{
			Statement:     stmt,
			PredicateType: p.Original.PredicateType,
			Subjects:      fromWire(p.Original.Subjects),
		},
		Rebuilt:     fromWire(p.Rebuilt.Subjects),
		RebuilderID: p.Rebuilt.BuilderID,
		Compared:    p.Compared,
		Differences: p.Differences,
		CheckedOn:   checkedOn.UTC(),
	}
	if len(r.Differences) == 0 {
		r.Differences = nil
	}
	if len(p.Rebuilt.Inputs) > 0 {
		r.Inputs = fromWire(p.Rebuilt.Inputs)
	}
	// encoding/json matches field names regardless of case and takes null for an empty value:
	// the predicate must be exactly what Statement writes for the result read.
	again, err := json.Marshal(r.predicate())
	if err != nil {
		return nil, &PredicateError{Field: "predicate", Reason: err.Error()}
	}
	var want, got any
	if json.Unmarshal(raw, &want) != nil || json.Unmarshal(again, &got) != nil || !jsonEqual(want, got) {
		return nil, &PredicateError{Field: "predicate", Reason: "not in the form this package writes (field names are case-sensitive; empty fields are left out, not null)"}
	}
	if !sameDescriptors(st.GetSubject(), r.Original.Subjects) && !sameDescriptors(st.GetSubject(), r.Rebuilt) {
		return nil, &PredicateError{Field: "subject", Reason: fmt.Sprintf("%d subjects that are not predicate.original.subjects (%d)", len(st.GetSubject()), len(r.Original.Subjects))}
	}
	return r, nil
}

// sameDescriptors reports whether a and b name the same artifacts, in the same order, with the
// same names, URIs and digests.
func sameDescriptors(a, b []*intoto.ResourceDescriptor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].GetName() != b[i].GetName() || a[i].GetUri() != b[i].GetUri() || !maps.Equal(a[i].GetDigest(), b[i].GetDigest()) {
			return false
		}
	}
	return true
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// check validates the predicate's fields, naming the first bad one.
func (p *wirePredicate) check() error {
	bad := func(field, reason string) error {
		return &PredicateError{Field: "predicate." + field, Reason: reason}
	}
	switch p.Outcome {
	case Match:
		if len(p.Differences) != 0 {
			return bad("outcome", fmt.Sprintf("is %q with %d differences", p.Outcome, len(p.Differences)))
		}
	case Mismatch:
		if len(p.Differences) == 0 {
			return bad("outcome", fmt.Sprintf("is %q with no differences", p.Outcome))
		}
	default:
		return bad("outcome", fmt.Sprintf("is %q, not %q or %q", p.Outcome, Match, Mismatch))
	}
	if len(p.Original.Digest) != 1 {
		return bad("original.digest", "must hold exactly one digest, sha256")
	}
	if hex, ok := p.Original.Digest["sha256"]; !ok || digest.NewDigestFromEncoded(digest.SHA256, hex).Validate() != nil {
		return bad("original.digest", "must be a valid sha256 digest")
	}
	if p.Original.PredicateType == "" {
		return bad("original.predicateType", "missing")
	}
	if err := checkDescriptors("original.subjects", p.Original.Subjects); err != nil {
		return err
	}
	if err := checkDescriptors("rebuilt.subjects", p.Rebuilt.Subjects); err != nil {
		return err
	}
	if len(p.Compared) == 0 || p.Compared[0] != ComparedSubjects {
		return bad("compared", fmt.Sprintf("must start with %q", ComparedSubjects))
	}
	order := []string{ComparedSubjects, ComparedInputs, ComparedMaterials, ComparedParameters, ComparedImage}
	last := 0
	for i, c := range p.Compared[1:] {
		at := slices.Index(order, c)
		if at <= last {
			return bad(fmt.Sprintf("compared[%d]", i+1), fmt.Sprintf("%q is unknown, repeated or out of order", c))
		}
		last = at
	}
	if (len(p.Rebuilt.Inputs) > 0) != slices.Contains(p.Compared, ComparedInputs) {
		return bad("rebuilt.inputs", "is given exactly when inputs were compared")
	}
	if err := checkDescriptors("rebuilt.inputs", p.Rebuilt.Inputs); err != nil && len(p.Rebuilt.Inputs) > 0 {
		return err
	}
	if (p.Rebuilt.BuilderID != "") != slices.Contains(p.Compared, ComparedMaterials) {
		return bad("rebuilt.builderId", "is given exactly when materials were compared")
	}
	if slices.Contains(p.Compared, ComparedMaterials) != slices.Contains(p.Compared, ComparedParameters) {
		return bad("compared", fmt.Sprintf("%q and %q are compared together, from the rebuild's provenance", ComparedMaterials, ComparedParameters))
	}
	for i, c := range p.Differences {
		field := fmt.Sprintf("differences[%d]", i)
		if c.Field == "" {
			return bad(field+".field", "missing")
		}
		switch c.Kind {
		case diff.Added:
			if c.Baseline != "" {
				return bad(field+".baseline", "set on an added field")
			}
		case diff.Removed:
			if c.Current != "" {
				return bad(field+".current", "set on a removed field")
			}
		case diff.Changed:
			if c.Baseline == c.Current {
				return bad(field, "changed without a difference")
			}
		default:
			return bad(field+".kind", fmt.Sprintf("is %q, not added, removed or changed", c.Kind))
		}
	}
	t, err := time.Parse(time.RFC3339Nano, p.CheckedOn)
	if err != nil {
		return bad("checkedOn", "not an RFC 3339 time")
	}
	if t.Location() != time.UTC || t.IsZero() {
		return bad("checkedOn", "must be a time in UTC, ending in Z")
	}
	return nil
}

func checkDescriptors(field string, ws []wireDescriptor) error {
	if len(ws) == 0 {
		return &PredicateError{Field: "predicate." + field, Reason: "missing"}
	}
	for i, w := range ws {
		rd := &intoto.ResourceDescriptor{Name: w.Name, Uri: w.URI, Digest: w.Digest}
		if err := checkDescriptor(rd); err != nil {
			return &PredicateError{Field: fmt.Sprintf("predicate.%s[%d]", field, i), Reason: err.Error()}
		}
	}
	return nil
}
