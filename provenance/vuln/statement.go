package vuln

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	vulns "github.com/in-toto/attestation/go/predicates/vulns/v02"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/provkit/provkit/provenance"
)

// The keys of the annotation object Statement writes on each result, and Parse reads back.
// The policy package's vulnerabilities rule reads the aliases, as it does grype's related
// vulnerabilities, to match OpenVEX statements that name another of a finding's ids.
const (
	annotationAliases = "aliases"
	annotationPackage = "package"
	annotationVersion = "version"
	annotationFixedIn = "fixedIn"
	annotationPURL    = "purl"
)

// Statement returns the report as a validated in-toto statement of predicate type
// provenance.PredicateVulnsV02 about subject, ready to sign; name optionally names the subject
// (an image reference). The predicate holds:
//
//   - scanner.uri: Scanner.URI, or a package URL for the scanner (see Scanner.URI);
//     scanner.version; scanner.db {uri, version, lastUpdate}, each when known;
//   - scanner.result: one entry per finding: id, severity [{method, score}] (Method and Score;
//     empty when the report rated the finding not at all, which a reader counts as unknown),
//     and annotations [{aliases, package, version, fixedIn, purl}] with those that are known;
//     an empty list when nothing was found;
//   - metadata {scanStartedOn, scanFinishedOn}, each when the report gives it: a time the
//     report does not give is left out rather than invented.
//
// An invalid report fails with a *FieldError (see Validate), a subject that is not a digest in
// normal form of an identifying algorithm with a *FieldError for "subject", and a statement
// over provenance.MaxStatementBytes with a *provenance.SizeError.
func (r *Report) Statement(subject digest.Digest, name string) (*intoto.Statement, error) {
	if subject == "" {
		return nil, &FieldError{Field: "subject", Reason: "required"}
	}
	if err := provenance.CheckArtifactDigest(subject); err != nil {
		return nil, &FieldError{Field: "subject", Reason: err.Error()}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	pred := &vulns.Vulns{Scanner: &vulns.Scanner{Uri: r.Scanner.uri()}}
	if v := r.Scanner.Version; v != "" {
		pred.Scanner.Version = proto.String(v)
	}
	if db := r.Scanner.DB; db != (Database{}) {
		pred.Scanner.Db = &vulns.VulnDatabase{}
		if db.URI != "" {
			pred.Scanner.Db.Uri = proto.String(db.URI)
		}
		if db.Version != "" {
			pred.Scanner.Db.Version = proto.String(db.Version)
		}
		if !db.Updated.IsZero() {
			pred.Scanner.Db.LastUpdate = timestamppb.New(db.Updated)
		}
	}
	for i, f := range r.Findings {
		res := &vulns.Result{Id: f.ID}
		if f.Score != "" {
			res.Severity = []*vulns.Result_Severity{{Method: f.Method, Score: f.Score}}
		}
		ann, err := f.annotations()
		if err != nil {
			return nil, &FieldError{Field: "Findings[" + strconv.Itoa(i) + "]", Reason: err.Error()}
		}
		if ann != nil {
			res.Annotations = []*structpb.Struct{ann}
		}
		pred.Scanner.Result = append(pred.Scanner.Result, res)
	}
	if !r.StartedOn.IsZero() || !r.FinishedOn.IsZero() {
		pred.Metadata = &vulns.ScanMetadata{}
		if !r.StartedOn.IsZero() {
			pred.Metadata.ScanStartedOn = timestamppb.New(r.StartedOn)
		}
		if !r.FinishedOn.IsZero() {
			pred.Metadata.ScanFinishedOn = timestamppb.New(r.FinishedOn)
		}
	}
	body, err := protojson.Marshal(pred)
	if err != nil {
		return nil, &FieldError{Field: "statement", Reason: err.Error()}
	}
	if len(body) > provenance.MaxStatementBytes {
		return nil, &provenance.SizeError{What: "vulnerability statement", Limit: provenance.MaxStatementBytes, Size: int64(len(body))}
	}
	desc := &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{subject.Algorithm().String(): subject.Encoded()}}
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{desc}, provenance.PredicateVulnsV02, json.RawMessage(body))
	if err != nil {
		return nil, &FieldError{Field: "statement", Reason: err.Error()}
	}
	// protojson leaves an empty list out; the specification reads an empty result list as
	// "found nothing", so write it.
	if scanner := st.GetPredicate().GetFields()["scanner"].GetStructValue(); scanner != nil && scanner.GetFields()["result"] == nil {
		scanner.Fields["result"] = structpb.NewListValue(&structpb.ListValue{})
	}
	raw, err := provenance.Marshal(st)
	if err != nil {
		return nil, &FieldError{Field: "statement", Reason: err.Error()}
	}
	if len(raw) > provenance.MaxStatementBytes {
		return nil, &provenance.SizeError{What: "vulnerability statement", Limit: provenance.MaxStatementBytes, Size: int64(len(raw))}
	}
	return st, nil
}

// annotations returns the result annotation object of f, or nil when it has nothing to say.
func (f *Finding) annotations() (*structpb.Struct, error) {
	m := map[string]any{}
	if len(f.Aliases) > 0 {
		aliases := make([]any, len(f.Aliases))
		for i, a := range f.Aliases {
			aliases[i] = a
		}
		m[annotationAliases] = aliases
	}
	for key, v := range map[string]string{annotationPackage: f.Package, annotationVersion: f.Version, annotationFixedIn: f.FixedIn, annotationPURL: f.PURL} {
		if v != "" {
			m[key] = v
		}
	}
	if len(m) == 0 {
		return nil, nil
	}
	return structpb.NewStruct(m)
}

// knownScanners are the package URLs of the scanners Parse reads the reports of, by name.
var knownScanners = map[string]string{
	"grype":       "pkg:golang/github.com/anchore/grype",
	"trivy":       "pkg:golang/github.com/aquasecurity/trivy",
	"osv-scanner": "pkg:golang/github.com/google/osv-scanner",
}

// knownScannerURI returns the package URL of a scanner known by name, or "".
func knownScannerURI(name string) string {
	return knownScanners[strings.ToLower(strings.TrimSpace(name))]
}

// uri returns the scanner's URI: URI, or the package URL of a known scanner with its version
// (a Go module version starts with "v"), or a generic package URL of its name.
func (s Scanner) uri() string {
	if s.URI != "" {
		return s.URI
	}
	base := knownScannerURI(s.Name)
	version := s.Version
	if base != "" {
		if version != "" && unicode.IsDigit(rune(version[0])) {
			version = "v" + version
		}
	} else {
		base = "pkg:generic/" + url.PathEscape(s.Name)
	}
	if version != "" {
		base += "@" + url.PathEscape(version)
	}
	return base
}

// nameFromURI returns the last path segment of a scanner URI, without its version:
// "pkg:golang/github.com/anchore/grype@v0.87.0" and "https://github.com/anchore/grype" are
// both "grype".
func nameFromURI(uri string) string {
	s := uri
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, "/")
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	} else if _, rest, ok := strings.Cut(s, ":"); ok {
		s = rest
	}
	if i := strings.Index(s, "@"); i >= 0 {
		s = s[:i]
	}
	if n, err := url.PathUnescape(s); err == nil {
		s = n
	}
	if s == "" {
		return uri
	}
	return s
}
