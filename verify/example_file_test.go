package verify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/verify"
)

// Read a bundle file whatever it holds, and verify each document in it. The file's kind and
// bundle version come from its content; a file whose label disagrees with it is refused.
func ExampleParseBundleFile() {
	image := digest.FromString("an image")
	bundle, kp := exampleBundle(image)
	file := bundle.Data // the bytes of app.sigstore.json

	docs, err := verify.ParseBundleFile(file)
	if err != nil {
		fmt.Println(err)
		return
	}
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: kp.GetPublicKey()})
	v, _ := verify.New(keys, verify.WithUntimestampedKeysUnsafe())
	for _, doc := range docs {
		res, err := v.VerifyFile(context.Background(), doc, image, verify.KeyIDs("release"))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(doc.Kind, doc.Bundle.MediaType, res.PredicateType())
	}

	// The same bundle claiming a version that does not exist.
	relabelled := strings.Replace(string(file), "bundle.v0.3+json", "bundle.v0.3.9+json", 1)
	_, err = verify.ParseBundleFile([]byte(relabelled))
	fmt.Println(err)
	fmt.Println(errors.Is(err, verify.ErrUnknownBundleVersion), errors.Is(err, verify.ErrVerification))
	// Output:
	// sigstore-bundle application/vnd.dev.sigstore.bundle.v0.3+json https://slsa.dev/provenance/v1
	// verify: "application/vnd.dev.sigstore.bundle.v0.3.9+json" refused: it names no bundle version this package reads (v0.1, v0.2, v0.3)
	// true true
}
