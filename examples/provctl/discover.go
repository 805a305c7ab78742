package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/oras"
)

// discovered is one attestation as discover prints it with --output json.
type discovered struct {
	// Manifest is the digest of the manifest holding the attestation.
	Manifest digest.Digest `json:"manifest"`
	// Subject is the digest of the manifest it is about.
	Subject digest.Digest `json:"subject"`
	// Source says where it was found, such as referrers-api or cosign-att-tag.
	Source oras.Source `json:"source"`
	// ArtifactType is the manifest's artifact type (the layer's for cosign's legacy tags).
	ArtifactType string `json:"artifactType"`
	// PredicateType is the predicate type recorded in annotations, when any.
	PredicateType string `json:"predicateType,omitempty"`
	// Signed is false for statements stored without a signature.
	Signed bool `json:"signed"`
}

// discoverOutput is the JSON document discover prints.
type discoverOutput struct {
	// Reference is REF as given.
	Reference string `json:"reference"`
	// Digest is the digest REF resolved to.
	Digest digest.Digest `json:"digest"`
	// Attestations lists every attestation found.
	Attestations []discovered `json:"attestations"`
}

// discoverCmd runs "provctl discover".
func discoverCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	fset := newFlagSet("discover", stderr, "discover [--plain-http] [--oci-layout] [--output json] REF")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registry (loopback only)")
	layout := fset.Bool("oci-layout", false, "REF is an OCI layout: PATH[:tag|@digest]")
	output := fset.String("output", "text", "output `format`: text or json")
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return usagef("discover: --output must be text or json, not %q", *output)
	}
	ref, err := parseReference(pos[0], *layout)
	if err != nil {
		return err
	}
	store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: *plainHTTP}, env)
	if err != nil {
		return err
	}
	found, err := store.Discover(ctx, image, oras.Query{})
	if err != nil {
		return fmt.Errorf("discover %s: %w", ref, err)
	}
	out := discoverOutput{Reference: pos[0], Digest: image.Digest, Attestations: []discovered{}}
	for _, a := range found {
		out.Attestations = append(out.Attestations, discovered{
			Manifest: a.Manifest.Digest, Subject: a.Subject.Digest, Source: a.Source,
			ArtifactType: a.ArtifactType, PredicateType: a.PredicateType, Signed: a.Signed,
		})
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
		return nothingFound(out)
	}
	p := textout.New(stdout)
	p.Printf("%s@%s\n", ref.name, image.Digest)
	for _, a := range out.Attestations {
		what := a.PredicateType
		if what == "" {
			what = a.ArtifactType
		}
		unsigned := ""
		if !a.Signed {
			unsigned = " (unsigned)"
		}
		p.Printf("└── %s %-15s %s%s\n", a.Manifest, a.Source, what, unsigned)
	}
	if len(out.Attestations) == 0 {
		p.Printf("no attestations\n")
	}
	if err := p.Err(); err != nil {
		return err
	}
	return nothingFound(out)
}

// nothingFound ends discover with exit status 1 when nothing is attached, as grep does when
// nothing matches, after the outcome was printed.
func nothingFound(out discoverOutput) error {
	if len(out.Attestations) == 0 {
		return &exitError{exitDenied}
	}
	return nil
}
