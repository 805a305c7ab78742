package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// blobOutput is the JSON document verify-blob-attestation prints with --output json.
type blobOutput struct {
	// File is FILE as given.
	File string `json:"file"`
	// Digest is FILE's sha256 digest, which the statement must name as a subject.
	Digest digest.Digest `json:"digest"`
	// Bundle is the bundle file as given.
	Bundle string `json:"bundle"`
	// Verified says whether the bundle verified.
	Verified bool `json:"verified"`
	// PredicateType is the verified predicate type.
	PredicateType string `json:"predicateType,omitempty"`
	// Signer is who signed, when it verified.
	Signer *verify.Signer `json:"signer,omitempty"`
	// Check names the verification step that failed.
	Check verify.Check `json:"check,omitempty"`
	// Error says why it did not verify.
	Error string `json:"error,omitempty"`
}

// verifyBlobCmd runs "provctl verify-blob-attestation": it verifies a Sigstore bundle file
// against a local file's sha256 digest, as cosign's command of that name does.
func verifyBlobCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	var trust trustFlags
	fset := newFlagSet("verify-blob-attestation", stderr, "verify-blob-attestation --bundle FILE [--type URI] (--key FILE | keyless flags) [--output json] FILE")
	trust.register(fset)
	bundlePath := fset.String("bundle", "", "Sigstore bundle `file` to verify (required)")
	output := fset.String("output", "text", "output `format`: text or json")
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	if *bundlePath == "" {
		return usagef("verify-blob-attestation: --bundle is required")
	}
	if *output != "text" && *output != "json" {
		return usagef("verify-blob-attestation: --output must be text or json, not %q", *output)
	}
	verifier, identity, err := trust.verifier(ctx, "verify-blob-attestation", env)
	if err != nil {
		return err
	}
	data, err := readCapped(*bundlePath, provenance.MaxBundleBytes)
	if err != nil {
		return configError(fmt.Errorf("bundle: %w", err))
	}
	sum, err := fileDigest(pos[0])
	if err != nil {
		return configError(err)
	}
	// The bundle's own mediaType field says its version; any Sigstore bundle type routes it.
	b := provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: data}
	out := blobOutput{File: pos[0], Digest: sum, Bundle: *bundlePath}
	res, verr := verifier.Verify(ctx, b, sum, identity)
	if verr != nil && !errors.Is(verr, verify.ErrVerification) {
		return fmt.Errorf("verify %s: %w", *bundlePath, verr)
	}
	if verr != nil {
		out.Error = verr.Error()
		var ve *verify.VerificationError
		if errors.As(verr, &ve) {
			out.Check = ve.Check
		}
	} else {
		signer := res.Signer()
		out.Verified, out.Signer, out.PredicateType = true, &signer, res.PredicateType()
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		p := textout.New(stdout)
		if out.Verified {
			by := "key " + out.Signer.KeyID
			if c := out.Signer.Certificate; c != nil {
				by = c.SubjectAlternativeName + " (" + c.Issuer + ")"
			}
			p.Printf("verified %s %s %s signed by %s\n", pos[0], out.Digest, out.PredicateType, by)
		} else {
			p.Printf("failed   %s %s: %s\n", pos[0], out.Digest, out.Error)
		}
		if err := p.Err(); err != nil {
			return err
		}
	}
	if !out.Verified {
		return &exitError{exitDenied}
	}
	return nil
}

// fileDigest streams the regular file at path through sha256.
func fileDigest(path string) (digest.Digest, error) {
	f, err := provenance.OpenRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	d, err := digest.SHA256.FromReader(f)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return d, nil
}

// readCapped reads the regular file at path, refusing one over limit bytes.
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := provenance.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, &provenance.SizeError{What: path, Limit: limit, Size: int64(len(data))}
	}
	return data, nil
}
