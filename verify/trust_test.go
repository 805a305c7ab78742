package verify_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// trustedRootJSON serialises vs's CAs, logs and TSA as a private instance's trusted_root.json.
func trustedRootJSON(t testing.TB, vs *ca.VirtualSigstore) []byte {
	t.Helper()
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), rawLogIDs(t, vs.CTLogs()), vs.TimestampingAuthorities(), rawLogIDs(t, vs.RekorLogs()))
	if err != nil {
		t.Fatal(err)
	}
	data, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// rawLogIDs fixes VirtualSigstore's log IDs, which hold the hex text of the key id where a
// trusted root holds its bytes.
func rawLogIDs(t testing.TB, logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
	t.Helper()
	out := map[string]*root.TransparencyLog{}
	for k, l := range logs {
		id, err := hex.DecodeString(string(l.ID))
		if err != nil {
			t.Fatal(err)
		}
		c := *l
		c.ID = id
		out[k] = &c
	}
	return out
}

func TestTrustedRootFile(t *testing.T) {
	vs := newVirtualSigstore(t)
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(path, trustedRootJSON(t, vs), 0o600); err != nil {
		t.Fatal(err)
	}
	tr, err := verify.LoadTrustedRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, tr, verify.WithoutCertificateTransparencyUnsafe())
	pb := keylessBundle(t, vs, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	if _, err := v.Verify(bg, bundleOf(t, pb), artifact, certIdentity(t)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		load func() error
	}{
		{"missing file", func() error { _, err := verify.LoadTrustedRoot(filepath.Join(t.TempDir(), "none.json")); return err }},
		{"not JSON", func() error { _, err := verify.TrustedRootJSON([]byte("{")); return err }},
		{"wrong media type", func() error {
			_, err := verify.TrustedRootJSON([]byte(`{"mediaType":"application/x"}`))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.load()
			if !errors.Is(err, verify.ErrTrustMaterial) || errors.Is(err, verify.ErrVerification) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestCertificateAuthoritiesPrivatePKI(t *testing.T) {
	vs := newVirtualSigstore(t)
	fca := vs.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	rootPEM, err := cryptoutils.MarshalCertificateToPEM(fca.Root)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := verify.ParseCertificatesPEM(rootPEM)
	if err != nil {
		t.Fatal(err)
	}
	cas, err := verify.CertificateAuthorities(roots, fca.Intermediates)
	if err != nil {
		t.Fatal(err)
	}
	// The PKI's CA, with a TSA to date signatures: no log, no CT.
	tsaCA := vs.TimestampingAuthorities()[0].(*root.SigstoreTimestampingAuthority)
	tsa, err := verify.TimestampAuthority(append(append([]*x509.Certificate{tsaCA.Leaf}, tsaCA.Intermediates...), tsaCA.Root), "https://tsa.example")
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, root.TrustedMaterialCollection{cas, tsa}, verify.WithoutTransparencyLog(), verify.WithSignedTimestamps(1))
	pb := keylessBundle(t, vs, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	pb.VerificationMaterial.TlogEntries = nil
	res, err := v.Verify(bg, bundleOf(t, pb), artifact, certIdentity(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.Signer().Certificate == nil {
		t.Fatal("no certificate signer")
	}
	other := newVirtualSigstore(t)
	foreign := keylessBundle(t, other, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	foreign.VerificationMaterial.TlogEntries = nil
	addTimestamp(t, vs, foreign)
	_, err = v.Verify(bg, bundleOf(t, foreign), artifact, certIdentity(t))
	wantCheck(t, err, verify.CheckCertificate)

	if _, err := verify.ParseCertificatesPEM([]byte("nothing")); !errors.Is(err, verify.ErrTrustMaterial) {
		t.Fatalf("err = %v", err)
	}
	if _, err := verify.CertificateAuthorities(nil, nil); !errors.Is(err, verify.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
}

func TestTrustedKeys(t *testing.T) {
	kf := newKeyFixture(t, "a")
	pemKey, err := cryptoutils.MarshalPublicKeyToPEM(kf.kp.GetPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	pk, err := verify.ParsePublicKeyPEM("a", pemKey)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := verify.Fingerprint(pk.Key)
	if err != nil {
		t.Fatal(err)
	}
	if fp != string(kf.kp.GetHint()) {
		t.Errorf("fingerprint %q, sigstore-go hint %q", fp, kf.kp.GetHint())
	}
	noID, err := verify.TrustedKeys(verify.PublicKey{Key: pk.Key})
	if err != nil {
		t.Fatal(err)
	}
	if ids := noID.IDs(); len(ids) != 1 || ids[0] != fp {
		t.Errorf("IDs = %v", ids)
	}
	for _, tc := range []struct {
		name string
		keys []verify.PublicKey
		want error
	}{
		{"none", nil, verify.ErrInvalidConfig},
		{"nil key", []verify.PublicKey{{ID: "x"}}, verify.ErrInvalidConfig},
		{"duplicate id", []verify.PublicKey{pk, pk}, verify.ErrInvalidConfig},
		{"inverted window", []verify.PublicKey{{ID: "w", Key: pk.Key, NotBefore: time.Now(), NotAfter: time.Now().Add(-time.Hour)}}, verify.ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := verify.TrustedKeys(tc.keys...); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if _, err := verify.ParsePublicKeyPEM("bad", []byte("not a key")); !errors.Is(err, verify.ErrTrustMaterial) {
		t.Fatalf("err = %v", err)
	}
}

// tufRepository writes a one-key TUF repository serving target "trusted_root.json" into dir,
// with consistent snapshots as Sigstore's, and returns the initial root.json.
func tufRepository(t testing.TB, dir string, target []byte) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signature.LoadSigner(priv, crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	key, err := metadata.KeyFromPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(24 * time.Hour)
	rt := metadata.Root(expires)
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		if err := rt.Signed.AddKey(key, role); err != nil {
			t.Fatal(err)
		}
	}
	tg := metadata.Targets(expires)
	tf, err := metadata.TargetFile().FromBytes("trusted_root.json", target, "sha256")
	if err != nil {
		t.Fatal(err)
	}
	tg.Signed.Targets["trusted_root.json"] = tf
	sn := metadata.Snapshot(expires)
	ts := metadata.Timestamp(expires)
	for _, sign := range []func() error{
		func() error { _, err := tg.Sign(signer); return err },
		func() error { _, err := sn.Sign(signer); return err },
		func() error { _, err := ts.Sign(signer); return err },
		func() error { _, err := rt.Sign(signer); return err },
	} {
		if err := sign(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	sum := tf.Hashes["sha256"]
	for name, write := range map[string]func(string) error{
		"1.root.json":     func(p string) error { return rt.ToFile(p, true) },
		"1.targets.json":  func(p string) error { return tg.ToFile(p, true) },
		"1.snapshot.json": func(p string) error { return sn.ToFile(p, true) },
		"timestamp.json":  func(p string) error { return ts.ToFile(p, true) },
		filepath.Join("targets", hex.EncodeToString(sum)+".trusted_root.json"): func(p string) error {
			return os.WriteFile(p, target, 0o644)
		},
	} {
		if err := write(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "1.root.json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestTrustedRootTUF(t *testing.T) {
	vs := newVirtualSigstore(t)
	repo := t.TempDir()
	initial := tufRepository(t, repo, trustedRootJSON(t, vs))
	srv := httptest.NewServer(http.FileServer(http.Dir(repo)))
	cache := t.TempDir()
	opts := verify.TUFOptions{CacheDir: cache, MirrorURL: srv.URL, Root: initial}

	online, err := verify.TrustedRootTUF(bg, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()

	opts.Offline = true
	offline, err := verify.TrustedRootTUF(bg, opts)
	if err != nil {
		t.Fatalf("offline from the cache: %v", err)
	}
	pb := keylessBundle(t, vs, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	for name, tm := range map[string]root.TrustedMaterial{"online": online, "offline": offline} {
		t.Run(name, func(t *testing.T) {
			v := newVerifier(t, tm, verify.WithoutCertificateTransparencyUnsafe())
			if _, err := v.Verify(bg, bundleOf(t, pb), artifact, certIdentity(t)); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("offline with an empty cache", func(t *testing.T) {
		_, err := verify.TrustedRootTUF(bg, verify.TUFOptions{CacheDir: t.TempDir(), Offline: true, MirrorURL: srv.URL, Root: initial})
		if !errors.Is(err, verify.ErrTrustMaterial) || errors.Is(err, verify.ErrVerification) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no cache directory", func(t *testing.T) {
		_, err := verify.TrustedRootTUF(bg, verify.TUFOptions{Offline: true})
		if !errors.Is(err, verify.ErrInvalidConfig) {
			t.Fatalf("err = %v", err)
		}
	})
}
