package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/proto"
)

func TestVerifyKeySigned(t *testing.T) {
	kf := newKeyFixture(t, "release")
	payload := statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact)
	pb := signKey(t, kf.kp, provenance.MediaTypeInToto, payload)
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe())

	for _, tc := range []struct {
		name string
		id   verify.Identity
	}{
		{"by key id", verify.KeyIDs("release")},
		{"any trusted key", verify.AnyTrustedKey()},
		{"any identity", verify.AnyIdentityUnsafe()},
		{"union", certIdentity(t).Or(verify.KeyIDs("release"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := v.Verify(bg, bundleOf(t, pb), artifact, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Signer().KeyID; got != "release" {
				t.Errorf("KeyID = %q", got)
			}
			if res.Subject() != artifact || res.PredicateType() != provenance.PredicateSLSAProvenanceV1 || res.MediaType() != provenance.MediaTypeBundleV03 {
				t.Errorf("result = %v %v %v", res.Subject(), res.PredicateType(), res.MediaType())
			}
			if _, ok := res.SignedAt(); ok {
				t.Error("SignedAt reports a time for an untimestamped bundle")
			}
			p, err := res.SLSAProvenance()
			if err != nil {
				t.Fatal(err)
			}
			if p.GetRunDetails().GetBuilder().GetId() != "https://example.com/builder" {
				t.Errorf("builder = %q", p.GetRunDetails().GetBuilder().GetId())
			}
		})
	}
}

func TestUntimestampedKeyRefusedByDefault(t *testing.T) {
	kf := newKeyFixture(t, "release")
	pb := signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	v := newVerifier(t, kf.keys)
	_, err := v.Verify(bg, bundleOf(t, pb), artifact, verify.KeyIDs("release"))
	wantCheck(t, err, verify.CheckTransparencyLog)
	v = newVerifier(t, kf.keys, verify.WithoutTransparencyLog())
	_, err = v.Verify(bg, bundleOf(t, pb), artifact, verify.KeyIDs("release"))
	wantCheck(t, err, verify.CheckTimestamp)
}

func TestKeySignedWithTimestamp(t *testing.T) {
	kf := newKeyFixture(t, "release")
	vs := newVirtualSigstore(t)
	pb := signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	addTimestamp(t, vs, pb)
	tm := root.TrustedMaterialCollection{vs, kf.keys}
	v := newVerifier(t, tm, verify.WithoutTransparencyLog(), verify.WithSignedTimestamps(1))
	res, err := v.Verify(bg, bundleOf(t, pb), artifact, verify.KeyIDs("release"))
	if err != nil {
		t.Fatal(err)
	}
	at, ok := res.SignedAt()
	if !ok || time.Since(at) > time.Hour || res.Timestamps()[0].Kind != verify.TimestampRFC3161 {
		t.Errorf("timestamps = %+v", res.Timestamps())
	}
}

func TestKeyValidityWindow(t *testing.T) {
	kf := newKeyFixture(t, "old")
	vs := newVirtualSigstore(t)
	pb := signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	addTimestamp(t, vs, pb)
	expired, err := verify.TrustedKeys(verify.PublicKey{ID: "old", Key: kf.kp.GetPublicKey(), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts []verify.Option
	}{
		{"at the signed time", []verify.Option{verify.WithoutTransparencyLog()}},
		{"at the clock without a time", []verify.Option{verify.WithUntimestampedKeysUnsafe()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := pb
			if strings.Contains(tc.name, "without") {
				b = signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
			}
			v := newVerifier(t, root.TrustedMaterialCollection{vs, expired}, tc.opts...)
			_, err := v.Verify(bg, bundleOf(t, b), artifact, verify.KeyIDs("old"))
			wantCheck(t, err, verify.CheckKey)
		})
	}
}

// TestResultValidUntil: a key-signed bundle accepted without a signing time, its key's window
// judged at the clock, holds until the window closes; one with a verified signing time does
// not depend on the clock, and neither does a key with an open window.
func TestResultValidUntil(t *testing.T) {
	kf := newKeyFixture(t, "k")
	vs := newVirtualSigstore(t)
	end := time.Now().Add(time.Hour).Truncate(time.Second)
	windowed, err := verify.TrustedKeys(verify.PublicKey{ID: "k", Key: kf.kp.GetPublicKey(), NotAfter: end})
	if err != nil {
		t.Fatal(err)
	}
	open, err := verify.TrustedKeys(verify.PublicKey{ID: "k", Key: kf.kp.GetPublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	untimed := signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	timed := signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	addTimestamp(t, vs, timed)

	res, err := newVerifier(t, windowed, verify.WithUntimestampedKeysUnsafe()).Verify(bg, bundleOf(t, untimed), artifact, verify.KeyIDs("k"))
	if err != nil || !res.ValidUntil().Equal(end) {
		t.Fatalf("untimed, windowed key: ValidUntil %v, %v; want %v", res.ValidUntil(), err, end)
	}
	res, err = newVerifier(t, open, verify.WithUntimestampedKeysUnsafe()).Verify(bg, bundleOf(t, untimed), artifact, verify.KeyIDs("k"))
	if err != nil || !res.ValidUntil().IsZero() {
		t.Fatalf("untimed, open key: ValidUntil %v, %v; want zero", res.ValidUntil(), err)
	}
	res, err = newVerifier(t, root.TrustedMaterialCollection{vs, windowed}, verify.WithoutTransparencyLog()).Verify(bg, bundleOf(t, timed), artifact, verify.KeyIDs("k"))
	if err != nil || !res.ValidUntil().IsZero() {
		t.Fatalf("timestamped: ValidUntil %v, %v; want zero", res.ValidUntil(), err)
	}
}

func TestVerifyKeyless(t *testing.T) {
	vs := newVirtualSigstore(t)
	pb := keylessBundle(t, vs, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	v := newVerifier(t, vs, verify.WithoutCertificateTransparencyUnsafe(), verify.WithSignedTimestamps(1))
	res, err := v.Verify(bg, bundleOf(t, pb), artifact, certIdentity(t))
	if err != nil {
		t.Fatal(err)
	}
	c := res.Signer().Certificate
	if c == nil || c.Issuer != testIssuer || c.SubjectAlternativeName != testSAN {
		t.Fatalf("signer = %+v", res.Signer())
	}
	kinds := map[string]bool{}
	for _, ts := range res.Timestamps() {
		kinds[ts.Kind] = true
	}
	if !kinds[verify.TimestampTransparencyLog] || !kinds[verify.TimestampRFC3161] {
		t.Errorf("timestamps = %+v", res.Timestamps())
	}

	t.Run("regexp identity", func(t *testing.T) {
		id, err := verify.Certificates(verify.CertificateMatch{IssuerRegexp: `^https://issuer\.example$`, SubjectAlternativeNameRegexp: `@example\.com$`})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(bg, bundleOf(t, pb), artifact, id); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("SCT required by default", func(t *testing.T) {
		_, err := newVerifier(t, vs).Verify(bg, bundleOf(t, pb), artifact, certIdentity(t))
		wantCheck(t, err, verify.CheckCertificate)
	})
	t.Run("entity", func(t *testing.T) {
		ent, err := vs.Attest(testSAN, testIssuer, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.VerifyEntity(bg, ent, artifact, certIdentity(t)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestIdentityMismatch(t *testing.T) { identityMismatch(t) }

func identityMismatch(t *testing.T) []error {
	var errs []error
	vs := newVirtualSigstore(t)
	kf := newKeyFixture(t, "release")
	other, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: kf.kp.GetPublicKey()}, verify.PublicKey{ID: "other", Key: newKeyFixture(t, "x").kp.GetPublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	payload := statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact)
	keyless := bundleOf(t, keylessBundle(t, vs, payload))
	keyed := bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, payload))
	v := newVerifier(t, root.TrustedMaterialCollection{vs, other}, verify.WithoutCertificateTransparencyUnsafe(), verify.WithUntimestampedKeysUnsafe())
	wrongSAN, err := verify.Certificates(verify.CertificateMatch{Issuer: testIssuer, SubjectAlternativeName: "mallory@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	wrongRepo, err := verify.Certificates(verify.CertificateMatch{Issuer: testIssuer, SubjectAlternativeName: testSAN})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    provenance.Bundle
		id   verify.Identity
	}{
		{"wrong SAN", keyless, wrongSAN},
		{"keyless where a key is expected", keyless, verify.KeyIDs("release")},
		{"key where a certificate is expected", keyed, wrongRepo},
		{"another trusted key", keyed, verify.KeyIDs("other")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(bg, tc.b, artifact, tc.id)
			wantCheck(t, err, verify.CheckIdentity)
			errs = append(errs, err)
			var ie *verify.IdentityError
			if !errors.As(err, &ie) {
				t.Fatalf("%v is not an IdentityError", err)
			}
		})
	}
	return errs
}

func TestSubjectBinding(t *testing.T) {
	kf := newKeyFixture(t, "k")
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe())
	sha512 := digest.SHA512.FromString("the artifact")
	multi := bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, otherArtifact, artifact, sha512)))
	for _, tc := range []struct {
		name    string
		subject digest.Digest
	}{{"second of several", artifact}, {"sha512", sha512}, {"first", otherArtifact}} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := v.Verify(bg, multi, tc.subject, verify.KeyIDs("k")); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("another artifact", func(t *testing.T) {
		b := bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, otherArtifact)))
		_, err := v.Verify(bg, b, artifact, verify.KeyIDs("k"))
		wantCheck(t, err, verify.CheckSubject)
		var se *verify.SubjectError
		if !errors.As(err, &se) || len(se.Present) != 1 || se.Present[0] != otherArtifact {
			t.Fatalf("SubjectError = %+v", se)
		}
		want := "verify: subject " + string(artifact)[:19] + ".. not in statement (has " + string(otherArtifact)[:19] + "..)"
		if err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	})
}

// A subject written in upper-case hex names the same artifact; one named only by a weak or
// unknown algorithm binds nothing, even when its value is the artifact's sha256 hex.
func TestSubjectBindingNormalForm(t *testing.T) {
	kf := newKeyFixture(t, "k")
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe())
	stmt := func(subjectDigest string) provenance.Bundle {
		payload := []byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://example.com/p","subject":[{"name":"a","digest":` + subjectDigest + `}],"predicate":{}}`)
		return bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, payload))
	}
	upper := strings.ToUpper(artifact.Encoded())
	if _, err := v.Verify(bg, stmt(`{"sha256":"`+upper+`"}`), artifact, verify.KeyIDs("k")); err != nil {
		t.Fatalf("upper-case subject: %v", err)
	}
	for name, set := range map[string]string{
		"md5 only": `{"md5":"` + artifact.Encoded()[:32] + `"}`,
		"made-up":  `{"mine":"` + artifact.Encoded() + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(bg, stmt(set), artifact, verify.KeyIDs("k"))
			wantCheck(t, err, verify.CheckSubject)
		})
	}
}

func TestStatementV01(t *testing.T) {
	kf := newKeyFixture(t, "k")
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe())
	payload := []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v1","subject":[{"name":"img","digest":{"sha256":"` + artifact.Encoded() + `"}}],"predicate":{"buildDefinition":{"buildType":"x","externalParameters":{}},"runDetails":{"builder":{"id":"b"}}}}`)
	res, err := v.Verify(bg, bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, payload)), artifact, verify.KeyIDs("k"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Statement().GetType() != provenance.StatementTypeV01 {
		t.Errorf("type = %q", res.Statement().GetType())
	}
}

func TestConfigurationErrorsAreNotVerificationErrors(t *testing.T) { configurationErrors(t) }

func configurationErrors(t *testing.T) []error {
	var errs []error
	kf := newKeyFixture(t, "k")
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe())
	good := bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact)))
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		b       provenance.Bundle
		subject digest.Digest
		id      verify.Identity
		want    error
	}{
		{"zero identity", bg, good, artifact, verify.Identity{}, verify.ErrInvalidIdentity},
		{"unknown key id", bg, good, artifact, verify.KeyIDs("nobody"), verify.ErrInvalidIdentity},
		{"empty subject", bg, good, "", verify.KeyIDs("k"), verify.ErrInvalidSubject},
		{"sha384 subject", bg, good, digest.SHA384.FromString("x"), verify.KeyIDs("k"), verify.ErrInvalidSubject},
		{"media type", bg, provenance.Bundle{MediaType: "text/plain", Data: good.Data}, artifact, verify.KeyIDs("k"), verify.ErrUnsupportedMediaType},
		{"cancelled", cancelled, good, artifact, verify.KeyIDs("k"), context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(tc.ctx, tc.b, tc.subject, tc.id)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if errors.Is(err, verify.ErrVerification) {
				t.Fatalf("%v wraps ErrVerification", err)
			}
			errs = append(errs, err)
		})
	}
	return errs
}

func TestNewRejectsBadOptions(t *testing.T) { badOptions(t) }

func badOptions(t *testing.T) []error {
	var errs []error
	kf := newKeyFixture(t, "k")
	for _, tc := range []struct {
		name string
		tm   root.TrustedMaterial
		opt  verify.Option
	}{
		{"nil material", nil, verify.WithTransparencyLog(1)},
		{"zero log threshold", kf.keys, verify.WithTransparencyLog(0)},
		{"zero observer threshold", kf.keys, verify.WithObserverTimestamps(0)},
		{"zero signed threshold", kf.keys, verify.WithSignedTimestamps(0)},
		{"zero SCT threshold", kf.keys, verify.WithCertificateTransparency(0)},
		{"no predicate types", kf.keys, verify.WithPredicateTypes()},
		{"nil clock", kf.keys, verify.WithClock(nil)},
		{"payload cap", kf.keys, verify.WithMaxPayloadBytes(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify.New(tc.tm, tc.opt)
			if !errors.Is(err, verify.ErrInvalidConfig) {
				t.Fatalf("err = %v", err)
			}
			errs = append(errs, err)
		})
	}
	return errs
}

func TestBareDSSE(t *testing.T) {
	kf := newKeyFixture(t, "k")
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe())
	pb := signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	env := envelopeJSON(t, pb)
	res, err := v.Verify(bg, provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: env}, artifact, verify.KeyIDs("k"))
	if err != nil {
		t.Fatal(err)
	}
	if res.MediaType() != provenance.MediaTypeDSSE {
		t.Errorf("media type %q", res.MediaType())
	}
	t.Run("two signatures", func(t *testing.T) {
		two := proto.Clone(pb).(*protobundle.Bundle)
		e := two.GetDsseEnvelope()
		e.Signatures = append(e.Signatures, e.Signatures[0])
		_, err := v.Verify(bg, provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: envelopeJSON(t, two)}, artifact, verify.KeyIDs("k"))
		wantCheck(t, err, verify.CheckSignature)
	})
	t.Run("not JSON", func(t *testing.T) {
		_, err := v.Verify(bg, provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: []byte("{")}, artifact, verify.KeyIDs("k"))
		wantCheck(t, err, verify.CheckFormat)
	})
}

func envelopeJSON(t testing.TB, pb *protobundle.Bundle) []byte {
	t.Helper()
	e := pb.GetDsseEnvelope()
	type sig struct {
		KeyID string `json:"keyid"`
		Sig   []byte `json:"sig"`
	}
	var sigs []sig
	for _, s := range e.GetSignatures() {
		sigs = append(sigs, sig{KeyID: s.GetKeyid(), Sig: s.GetSig()})
	}
	data, err := json.Marshal(struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
		Signatures  []sig  `json:"signatures"`
	}{e.GetPayloadType(), e.GetPayload(), sigs})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSizeLimits(t *testing.T) {
	kf := newKeyFixture(t, "k")
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe(), verify.WithMaxPayloadBytes(64))
	b := bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact)))
	_, err := v.Verify(bg, b, artifact, verify.KeyIDs("k"))
	wantCheck(t, err, verify.CheckSize)
	huge := provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: make([]byte, provenance.MaxBundleBytes+1)}
	_, err = v.Verify(bg, huge, artifact, verify.KeyIDs("k"))
	wantCheck(t, err, verify.CheckSize)
	var se *provenance.SizeError
	if !errors.As(err, &se) || se.Limit != provenance.MaxBundleBytes {
		t.Fatalf("%v: no SizeError", err)
	}
}

func TestResultJSON(t *testing.T) {
	kf := newKeyFixture(t, "k")
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe())
	b := bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact)))
	res, err := v.Verify(bg, b, artifact, verify.KeyIDs("k"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := v.Verify(bg, b, artifact, verify.KeyIDs("k"))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := json.Marshal(res2)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b2) {
		t.Errorf("unstable JSON:\n%s\n%s", a, b2)
	}
	var doc map[string]any
	if err := json.Unmarshal(a, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != verify.ResultSchemaV1 || doc["subject"] != string(artifact) || doc["signer"].(map[string]any)["keyId"] != "k" {
		t.Errorf("JSON = %s", a)
	}
}

func TestPredicateTypeOption(t *testing.T) {
	kf := newKeyFixture(t, "k")
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe(), verify.WithPredicateTypes(provenance.PredicateSLSAProvenanceV1))
	b := bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSPDX, artifact)))
	_, err := v.Verify(bg, b, artifact, verify.KeyIDs("k"))
	wantCheck(t, err, verify.CheckPredicateType)
	var pe *verify.PredicateTypeError
	if !errors.As(err, &pe) || pe.Got != provenance.PredicateSPDX {
		t.Fatalf("%v", err)
	}
}
