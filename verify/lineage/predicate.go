package lineage

import (
	"encoding/base64"
	"strings"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// slsaFacts are the parts of a SLSA Provenance v1 predicate the graph uses.
type slsaFacts struct {
	buildType, builderID, invocationID string
	startedOn, finishedOn              time.Time
	external, internal                 map[string]*structpb.Value
	builderVersion                     map[string]string
	dependencies                       []*intoto.ResourceDescriptor
}

func slsaFactsFromProvenance(p *slsa.Provenance) slsaFacts {
	bd, rd := p.GetBuildDefinition(), p.GetRunDetails()
	f := slsaFacts{
		buildType:      bd.GetBuildType(),
		builderID:      rd.GetBuilder().GetId(),
		invocationID:   rd.GetMetadata().GetInvocationId(),
		external:       bd.GetExternalParameters().GetFields(),
		internal:       bd.GetInternalParameters().GetFields(),
		builderVersion: rd.GetBuilder().GetVersion(),
		dependencies:   bd.GetResolvedDependencies(),
	}
	if t := rd.GetMetadata().GetStartedOn(); t != nil {
		f.startedOn = t.AsTime()
	}
	if t := rd.GetMetadata().GetFinishedOn(); t != nil {
		f.finishedOn = t.AsTime()
	}
	return f
}

// slsaFactsOf reads the facts straight from the predicate as the statement holds it, which
// costs a fraction of decoding it into the SLSA message through JSON. It reads each field under
// its JSON name or its protobuf name, as protojson does, and reports false when a field it
// reads has another JSON type than the schema's, or appears under both names, so that the
// caller decodes the predicate fully and gets the decoder's verdict.
func slsaFactsOf(pred *structpb.Struct) (slsaFacts, bool) {
	var f slsaFacts
	bd, ok := object(pred, "buildDefinition", "build_definition")
	if !ok {
		return f, false
	}
	rd, ok := object(pred, "runDetails", "run_details")
	if !ok {
		return f, false
	}
	builder, ok := object(rd, "builder", "builder")
	if !ok {
		return f, false
	}
	meta, ok := object(rd, "metadata", "metadata")
	if !ok {
		return f, false
	}
	ext, ok := object(bd, "externalParameters", "external_parameters")
	if !ok {
		return f, false
	}
	f.external = ext.GetFields()
	for _, s := range []struct {
		from        *structpb.Struct
		json, proto string
		to          *string
	}{
		{bd, "buildType", "build_type", &f.buildType},
		{builder, "id", "id", &f.builderID},
		{meta, "invocationId", "invocation_id", &f.invocationID},
	} {
		if *s.to, ok = str(s.from, s.json, s.proto); !ok {
			return f, false
		}
	}
	for _, t := range []struct {
		json, proto string
		to          *time.Time
	}{
		{"startedOn", "started_on", &f.startedOn},
		{"finishedOn", "finished_on", &f.finishedOn},
	} {
		v, ok := field(meta, t.json, t.proto)
		if !ok {
			return f, false
		}
		if v == nil || isNull(v) {
			continue
		}
		x, isString := v.GetKind().(*structpb.Value_StringValue)
		if !isString {
			return f, false
		}
		tm, ok := timestamp(x.StringValue)
		if !ok {
			return f, false
		}
		*t.to = tm
	}
	if f.dependencies, ok = descriptors(bd, "resolvedDependencies", "resolved_dependencies"); !ok {
		return f, false
	}
	// Fields the graph does not use must still decode, as the full decoding would require.
	internal, ok := object(bd, "internalParameters", "internal_parameters")
	if !ok {
		return f, false
	}
	f.internal = internal.GetFields()
	if _, ok := descriptors(rd, "byproducts", "byproducts"); !ok {
		return f, false
	}
	if _, ok := descriptors(builder, "builderDependencies", "builder_dependencies"); !ok {
		return f, false
	}
	if f.builderVersion, ok = stringMap(builder, "version", "version"); !ok {
		return f, false
	}
	return f, true
}

// timestamp parses a google.protobuf.Timestamp in its JSON form, as strictly as protojson:
// RFC 3339 with an upper-case "T", a "Z" or an offset, at most nine fractional digits, between
// years 1 and 9999.
func timestamp(s string) (time.Time, bool) {
	// YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|±HH:MM), checked by shape before time.Parse, which is
	// more lenient (it takes one-digit hours, for one).
	const base = "0000-00-00T00:00:00"
	if len(s) < len(base)+1 {
		return time.Time{}, false
	}
	for i, c := range []byte(s[:len(base)]) {
		if base[i] == '0' && (c < '0' || c > '9') || base[i] != '0' && c != base[i] {
			return time.Time{}, false
		}
	}
	rest := s[len(base):]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, false
		}
		rest = rest[n:]
	}
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
		isDigits(rest[1:3]) && isDigits(rest[4:6]):
	default:
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// descriptors reads a list of resource descriptors: nil (and true) when absent or null.
func descriptors(s *structpb.Struct, json, proto string) ([]*intoto.ResourceDescriptor, bool) {
	v, ok := field(s, json, proto)
	if !ok {
		return nil, false
	}
	if v == nil || isNull(v) {
		return nil, true
	}
	list := v.GetListValue()
	if list == nil {
		return nil, false
	}
	out := make([]*intoto.ResourceDescriptor, 0, len(list.GetValues()))
	for _, e := range list.GetValues() {
		rd, ok := descriptor(e.GetStructValue())
		if !ok {
			return nil, false
		}
		out = append(out, rd)
	}
	return out, true
}

// descriptor reads one resource descriptor, checking the fields it does not keep as well.
func descriptor(d *structpb.Struct) (*intoto.ResourceDescriptor, bool) {
	if d == nil {
		return nil, false
	}
	rd := &intoto.ResourceDescriptor{}
	var ok bool
	if rd.Uri, ok = str(d, "uri", "uri"); !ok {
		return nil, false
	}
	if rd.Name, ok = str(d, "name", "name"); !ok {
		return nil, false
	}
	if rd.Digest, ok = stringMap(d, "digest", "digest"); !ok {
		return nil, false
	}
	if rd.Annotations, ok = object(d, "annotations", "annotations"); !ok {
		return nil, false
	}
	for _, k := range [][2]string{{"downloadLocation", "download_location"}, {"mediaType", "media_type"}} {
		if _, ok := str(d, k[0], k[1]); !ok {
			return nil, false
		}
	}
	content, ok := str(d, "content", "content")
	if !ok || !validBase64(content) {
		return nil, false
	}
	return rd, true
}

// validBase64 accepts what protojson accepts for a bytes field: standard or URL-safe base64,
// padded or not.
func validBase64(s string) bool {
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	_, err := enc.DecodeString(s)
	return err == nil
}

// stringMap reads a map of strings: nil (and true) when absent, null or empty.
func stringMap(s *structpb.Struct, json, proto string) (map[string]string, bool) {
	o, ok := object(s, json, proto)
	if !ok || o == nil || len(o.GetFields()) == 0 {
		return nil, ok
	}
	m := make(map[string]string, len(o.GetFields()))
	for k, v := range o.GetFields() {
		x, isString := v.GetKind().(*structpb.Value_StringValue)
		if !isString {
			return nil, false
		}
		m[k] = x.StringValue
	}
	return m, true
}

// field returns the value of a field by its JSON or protobuf name: nil when absent, and false
// when it appears under both.
func field(s *structpb.Struct, json, proto string) (*structpb.Value, bool) {
	a, b := s.GetFields()[json], s.GetFields()[proto]
	if a != nil && b != nil && json != proto {
		return nil, false
	}
	if a == nil {
		a = b
	}
	return a, true
}

func isNull(v *structpb.Value) bool {
	_, ok := v.GetKind().(*structpb.Value_NullValue)
	return ok
}

// object returns a message field: nil (and true) when absent or null, false when not an object.
func object(s *structpb.Struct, json, proto string) (*structpb.Struct, bool) {
	v, ok := field(s, json, proto)
	if !ok {
		return nil, false
	}
	if v == nil || isNull(v) {
		return nil, true
	}
	o := v.GetStructValue()
	return o, o != nil
}

// str returns a string field: "" (and true) when absent or null, false when not a string.
func str(s *structpb.Struct, json, proto string) (string, bool) {
	v, ok := field(s, json, proto)
	if !ok {
		return "", false
	}
	if v == nil || isNull(v) {
		return "", true
	}
	x, ok := v.GetKind().(*structpb.Value_StringValue)
	if !ok {
		return "", false
	}
	return x.StringValue, true
}
