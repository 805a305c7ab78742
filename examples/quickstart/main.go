// Command quickstart runs provkit's whole path on an OCI image layout in a temporary folder, with
// no network: it builds a small image, generates SLSA provenance from the current directory's git
// state and environment (secrets redacted), signs it, attaches it to the image, discovers it,
// verifies it, decides with a policy, and shows that a tampered copy is denied.
//
//	go run ./examples/quickstart [-dir DIR] [-key cosign.key]
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/oci"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

//go:embed policy.yaml
var samplePolicy []byte

const repository = "quickstart/hello"

func main() {
	dir := flag.String("dir", "", "OCI layout folder to use (default: a new temporary folder)")
	keyPath := flag.String("key", "", "private key to sign with: cosign.key (password from PROVKIT_PASSWORD) or PEM (default: a new ephemeral key)")
	flag.Parse()
	// A registry that stalls cannot keep the program for ever.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, *dir, *keyPath); err != nil {
		_ = textout.New(os.Stderr).Printf("quickstart: %s\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, dir, keyPath string) error {
	p := textout.New(out)
	step := func(n int, title string) { p.Printf("\n%d. %s\n", n, title) }
	say := func(format string, args ...any) { p.Printf("   "+format+"\n", args...) }

	if dir == "" {
		tmp, err := os.MkdirTemp("", "provkit-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	step(1, "Build an image into an OCI layout")
	layout, err := oci.New(dir)
	if err != nil {
		return fmt.Errorf("open OCI layout %s: %w", dir, err)
	}
	image, err := buildImage(ctx, layout)
	if err != nil {
		return err
	}
	say("layout   %s", dir)
	say("image    %s@%s", repository, image.Digest)

	step(2, "Generate SLSA provenance from this directory's git state and environment")
	facts, err := collect.Build(ctx, ".", collect.WithEnv(collect.ProcessEnv()))
	if errors.Is(err, collect.ErrNotGitRepository) {
		say("not a git checkout: recording no source")
		facts, err = collect.Build(ctx, ".", collect.WithEnv(collect.ProcessEnv()), collect.WithoutGit())
	}
	if err != nil {
		return fmt.Errorf("collect build facts: %w", err)
	}
	facts.FinishedOn = facts.StartedOn
	subject, err := provenance.SubjectFromDescriptor(repository, image)
	if err != nil {
		return err
	}
	statement, err := facts.Statement([]*intoto.ResourceDescriptor{subject})
	if err != nil {
		return fmt.Errorf("make statement: %w", err)
	}
	say("builder  %s", facts.BuilderID)
	for _, dep := range facts.ResolvedDependencies {
		if provenance.Role(dep) != provenance.RoleSource {
			continue
		}
		uri := dep.GetUri()
		if uri == "" {
			uri = "a git repository with no remote"
		}
		say("source   %s, commit %s", uri, short(dep.GetDigest()["gitCommit"]))
	}
	if redacted := redactedNames(facts); len(redacted) > 0 {
		say("redacted %d secret-looking variables: %s", len(redacted), strings.Join(redacted, ", "))
	}

	step(3, "Sign it")
	key, err := signingKey(keyPath)
	if err != nil {
		return err
	}
	signer, err := sign.NewKeySigner(key)
	if err != nil {
		return err
	}
	bundle, err := signer.Sign(ctx, statement)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	keyID, err := verify.Fingerprint(key.Public())
	if err != nil {
		return err
	}
	say("bundle   %s (%d bytes, %s)", bundle.Digest(), len(bundle.Data), bundle.MediaType)
	say("key      %s", keyID)

	step(4, "Attach it to the image as an OCI 1.1 referrer")
	store, err := oras.New(layout)
	if err != nil {
		return err
	}
	attached, err := store.Attach(ctx, image, bundle)
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	say("referrer %s", attached.Digest)

	step(5, "Discover the image's attestations")
	found, err := store.Discover(ctx, image, oras.Query{PredicateType: provenance.PredicateSLSAProvenanceV1})
	if err != nil {
		return fmt.Errorf("discover: %w", err)
	}
	for _, a := range found {
		say("found    %s via %s (%s)", a.Manifest.Digest, a.Source, a.PredicateType)
	}
	if len(found) == 0 {
		return errors.New("discover: the attestation just attached was not found")
	}

	step(6, "Verify it against the trusted key, bound to the image digest")
	trusted, err := verify.TrustedKeys(verify.PublicKey{ID: keyID, Key: key.Public()})
	if err != nil {
		return err
	}
	// Offline there is no transparency log and no timestamp authority to vouch for the signing
	// time; a deployment would use WithTimestampAuthority when signing and keep the defaults here.
	verifier, err := verify.New(trusted, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		return err
	}
	fetched, err := store.FetchAttestation(ctx, found[0])
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	result, err := verifier.Verify(ctx, fetched, image.Digest, verify.KeyIDs(keyID))
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	say("verified %s signed by key %s", result.PredicateType(), result.Signer().KeyID)

	step(7, "Decide with a policy: discover, fetch, verify and decide in one call (package gate)")
	pol, err := policy.Load(bytes.NewReader(samplePolicy))
	if err != nil {
		return fmt.Errorf("load policy: %w", err)
	}
	checker, err := gate.New(verifier, verify.KeyIDs(keyID), gate.WithPolicy(pol), gate.WithEnvironment("dev"))
	if err != nil {
		return err
	}
	report, err := checker.Check(ctx, store, image)
	if report != nil && report.Decision != nil {
		say("checked  %d verified, %d rejected", len(report.Verified), len(report.Rejected))
		printDecision(out, report.Decision)
	}
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}

	step(8, "Tamper with a copy and verify again")
	tampered, err := tamper(fetched)
	if err != nil {
		return err
	}
	_, err = verifier.Verify(ctx, tampered, image.Digest, verify.KeyIDs(keyID))
	var denied *verify.VerificationError
	if !errors.As(err, &denied) {
		return fmt.Errorf("a tampered bundle was not denied: %v", err)
	}
	say("denied   %s check failed: %v", denied.Check, err)
	return p.Literal("\nDone: generated, signed, attached, discovered, verified, decided, and refused a forgery.\n")
}

// buildImage writes a one-layer image to target with oras-go and tags it "v1".
func buildImage(ctx context.Context, target *oci.Store) (ocispec.Descriptor, error) {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	body := []byte("hello from provkit\n")
	if err := tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0)}); err != nil {
		return ocispec.Descriptor{}, err
	}
	if _, err := tw.Write(body); err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := tw.Close(); err != nil {
		return ocispec.Descriptor{}, err
	}
	layerDesc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageLayer, layer.Bytes())
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push layer: %w", err)
	}
	config, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDesc.Digest}},
		Config:   ocispec.ImageConfig{Cmd: []string{"cat", "/hello.txt"}},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	configDesc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageConfig, config)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push config: %w", err)
	}
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layerDesc},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageManifest, manifest)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push manifest: %w", err)
	}
	if err := target.Tag(ctx, desc, "v1"); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// signingKey loads the key at path, or makes an ephemeral P-256 key when path is empty.
func signingKey(path string) (crypto.Signer, error) {
	if path == "" {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	key, err := sign.LoadPrivateKey(path, []byte(os.Getenv("PROVKIT_PASSWORD")))
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	return key, nil
}

// redactedNames lists the environment variables whose values collect replaced.
func redactedNames(b *provenance.Build) []string {
	names, _ := b.InternalParameters["redactedEnvironment"].([]string)
	return names
}

// tamper returns a copy of b whose signed statement names another builder, keeping the signature.
func tamper(b provenance.Bundle) (provenance.Bundle, error) {
	var doc map[string]any
	if err := json.Unmarshal(b.Data, &doc); err != nil {
		return provenance.Bundle{}, err
	}
	envelope, _ := doc["dsseEnvelope"].(map[string]any)
	payload, _ := envelope["payload"].(string)
	statement, err := base64.StdEncoding.DecodeString(payload)
	if err != nil || len(statement) == 0 {
		return provenance.Bundle{}, fmt.Errorf("tamper: bundle has no DSSE payload")
	}
	forged := bytes.Replace(statement, []byte(`"builder":{"id":"`), []byte(`"builder":{"id":"https://attacker.example/`), 1)
	envelope["payload"] = base64.StdEncoding.EncodeToString(forged)
	data, err := json.Marshal(doc)
	if err != nil {
		return provenance.Bundle{}, err
	}
	return provenance.Bundle{MediaType: b.MediaType, Data: data, PredicateType: b.PredicateType}, nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// printDecision prints the verdict and every rule's outcome and reason.
func printDecision(out io.Writer, d *policy.Decision) {
	if d == nil {
		return
	}
	p := textout.New(out)
	for _, r := range d.Rules {
		p.Printf("   %-8s %-20s %s\n", r.Outcome, r.Name, r.Reason)
	}
	p.Printf("   verdict  %s for environment %q\n", d.Verdict, d.Environment)
}
