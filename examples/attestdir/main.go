// Command attestdir shows how a build system embeds provkit: after a build has written its
// artifacts to a folder, one call hashes every file there, collects the build's facts (git state,
// CI platform, redacted environment), and signs one SLSA provenance statement naming every
// artifact. It writes the Sigstore bundle (for verification) and the bare DSSE envelope as a
// .intoto.jsonl line (for tools such as slsa-verifier that read that format).
//
//	go run ./examples/attestdir -dir ./dist [-key cosign.key] [-source .] [-out provenance]
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
	"github.com/provkit/provkit/sign"
)

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", "", "folder the build wrote its artifacts to (required)")
	flag.StringVar(&o.source, "source", ".", "build context: the git checkout and the folder the build ran in")
	flag.StringVar(&o.keyPath, "key", "", "private key: cosign.key (password from PROVKIT_PASSWORD) or PEM (default: a new ephemeral key)")
	flag.StringVar(&o.out, "out", "provenance", "write PREFIX.sigstore.json and PREFIX.intoto.jsonl")
	flag.Parse()
	if o.dir == "" {
		_ = textout.New(os.Stderr).Literal("attestdir: -dir is required\n")
		os.Exit(2)
	}
	o.env = collect.ProcessEnv()
	// A registry that stalls cannot keep the program for ever.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, o); err != nil {
		_ = textout.New(os.Stderr).Printf("attestdir: %s\n", err)
		os.Exit(1)
	}
}

// options are what run needs from the command line and the environment.
type options struct {
	dir, source, keyPath, out string
	env                       map[string]string
}

// run attests o.dir and writes the bundle and the envelope next to o.out.
func run(ctx context.Context, w io.Writer, o options) error {
	key, err := signingKey(o.keyPath, o.env)
	if err != nil {
		return err
	}
	signer, err := sign.NewKeySigner(key)
	if err != nil {
		return err
	}
	bundle, subjects, err := attestDir(ctx, signer, o.dir, o.source, o.env)
	if err != nil {
		return err
	}
	envelope, err := sign.Envelope(bundle)
	if err != nil {
		return err
	}
	bundlePath, jsonlPath := o.out+".sigstore.json", o.out+".intoto.jsonl"
	if err := os.WriteFile(bundlePath, bundle.Data, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(jsonlPath, append(envelope.Data, '\n'), 0o644); err != nil {
		return err
	}
	p := textout.New(w)
	for _, s := range subjects {
		p.Printf("sha256:%s  %s\n", s.GetDigest()["sha256"], s.GetName())
	}
	return p.Printf("attested %d artifacts in %s\nbundle   %s (%s)\nenvelope %s\n", len(subjects), o.dir, bundlePath, bundle.Digest(), jsonlPath)
}

// attestDir is the one call a build system makes when its build is done: every regular file
// below dir becomes a subject (hashed in parallel), the build's facts are collected in source
// with the environment env (secrets redacted), and signer signs the SLSA provenance v1 statement.
func attestDir(ctx context.Context, signer sign.Signer, dir, source string, env map[string]string) (provenance.Bundle, []*intoto.ResourceDescriptor, error) {
	started := time.Now().UTC()
	subjects, err := provenance.SubjectsFromDir(ctx, dir)
	if err != nil {
		return provenance.Bundle{}, nil, fmt.Errorf("hash artifacts in %s: %w", dir, err)
	}
	facts, err := collect.Build(ctx, source, collect.WithEnv(env))
	if errors.Is(err, collect.ErrNotGitRepository) {
		facts, err = collect.Build(ctx, source, collect.WithEnv(env), collect.WithoutGit(),
			collect.WithParameters(map[string]any{"artifacts": dir}))
	}
	if err != nil {
		return provenance.Bundle{}, nil, fmt.Errorf("collect build facts: %w", err)
	}
	if facts.StartedOn.IsZero() || facts.StartedOn.After(started) {
		facts.StartedOn = started
	}
	facts.FinishedOn = time.Now().UTC()
	statement, err := facts.Statement(subjects)
	if err != nil {
		return provenance.Bundle{}, nil, fmt.Errorf("make statement: %w", err)
	}
	bundle, err := signer.Sign(ctx, statement)
	if err != nil {
		return provenance.Bundle{}, nil, fmt.Errorf("sign: %w", err)
	}
	return bundle, subjects, nil
}

// signingKey loads the key at path, or makes an ephemeral P-256 key when path is empty.
func signingKey(path string, env map[string]string) (crypto.Signer, error) {
	if path == "" {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	key, err := sign.LoadPrivateKey(path, []byte(env["PROVKIT_PASSWORD"]))
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	return key, nil
}
