package sign_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
)

func exampleStatement() *intoto.Statement {
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{{
		Name:   "app.tar.gz",
		Digest: map[string]string{"sha256": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"},
	}}, provenance.PredicateSLSAProvenanceV1, map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://example.com/build/v1"},
		"runDetails":      map[string]any{"builder": map[string]any{"id": "https://example.com/builder"}},
	})
	if err != nil {
		panic(err)
	}
	return st
}

// Sign a statement with a key from a file (here generated) and write the bundle.
func ExampleNewKeySigner() {
	kp, err := sign.GenerateKeyPair(protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256, []byte("password"))
	if err != nil {
		panic(err)
	}
	// Later, or in another program: sign.LoadPrivateKey("cosign.key", password).
	key, err := sign.ParsePrivateKey(kp.PrivatePEM, []byte("password"))
	if err != nil {
		panic(err)
	}
	signer, err := sign.NewKeySigner(key)
	if err != nil {
		panic(err)
	}
	b, err := signer.Sign(context.Background(), exampleStatement())
	if err != nil {
		panic(err)
	}
	fmt.Println(b.MediaType)
	fmt.Println(b.PredicateType)
	// Output:
	// application/vnd.dev.sigstore.bundle.v0.3+json
	// https://slsa.dev/provenance/v1
}

// The key hint names a public key in key-signed bundles.
func ExampleKeyHint() {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	hint, err := sign.KeyHint(key.Public())
	if err != nil {
		panic(err)
	}
	fmt.Println(hint)
	// Output:
	// M54v+RdjBQe2pCO1zghOKF0fpl2Ts+J6YZXTu+vJriM=
}

// A wrong password is its own error.
func ExampleParsePrivateKey() {
	kp, err := sign.GenerateKeyPair(protocommon.PublicKeyDetails_PKIX_ED25519, []byte("right"))
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(kp.PrivatePEM)
	fmt.Println(block.Type)
	_, err = sign.ParsePrivateKey(kp.PrivatePEM, []byte("wrong"))
	fmt.Println(errors.Is(err, sign.ErrWrongPassword))
	// Output:
	// ENCRYPTED SIGSTORE PRIVATE KEY
	// true
}

// Envelope gives the bare DSSE envelope, one line of an .intoto.jsonl file.
func ExampleEnvelope() {
	signer, err := sign.NewKeySigner(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if err != nil {
		panic(err)
	}
	b, err := signer.Sign(context.Background(), exampleStatement())
	if err != nil {
		panic(err)
	}
	env, err := sign.Envelope(b)
	if err != nil {
		panic(err)
	}
	var line struct {
		PayloadType string `json:"payloadType"`
		Signatures  []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(env.Data, &line); err != nil {
		panic(err)
	}
	fmt.Println(env.MediaType)
	fmt.Println(line.PayloadType, len(line.Signatures))
	// Output:
	// application/vnd.dsse.envelope.v1+json
	// application/vnd.in-toto+json 1
}

// A keyless signer in GitHub Actions: the caller passes the environment explicitly.
func ExampleNewKeylessSigner() {
	env := map[string]string{} // in a workflow: the process environment, e.g. from os.Environ
	tokens := sign.GitHubActionsToken(env, nil)
	signer, err := sign.NewKeylessSigner(tokens,
		sign.WithFulcio("https://fulcio.sigstore.dev"),
		sign.WithTransparencyLog("https://rekor.sigstore.dev", 1))
	if err != nil {
		panic(err)
	}
	_, err = signer.Sign(context.Background(), exampleStatement())
	fmt.Println(errors.Is(err, sign.ErrNoToken))
	// Output:
	// true
}
