package lineage_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

// Example_research records a step with its parameters and the person who ran it, rebuilds its
// output, and exports a Workflow Run Crate, with its data, that CheckROCrate finds conforming.
func Example_research() {
	ctx := context.Background()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	signer, _ := sign.NewKeySigner(key)
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "lab", Key: key.Public()})
	v, _ := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	data := map[string]string{"raw.csv": "t\n-52\n18\n", "clean.csv": "t\n18\n"}
	file := func(name string) *intoto.ResourceDescriptor {
		rd, _ := provenance.SubjectFromReader(name, strings.NewReader(data[name]))
		return rd
	}
	raw, clean := file("raw.csv"), file("clean.csv")
	cleanDigest := digest.FromString(data["clean.csv"])
	start := time.Date(2026, 5, 4, 14, 0, 0, 0, time.UTC)
	step := &workflow.Step{Name: "clean", Workflow: "heat-study", RunID: "run-7",
		Image:      "ghcr.io/lab/clean:1.1@" + digest.FromString("clean tool").String(),
		Command:    []string{"clean", "--min=-40", "raw.csv"},
		Parameters: map[string]any{"min": -40},
		Agents:     []workflow.Agent{{Name: "Ada Lovelace", ORCID: "0000-0002-1825-0097"}},
		Inputs:     []*intoto.ResourceDescriptor{raw}, Outputs: []*intoto.ResourceDescriptor{clean},
		BuilderID: "https://lab.example/runner", StartedOn: start, FinishedOn: start.Add(time.Minute)}
	st, err := step.Statement()
	if err != nil {
		fmt.Println(err)
		return
	}
	check, _ := rebuild.Check(rebuild.Input{Original: st, Rebuilt: []*intoto.ResourceDescriptor{file("clean.csv")}, CheckedOn: start.Add(time.Hour)})
	rebuilt, _ := check.Statement()
	var results []*verify.Result
	for _, s := range []*intoto.Statement{st, rebuilt} {
		bundle, _ := signer.Sign(ctx, s)
		res, err := v.Verify(ctx, bundle, cleanDigest, verify.KeyIDs("lab"))
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
	a := g.Activities()[0]
	fmt.Println(a.Name, lineage.ParameterText(a.Parameters), a.Agents[0].ID())
	for _, r := range g.Rebuilds(cleanDigest) {
		fmt.Println("rebuilt by", r.Signers[0], "matched:", r.Matched())
	}

	// The crate, with its data as a zip; the data comes from wherever the caller keeps it.
	source := func(d digest.Digest) (io.ReadCloser, error) {
		for _, content := range data {
			if digest.FromString(content) == d {
				return io.NopCloser(strings.NewReader(content)), nil
			}
		}
		return nil, fmt.Errorf("%s: %w", d, fs.ErrNotExist)
	}
	var zipped bytes.Buffer
	c := lineage.Crate{Name: "Heat study", License: "CC-BY-4.0", Workflow: "heat-study"}
	if err := g.WriteROCrateZip(ctx, &zipped, c, source); err != nil {
		fmt.Println(err)
		return
	}
	var metadata bytes.Buffer
	_ = g.WriteROCrate(&metadata, c)
	findings, _ := lineage.CheckROCrate(metadata.Bytes())
	musts := 0
	for _, f := range findings {
		if f.Level == lineage.LevelMust {
			musts++
		}
	}
	fmt.Println("MUSTs broken:", musts)
	// Output:
	// clean min=-40 https://orcid.org/0000-0002-1825-0097
	// rebuilt by key:lab matched: true
	// MUSTs broken: 0
}
