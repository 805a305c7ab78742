package index

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"maps"
	"math/big"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// testCA is a private certificate authority that certifies ephemeral signing keys as Fulcio
// does: a short-lived certificate for a workflow's URI, with the OIDC issuer and the Fulcio
// extensions that say which repository, ref and workflow run signed. A virtual Sigstore's
// timestamp authority dates the signatures, so that verify checks each certificate at a
// verified signing time.
type testCA struct {
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	vs       *ca.VirtualSigstore
	verifier *verify.Verifier
}

// newTestCA makes a CA whose signatures vs dates; a new virtual Sigstore when vs is nil.
func newTestCA(t testing.TB, vs *ca.VirtualSigstore) *testCA {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "provkit test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if vs == nil {
		if vs, err = ca.NewVirtualSigstore(); err != nil {
			t.Fatal(err)
		}
	}
	cas, err := verify.CertificateAuthorities([]*x509.Certificate{cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(root.TrustedMaterialCollection{cas, vs}, verify.WithoutTransparencyLog(), verify.WithoutCertificateTransparencyUnsafe())
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, vs: vs, verifier: v}
}

// certifier is the certificate provider of one keyless signer: it certifies the signer's
// ephemeral key for san, with the extensions ext.
type certifier struct {
	ca  *testCA
	san string
	ext certificate.Extensions
}

// extensionOIDs are the Fulcio OIDs of the extensions the tests set, with DER-encoded UTF-8
// string values, as Fulcio writes them; githubWorkflowRepository is one of the first OIDs,
// whose value is the raw string.
func (c *certifier) extensions() ([]pkix.Extension, error) {
	var out []pkix.Extension
	for _, e := range []struct {
		oid   asn1.ObjectIdentifier
		value string
	}{
		{certificate.OIDIssuerV2, c.ext.Issuer},
		{certificate.OIDBuildSignerURI, c.ext.BuildSignerURI},
		{certificate.OIDSourceRepositoryURI, c.ext.SourceRepositoryURI},
		{certificate.OIDSourceRepositoryDigest, c.ext.SourceRepositoryDigest},
		{certificate.OIDSourceRepositoryRef, c.ext.SourceRepositoryRef},
		{certificate.OIDRunInvocationURI, c.ext.RunInvocationURI},
	} {
		if e.value == "" {
			continue
		}
		der, err := asn1.MarshalWithParams(e.value, "utf8")
		if err != nil {
			return nil, err
		}
		out = append(out, pkix.Extension{Id: e.oid, Value: der})
	}
	if c.ext.GithubWorkflowRepository != "" {
		//lint:ignore SA1019 certificates of older Fulcio releases carry the deprecated OIDs, and verify still reads them
		out = append(out, pkix.Extension{Id: certificate.OIDGitHubWorkflowRepository, Value: []byte(c.ext.GithubWorkflowRepository)})
	}
	return out, nil
}

// GetCertificate implements sigstore-go's sign.CertificateProvider.
func (c *certifier) GetCertificate(_ context.Context, kp sgsign.Keypair, _ *sgsign.CertificateProviderOptions) ([]byte, error) {
	var uris []*url.URL
	var emails []string
	if strings.Contains(c.san, "://") {
		san, err := url.Parse(c.san)
		if err != nil {
			return nil, err
		}
		uris = append(uris, san)
	} else {
		emails = append(emails, c.san)
	}
	exts, err := c.extensions()
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		NotBefore:       now.Add(-time.Minute),
		NotAfter:        now.Add(10 * time.Minute),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		URIs:            uris,
		EmailAddresses:  emails,
		ExtraExtensions: exts,
	}
	return x509.CreateCertificate(rand.Reader, tmpl, c.ca.cert, kp.GetPublicKey(), c.ca.key)
}

// sign signs st keylessly as san, certified with the extensions ext, and adds an RFC 3161
// timestamp of the signature from the virtual Sigstore's timestamp authority.
func (c *testCA) sign(t testing.TB, st *intoto.Statement, san string, ext certificate.Extensions) provenance.Bundle {
	t.Helper()
	s, err := sign.NewKeylessSigner(sign.StaticToken("token"), sign.WithCertificateProvider(&certifier{ca: c, san: san, ext: ext}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sign(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	var pb protobundle.Bundle
	if err := protojson.Unmarshal(b.Data, &pb); err != nil {
		t.Fatal(err)
	}
	sigs := pb.GetDsseEnvelope().GetSignatures()
	if len(sigs) != 1 {
		t.Fatalf("%d signatures in the envelope, want 1", len(sigs))
	}
	tsr, err := c.vs.TimestampResponse(sigs[0].GetSig())
	if err != nil {
		t.Fatal(err)
	}
	pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
		Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsr}},
	}
	if b.Data, err = protojson.Marshal(&pb); err != nil {
		t.Fatal(err)
	}
	return b
}

// signAndVerify signs st as san with the extensions ext, and verifies the bundle for subject,
// expecting that identity and those extensions.
func (c *testCA) signAndVerify(t testing.TB, st *intoto.Statement, subject digest.Digest, san string, ext certificate.Extensions) *verify.Result {
	t.Helper()
	id, err := verify.Certificates(verify.CertificateMatch{Issuer: ext.Issuer, SubjectAlternativeName: san})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.verifier.Verify(context.Background(), c.sign(t, st, san, ext), subject, id)
	if err != nil {
		t.Fatalf("verify the keyless signature of %s: %v", san, err)
	}
	return r
}

// TestTestCA checks that verify reads back the extensions the test CA certifies, and that it
// rejects a certificate from a CA it does not trust: the keyless results of the tests are
// genuine verifications.
func TestTestCA(t *testing.T) {
	f := newFixture(t)
	ext := f.results["build"].Signer().Certificate
	if ext == nil {
		t.Fatal("the build result has no certificate")
	}
	if ext.Extensions != releaseExtensions() {
		t.Errorf("verified extensions %+v, want %+v", ext.Extensions, releaseExtensions())
	}
	other := newTestCA(t, f.ca.vs)
	id, err := verify.Certificates(verify.CertificateMatch{Issuer: appIssuer, SubjectAlternativeName: appSAN})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.ca.verifier.Verify(t.Context(), other.sign(t, f.results["build"].Statement(), appSAN, releaseExtensions()), f.app, id)
	if !errors.Is(err, verify.ErrVerification) {
		t.Errorf("a certificate of an untrusted CA: got %v, want an error wrapping verify.ErrVerification", err)
	}
}

// TestExtensionsOf checks that every field of sigstore-go's certificate.Extensions is recorded
// under its JSON name, and that empty fields are not.
func TestExtensionsOf(t *testing.T) {
	var e certificate.Extensions
	v := reflect.ValueOf(&e).Elem()
	want := map[string]string{}
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if v.Field(i).Kind() != reflect.String || name == "" || i%3 == 2 {
			continue // left empty
		}
		v.Field(i).SetString("value of " + name)
		want[name] = "value of " + name
	}
	got := map[string]string{}
	rows := extensionsOf(e)
	for _, r := range rows {
		got[r[0]] = r[1]
	}
	if !maps.Equal(got, want) || len(rows) != len(want) {
		t.Errorf("extensionsOf = %v, want %v", rows, want)
	}
	if !slices.IsSortedFunc(rows, func(x, y [2]string) int { return strings.Compare(x[0], y[0]) }) {
		t.Errorf("extensionsOf = %v, not sorted by name", rows)
	}
	if rows := extensionsOf(certificate.Extensions{}); len(rows) != 0 {
		t.Errorf("extensionsOf(zero) = %v, want none", rows)
	}
}
