package verify_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// checkOutcome asserts what must hold for any input: bad bytes are a verification failure,
// and a pass names the subject asked for.
func checkOutcome(t *testing.T, res *verify.Result, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, verify.ErrVerification) {
			t.Fatalf("error %v does not wrap ErrVerification", err)
		}
		return
	}
	if res.Subject() != artifact {
		t.Fatalf("verified subject %s", res.Subject())
	}
}

func FuzzVerifyBundle(f *testing.F) {
	kf := newKeyFixture(f, "k")
	vs := newVirtualSigstore(f)
	payload := statementBytes(f, provenance.PredicateSLSAProvenanceV1, artifact)
	f.Add(bundleOf(f, signKey(f, kf.kp, provenance.MediaTypeInToto, payload)).Data)
	f.Add(bundleOf(f, keylessBundle(f, vs, payload)).Data)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1"}`))
	f.Add([]byte(`{}`))
	v := newVerifier(f, root.TrustedMaterialCollection{vs, kf.keys}, verify.WithUntimestampedKeysUnsafe(), verify.WithoutCertificateTransparencyUnsafe())
	id := certIdentity(f).Or(verify.KeyIDs("k"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := v.Verify(bg, provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: data}, artifact, id)
		checkOutcome(t, res, err)
	})
}

func FuzzVerifyEnvelope(f *testing.F) {
	kf := newKeyFixture(f, "k")
	payload := statementBytes(f, provenance.PredicateSLSAProvenanceV1, artifact)
	f.Add(envelopeJSON(f, signKey(f, kf.kp, provenance.MediaTypeInToto, payload)))
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}`))
	f.Add([]byte(`{"signatures":[]}`))
	v := newVerifier(f, kf.keys, verify.WithUntimestampedKeysUnsafe())
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := v.Verify(bg, provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: data}, artifact, verify.AnyTrustedKey())
		checkOutcome(t, res, err)
	})
}

func FuzzVerifyCosignLayer(f *testing.F) {
	vs := newVirtualSigstore(f)
	pb := keylessBundle(f, vs, statementBytes(f, provenance.PredicateSLSAProvenanceV1, artifact))
	layer, ann := cosignLayer(f, vs, pb)
	f.Add(layer.Data, ann[verify.AnnotationCosignCertificate], ann[verify.AnnotationCosignChain], ann[verify.AnnotationCosignBundle], "")
	f.Add(layer.Data, "", "", `{"Payload":{"body":"e30=","logID":"00"}}`, `{"SignedRFC3161Timestamp":"AA=="}`)
	v := newVerifier(f, vs, verify.WithoutCertificateTransparencyUnsafe())
	id := certIdentity(f)
	f.Fuzz(func(t *testing.T, data []byte, cert, chain, rekor, tsa string) {
		a := map[string]string{}
		for k, val := range map[string]string{
			verify.AnnotationCosignCertificate: cert,
			verify.AnnotationCosignChain:       chain,
			verify.AnnotationCosignBundle:      rekor,
			verify.AnnotationCosignRFC3161:     tsa,
		} {
			if val != "" {
				a[k] = val
			}
		}
		res, err := v.VerifyCosignLayer(bg, provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: data}, a, artifact, id)
		checkOutcome(t, res, err)
	})
}

func FuzzTrustedRootJSON(f *testing.F) {
	f.Add(trustedRootJSON(f, newVirtualSigstore(f)))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{"publicKey":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := verify.TrustedRootJSON(data)
		if err != nil {
			if !errors.Is(err, verify.ErrTrustMaterial) {
				t.Fatalf("error %v does not wrap ErrTrustMaterial", err)
			}
			return
		}
		if _, err := verify.New(tr); err != nil && !errors.Is(err, verify.ErrInvalidConfig) {
			t.Fatalf("New: %v", err)
		}
	})
}

// FuzzParseBundleFile: any input is refused as bad evidence or read into documents that read
// back the same: same kind and media type, and for a Sigstore bundle, passing it to Verify
// with that media type raises no format disagreement.
func FuzzParseBundleFile(f *testing.F) {
	vs := newVirtualSigstore(f)
	pb := keylessBundle(f, vs, statementBytes(f, provenance.PredicateSLSAProvenanceV1, artifact))
	layer, ann := cosignLayer(f, vs, pb)
	f.Add(marshalBundle(f, pb))
	f.Add(marshalBundle(f, asV01(pb)))
	f.Add(append(append(envelopeJSON(f, pb), '\n'), envelopeJSON(f, pb)...))
	f.Add(cosignBundleJSON(f, layer, ann))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3.1+json"}`))
	f.Add([]byte(`{"media_type":"application/vnd.dev.sigstore.bundle+json;version=0.2","verification_material":{}}`))
	f.Add([]byte(`{"base64Signature":"e30=","cert":"","rekorBundle":null}`))
	f.Add([]byte("\n{}\n[]\n"))
	if dir := vectorsIfPresent(); dir != "" {
		for _, rel := range []string{
			"sigstore-conformance/bundle-verify/happy-path-v0.1/bundle.sigstore.json",
			"sigstore-conformance/bundle-verify/happy-path-v0.2/bundle.sigstore.json",
			"sigstore-conformance/bundle-verify/rekor2-dsse-happy-path/bundle.sigstore.json",
			"gh-cli/sigstore-js-2.1.0_with_2_bundles.jsonl",
		} {
			if data, err := os.ReadFile(filepath.Join(dir, rel)); err == nil {
				f.Add(data)
			}
		}
	}
	v := newVerifier(f, vs, verify.WithoutCertificateTransparencyUnsafe())
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := verify.ParseBundleFile(data)
		if err != nil {
			if !errors.Is(err, verify.ErrVerification) {
				t.Fatalf("error %v does not wrap ErrVerification", err)
			}
			return
		}
		if len(docs) == 0 {
			t.Fatal("no documents and no error")
		}
		for _, d := range docs {
			kind := d.Kind
			if kind == verify.FileCosignBundle {
				kind = verify.FileDSSEEnvelope // its Data is the envelope it carries
			}
			again, err := verify.ParseBundleFile(d.Bundle.Data)
			if err != nil || len(again) != 1 || again[0].Kind != kind || again[0].Bundle.MediaType != d.Bundle.MediaType {
				t.Fatalf("document %s %q reads back as %d documents, %v", d.Kind, d.Bundle.MediaType, len(again), err)
			}
			_, err = v.VerifyFile(bg, d, artifact, verify.AnyIdentityUnsafe())
			if errors.Is(err, verify.ErrMediaTypeMismatch) || errors.Is(err, verify.ErrUnknownBundleVersion) || errors.Is(err, verify.ErrUnknownFormat) {
				t.Fatalf("document %s %q read, then refused by Verify: %v", d.Kind, d.Bundle.MediaType, err)
			}
		}
	})
}

// vectorsIfPresent returns the shared conformance vectors directory, or "".
func vectorsIfPresent() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		v := filepath.Join(dir, "shared", "conformance", "vectors")
		if st, err := os.Stat(v); err == nil && st.IsDir() {
			return v
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
