package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	v02 "github.com/in-toto/attestation/go/predicates/provenance/v02"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
)

// Provenance returns what differs between two provenance statements, sorted by Field.
//
// predicateType is compared first. When both predicates are SLSA Provenance, v1
// (provenance.PredicateSLSAProvenanceV1) or v0.2 (provenance.PredicateSLSAProvenanceV02), in any
// combination, their facts are compared field by field:
//
//   - builder.id and buildType;
//   - source.repository, source.ref and source.commit, read from the build's source: the
//     resolved dependency (v0.2: material) with the provenance.AnnotationRole "source", else
//     the first whose URI is a git URI ("git+…", split with provenance.SplitGitURI) or whose
//     digest has a gitCommit, else, in v0.2, invocation.configSource. The repository is its
//     provenance.RepositoryID when it has one, so that one repository spelled two ways (SSH and
//     HTTPS remotes, with and without ".git") is not a change; the commit is the gitCommit
//     digest, else sha1, in lower case;
//   - externalParameters.PATH (v0.2: invocation.parameters), flattened: object keys joined with
//     dots, list elements as [i] ("externalParameters.workflow.ref",
//     "externalParameters.args[0]"; a key with a dot or bracket in it as ["KEY"], quoted);
//     strings as they are, except those that read as another JSON value ("1", "true", "[]"),
//     which are quoted so that they differ from that value; other values as JSON;
//   - materials[URI]: the resolved dependencies (v0.2: materials) matched by URI, else name,
//     else digest, and compared like Subjects. A key listed more than once gets its occurrence
//     appended from the second on ("materials[URI#2]").
//
// Otherwise the predicates are compared whole, as canonical JSON: one Change of field
// "predicate" when they differ, whose values are "sha256:HEX (N bytes)" of each side's JSON.
//
// A nil statement fails with an error wrapping ErrInvalidStatement; a statement that claims a
// SLSA Provenance type and does not decode as one fails with a *PredicateError; a material that
// is nil or has neither URI, name nor digest fails with a *DescriptorError.
func Provenance(baseline, current *intoto.Statement) ([]Change, error) {
	if baseline == nil || current == nil {
		side := "baseline"
		if baseline != nil {
			side = "current"
		}
		return nil, fmt.Errorf("%w: %s statement is nil", ErrInvalidStatement, side)
	}
	var changes []Change
	if b, c := baseline.GetPredicateType(), current.GetPredicateType(); b != c {
		changes = append(changes, Change{Field: "predicateType", Kind: Changed, Baseline: b, Current: c})
	}
	bf, bok, err := slsaFacts("baseline", baseline)
	if err != nil {
		return nil, err
	}
	cf, cok, err := slsaFacts("current", current)
	if err != nil {
		return nil, err
	}
	if !bok || !cok {
		b, c := canonicalPredicate(baseline), canonicalPredicate(current)
		if b != c {
			changes = append(changes, Change{Field: "predicate", Kind: Changed, Baseline: b, Current: c})
		}
		return sorted(changes), nil
	}
	changes = compare(bf.fields, cf.fields, changes)
	bm, err := keyed("baseline", bf.materials, true)
	if err != nil {
		return nil, err
	}
	cm, err := keyed("current", cf.materials, true)
	if err != nil {
		return nil, err
	}
	return sorted(compareDescriptors("materials", bm, cm, changes)), nil
}

// facts are the comparable parts of a SLSA provenance predicate.
type facts struct {
	fields    fields
	materials []*intoto.ResourceDescriptor
}

// slsaFacts reads the facts of st's predicate; false when it is not SLSA Provenance.
func slsaFacts(side string, st *intoto.Statement) (facts, bool, error) {
	f := facts{fields: fields{}}
	set := func(k, v string) {
		if v != "" {
			f.fields[k] = v
		}
	}
	var configSource string
	var configDigest map[string]string
	switch st.GetPredicateType() {
	case provenance.PredicateSLSAProvenanceV1:
		p, err := provenance.SLSAProvenance(st)
		if err != nil {
			return f, false, &PredicateError{Side: side, PredicateType: st.GetPredicateType(), Err: err}
		}
		bd := p.GetBuildDefinition()
		set("builder.id", p.GetRunDetails().GetBuilder().GetId())
		set("buildType", bd.GetBuildType())
		flattenStruct(f.fields, "externalParameters", bd.GetExternalParameters())
		f.materials = bd.GetResolvedDependencies()
	case provenance.PredicateSLSAProvenanceV02:
		p := &v02.Provenance{}
		if err := provenance.DecodePredicate(st, p); err != nil {
			return f, false, &PredicateError{Side: side, PredicateType: st.GetPredicateType(), Err: err}
		}
		set("builder.id", p.GetBuilder().GetId())
		set("buildType", p.GetBuildType())
		flattenStruct(f.fields, "externalParameters", p.GetInvocation().GetParameters())
		for _, m := range p.GetMaterials() {
			f.materials = append(f.materials, &intoto.ResourceDescriptor{Uri: m.GetUri(), Digest: m.GetDigest()})
		}
		configSource = p.GetInvocation().GetConfigSource().GetUri()
		configDigest = p.GetInvocation().GetConfigSource().GetDigest()
	default:
		return f, false, nil
	}
	uri, dgst := source(f.materials)
	if uri == "" && dgst == nil {
		uri, dgst = configSource, configDigest
	}
	repo, ref := provenance.SplitGitURI(uri)
	if id, err := provenance.RepositoryID(repo); err == nil {
		repo = id
	}
	set("source.repository", repo)
	set("source.ref", ref)
	commit := dgst["gitCommit"]
	if commit == "" {
		commit = dgst["sha1"]
	}
	set("source.commit", strings.ToLower(commit))
	return f, true, nil
}

// source picks the build's source among its materials: the one with the source role, else the
// first git URI or gitCommit digest.
func source(materials []*intoto.ResourceDescriptor) (string, map[string]string) {
	for _, m := range materials {
		if m != nil && provenance.Role(m) == provenance.RoleSource {
			return m.GetUri(), m.GetDigest()
		}
	}
	for _, m := range materials {
		if strings.HasPrefix(m.GetUri(), "git+") || m.GetDigest()["gitCommit"] != "" {
			return m.GetUri(), m.GetDigest()
		}
	}
	return "", nil
}

// flattenStruct writes every leaf of s into f under prefix, as documented on Provenance.
func flattenStruct(f fields, prefix string, s *structpb.Struct) {
	for k, v := range s.GetFields() {
		flattenValue(f, prefix+member(k), v)
	}
}

// member is the path step to an object's key: ".KEY", or [QUOTED] for a key a dot or bracket
// would make ambiguous ("a.b" is not a then b).
func member(key string) string {
	if key == "" || strings.ContainsAny(key, ".[]") {
		return "[" + strconv.Quote(key) + "]"
	}
	return "." + key
}

// stringValue is a string parameter as Provenance reports it: as it is, unless it reads like
// another JSON value ("1", "true", "null", "[]", "{}"), which is quoted so that the string "1"
// and the number 1 differ.
func stringValue(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		if _, isString := v.(string); !isString {
			return strconv.Quote(s)
		}
	}
	return s
}

func flattenValue(f fields, path string, v *structpb.Value) {
	switch x := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		if len(x.StructValue.GetFields()) == 0 {
			f[path] = "{}"
			return
		}
		flattenStruct(f, path, x.StructValue)
	case *structpb.Value_ListValue:
		if len(x.ListValue.GetValues()) == 0 {
			f[path] = "[]"
			return
		}
		for i, e := range x.ListValue.GetValues() {
			flattenValue(f, path+"["+strconv.Itoa(i)+"]", e)
		}
	case *structpb.Value_StringValue:
		f[path] = stringValue(x.StringValue)
	default:
		f[path] = jsonValue(v.AsInterface())
	}
}

// canonicalPredicate returns "sha256:HEX (N bytes)" of st's predicate as canonical JSON
// (encoding/json sorts object keys), or "" when it has none.
func canonicalPredicate(st *intoto.Statement) string {
	if st.GetPredicate() == nil {
		return ""
	}
	data, err := json.Marshal(st.GetPredicate().AsMap())
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]) + " (" + strconv.Itoa(len(data)) + " bytes)"
}
