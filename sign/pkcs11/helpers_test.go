//go:build cgo

package pkcs11_test

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ThalesGroup/crypto11"
	intoto "github.com/in-toto/attestation/go/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	sgroot "github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
)

const (
	tokenLabel = "provkit-test"
	userPIN    = "1234"
	soPIN      = "5678"
)

// token is a SoftHSM2 token initialised in a temporary directory for one test.
type token struct {
	module string
	label  string
	pin    string
	slot   int
}

var slotRE = regexp.MustCompile(`reassigned to slot (\d+)`)

// newToken points SoftHSM2 at a fresh token directory (through SOFTHSM2_CONF, which SoftHSM
// reads when the module is initialised) and initialises one token there with softhsm2-util.
// Every Key and crypto11 context of the test must be closed before the test ends, so that the
// module is finalised and the next test's token directory is read.
func newToken(t testing.TB) *token {
	t.Helper()
	module := testenv.SoftHSM(t)
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Fatalf("PROVKIT_TEST_SOFTHSM is set but softhsm2-util is not on PATH: %v", err)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command(util, "--init-token", "--free", "--label", tokenLabel, "--pin", userPIN, "--so-pin", soPIN).CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	m := slotRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("softhsm2-util did not say which slot holds the token:\n%s", out)
	}
	slot, err := strconv.Atoi(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return &token{module: module, label: tokenLabel, pin: userPIN, slot: slot}
}

// keySpec is a key pair to generate on a token.
type keySpec struct {
	label string
	id    []byte
	curve elliptic.Curve // ECDSA when set
	bits  int            // RSA when curve is nil
}

// generate creates key pairs on the token through crypto11 and returns their public keys.
func (tok *token) generate(t testing.TB, specs ...keySpec) []crypto.PublicKey {
	t.Helper()
	c, err := crypto11.Configure(&crypto11.Config{Path: tok.module, TokenLabel: tok.label, Pin: tok.pin})
	if err != nil {
		t.Fatalf("crypto11.Configure: %v", err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	var pubs []crypto.PublicKey
	for _, s := range specs {
		var k crypto11.Signer
		if s.curve != nil {
			k, err = c.GenerateECDSAKeyPairWithLabel(s.id, []byte(s.label), s.curve)
		} else {
			k, err = c.GenerateRSAKeyPairWithLabel(s.id, []byte(s.label), s.bits)
		}
		if err != nil {
			t.Fatalf("generating key %q: %v", s.label, err)
		}
		pubs = append(pubs, k.Public())
	}
	return pubs
}

// testStatement returns a small in-toto statement.
func testStatement(t testing.TB) *intoto.Statement {
	t.Helper()
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{{
		Name:   "app.tar",
		Digest: map[string]string{"sha256": "4d7ab1c1a8bd21dcd9a4e1b3a2c8f4de7a5d8b0f6b3c2e1a0f9e8d7c6b5a4f3e"},
	}}, "https://example.com/predicate/v1", map[string]any{"ok": true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// signBundle signs st with key through sign.NewKeySigner and parses the Sigstore bundle.
func signBundle(t testing.TB, key crypto.Signer, st *intoto.Statement, opts ...sign.Option) *sgbundle.Bundle {
	t.Helper()
	s, err := sign.NewKeySigner(key, opts...)
	if err != nil {
		t.Fatalf("NewKeySigner: %v", err)
	}
	pb, err := s.Sign(context.Background(), st)
	if err != nil {
		t.Fatalf("signing bundle: %v", err)
	}
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(pb.Data); err != nil {
		t.Fatalf("parsing bundle: %v", err)
	}
	return &b
}

// verifyBundle verifies b with sigstore-go against the single trusted verifier sv. It does not
// stop the test, so goroutines may call it.
func verifyBundle(b *sgbundle.Bundle, sv signature.Verifier) error {
	hint := string(b.VerificationMaterial.GetPublicKey().GetHint())
	tm := sgroot.NewTrustedPublicKeyMaterialFromMapping(map[string]*sgroot.ExpiringKey{
		hint: sgroot.NewExpiringKey(sv, time.Time{}, time.Time{}),
	})
	v, err := sgverify.NewVerifier(tm, sgverify.WithNoObserverTimestamps())
	if err != nil {
		return err
	}
	_, err = v.Verify(b, sgverify.NewPolicy(sgverify.WithoutArtifactUnsafe(), sgverify.WithKey()))
	return err
}

// digest hashes msg with h.
func digest(h crypto.Hash, msg []byte) []byte {
	d := h.New()
	d.Write(msg)
	return d.Sum(nil)
}
