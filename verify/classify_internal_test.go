package verify

import (
	"errors"
	"fmt"
	"testing"

	"github.com/provkit/provkit/provenance"
)

// TestClassify pins the mapping of sigstore-go's error prefixes onto checks.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name        string
		msg         string
		payloadType string
		keySigned   bool
		want        Check
	}{
		{"log", "failed to verify log inclusion: x", provenance.MediaTypeInToto, false, CheckTransparencyLog},
		{"timestamps", "failed to verify timestamps: x", provenance.MediaTypeInToto, false, CheckTimestamp},
		{"certificate needs a time", "must provide timestamp to verify certificate", provenance.MediaTypeInToto, false, CheckTimestamp},
		{"leaf", "failed to verify leaf certificate: x", provenance.MediaTypeInToto, false, CheckCertificate},
		{"SCT", "failed to verify signed certificate timestamp: x", provenance.MediaTypeInToto, false, CheckCertificate},
		{"key window", "signature time outside of public key validity window", provenance.MediaTypeInToto, true, CheckKey},
		{"signature", "failed to verify signature: x", provenance.MediaTypeInToto, true, CheckSignature},
		{"statement", "failed to fetch envelope statement: x", provenance.MediaTypeInToto, true, CheckStatement},
		{"payload type", "failed to fetch envelope statement: x", "text/plain", true, CheckPayloadType},
		{"key verifier", "failed to get signature verifier: x", provenance.MediaTypeInToto, true, CheckKey},
		{"certificate verifier", "failed to get signature verifier: x", provenance.MediaTypeInToto, false, CheckCertificate},
		{"unlisted", "something new", provenance.MediaTypeInToto, false, CheckSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := classify(errors.New(tc.msg), tc.payloadType, tc.keySigned)
			var ve *VerificationError
			if !errors.As(err, &ve) || ve.Check != tc.want || !errors.Is(err, ErrVerification) {
				t.Fatalf("classify(%q) = %v, want check %s", tc.msg, err, tc.want)
			}
		})
	}
}

// TestMessagesSayTheirThingOnce pins the two mechanisms that keep messages from repeating: a
// failure wrapping a failure keeps the inner one, and a cause loses the package prefix and
// fmt's text for a nil %w operand.
func TestMessagesSayTheirThingOnce(t *testing.T) {
	inner := failf(CheckSignature, "bad signature")
	if got := fail(CheckKey, inner); got != inner {
		t.Errorf("fail(CheckKey, %v) = %v; want the inner failure unchanged", inner, got)
	}
	if got := failf(CheckFormat, "envelope: %w", inner); got.(*VerificationError).Check != CheckSignature {
		t.Errorf("failf wrapping a failure = %v; want its check kept", got)
	}
	upstream := classify(fmt.Errorf("failed to verify timestamps: threshold not met: 0 < 1; error: %w", errors.Join()), provenance.MediaTypeInToto, true)
	if want := "verify: timestamp check failed: threshold not met: 0 < 1"; upstream.Error() != want {
		t.Errorf("message %q, want %q", upstream, want)
	}
	wrapped := fmt.Errorf("%w: key: %s", ErrInvalidIdentity, cause(errors.New("verify: no trusted key \"k\"\n")))
	if want := `verify: invalid expected identity: key: no trusted key "k"`; wrapped.Error() != want {
		t.Errorf("message %q, want %q", wrapped, want)
	}
}
