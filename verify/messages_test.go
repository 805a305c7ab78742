package verify_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// TestErrorMessages collects the message of every failure the tamper tables, the threshold
// matrix and the configuration tests produce, and holds each to the rule of the package's
// errors: it says its thing once. No fmt verb error text (%!), no phrase of three or more words
// twice, the package prefix "verify: " at most once.
func TestErrorMessages(t *testing.T) {
	var errs []error
	for _, suite := range []struct {
		name string
		run  func(*testing.T) []error
	}{
		{"tamper key-signed", tamperKeySigned},
		{"tamper key-signed timestamp", tamperKeySignedTimestamp},
		{"tamper keyless", tamperKeyless},
		{"evidence limits", evidenceCountLimits},
		{"cosign layer", cosignLayerKeyless},
		{"identity", identityMismatch},
		{"configuration", configurationErrors},
		{"options", badOptions},
		{"matrix", func(t *testing.T) []error { return runMatrix(t, newMatrixEnv(t, nil, nil)) }},
		{"trust material", trustMaterialErrors},
	} {
		t.Run(suite.name, func(t *testing.T) { errs = append(errs, suite.run(t)...) })
	}
	if len(errs) < 60 {
		t.Fatalf("only %d failures collected", len(errs))
	}
	for _, err := range errs {
		if testing.Verbose() {
			t.Log(err)
		}
		if msg := messageDefect(err.Error()); msg != "" {
			t.Errorf("%s: %q", msg, err)
		}
	}
}

// messageDefect says what is wrong with an error message, or "" when nothing is.
func messageDefect(msg string) string {
	if strings.Contains(msg, "%!") {
		return "formatting verb error"
	}
	if n := strings.Count(msg, "verify: "); n > 1 {
		return "prefix \"verify: \" repeated"
	}
	if p := repeatedPhrase(msg, 3); p != "" {
		return "phrase " + `"` + p + `"` + " repeated"
	}
	return ""
}

// repeatedPhrase returns a phrase of n words that occurs twice in msg, or a phrase of two or
// more words repeated right after itself ("not found (not found)"); or "". A word is a token of
// letters, compared without case and surrounding punctuation; other tokens (digests, URLs,
// emails, numbers) are data, and a phrase does not run across them.
func repeatedPhrase(msg string, n int) string {
	var runs [][]string // maximal runs of consecutive words
	var run []string
	for _, tok := range strings.Fields(strings.ToLower(msg)) {
		tok = strings.Trim(tok, `()[]{}:;,."'!?`)
		if tok != "" && strings.Trim(tok, "abcdefghijklmnopqrstuvwxyz-") == "" {
			run = append(run, tok)
			continue
		}
		if len(run) > 0 {
			runs = append(runs, run)
		}
		run = nil
	}
	if len(run) > 0 {
		runs = append(runs, run)
	}
	seen := map[string]bool{}
	for _, words := range runs {
		for i := 0; i+n <= len(words); i++ {
			p := strings.Join(words[i:i+n], " ")
			if seen[p] {
				return p
			}
			seen[p] = true
		}
	}
	for _, words := range runs {
		for k := 2; k < n; k++ {
			for i := 0; i+2*k <= len(words); i++ {
				if a, b := strings.Join(words[i:i+k], " "), strings.Join(words[i+k:i+2*k], " "); a == b {
					return a
				}
			}
		}
	}
	return ""
}

func TestRepeatedPhrase(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"verify: signature check failed: verify: signature check failed", "verify signature check"},
		{"signer a@example.com from https://issuer.example is not b@example.com from https://issuer.example", ""},
		{"key \"x\" not found (not found)", "not found"},
		{"a b c d a b c", "a b c"},
		{"verify: subject sha256:ab12.. not in statement (has sha256:cd34..)", ""},
		{"verify: timestamp check failed: threshold not met: 0 < 1", ""},
		{"root [59 129 142 18] does not match [59 129 142 19]", ""},
	} {
		if got := repeatedPhrase(tc.msg, 3); got != tc.want {
			t.Errorf("repeatedPhrase(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

// trustMaterialErrors returns the errors of bad trust material and identities.
func trustMaterialErrors(t *testing.T) []error {
	kf := newKeyFixture(t, "k")
	var errs []error
	check := func(name string, want, err error) {
		t.Helper()
		if !errors.Is(err, want) || errors.Is(err, verify.ErrVerification) {
			t.Errorf("%s: err = %v, want %v", name, err, want)
		}
		errs = append(errs, err)
	}
	_, err := verify.ParsePublicKeyPEM("bad", []byte("not a key"))
	check("public key PEM", verify.ErrTrustMaterial, err)
	_, err = verify.TrustedKeys()
	check("no keys", verify.ErrInvalidConfig, err)
	_, err = verify.TrustedKeys(verify.PublicKey{ID: "x"})
	check("nil key", verify.ErrInvalidConfig, err)
	pk := verify.PublicKey{ID: "k", Key: kf.kp.GetPublicKey()}
	_, err = verify.TrustedKeys(pk, pk)
	check("duplicate key", verify.ErrInvalidConfig, err)
	_, err = verify.TrustedKeys(verify.PublicKey{ID: "w", Key: pk.Key, NotBefore: time.Now(), NotAfter: time.Now().Add(-time.Hour)})
	check("inverted window", verify.ErrInvalidConfig, err)
	_, err = verify.TrustedRootJSON([]byte("{"))
	check("trusted root JSON", verify.ErrTrustMaterial, err)
	_, err = verify.LoadTrustedRoot(t.TempDir() + "/missing.json")
	check("trusted root file", verify.ErrTrustMaterial, err)
	_, err = verify.ParseCertificatesPEM([]byte("nothing"))
	check("certificates PEM", verify.ErrTrustMaterial, err)
	_, err = verify.CertificateAuthorities(nil, nil)
	check("no CA", verify.ErrInvalidConfig, err)
	_, err = verify.TimestampAuthority(nil, "")
	check("no TSA", verify.ErrInvalidConfig, err)
	_, err = verify.TrustedRootTUF(bg, verify.TUFOptions{})
	check("TUF cache dir", verify.ErrInvalidConfig, err)
	_, err = verify.TrustedRootTUF(bg, verify.TUFOptions{CacheDir: t.TempDir(), Offline: true, Root: []byte("{}")})
	check("TUF root", verify.ErrTrustMaterial, err)
	initial := tufRepository(t, t.TempDir(), trustedRootJSON(t, newVirtualSigstore(t)))
	_, err = verify.TrustedRootTUF(bg, verify.TUFOptions{CacheDir: t.TempDir(), Offline: true, MirrorURL: "http://127.0.0.1:1", Root: initial})
	check("TUF offline with an empty cache", verify.ErrTrustMaterial, err)
	_, err = verify.Certificates()
	check("no certificate identity", verify.ErrInvalidIdentity, err)
	_, err = verify.Certificates(verify.CertificateMatch{Issuer: testIssuer, SubjectAlternativeNameRegexp: "("})
	check("subject regexp", verify.ErrInvalidIdentity, err)
	_, err = verify.Certificates(verify.CertificateMatch{SubjectAlternativeName: testSAN})
	check("no issuer", verify.ErrInvalidIdentity, err)
	// A key id the identity names that trust material other than a KeySet does not hold.
	v := newVerifier(t, root.TrustedMaterialCollection{newVirtualSigstore(t)}, verify.WithUntimestampedKeysUnsafe())
	b := bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact)))
	_, err = v.Verify(bg, b, artifact, verify.KeyIDs("nobody"))
	check("unknown key id", verify.ErrInvalidIdentity, err)
	return errs
}
