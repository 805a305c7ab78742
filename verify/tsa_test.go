package verify_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
)

// TestRealTimestampAuthority dates a key-signed bundle with a running sigstore
// timestamp-authority server and verifies it against the server's certificate chain.
func TestRealTimestampAuthority(t *testing.T) {
	url := testenv.TSAURL(t)
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+"/certchain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	pemChain, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("certchain: %d %v", resp.StatusCode, err)
	}
	chain, err := verify.ParseCertificatesPEM(pemChain)
	if err != nil {
		t.Fatal(err)
	}
	tsa, err := verify.TimestampAuthority(chain, url)
	if err != nil {
		t.Fatal(err)
	}

	kf := newKeyFixture(t, "release")
	content := &sgsign.DSSEData{Data: statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact), PayloadType: provenance.MediaTypeInToto}
	pb, err := sgsign.Bundle(content, kf.kp, sgsign.BundleOptions{
		Context:              ctx,
		TimestampAuthorities: []*sgsign.TimestampAuthority{sgsign.NewTimestampAuthority(&sgsign.TimestampAuthorityOptions{URL: url, Timeout: 30 * time.Second})},
	})
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, root.TrustedMaterialCollection{kf.keys, tsa}, verify.WithoutTransparencyLog(), verify.WithSignedTimestamps(1))
	res, err := v.Verify(ctx, bundleOf(t, pb), artifact, verify.KeyIDs("release"))
	if err != nil {
		t.Fatal(err)
	}
	at, ok := res.SignedAt()
	if !ok || time.Since(at) > 5*time.Minute || res.Timestamps()[0].Kind != verify.TimestampRFC3161 {
		t.Fatalf("timestamps %+v", res.Timestamps())
	}

	// The same bundle against a timestamp authority that did not sign it.
	untrusted := newVirtualSigstore(t)
	v = newVerifier(t, root.TrustedMaterialCollection{kf.keys, untrusted}, verify.WithoutTransparencyLog(), verify.WithSignedTimestamps(1))
	_, err = v.Verify(ctx, bundleOf(t, pb), artifact, verify.KeyIDs("release"))
	wantCheck(t, err, verify.CheckTimestamp)
}
