package provenance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
)

// DecodePredicateStrict reads the predicate of st, a statement about one artifact, into v with
// encoding/json, strictly: st must be of predicateType, with exactly one subject of exactly one
// digest, and its predicate an object of at most limit bytes of JSON whose fields are all among
// fields, by exact name (encoding/json alone would match them regardless of case). It returns
// the subject and its digest. The error says what is wrong, for the caller to wrap in its own
// type.
func DecodePredicateStrict(st *intoto.Statement, predicateType string, fields []string, limit int, v any) (*intoto.ResourceDescriptor, digest.Digest, error) {
	if st.GetPredicateType() != predicateType {
		return nil, "", fmt.Errorf("predicate type is %q, not %q", st.GetPredicateType(), predicateType)
	}
	if n := len(st.GetSubject()); n != 1 {
		return nil, "", fmt.Errorf("%d subjects, want exactly one: the artifact", n)
	}
	subject := st.GetSubject()[0]
	if n := len(subject.GetDigest()); n != 1 {
		return nil, "", fmt.Errorf("subject has %d digests, want exactly one", n)
	}
	if st.GetPredicate() == nil {
		return nil, "", errors.New("no predicate")
	}
	for name := range st.GetPredicate().GetFields() {
		if !slices.Contains(fields, name) {
			return nil, "", fmt.Errorf("unknown field %q", name)
		}
	}
	raw, err := json.Marshal(st.GetPredicate().AsMap())
	if err != nil {
		return nil, "", err
	}
	if len(raw) > limit {
		return nil, "", fmt.Errorf("predicate of %d bytes, more than %d", len(raw), limit)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, "", err
	}
	var d digest.Digest
	for alg, hex := range subject.GetDigest() {
		d = digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)
	}
	return subject, d, nil
}

// CheckArtifactDigest checks that d is a well-formed digest in normal form (NormalizeDigest)
// of an algorithm that identifies an artifact (IdentifyingAlgorithm). The error is a
// *DigestError.
func CheckArtifactDigest(d digest.Digest) error {
	n, err := ParseDigest(string(d))
	if err != nil {
		return err
	}
	if n != d {
		return &DigestError{Algorithm: d.Algorithm().String(), Value: d.Encoded(), Reason: "not in normal form (lower-case hexadecimal)"}
	}
	return nil
}
