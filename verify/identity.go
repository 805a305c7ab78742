package verify

import (
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// Identity is the signer a bundle must come from: trusted keys by id, certificate identities,
// or a union of both. The zero Identity is rejected by Verify; accepting any signer the trust
// material vouches for is explicit (AnyTrustedKey, AnyIdentityUnsafe). An Identity is immutable
// and safe for concurrent use.
type Identity struct {
	keyIDs []string
	anyKey bool
	certs  sgverify.CertificateIdentities
	any    bool
}

// KeyIDs accepts a bundle signed by any of the trusted keys with these ids.
func KeyIDs(ids ...string) Identity {
	return Identity{keyIDs: append([]string(nil), ids...)}
}

// AnyTrustedKey accepts a bundle signed by any key in the trust material, and no certificate.
func AnyTrustedKey() Identity { return Identity{anyKey: true} }

// AnyIdentityUnsafe accepts any signer the trust material vouches for: any trusted key and any
// certificate that chains to a trusted authority, whoever it was issued to. With public
// Sigstore that is anyone with an email address; use it only to inspect evidence, never to
// admit anything.
func AnyIdentityUnsafe() Identity { return Identity{any: true} }

// CertificateMatch describes one acceptable certificate identity. Issuer and subject
// alternative name are required, each exactly or by regular expression (not anchored unless
// the expression says so: write ^...$).
type CertificateMatch struct {
	// Issuer is the exact OIDC issuer, such as "https://token.actions.githubusercontent.com".
	Issuer string
	// IssuerRegexp matches the OIDC issuer.
	IssuerRegexp string
	// SubjectAlternativeName is the exact identity: an email, a URI, a workflow path.
	SubjectAlternativeName string
	// SubjectAlternativeNameRegexp matches the identity.
	SubjectAlternativeNameRegexp string
	// Extensions are Fulcio certificate extensions that must match exactly: source repository
	// URI, ref and digest, build signer URI, build trigger and the rest. Empty fields are not
	// checked; Extensions.Issuer must be empty (use Issuer).
	Extensions certificate.Extensions
}

// Certificates accepts a bundle whose certificate matches any of matches. It fails with an
// error wrapping ErrInvalidIdentity when a match lacks an issuer or subject, or a regular
// expression does not compile.
func Certificates(matches ...CertificateMatch) (Identity, error) {
	if len(matches) == 0 {
		return Identity{}, fmt.Errorf("%w: no certificate identities", ErrInvalidIdentity)
	}
	id := Identity{}
	for i, m := range matches {
		san, err := sgverify.NewSANMatcher(m.SubjectAlternativeName, m.SubjectAlternativeNameRegexp)
		if err != nil {
			return Identity{}, fmt.Errorf("%w: certificate identity %d: subject regexp: %v", ErrInvalidIdentity, i, cause(err))
		}
		iss, err := sgverify.NewIssuerMatcher(m.Issuer, m.IssuerRegexp)
		if err != nil {
			return Identity{}, fmt.Errorf("%w: certificate identity %d: issuer regexp: %v", ErrInvalidIdentity, i, cause(err))
		}
		ci, err := sgverify.NewCertificateIdentity(san, iss, m.Extensions)
		if err != nil {
			return Identity{}, fmt.Errorf("%w: certificate identity %d: %v", ErrInvalidIdentity, i, cause(err))
		}
		id.certs = append(id.certs, ci)
	}
	return id, nil
}

// Or returns an Identity accepting the signers of both i and other.
func (i Identity) Or(other Identity) Identity {
	return Identity{
		keyIDs: append(append([]string(nil), i.keyIDs...), other.keyIDs...),
		anyKey: i.anyKey || other.anyKey,
		certs:  append(append(sgverify.CertificateIdentities(nil), i.certs...), other.certs...),
		any:    i.any || other.any,
	}
}

// IsZero reports whether i accepts no signer at all, as the zero Identity does.
func (i Identity) IsZero() bool {
	return len(i.keyIDs) == 0 && !i.anyKey && len(i.certs) == 0 && !i.any
}

func (i Identity) acceptsKeys() bool { return i.any || i.anyKey || len(i.keyIDs) > 0 }

func (i Identity) acceptsKeyID(id string) bool {
	if i.any || i.anyKey {
		return true
	}
	for _, k := range i.keyIDs {
		if k == id {
			return true
		}
	}
	return false
}

// matchCertificate fails with an IdentityError unless one of i's certificate identities
// accepts the certificate summary. The error carries the matcher's reason only when the subject
// and issuer matched and an extension did not: a subject or issuer mismatch is said by
// Expected and Got already.
func (i Identity) matchCertificate(summary certificate.Summary) error {
	var reason error
	for _, ci := range i.certs {
		if ci.SubjectAlternativeName.Verify(summary) != nil || ci.Issuer.Verify(summary) != nil {
			continue
		}
		err := ci.Verify(summary)
		if err == nil {
			return nil
		}
		if reason == nil {
			reason = err
		}
	}
	return fail(CheckIdentity, &IdentityError{
		Expected: i.String(),
		Got:      fmt.Sprintf("certificate %s from %s", summary.SubjectAlternativeName, summary.Issuer),
		Err:      reason,
	})
}

func (i Identity) acceptsCertificates() bool { return i.any || len(i.certs) > 0 }

// String describes the identity for error messages.
func (i Identity) String() string {
	if i.any {
		return "any identity"
	}
	var parts []string
	if i.anyKey {
		parts = append(parts, "any trusted key")
	}
	for _, k := range i.keyIDs {
		parts = append(parts, "key "+k)
	}
	for _, c := range i.certs {
		iss := c.Issuer.Issuer
		if iss == "" {
			iss = "~" + c.Issuer.Regexp.String()
		}
		san := c.SubjectAlternativeName.SubjectAlternativeName
		if san == "" {
			san = "~" + c.SubjectAlternativeName.Regexp.String()
		}
		parts = append(parts, fmt.Sprintf("certificate %s from %s", san, iss))
	}
	if len(parts) == 0 {
		return "no identity"
	}
	return strings.Join(parts, " or ")
}
