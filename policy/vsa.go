package policy

import (
	"crypto/sha256"
	"fmt"
	"sort"

	vsa "github.com/in-toto/attestation/go/predicates/vsa/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/provkit/provkit/provenance"
)

// VSA verification results.
const (
	VSAPassed = "PASSED"
	VSAFailed = "FAILED"
)

// VSAOptions describe the verification summary to make from a Decision.
type VSAOptions struct {
	// VerifierID is the URI of the verifier making the summary (required).
	VerifierID string
	// ResourceURI is the URI of the artifact verified, such as an image reference (required).
	ResourceURI string
	// PolicyURI is where the policy can be found (required); the policy's digest is recorded
	// beside it.
	PolicyURI string
	// VerifiedLevels are the SLSA levels the policy establishes when it passes, such as
	// "SLSA_BUILD_LEVEL_3". A failed decision records "FAILED" results with the levels given.
	VerifiedLevels []string
	// SLSAVersion is the SLSA specification version the levels refer to, such as "1.0".
	SLSAVersion string
}

// VSA returns a SLSA Verification Summary Attestation v1 statement
// (https://slsa.dev/spec/v1.0/verification_summary) about the decision's subject: verifier,
// time of the decision, resource, policy URI and digest, the statements evaluated as input
// attestations (their predicate type as uri, and the SHA-256 of the statement in canonical
// JSON, provenance.Marshal: the signed payload when the signer used provkit), PASSED or
// FAILED, and the levels. A Decision decoded from JSON no longer holds the statements, and
// makes a VSA without input attestations. It is a
// validated statement, ready to be signed, so later stages can rely on this verification
// instead of repeating it. A missing required option or a decision without a valid subject
// yields an error wrapping ErrInvalidDecision.
func (d *Decision) VSA(o VSAOptions) (*intoto.Statement, error) {
	switch {
	case d == nil:
		return nil, fmt.Errorf("%w: nil decision", ErrInvalidDecision)
	case o.VerifierID == "":
		return nil, fmt.Errorf("%w: VSA needs a verifier id", ErrInvalidDecision)
	case o.ResourceURI == "":
		return nil, fmt.Errorf("%w: VSA needs a resource URI", ErrInvalidDecision)
	case o.PolicyURI == "":
		return nil, fmt.Errorf("%w: VSA needs a policy URI", ErrInvalidDecision)
	}
	if err := d.Subject.Validate(); err != nil {
		return nil, fmt.Errorf("%w: subject %q: %v", ErrInvalidDecision, d.Subject, err)
	}
	result := VSAFailed
	if d.Verdict == VerdictAllow {
		result = VSAPassed
	}
	pred := &vsa.VerificationSummary{
		Verifier:           &vsa.VerificationSummary_Verifier{Id: o.VerifierID},
		TimeVerified:       timestamppb.New(d.Time),
		ResourceUri:        o.ResourceURI,
		Policy:             &vsa.VerificationSummary_Policy{Uri: o.PolicyURI},
		VerificationResult: result,
		VerifiedLevels:     append([]string(nil), o.VerifiedLevels...),
		SlsaVersion:        o.SLSAVersion,
	}
	if d.Policy.Digest != "" {
		pred.Policy.Digest = map[string]string{d.Policy.Digest.Algorithm().String(): d.Policy.Digest.Encoded()}
	}
	var inputs []*vsa.VerificationSummary_InputAttestation
	for _, st := range d.statements {
		raw, err := provenance.Marshal(st)
		if err != nil {
			return nil, fmt.Errorf("%w: input attestation: %v", ErrInvalidDecision, err)
		}
		inputs = append(inputs, &vsa.VerificationSummary_InputAttestation{
			Uri:    st.GetPredicateType(),
			Digest: map[string]string{"sha256": fmt.Sprintf("%x", sha256.Sum256(raw))},
		})
	}
	sort.SliceStable(inputs, func(i, j int) bool { return inputs[i].GetUri() < inputs[j].GetUri() })
	pred.InputAttestations = inputs
	subject := &intoto.ResourceDescriptor{
		Uri:    o.ResourceURI,
		Digest: map[string]string{d.Subject.Algorithm().String(): d.Subject.Encoded()},
	}
	return provenance.NewStatement([]*intoto.ResourceDescriptor{subject}, provenance.PredicateSLSAVSAV1, pred)
}
