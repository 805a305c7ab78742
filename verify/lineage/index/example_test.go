package index_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log"
	"os"
	"path/filepath"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage/index"
)

// Index a verified build in a SQLite file, then find what was built from a commit and who
// signed it.
func Example() {
	ctx := context.Background()

	// A build signed with a key, and verified: only verified results can be indexed.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	image := digest.FromString("app image manifest")
	build := &provenance.Build{
		BuildType:          "https://example.com/buildtypes/make/v1",
		ExternalParameters: map[string]any{"target": "release"},
		ResolvedDependencies: []*intoto.ResourceDescriptor{{
			Uri:    provenance.GitURI("https://github.com/example/app", "refs/heads/main"),
			Digest: map[string]string{"gitCommit": "4f2e1c0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e"},
		}},
		BuilderID: "https://ci.example/builders/linux",
	}
	st, err := build.Statement([]*intoto.ResourceDescriptor{{
		Name: "registry.example/app", Digest: map[string]string{"sha256": image.Encoded()},
	}})
	if err != nil {
		log.Fatal(err)
	}
	signer, err := sign.NewKeySigner(key)
	if err != nil {
		log.Fatal(err)
	}
	bundle, err := signer.Sign(ctx, st)
	if err != nil {
		log.Fatal(err)
	}
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "release-key", Key: key.Public()})
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		log.Fatal(err)
	}
	res, err := verifier.Verify(ctx, bundle, image, verify.KeyIDs("release-key"))
	if err != nil {
		log.Fatal(err)
	}

	// The index: a SQLite file the caller names.
	dir, err := os.MkdirTemp("", "index-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ix, err := index.OpenSQLite(ctx, filepath.Join(dir, "provenance.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Add(ctx, res); err != nil {
		log.Fatal(err)
	}

	found, err := ix.Find(ctx, index.Query{
		SourceCommit: "4f2e1c0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e",
		Parameters:   map[string]string{"/target": "release"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range found {
		fmt.Println(a.Name, a.Digest == image)
		sigs, err := ix.Signatures(ctx, a.Statement)
		if err != nil {
			log.Fatal(err)
		}
		for _, s := range sigs {
			fmt.Println("signed by key", s.Signer.KeyID)
		}
	}
	// Output:
	// registry.example/app true
	// signed by key release-key
}
