package lineage_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	orasgo "oras.land/oras-go/v2"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

// A dataset stored as an OCI artifact, with two attestations attached: provenance signed by the
// lab's key, and a forgery signed by another. Collect keeps the first and rejects the second.
func ExampleCollect() {
	ctx := context.Background()
	lab := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	forger := ed25519.NewKeyFromSeed([]byte(strings.Repeat("x", ed25519.SeedSize)))
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "lab", Key: lab.Public()})
	v, _ := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())

	store, _ := oras.NewMemory()
	data := []byte("id,score\n1,7.5\n")
	layer, _ := orasgo.PushBytes(ctx, store.Target(), "text/csv", data)
	manifest, _ := orasgo.PackManifest(ctx, store.Target(), orasgo.PackManifestVersion1_1, "application/vnd.example.dataset",
		orasgo.PackManifestOptions{Layers: []ocispec.Descriptor{layer}})

	attest := func(key ed25519.PrivateKey, source string) {
		build := &provenance.Build{BuildType: "https://lab.example/ingest/v1", BuilderID: "https://lab.example/runner",
			ExternalParameters: map[string]any{"source": source},
			ResolvedDependencies: []*intoto.ResourceDescriptor{{Uri: source,
				Digest: map[string]string{"sha256": digest.FromString(source).Encoded()}}}}
		st, err := build.Statement([]*intoto.ResourceDescriptor{{Name: "data.csv", Digest: map[string]string{"sha256": layer.Digest.Encoded()}}})
		if err != nil {
			fmt.Println(err)
			return
		}
		signer, _ := sign.NewKeySigner(key)
		b, _ := signer.Sign(ctx, st)
		if _, err := store.Attach(ctx, manifest, b); err != nil {
			fmt.Println(err)
		}
	}
	attest(lab, "https://data.example/survey.csv")
	attest(forger, "https://evil.example/poisoned.csv")

	c, err := lineage.Collect(ctx, store, v, verify.KeyIDs("lab"), lineage.Stored{Subject: manifest, Artifact: layer.Digest})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range c.Rejected {
		fmt.Println("rejected, evidence failed verification:", errors.Is(r.Err, verify.ErrVerification))
	}
	g, _ := lineage.New(c.Results)
	up, _ := g.Upstream(layer.Digest)
	for _, d := range up {
		n, _ := g.Node(d)
		fmt.Println("data.csv comes from", n.Label())
	}
	// Output:
	// rejected, evidence failed verification: true
	// data.csv comes from https://data.example/survey.csv
}

// Bundles kept as files, each next to the artifact it is about: pair each bundle with its
// artifact's digest, verify them all, and build the graph of those that verified.
func ExampleNew_files() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "lineage-example")
	defer os.RemoveAll(dir)
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	signer, _ := sign.NewKeySigner(key)
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "lab", Key: key.Public()})
	v, _ := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())

	// Two steps, raw.csv -> clean.csv -> model.json, each with its bundle in a file.
	files := map[string]string{"raw.csv": "a,b\n1,\n2,3\n", "clean.csv": "a,b\n2,3\n", "model.json": `{"w":1.5}`}
	subject := func(name string) *intoto.ResourceDescriptor {
		rd, _ := provenance.SubjectFromReader(name, strings.NewReader(files[name]))
		return rd
	}
	for _, step := range [][2]string{{"raw.csv", "clean.csv"}, {"clean.csv", "model.json"}} {
		build := &provenance.Build{BuildType: "https://lab.example/step/v1", BuilderID: "https://lab.example/runner",
			ExternalParameters:   map[string]any{"output": step[1]},
			ResolvedDependencies: []*intoto.ResourceDescriptor{subject(step[0])}}
		st, err := build.Statement([]*intoto.ResourceDescriptor{subject(step[1])})
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := signer.Sign(ctx, st)
		if err := os.WriteFile(filepath.Join(dir, step[1]+".sigstore.json"), b.Data, 0o600); err != nil {
			fmt.Println(err)
			return
		}
	}

	// Read each bundle file and pair it with the digest of the artifact it is about.
	var items []verify.Item
	for _, name := range []string{"clean.csv", "model.json"} {
		data, err := os.ReadFile(filepath.Join(dir, name+".sigstore.json"))
		if err != nil {
			fmt.Println(err)
			return
		}
		items = append(items, verify.Item{
			Bundle:   provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: data},
			Subject:  digest.FromString(files[name]),
			Identity: verify.KeyIDs("lab"),
		})
	}
	var results []*verify.Result
	for i, o := range v.VerifyAll(ctx, items, 2) {
		if o.Err != nil {
			fmt.Println("rejected", i, o.Err)
			continue
		}
		results = append(results, o.Result)
	}
	g, err := lineage.New(results)
	if err != nil {
		fmt.Println(err)
		return
	}
	path, _ := g.Path(digest.FromString(files["raw.csv"]), digest.FromString(files["model.json"]))
	for _, e := range path {
		from, _ := g.Node(e.From)
		to, _ := g.Node(e.To)
		fmt.Println(from.Label(), "->", to.Label(), "signed by", e.Signers)
	}
	// Output:
	// raw.csv -> clean.csv signed by [key:lab]
	// clean.csv -> model.json signed by [key:lab]
}

// Write the HTML report of what a store holds: the graph, its steps and the rejected
// attestations. WriteHTML runs Graphviz's dot, found on PATH; when it is missing, the error
// says to install the graphviz package.
func ExampleGraph_WriteHTML() {
	var (
		ctx      = context.Background()
		store    lineage.Source     // an oras.Store: a registry, an OCI layout
		verifier *verify.Verifier   // trusting the release keys
		image    ocispec.Descriptor // the image's manifest
	)
	c, err := lineage.Collect(ctx, store, verifier, verify.KeyIDs("release"), lineage.Stored{Subject: image})
	if err != nil {
		fmt.Println(err)
		return
	}
	g, err := lineage.New(c.Results)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := os.Create("lineage.html")
	if err != nil {
		fmt.Println(err)
		return
	}
	err = g.WriteHTML(ctx, f, lineage.Report{Title: "Release lineage", Rejected: c.Rejected})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Println(err)
	}
}
