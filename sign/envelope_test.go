package sign_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

func TestEnvelope(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	st := newStatement(t, 10)
	b, err := s.Sign(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	env, err := sign.Envelope(b)
	if err != nil {
		t.Fatalf("Envelope: %v", err)
	}
	if env.MediaType != provenance.MediaTypeDSSE || env.PredicateType != b.PredicateType {
		t.Fatalf("got media type %q, predicate type %q", env.MediaType, env.PredicateType)
	}
	var got dsse.Envelope
	if err := json.Unmarshal(env.Data, &got); err != nil {
		t.Fatal(err)
	}
	payload, err := got.DecodeB64Payload()
	if err != nil {
		t.Fatal(err)
	}
	want, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if got.PayloadType != provenance.MediaTypeInToto || string(payload) != string(want) || len(got.Signatures) != 1 {
		t.Fatalf("envelope %s", env.Data)
	}
	// The bare envelope verifies with the key through go-securesystemslib's DSSE verifier,
	// which is what .intoto.jsonl consumers use.
	verifier, err := dsse.NewEnvelopeVerifier(ecdsaDSSEVerifier{&key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.Verify(context.Background(), &got); err != nil {
		t.Fatalf("bare envelope does not verify: %v", err)
	}

	again, err := sign.Envelope(env)
	if err != nil || string(again.Data) != string(env.Data) {
		t.Fatalf("an envelope passed again: %v", err)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	tests := []struct {
		name string
		b    provenance.Bundle
		want error
	}{
		{name: "not JSON", b: provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: []byte("{")}, want: sign.ErrInvalidBundle},
		{name: "empty bundle", b: provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: []byte(`{}`)}, want: sign.ErrInvalidBundle},
		{name: "envelope without signatures", b: provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: []byte(`{"payloadType":"x","payload":"","signatures":[]}`)}, want: sign.ErrInvalidBundle},
		{name: "too large", b: provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: make([]byte, provenance.MaxBundleBytes+1)}, want: provenance.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sign.Envelope(tt.b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// ecdsaDSSEVerifier is a go-securesystemslib dsse.Verifier over an ECDSA P-256 public key.
type ecdsaDSSEVerifier struct{ pub *ecdsa.PublicKey }

func (v ecdsaDSSEVerifier) Verify(_ context.Context, data, sig []byte) error {
	h := sha256Sum(data)
	if !ecdsa.VerifyASN1(v.pub, h, sig) {
		return errors.New("bad signature")
	}
	return nil
}
func (v ecdsaDSSEVerifier) KeyID() (string, error)   { return sign.KeyHint(v.pub) }
func (v ecdsaDSSEVerifier) Public() crypto.PublicKey { return v.pub }

// FuzzEnvelope feeds arbitrary bytes as a bundle: Envelope must never panic, fail only with
// ErrInvalidBundle, and return JSON when it succeeds.
func FuzzEnvelope(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	s, err := sign.NewKeySigner(key)
	if err != nil {
		f.Fatal(err)
	}
	b, err := s.SignPayload(context.Background(), "text/plain", []byte("hello"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b.Data, false)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`), false)
	f.Add([]byte(`{"payloadType":"a","payload":"aGk=","signatures":[{"sig":"AA=="}]}`), true)
	f.Fuzz(func(t *testing.T, data []byte, bare bool) {
		mt := provenance.MediaTypeBundleV03
		if bare {
			mt = provenance.MediaTypeDSSE
		}
		env, err := sign.Envelope(provenance.Bundle{MediaType: mt, Data: data})
		if err != nil {
			if !errors.Is(err, sign.ErrInvalidBundle) {
				t.Fatalf("error %v does not wrap ErrInvalidBundle", err)
			}
			return
		}
		if !json.Valid(env.Data) {
			t.Fatalf("envelope is not JSON: %q", env.Data)
		}
	})
}
