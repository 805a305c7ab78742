package index

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// facts are the rows one verified statement contributes.
type facts struct {
	id                                  digest.Digest
	predicateType, buildType, builderID string
	// repo is the source repository's provenance.RepositoryID, empty when it has none; repoURL
	// is its URL as schema versions before 4 recorded it. commit is in lower case.
	repo, repoURL, commit string
	subjects              []subjectRow
	materials             []digest.Digest
	params                []param
	// scan holds the findings of a vulnerability scan statement; nil for other statements.
	scan *scanFacts
	// canon is the statement in canonical form (provenance.Marshal); recorded is when the
	// statement says it happened, in Unix nanoseconds, or nil (see recordedAt).
	canon    []byte
	recorded *int64
}

// param is one scalar leaf of the external parameters: its path, as object keys and list
// indexes, and its value as text.
type param struct {
	path  []string
	value string
}

type subjectRow struct {
	digest digest.Digest
	name   string
}

// dep is what the index reads of a resolved dependency.
type dep struct {
	uri, role string
	digest    map[string]string
}

// factsOf reads the indexed facts of a verified statement.
func factsOf(r *verify.Result) (*facts, error) {
	if r == nil || r.Statement() == nil {
		return nil, ErrNotVerified
	}
	return readFacts(r.Statement(), false)
}

// readFacts reads the facts of a statement; full decodes a SLSA predicate in full even when it
// could read it straight from the statement.
func readFacts(st *intoto.Statement, full bool) (*facts, error) {
	canon, err := provenance.Marshal(st)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(canon)
	f := &facts{
		id:            digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum[:])),
		predicateType: st.GetPredicateType(),
		canon:         canon,
		recorded:      recordedAt(st),
	}
	seenSubject := map[subjectRow]bool{}
	for _, s := range st.GetSubject() {
		for _, d := range digests(s.GetDigest()) {
			row := subjectRow{digest: d, name: s.GetName()}
			if !seenSubject[row] {
				seenSubject[row] = true
				f.subjects = append(f.subjects, row)
			}
		}
	}
	if f.scan = scanOf(st, canon); f.scan != nil {
		return f, nil
	}
	if f.predicateType != provenance.PredicateSLSAProvenanceV1 {
		return f, nil
	}
	var deps []dep
	var external *structpb.Struct
	ok := false
	if !full {
		deps, external, ok = slsaOf(f, st.GetPredicate())
	}
	if !ok {
		// A predicate of an unusual shape: decode it fully, which fails if it does not decode.
		p, err := provenance.SLSAProvenance(st)
		if err != nil {
			return nil, err
		}
		bd := p.GetBuildDefinition()
		f.buildType, f.builderID = bd.GetBuildType(), p.GetRunDetails().GetBuilder().GetId()
		external = bd.GetExternalParameters()
		deps = deps[:0]
		for _, rd := range bd.GetResolvedDependencies() {
			deps = append(deps, dep{uri: rd.GetUri(), role: provenance.Role(rd), digest: rd.GetDigest()})
		}
	}
	seen := map[digest.Digest]bool{}
	for _, d := range deps {
		for _, dg := range digests(d.digest) {
			if !seen[dg] {
				seen[dg] = true
				f.materials = append(f.materials, dg)
			}
		}
	}
	if src := sourceOf(deps); src != nil {
		f.repoURL, _ = provenance.SplitGitURI(src.uri)
		if f.repoURL == "" {
			f.repoURL = src.uri
		}
		f.repo, _ = provenance.RepositoryID(src.uri) // empty when it names no network repository
		f.commit = src.digest["gitCommit"]
		if f.commit == "" {
			f.commit = src.digest["sha1"]
		}
		f.commit = strings.ToLower(f.commit)
	}
	flatten(nil, structpb.NewStructValue(external), &f.params)
	return f, nil
}

// digests returns the identifying digests of a descriptor's digest set in normal form
// (provenance.IdentifyingDigests), sorted; none when one of them is malformed, since such a
// descriptor names nothing for certain.
func digests(set map[string]string) []digest.Digest {
	out, err := provenance.IdentifyingDigests(set)
	if err != nil {
		return nil
	}
	return out
}

// sourceOf is the source dependency: the one with role source, else the first with a git
// commit, as provenance.ImageAnnotations chooses it.
func sourceOf(deps []dep) *dep {
	for i := range deps {
		if deps[i].role == provenance.RoleSource {
			return &deps[i]
		}
	}
	for i := range deps {
		if deps[i].digest["gitCommit"] != "" {
			return &deps[i]
		}
	}
	return nil
}

// slsaOf reads the facts of a SLSA Provenance v1 predicate straight from the statement's
// struct, which costs a fraction of decoding it through JSON. It reports false when a field
// has another JSON type than the schema's, so that the caller decodes the predicate fully.
func slsaOf(f *facts, pred *structpb.Struct) ([]dep, *structpb.Struct, bool) {
	bd, ok := object(pred, "buildDefinition", "build_definition")
	if !ok || bd == nil {
		return nil, nil, false
	}
	rd, ok := object(pred, "runDetails", "run_details")
	if !ok || rd == nil {
		return nil, nil, false
	}
	builder, ok := object(rd, "builder", "builder")
	if !ok {
		return nil, nil, false
	}
	if f.buildType, ok = str(bd, "buildType", "build_type"); !ok {
		return nil, nil, false
	}
	if f.builderID, ok = str(builder, "id", "id"); !ok {
		return nil, nil, false
	}
	external, ok := object(bd, "externalParameters", "external_parameters")
	if !ok {
		return nil, nil, false
	}
	list, ok := field(bd, "resolvedDependencies", "resolved_dependencies")
	if !ok {
		return nil, nil, false
	}
	if !restOK(bd, rd, builder) {
		return nil, nil, false
	}
	var deps []dep
	if list != nil {
		lv, isList := list.GetKind().(*structpb.Value_ListValue)
		if !isList {
			return nil, nil, false
		}
		for _, v := range lv.ListValue.GetValues() {
			sv, isStruct := v.GetKind().(*structpb.Value_StructValue)
			if !isStruct {
				return nil, nil, false
			}
			d, ok := depOf(sv.StructValue)
			if !ok {
				return nil, nil, false
			}
			deps = append(deps, d)
		}
	}
	return deps, external, true
}

// restOK reports whether the fields of a SLSA predicate that the index does not read have the
// shapes the full decode accepts. It accepts their common forms only, so that anything else is
// left to the full decode: it never accepts what the full decode rejects.
func restOK(bd, rd, builder *structpb.Struct) bool {
	if _, ok := object(bd, "internalParameters", "internal_parameters"); !ok {
		return false
	}
	if !stringMapOK(builder, "version", "version") ||
		!descriptorsOK(builder, "builderDependencies", "builder_dependencies") ||
		!descriptorsOK(rd, "byproducts", "byproducts") {
		return false
	}
	md, ok := object(rd, "metadata", "metadata")
	if !ok {
		return false
	}
	if md == nil {
		return true
	}
	if _, ok := str(md, "invocationId", "invocation_id"); !ok {
		return false
	}
	return timestampOK(md, "startedOn", "started_on") && timestampOK(md, "finishedOn", "finished_on")
}

// timestampOK reports whether a field is absent, null, or a timestamp as protojson reads it.
func timestampOK(s *structpb.Struct, jsonName, protoName string) bool {
	v, ok := field(s, jsonName, protoName)
	if !ok || v == nil {
		return ok
	}
	sv, isString := v.GetKind().(*structpb.Value_StringValue)
	if !isString {
		return false
	}
	quoted, err := json.Marshal(sv.StringValue)
	if err != nil {
		return false
	}
	return protojson.Unmarshal(quoted, &timestamppb.Timestamp{}) == nil
}

// stringMapOK reports whether a field is absent, null, or an object of strings.
func stringMapOK(s *structpb.Struct, jsonName, protoName string) bool {
	m, ok := object(s, jsonName, protoName)
	if !ok {
		return false
	}
	for _, v := range m.GetFields() {
		if _, isString := v.GetKind().(*structpb.Value_StringValue); !isString {
			return false
		}
	}
	return true
}

// descriptorsOK reports whether a field is absent, null, or a list of resource descriptors.
func descriptorsOK(s *structpb.Struct, jsonName, protoName string) bool {
	list, ok := field(s, jsonName, protoName)
	if !ok {
		return false
	}
	if list == nil {
		return true
	}
	lv, isList := list.GetKind().(*structpb.Value_ListValue)
	if !isList {
		return false
	}
	for _, v := range lv.ListValue.GetValues() {
		sv, isStruct := v.GetKind().(*structpb.Value_StructValue)
		if !isStruct {
			return false
		}
		if _, ok := depOf(sv.StructValue); !ok {
			return false
		}
	}
	return true
}

// depOf reads a resource descriptor, and reports false when a field has a shape that only the
// full decode can judge.
func depOf(s *structpb.Struct) (dep, bool) {
	var d dep
	var ok bool
	if d.uri, ok = str(s, "uri", "uri"); !ok {
		return d, false
	}
	for _, n := range [][2]string{{"name", "name"}, {"downloadLocation", "download_location"}, {"mediaType", "media_type"}} {
		if _, ok := str(s, n[0], n[1]); !ok {
			return d, false
		}
	}
	// Content is base64 that the full decode checks; it is rare in provenance.
	if c, ok := field(s, "content", "content"); !ok || c != nil {
		return d, false
	}
	set, ok := object(s, "digest", "digest")
	if !ok {
		return d, false
	}
	if set != nil {
		d.digest = make(map[string]string, len(set.GetFields()))
		for k, v := range set.GetFields() {
			sv, isString := v.GetKind().(*structpb.Value_StringValue)
			if !isString {
				return d, false
			}
			d.digest[k] = sv.StringValue
		}
	}
	ann, ok := object(s, "annotations", "annotations")
	if !ok {
		return d, false
	}
	if ann != nil {
		if v, has := ann.GetFields()[provenance.AnnotationRole]; has {
			d.role = v.GetStringValue()
		}
	}
	return d, true
}

// field returns the value under the JSON name or the protobuf name; nil when absent, false
// when both are present.
func field(s *structpb.Struct, jsonName, protoName string) (*structpb.Value, bool) {
	fs := s.GetFields()
	v, hasJSON := fs[jsonName]
	if jsonName != protoName {
		if pv, hasProto := fs[protoName]; hasProto {
			if hasJSON {
				return nil, false
			}
			v = pv
		}
	}
	if _, isNull := v.GetKind().(*structpb.Value_NullValue); isNull {
		return nil, true
	}
	return v, true
}

func object(s *structpb.Struct, jsonName, protoName string) (*structpb.Struct, bool) {
	v, ok := field(s, jsonName, protoName)
	if !ok || v == nil {
		return nil, ok
	}
	sv, isStruct := v.GetKind().(*structpb.Value_StructValue)
	if !isStruct {
		return nil, false
	}
	return sv.StructValue, true
}

func str(s *structpb.Struct, jsonName, protoName string) (string, bool) {
	v, ok := field(s, jsonName, protoName)
	if !ok || v == nil {
		return "", ok
	}
	sv, isString := v.GetKind().(*structpb.Value_StringValue)
	if !isString {
		return "", false
	}
	return sv.StringValue, true
}

// flatten appends the scalar leaves of v with their paths: object keys and list indexes
// ("command", "0"). Strings are stored as they are, numbers in JSON's shortest form (42, 0.5),
// booleans as true or false; nulls are left out.
func flatten(path []string, v *structpb.Value, out *[]param) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		keys := make([]string, 0, len(k.StructValue.GetFields()))
		for key := range k.StructValue.GetFields() {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			flatten(append(slices.Clip(path), key), k.StructValue.GetFields()[key], out)
		}
	case *structpb.Value_ListValue:
		for i, e := range k.ListValue.GetValues() {
			flatten(append(slices.Clip(path), strconv.Itoa(i)), e, out)
		}
	case *structpb.Value_StringValue:
		*out = append(*out, param{path, k.StringValue})
	case *structpb.Value_NumberValue:
		*out = append(*out, param{path, strconv.FormatFloat(k.NumberValue, 'g', -1, 64)})
	case *structpb.Value_BoolValue:
		*out = append(*out, param{path, strconv.FormatBool(k.BoolValue)})
	}
}

// Pointer returns the JSON Pointer (RFC 6901) of a path of object keys and list indexes, the
// form Query.Parameters names parameters by: "/" before each segment, "~" written "~0" and
// "/" written "~1", so that {"a.b": 1}, {"a": {"b": 1}} and {"a/b": 1} have the distinct
// paths "/a.b", "/a/b" and "/a~1b".
func Pointer(path ...string) string {
	var b strings.Builder
	for _, seg := range path {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(seg))
	}
	return b.String()
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// parsePointer splits a JSON Pointer into its segments. It refuses a pointer that is empty
// (the whole parameters object is not a scalar), does not start with "/", or has a "~" not
// followed by "0" or "1".
func parsePointer(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("parameter path %q is not a JSON Pointer: it must start with \"/\"", p)
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		for j := 0; j < len(seg); j++ {
			if seg[j] != '~' {
				continue
			}
			if j+1 == len(seg) || (seg[j+1] != '0' && seg[j+1] != '1') {
				return nil, fmt.Errorf("parameter path %q: \"~\" must be followed by 0 or 1", p)
			}
			j++
		}
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
	}
	return segs, nil
}

// dotted is a path as schema versions before 4 recorded it: segments joined by ".".
func dotted(path []string) string { return strings.Join(path, ".") }

// signerRow is who signed one verified result, and when. label is the signer's key in the
// signatures table: "key:" and the key id, or "cert:", the issuer's length in characters, ":",
// the issuer, " " and the SAN, so that no two signers share one; legacy is the label of schema
// versions before 4, "cert:" + issuer + " " + SAN, which two certificate identities could share.
type signerRow struct {
	label, legacy, keyID, issuer, san string
	signedAt                          *int64      // Unix nanoseconds
	extensions                        [][2]string // name, value; sorted by name
}

func signerOf(r *verify.Result) signerRow {
	s := r.Signer()
	row := signerRow{label: "key:" + s.KeyID, legacy: "key:" + s.KeyID, keyID: s.KeyID}
	if c := s.Certificate; c != nil {
		row = signerRow{
			label:  certLabel(c.Issuer, c.SubjectAlternativeName),
			legacy: "cert:" + c.Issuer + " " + c.SubjectAlternativeName,
			issuer: c.Issuer, san: c.SubjectAlternativeName,
			extensions: extensionsOf(s.Certificate.Extensions),
		}
	}
	if t, ok := r.SignedAt(); ok {
		ns := t.UnixNano()
		row.signedAt = &ns
	}
	return row
}

// certLabel is the label of a certificate identity. The upgrade to schema version 4 computes the
// same in SQL, where LENGTH counts characters.
func certLabel(issuer, san string) string {
	return "cert:" + strconv.Itoa(utf8.RuneCountInString(issuer)) + ":" + issuer + " " + san
}

// extensionsOf returns a certificate's non-empty extensions by their JSON names, the names
// sigstore-go and Fulcio give them ("sourceRepositoryURI", "buildSignerURI"...), sorted by
// name. The names come from encoding/json, so fields that later versions of sigstore-go add
// are recorded without a change here; a value that is not a string is kept as its JSON text.
func extensionsOf(e certificate.Extensions) [][2]string {
	b, err := json.Marshal(e)
	if err != nil {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil
	}
	out := make([][2]string, 0, len(fields))
	for name, raw := range fields {
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			v = string(raw)
		}
		if v != "" {
			out = append(out, [2]string{name, v})
		}
	}
	slices.SortFunc(out, func(x, y [2]string) int { return strings.Compare(x[0], y[0]) })
	return out
}
