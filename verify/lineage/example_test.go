package lineage_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

func Example() {
	ctx := context.Background()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	signer, _ := sign.NewKeySigner(key)
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "lab", Key: key.Public()})
	// Key-signed bundles without a log entry or timestamp, as an offline lab signs them.
	v, _ := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())

	file := func(name, content string) *intoto.ResourceDescriptor {
		rd, _ := provenance.SubjectFromReader(name, strings.NewReader(content))
		return rd
	}
	raw, clean, model := file("raw.csv", "a,b\n1,\n2,3\n"), file("clean.csv", "a,b\n2,3\n"), file("model.json", `{"w":1.5}`)
	steps := []*workflow.Step{
		{Name: "clean", Image: "registry.example/clean@" + digest.FromString("clean tool").String(),
			Inputs: []*intoto.ResourceDescriptor{raw}, Outputs: []*intoto.ResourceDescriptor{clean}, BuilderID: "https://lab.example/runner"},
		{Name: "train", Image: "registry.example/train@" + digest.FromString("train tool").String(),
			Inputs: []*intoto.ResourceDescriptor{clean}, Outputs: []*intoto.ResourceDescriptor{model}, BuilderID: "https://lab.example/runner"},
	}
	var results []*verify.Result
	for _, step := range steps {
		st, err := step.Statement()
		if err != nil {
			fmt.Println(err)
			return
		}
		bundle, _ := signer.Sign(ctx, st)
		subject := digest.NewDigestFromEncoded(digest.SHA256, step.Outputs[0].GetDigest()["sha256"])
		res, err := v.Verify(ctx, bundle, subject, verify.KeyIDs("lab"))
		if err != nil {
			fmt.Println(err)
			return
		}
		results = append(results, res)
	}

	g, err := lineage.New(results)
	if err != nil {
		fmt.Println(err)
		return
	}
	modelDigest := digest.NewDigestFromEncoded(digest.SHA256, model.GetDigest()["sha256"])
	up, _ := g.Upstream(modelDigest) // sorted by digest
	for _, d := range up {
		n, _ := g.Node(d)
		fmt.Println("upstream:", strings.Split(n.Label(), "@")[0])
	}
	rawDigest := digest.NewDigestFromEncoded(digest.SHA256, raw.GetDigest()["sha256"])
	path, _ := g.Path(rawDigest, modelDigest)
	for _, e := range path {
		fmt.Println("path:", e.Step, e.Signers)
	}
	if err := g.WriteROCrate(os.Stdout, lineage.Crate{Name: "demo"}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// upstream: raw.csv
	// upstream: clean.csv
	// upstream: registry.example/train
	// upstream: registry.example/clean
	// path: clean [key:lab]
	// path: train [key:lab]
	// lineage: invalid RO-Crate description: License is required
}
