package verify_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// asV01 returns a copy of a keyless v0.3 bundle in the v0.1 shape: a certificate chain
// instead of a single certificate, labelled v0.1. Its log entry keeps its inclusion promise.
func asV01(pb *protobundle.Bundle) *protobundle.Bundle {
	c := proto.Clone(pb).(*protobundle.Bundle)
	c.MediaType = provenance.MediaTypeBundleV01
	leaf := c.GetVerificationMaterial().GetCertificate()
	c.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{
		X509CertificateChain: &protocommon.X509CertificateChain{Certificates: []*protocommon.X509Certificate{leaf}},
	}
	return c
}

func marshalBundle(t testing.TB, pb *protobundle.Bundle) []byte {
	t.Helper()
	data, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// wantFormat fails unless err is a format failure wrapping ErrVerification whose
// *BundleFormatError carries sentinel.
func wantFormat(t testing.TB, err error, sentinel error) *verify.BundleFormatError {
	t.Helper()
	wantCheck(t, err, verify.CheckFormat)
	var fe *verify.BundleFormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *BundleFormatError", err, err)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not wrap %v", err, sentinel)
	}
	return fe
}

// TestVerifyMediaTypeAgreesWithContent: the media type a bundle is passed with, and the one
// inside it, must both name a known version and agree with what the content is.
func TestVerifyMediaTypeAgreesWithContent(t *testing.T) {
	vs := newVirtualSigstore(t)
	v3 := keylessBundle(t, vs, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	v1 := asV01(v3)
	v := newVerifier(t, vs, verify.WithoutCertificateTransparencyUnsafe())
	id := certIdentity(t)

	relabel := func(pb *protobundle.Bundle, mt string) *protobundle.Bundle {
		c := proto.Clone(pb).(*protobundle.Bundle)
		c.MediaType = mt
		return c
	}
	for _, tc := range []struct {
		name     string
		declared string
		data     []byte
		want     error // nil verifies
	}{
		{"v0.3 as v0.3", provenance.MediaTypeBundleV03, marshalBundle(t, v3), nil},
		{"v0.1 as v0.1", provenance.MediaTypeBundleV01, marshalBundle(t, v1), nil},
		{"v0.3 in the older spelling", provenance.MediaTypeBundleV03, marshalBundle(t, relabel(v3, "application/vnd.dev.sigstore.bundle+json;version=0.3")), nil},
		{"v0.1 passed as v0.3", provenance.MediaTypeBundleV03, marshalBundle(t, v1), verify.ErrMediaTypeMismatch},
		{"v0.3 passed as v0.1", provenance.MediaTypeBundleV01, marshalBundle(t, v3), verify.ErrMediaTypeMismatch},
		{"v0.3 passed as an envelope", provenance.MediaTypeDSSE, marshalBundle(t, v3), verify.ErrMediaTypeMismatch},
		{"envelope passed as a bundle", provenance.MediaTypeBundleV03, envelopeJSON(t, v3), verify.ErrMediaTypeMismatch},
		{"passed as an unknown version", "application/vnd.dev.sigstore.bundle.v0.3.1+json", marshalBundle(t, v3), verify.ErrUnknownBundleVersion},
		{"v0.1 shape labelled v0.3 inside", provenance.MediaTypeBundleV03, marshalBundle(t, relabel(v1, provenance.MediaTypeBundleV03)), verify.ErrMediaTypeMismatch},
		{"v0.3 shape labelled v0.1 inside", provenance.MediaTypeBundleV01, marshalBundle(t, relabel(v3, provenance.MediaTypeBundleV01)), verify.ErrMediaTypeMismatch},
		{"unknown patch version inside", "application/vnd.dev.sigstore.bundle.v0.3.1+json", marshalBundle(t, relabel(v3, "application/vnd.dev.sigstore.bundle.v0.3.1+json")), verify.ErrUnknownBundleVersion},
		{"unknown version inside", provenance.MediaTypeBundleV03, marshalBundle(t, relabel(v3, "application/vnd.dev.sigstore.bundle+json;version=99.9")), verify.ErrUnknownBundleVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(bg, provenance.Bundle{MediaType: tc.declared, Data: tc.data}, artifact, id)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantFormat(t, err, tc.want)
		})
	}
}

// cosignBundleJSON writes what cosign attest-blob --bundle writes for layer and its annotations.
func cosignBundleJSON(t testing.TB, layer provenance.Bundle, ann map[string]string) []byte {
	t.Helper()
	data, err := json.Marshal(map[string]any{
		"base64Signature": base64.StdEncoding.EncodeToString(layer.Data),
		"cert":            base64.StdEncoding.EncodeToString([]byte(ann[verify.AnnotationCosignCertificate])),
		"rekorBundle":     json.RawMessage(ann[verify.AnnotationCosignBundle]),
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// vectorDocuments returns the signed-document files of the shared conformance vectors, by
// path relative to the vectors directory, and the trusted roots among them apart.
func vectorDocuments(t *testing.T) (dir string, bundles, roots []string) {
	t.Helper()
	dir = conformanceVectors(t)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		n := d.Name()
		switch {
		case n == "cases.json" || n == "analysis.json":
		case strings.HasSuffix(n, ".json") && (strings.Contains(n, "trusted_root") || strings.Contains(n, "trusted-root") || filepath.Base(filepath.Dir(rel)) == "trusted-roots"):
			roots = append(roots, rel)
		case strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".jsonl") || strings.HasSuffix(n, ".sigstore") || strings.HasSuffix(n, ".slsa"):
			bundles = append(bundles, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, bundles, roots
}

// contentMediaType returns the media type provkit labels a bundle of the version its own
// mediaType names.
func contentMediaType(t *testing.T, data []byte) string {
	t.Helper()
	var m struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType == "application/vnd.dev.sigstore.bundle+json;version=0.3" {
		return provenance.MediaTypeBundleV03
	}
	return m.MediaType
}

// TestParseBundleFileVectors detects the kind and version of every bundle in the conformance
// vectors (Sigstore bundles v0.1 to v0.3 from sigstore-go, sigstore-js, sigstore-python,
// sigstore-conformance, slsa-verifier and gh, as .sigstore.json, .sigstore and JSON Lines),
// refuses the ones whose label is wrong, and reads their DSSE envelopes as .intoto.jsonl lines.
func TestParseBundleFileVectors(t *testing.T) {
	dir, files, roots := vectorDocuments(t)
	refused := map[string]error{
		"sigstore-conformance/bundle-verify/bundle-unknown-version_fail/bundle.sigstore.json":         verify.ErrUnknownBundleVersion,
		"sigstore-conformance/bundle-verify/intoto-missing-inclusion-proof_fail/bundle.sigstore.json": verify.ErrMediaTypeMismatch,
		"sigstore-conformance/bundle-verify/rekor2-no-inclusion-proof_fail/bundle.sigstore.json":      verify.ErrMediaTypeMismatch,
		"sigstore-conformance/bundle-verify/bundle-malformed-json_fail/bundle.sigstore.json":          verify.ErrUnknownFormat,
	}
	versions := map[string]int{}
	var envelopes [][]byte
	var v01, v03 [][]byte
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		got, err := verify.ParseBundleFile(data)
		if want, ok := refused[rel]; ok {
			wantFormat(t, err, want)
			continue
		}
		if err != nil {
			// Only sigstore-conformance's failing cases may be refused, and only those that
			// sigstore-go's own decoding refuses as well.
			if !strings.HasSuffix(filepath.Dir(rel), "_fail") {
				t.Errorf("%s: %v", rel, err)
			} else if sb := (&sgbundle.Bundle{}); sb.UnmarshalJSON(data) == nil {
				t.Errorf("%s: refused (%v), but sigstore-go decodes it", rel, err)
			} else if !errors.Is(err, verify.ErrVerification) {
				t.Errorf("%s: %v does not wrap ErrVerification", rel, err)
			}
			continue
		}
		lines := bytes.Count(bytes.TrimSpace(data), []byte("\n")) + 1
		if strings.HasSuffix(rel, ".jsonl") && len(got) != lines {
			t.Errorf("%s: %d documents from %d lines", rel, len(got), lines)
		}
		for _, f := range got {
			if f.Kind != verify.FileSigstoreBundle {
				t.Errorf("%s: kind %s", rel, f.Kind)
			}
			if want := contentMediaType(t, f.Bundle.Data); f.Bundle.MediaType != want {
				t.Errorf("%s: media type %q, content says %q", rel, f.Bundle.MediaType, want)
			}
			versions[f.Bundle.MediaType]++
			pb := &protobundle.Bundle{}
			if err := protojson.Unmarshal(f.Bundle.Data, pb); err != nil {
				t.Fatal(err)
			}
			if env := pb.GetDsseEnvelope(); env != nil {
				data, err := protojson.Marshal(env)
				if err != nil {
					t.Fatal(err)
				}
				envelopes = append(envelopes, data)
			}
			switch {
			case pb.GetVerificationMaterial().GetX509CertificateChain() != nil:
				v01 = append(v01, f.Bundle.Data)
			case pb.GetVerificationMaterial().GetCertificate() != nil:
				v03 = append(v03, f.Bundle.Data)
			}
		}
	}
	t.Logf("bundles by version: %v; %d DSSE envelopes", versions, len(envelopes))
	for _, mt := range []string{provenance.MediaTypeBundleV01, provenance.MediaTypeBundleV02, provenance.MediaTypeBundleV03} {
		if versions[mt] == 0 {
			t.Errorf("no vector detected as %s", mt)
		}
	}

	t.Run("intoto.jsonl of envelopes", func(t *testing.T) {
		got, err := verify.ParseBundleFile(append(bytes.Join(envelopes, []byte("\n")), '\n'))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(envelopes) {
			t.Fatalf("%d envelopes read of %d", len(got), len(envelopes))
		}
		for i, f := range got {
			if f.Kind != verify.FileDSSEEnvelope || f.Bundle.MediaType != provenance.MediaTypeDSSE || !bytes.Equal(f.Bundle.Data, envelopes[i]) {
				t.Fatalf("envelope %d read as %s %q", i, f.Kind, f.Bundle.MediaType)
			}
		}
	})
	t.Run("chains labelled v0.3", func(t *testing.T) {
		for _, data := range v01 {
			relabelled := bytes.Replace(data, []byte(contentMediaTypeRaw(t, data)), []byte(provenance.MediaTypeBundleV03), 1)
			_, err := verify.ParseBundleFile(relabelled)
			wantFormat(t, err, verify.ErrMediaTypeMismatch)
		}
	})
	t.Run("single certificates labelled v0.1", func(t *testing.T) {
		for _, data := range v03 {
			relabelled := bytes.Replace(data, []byte(contentMediaTypeRaw(t, data)), []byte(provenance.MediaTypeBundleV01), 1)
			_, err := verify.ParseBundleFile(relabelled)
			wantFormat(t, err, verify.ErrMediaTypeMismatch)
		}
	})
	t.Run("trusted roots", func(t *testing.T) {
		for _, rel := range roots {
			data, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				t.Fatal(err)
			}
			_, err = verify.ParseBundleFile(data)
			wantFormat(t, err, verify.ErrUnknownFormat)
		}
	})
	if len(v01) == 0 || len(v03) == 0 || len(roots) == 0 {
		t.Fatalf("vectors: %d with chains, %d with single certificates, %d trusted roots", len(v01), len(v03), len(roots))
	}
}

func contentMediaTypeRaw(t *testing.T, data []byte) string {
	t.Helper()
	var m struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m.MediaType
}

// TestParseBundleFileVerifies reads each kind of file and verifies what it read: a v0.3 and a
// v0.1 bundle, an .intoto.jsonl line and a cosign bundle.
func TestParseBundleFileVerifies(t *testing.T) {
	vs := newVirtualSigstore(t)
	v3 := keylessBundle(t, vs, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	layer, ann := cosignLayer(t, vs, v3)
	v := newVerifier(t, vs, verify.WithoutCertificateTransparencyUnsafe())
	kf := newKeyFixture(t, "k")
	keyed := signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	vk := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe())

	for _, tc := range []struct {
		name string
		data []byte
		kind verify.FileKind
		mt   string
		v    *verify.Verifier
		id   verify.Identity
	}{
		{"v0.3 bundle", marshalBundle(t, v3), verify.FileSigstoreBundle, provenance.MediaTypeBundleV03, v, certIdentity(t)},
		{"v0.1 bundle, indented", indent(t, marshalBundle(t, asV01(v3))), verify.FileSigstoreBundle, provenance.MediaTypeBundleV01, v, certIdentity(t)},
		{"intoto.jsonl line", append(envelopeJSON(t, keyed), '\n'), verify.FileDSSEEnvelope, provenance.MediaTypeDSSE, vk, verify.AnyTrustedKey()},
		{"cosign bundle", cosignBundleJSON(t, layer, ann), verify.FileCosignBundle, provenance.MediaTypeDSSE, v, certIdentity(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := verify.ParseBundleFile(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Kind != tc.kind || got[0].Bundle.MediaType != tc.mt {
				t.Fatalf("read %+v", got)
			}
			if _, err := tc.v.VerifyFile(bg, got[0], artifact, tc.id); err != nil {
				t.Fatal(err)
			}
			if _, err := tc.v.VerifyFile(bg, got[0], otherArtifact, tc.id); !errors.Is(err, verify.ErrVerification) {
				t.Fatalf("another subject: %v", err)
			}
		})
	}
}

func indent(t *testing.T, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, data, "", "  "); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestParseBundleFileRefuses covers the files that are refused before any signature is read.
func TestParseBundleFileRefuses(t *testing.T) {
	blobSig, err := json.Marshal(map[string]string{"base64Signature": base64.StdEncoding.EncodeToString([]byte("raw signature bytes"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data string
		want error
		line int
	}{
		{"empty", "  \n\n", verify.ErrUnknownFormat, 0},
		{"not JSON", "hello", verify.ErrUnknownFormat, 0},
		{"a JSON array", "[]", verify.ErrUnknownFormat, 0},
		{"some other object", `{"kind":"x"}`, verify.ErrUnknownFormat, 0},
		{"no media type", `{"verificationMaterial":{}}`, verify.ErrUnknownBundleVersion, 0},
		{"unknown version", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.4+json"}`, verify.ErrUnknownBundleVersion, 0},
		{"patch version", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3.1+json"}`, verify.ErrUnknownBundleVersion, 0},
		{"second line bad", `{"payloadType":"a","payload":"","signatures":[]}` + "\n" + `{"mediaType":"application/vnd.dev.sigstore.bundle.v9+json"}`, verify.ErrUnknownBundleVersion, 2},
		{"cosign blob signature", string(blobSig), verify.ErrUnknownFormat, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify.ParseBundleFile([]byte(tc.data))
			fe := wantFormat(t, err, tc.want)
			if fe.Line != tc.line {
				t.Fatalf("line %d, want %d (%v)", fe.Line, tc.line, err)
			}
		})
	}
}
