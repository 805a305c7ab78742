package verify

import (
	"encoding/json"
	"fmt"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// ResultSchemaV1 is the JSON schema version of a marshalled Result.
const ResultSchemaV1 = "https://provkit.dev/verify/result/v1"

// Result is provenance that passed verification. Only this package makes one: policy and every
// other consumer can rely on its contents having been checked against the trust material, the
// expected identity and the artifact digest given to Verify.
type Result struct {
	// statement is the verified statement, decoded from the exact signed bytes.
	statement *intoto.Statement
	// subject is the artifact digest the statement was bound to.
	subject digest.Digest
	// signer says who signed.
	signer Signer
	// timestamps are the verified signing times: transparency-log integration times and RFC 3161
	// timestamps. Empty for a key-signed bundle with neither.
	timestamps []Timestamp
	// mediaType is the media type of the verified bundle or envelope.
	mediaType string
	// validUntil is when the key's validity window, judged at the clock, closes; zero when
	// the result does not depend on the clock that way.
	validUntil time.Time
}

// Signer identifies the key or certificate that made a verified signature.
type Signer struct {
	// KeyID is the identifier of the trusted public key, for key-signed bundles.
	KeyID string `json:"keyId,omitempty"`
	// Certificate holds the verified certificate identity, for keyless bundles.
	Certificate *CertificateIdentity `json:"certificate,omitempty"`
}

// CertificateIdentity is a verified Fulcio (or private PKI) certificate's identity.
type CertificateIdentity struct {
	// Issuer is the OIDC issuer that vouched for the identity.
	Issuer string `json:"issuer"`
	// SubjectAlternativeName is the certificate's identity (an email, URI or workflow path).
	SubjectAlternativeName string `json:"subjectAlternativeName"`
	// Extensions are the Fulcio certificate extensions (source repository, ref, workflow, trigger...).
	Extensions certificate.Extensions `json:"extensions"`
}

// Timestamp kinds.
const (
	// TimestampTransparencyLog is a transparency log's verified integration time.
	TimestampTransparencyLog = "tlog"
	// TimestampRFC3161 is a verified RFC 3161 signed timestamp.
	TimestampRFC3161 = "rfc3161"
)

// Timestamp is one verified signing time and where it came from.
type Timestamp struct {
	// Kind is TimestampTransparencyLog or TimestampRFC3161.
	Kind string `json:"kind"`
	// Authority is the log or timestamp authority's URI, when known.
	Authority string `json:"authority,omitempty"`
	// Time is the verified time.
	Time time.Time `json:"time"`
}

// Statement returns the verified statement. Callers must not modify it.
func (r *Result) Statement() *intoto.Statement { return r.statement }

// PredicateType returns the verified statement's predicate type.
func (r *Result) PredicateType() string { return r.statement.GetPredicateType() }

// Subject returns the artifact digest the statement was verified against.
func (r *Result) Subject() digest.Digest { return r.subject }

// Signer returns who signed.
func (r *Result) Signer() Signer { return r.signer }

// Timestamps returns the verified signing times, oldest first.
func (r *Result) Timestamps() []Timestamp { return r.timestamps }

// SignedAt returns the earliest verified signing time, and false when the bundle had none.
func (r *Result) SignedAt() (time.Time, bool) {
	if len(r.timestamps) == 0 {
		return time.Time{}, false
	}
	return r.timestamps[0].Time, true
}

// ValidUntil returns the time after which this result would no longer verify with time alone:
// for a key-signed bundle with no verified signing time (WithUntimestampedKeysUnsafe), whose
// key's validity window was judged at the Verifier's clock, the end of that window
// (PublicKey.NotAfter). It is zero when the result does not depend on the clock that way:
// bundles with a verified signing time are judged at that time, which does not move, and
// windows of keys in other trust material than a KeySet are not known here. A result kept for
// later, as a decision cache does, must not be used after it.
func (r *Result) ValidUntil() time.Time { return r.validUntil }

// MediaType returns the media type of the verified bundle or envelope.
func (r *Result) MediaType() string { return r.mediaType }

// SLSAProvenance decodes the verified statement's SLSA Provenance v1 predicate. A statement of
// another predicate type yields an error wrapping provenance.ErrInvalidPredicate.
func (r *Result) SLSAProvenance() (*slsa.Provenance, error) {
	return provenance.SLSAProvenance(r.statement)
}

// resultJSON is the schema ResultSchemaV1 names. Fields are only ever added to it.
type resultJSON struct {
	Schema        string          `json:"schema"`
	MediaType     string          `json:"mediaType"`
	Subject       digest.Digest   `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Signer        Signer          `json:"signer"`
	Timestamps    []Timestamp     `json:"timestamps"`
	Statement     json.RawMessage `json:"statement"`
}

// MarshalJSON encodes the result in the ResultSchemaV1 schema: schema, mediaType, subject,
// predicateType, signer, timestamps (oldest first, RFC 3339 times, [] when none) and the
// statement in canonical JSON (keys sorted, as provenance.Marshal writes it). The same result
// always gives the same bytes.
func (r *Result) MarshalJSON() ([]byte, error) {
	st, err := provenance.Marshal(r.statement)
	if err != nil {
		return nil, fmt.Errorf("verify: marshal result: %w", err)
	}
	ts := r.timestamps
	if ts == nil {
		ts = []Timestamp{}
	}
	return json.Marshal(resultJSON{
		Schema:        ResultSchemaV1,
		MediaType:     r.mediaType,
		Subject:       r.subject,
		PredicateType: r.PredicateType(),
		Signer:        r.signer,
		Timestamps:    ts,
		Statement:     st,
	})
}
