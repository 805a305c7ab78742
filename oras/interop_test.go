package oras_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/testenv"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
)

// run runs an outside program and returns its standard output, failing the test on error.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.TempDir()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// keySignedBundle signs a Statement about subject with a fresh key through sigstore-go, as
// provkit's sign package does, and returns the bundle and the public key in PEM.
func keySignedBundle(t *testing.T, repo string, subject ocispec.Descriptor) (provenance.Bundle, string) {
	t.Helper()
	rd, err := provenance.SubjectFromDescriptor(repo, subject)
	if err != nil {
		t.Fatal(err)
	}
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{rd}, provenance.PredicateSLSAProvenanceV1,
		map[string]any{"buildDefinition": map[string]any{"buildType": "https://example.com/build/v1"},
			"runDetails": map[string]any{"builder": map[string]any{"id": "https://example.com/builder"}}})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := sgsign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: provenance.MediaTypeInToto}, kp, sgsign.BundleOptions{Context: t.Context()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := kp.GetPublicKeyPem()
	if err != nil {
		t.Fatal(err)
	}
	return provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: data, PredicateType: provenance.PredicateSLSAProvenanceV1}, pem
}

// TestInteropOrasDiscover checks that `oras discover` lists what Attach writes, with and
// without the referrers API.
func TestInteropOrasDiscover(t *testing.T) {
	orasBin := testenv.Oras(t)
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.start(t)
			s := remoteStore(t, host, "interop/oras")
			subject := pushImage(t, s.Target(), "img", "v1")
			b, _ := keySignedBundle(t, host+"/interop/oras", subject)
			att, err := s.Attach(t.Context(), subject, b)
			if err != nil {
				t.Fatal(err)
			}
			out := run(t, nil, orasBin, "discover", "--plain-http", "--format", "json", host+"/interop/oras@"+subject.Digest.String())
			if !strings.Contains(out, att.Digest.String()) || !strings.Contains(out, provenance.MediaTypeBundleV03) {
				t.Fatalf("oras discover does not list %s:\n%s", att.Digest, out)
			}
		})
	}
}

// TestInteropCosign checks both directions: attestations `cosign attest` writes (bundle
// format and legacy .att tags) are discovered and fetched, and what Attach writes is listed by
// `cosign tree` and verified by `cosign verify-attestation --key`.
func TestInteropCosign(t *testing.T) {
	cosign := testenv.Cosign(t)
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			ctx := t.Context()
			host := reg.start(t)
			repo := host + "/interop/cosign"
			s := remoteStore(t, host, "interop/cosign")
			dir := t.TempDir()
			env := []string{"COSIGN_PASSWORD=", "HOME=" + dir, "TUF_ROOT=" + filepath.Join(dir, "tuf")}
			run(t, env, cosign, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "cosign"))
			run(t, env, cosign, "signing-config", "create", "--out", filepath.Join(dir, "sc.json"))
			pred := filepath.Join(dir, "pred.json")
			if err := os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://example.com/b"},"runDetails":{"builder":{"id":"https://example.com/x"}}}`), 0o600); err != nil {
				t.Fatal(err)
			}

			t.Run("BundleFormat", func(t *testing.T) {
				subject := pushImage(t, s.Target(), "bundle", "")
				run(t, env, cosign, "attest", "--key", filepath.Join(dir, "cosign.key"), "--type", "slsaprovenance1",
					"--predicate", pred, "--signing-config", filepath.Join(dir, "sc.json"), "--allow-http-registry", "-y",
					repo+"@"+subject.Digest.String())
				checkCosignFound(t, s, subject, provenance.MediaTypeBundleV03)
			})
			t.Run("LegacyAttTag", func(t *testing.T) {
				subject := pushImage(t, s.Target(), "legacy", "")
				run(t, env, cosign, "attest", "--key", filepath.Join(dir, "cosign.key"), "--type", "slsaprovenance1",
					"--predicate", pred, "--new-bundle-format=false", "--tlog-upload=false", "--use-signing-config=false",
					"--allow-http-registry", "-y", repo+"@"+subject.Digest.String())
				checkCosignFound(t, s, subject, provenance.MediaTypeDSSE)
			})
			t.Run("VerifyWhatWeAttach", func(t *testing.T) {
				subject := pushImage(t, s.Target(), "ours", "")
				b, pem := keySignedBundle(t, repo, subject)
				attached, err := s.Attach(ctx, subject, b)
				if err != nil {
					t.Fatal(err)
				}
				pub := filepath.Join(dir, "ours.pub")
				if err := os.WriteFile(pub, []byte(pem), 0o600); err != nil {
					t.Fatal(err)
				}
				ref := repo + "@" + subject.Digest.String()
				// cosign tree lists each referrer by predicate type and manifest digest.
				if out := run(t, env, cosign, "tree", "--allow-http-registry", ref); !strings.Contains(out, provenance.PredicateSLSAProvenanceV1) ||
					!strings.Contains(out, attached.Digest.String()) {
					t.Fatalf("cosign tree does not show attestation %s:\n%s", attached.Digest, out)
				}
				run(t, env, cosign, "verify-attestation", "--key", pub, "--type", "slsaprovenance1",
					"--insecure-ignore-tlog", "--allow-http-registry", ref)
			})
		})
	}
}

func checkCosignFound(t *testing.T, s *provoras.Store, subject ocispec.Descriptor, mediaType string) {
	t.Helper()
	as, err := s.Discover(context.Background(), subject, provoras.Query{PredicateType: provenance.PredicateSLSAProvenanceV1})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 {
		t.Fatalf("Discover found %d SLSA v1 attestations written by cosign, want 1: %+v", len(as), as)
	}
	b, err := s.FetchAttestation(context.Background(), as[0])
	if err != nil {
		t.Fatal(err)
	}
	if b.MediaType != mediaType || len(b.Data) == 0 {
		t.Fatalf("fetched %s (%d bytes), want %s", b.MediaType, len(b.Data), mediaType)
	}
}

// TestInteropOrasFiles checks files both ways: what PushFile stores, `oras pull` writes back
// under its name with the same bytes; what `oras push` stores, Image reads as an artifact with
// the file as its one layer, so provenance about the file can be attached to it and found.
func TestInteropOrasFiles(t *testing.T) {
	orasBin := testenv.Oras(t)
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			ctx := t.Context()
			host := reg.start(t)
			s := remoteStore(t, host, "interop/files")
			dir := t.TempDir()
			data := []byte("id,score\n1,71\n2,58\n")
			path := filepath.Join(dir, "clean.csv")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}

			manifest, file, err := s.PushFile(ctx, path, "ours")
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "pulled")
			run(t, nil, orasBin, "pull", "--plain-http", "-o", out, host+"/interop/files:ours")
			pulled, err := os.ReadFile(filepath.Join(out, "clean.csv"))
			if err != nil || string(pulled) != string(data) {
				t.Fatalf("oras pull wrote %q (%v), want %q", pulled, err, data)
			}
			if got := run(t, nil, orasBin, "resolve", "--plain-http", host+"/interop/files:ours"); strings.TrimSpace(got) != manifest.Digest.String() {
				t.Fatalf("oras resolve: %s, want %s", got, manifest.Digest)
			}

			// oras push runs in the file's folder, so the layer is titled by the file's base name.
			cmd := exec.CommandContext(ctx, orasBin, "push", "--plain-http", "--artifact-type", provoras.ArtifactTypeFile,
				host+"/interop/files:theirs", "clean.csv")
			cmd.Dir = dir
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("oras push: %v\n%s", err, b)
			}
			theirs, err := s.Resolve(ctx, "theirs")
			if err != nil {
				t.Fatal(err)
			}
			img, err := s.Image(ctx, theirs)
			if err != nil {
				t.Fatal(err)
			}
			if img.Manifest == nil || img.Manifest.ArtifactType != provoras.ArtifactTypeFile || len(img.Manifest.Layers) != 1 ||
				img.Manifest.Layers[0].Digest != file.Digest || img.Manifest.Layers[0].Annotations[ocispec.AnnotationTitle] != "clean.csv" {
				t.Fatalf("Image of what oras pushed: %+v, want one layer %s titled clean.csv", img.Manifest, file.Digest)
			}
			b, _ := keySignedBundle(t, host+"/interop/files", theirs)
			if _, err := s.Attach(ctx, theirs, b); err != nil {
				t.Fatal(err)
			}
			found, err := s.Discover(ctx, theirs, provoras.Query{})
			if err != nil || len(found) != 1 {
				t.Fatalf("Discover on the file oras pushed: %d found, %v", len(found), err)
			}
		})
	}
}
