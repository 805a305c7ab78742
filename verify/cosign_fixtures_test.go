package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

const cosignFixtures = "testdata/cosign"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cosignFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func cosignKeyVerifier(t *testing.T, pubPEM []byte) *verify.Verifier {
	t.Helper()
	pk, err := verify.ParsePublicKeyPEM("cosign", pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := verify.TrustedKeys(pk)
	if err != nil {
		t.Fatal(err)
	}
	// cosign signed with --tlog-upload=false and no timestamp authority.
	return newVerifier(t, keys, verify.WithUntimestampedKeysUnsafe(), verify.WithPredicateTypes(provenance.PredicateSLSAProvenanceV1))
}

// checkCosignResult checks what cosign signed: a Statement v0.1 with the fixture predicate.
func checkCosignResult(t *testing.T, res *verify.Result) {
	t.Helper()
	if res.Signer().KeyID != "cosign" {
		t.Errorf("KeyID %q", res.Signer().KeyID)
	}
	if got := res.Statement().GetType(); got != provenance.StatementTypeV01 {
		t.Errorf("statement type %q, want cosign's %q", got, provenance.StatementTypeV01)
	}
	p, err := res.SLSAProvenance()
	if err != nil {
		t.Fatal(err)
	}
	if got := p.GetRunDetails().GetBuilder().GetId(); got != "https://provkit.dev/fixtures/builder" {
		t.Errorf("builder %q", got)
	}
}

func legacyLayer(t *testing.T, manifest, layer []byte) (provenance.Bundle, map[string]string) {
	t.Helper()
	var m ocispec.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("%d layers", len(m.Layers))
	}
	return provenance.Bundle{MediaType: m.Layers[0].MediaType, Data: layer}, m.Layers[0].Annotations
}

// TestCosignFixtures verifies what cosign v3.1.3 wrote (testdata/cosign/generate.sh).
func TestCosignFixtures(t *testing.T) {
	v := cosignKeyVerifier(t, readFixture(t, "cosign.pub"))
	image := digest.Digest(strings.TrimSpace(string(readFixture(t, "image.digest"))))
	blob := digest.FromBytes(readFixture(t, "blob.txt"))
	id := verify.KeyIDs("cosign")

	t.Run("attest-blob bundle", func(t *testing.T) {
		res, err := v.Verify(bg, provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: readFixture(t, "blob.sigstore.json")}, blob, id)
		if err != nil {
			t.Fatal(err)
		}
		checkCosignResult(t, res)
		_, err = v.Verify(bg, provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: readFixture(t, "blob.sigstore.json")}, image, id)
		wantCheck(t, err, verify.CheckSubject)
	})
	t.Run("image bundle referrer", func(t *testing.T) {
		res, err := v.Verify(bg, provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: readFixture(t, "image.sigstore.json")}, image, id)
		if err != nil {
			t.Fatal(err)
		}
		checkCosignResult(t, res)
	})
	t.Run("legacy att layer", func(t *testing.T) {
		layer, ann := legacyLayer(t, readFixture(t, "legacy.manifest.json"), readFixture(t, "legacy.layer.json"))
		if ann[provenance.AnnotationCosignPredicateType] != provenance.PredicateSLSAProvenanceV1 {
			t.Errorf("annotations %v", ann)
		}
		res, err := v.VerifyCosignLayer(bg, layer, ann, image, id)
		if err != nil {
			t.Fatal(err)
		}
		checkCosignResult(t, res)
		res, err = v.Verify(bg, layer, image, id)
		if err != nil {
			t.Fatalf("as a bare envelope: %v", err)
		}
		checkCosignResult(t, res)
		_, err = v.VerifyCosignLayer(bg, provenance.Bundle{MediaType: layer.MediaType, Data: bytes.Replace(layer.Data, []byte(`"sig":"`), []byte(`"sig":"AA`), 1)}, ann, image, id)
		wantCheck(t, err, verify.CheckFormat)
	})
	t.Run("another key", func(t *testing.T) {
		kf := newKeyFixture(t, "cosign")
		other := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe())
		_, err := other.Verify(bg, provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: readFixture(t, "image.sigstore.json")}, image, id)
		wantCheck(t, err, verify.CheckSignature)
	})
}

// TestCosignLive runs cosign against an in-process olareg registry and verifies what it
// attaches, in both storage formats, fetched with oras-go.
func TestCosignLive(t *testing.T) {
	cosign := testenv.Cosign(t)
	host := testenv.OlaregServer(t)
	ctx, cancel := context.WithTimeout(bg, 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, cosign, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("generate-key-pair")
	run("signing-config", "create", "--out", "sc.json")
	if err := os.WriteFile(filepath.Join(dir, "predicate.json"), readFixture(t, "predicate.json"), 0o600); err != nil {
		t.Fatal(err)
	}

	repo, err := remote.NewRepository(host + "/live")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	cfg, err := orasgo.PushBytes(ctx, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`))
	if err != nil {
		t.Fatal(err)
	}
	img, err := orasgo.PackManifest(ctx, repo, orasgo.PackManifestVersion1_1, "", orasgo.PackManifestOptions{ConfigDescriptor: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/live@" + string(img.Digest)

	run("attest", "--key", "cosign.key", "--type", "slsaprovenance1", "--predicate", "predicate.json",
		"--tlog-upload=false", "--new-bundle-format=false", "--use-signing-config=false", "--allow-http-registry", "-y", ref)
	run("attest", "--key", "cosign.key", "--type", "slsaprovenance1", "--predicate", "predicate.json",
		"--signing-config", "sc.json", "--allow-http-registry", "-y", ref)

	pub, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	v := cosignKeyVerifier(t, pub)
	id := verify.KeyIDs("cosign")

	t.Run("legacy att layer", func(t *testing.T) {
		desc, err := repo.Resolve(ctx, "sha256-"+img.Digest.Encoded()+".att")
		if err != nil {
			t.Fatal(err)
		}
		manifest, err := content.FetchAll(ctx, repo, desc)
		if err != nil {
			t.Fatal(err)
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(manifest, &m); err != nil {
			t.Fatal(err)
		}
		layer, err := content.FetchAll(ctx, repo, m.Layers[0])
		if err != nil {
			t.Fatal(err)
		}
		b, ann := legacyLayer(t, manifest, layer)
		res, err := v.VerifyCosignLayer(ctx, b, ann, img.Digest, id)
		if err != nil {
			t.Fatal(err)
		}
		checkCosignResult(t, res)
	})
	t.Run("bundle referrer", func(t *testing.T) {
		var found []ocispec.Descriptor
		if err := repo.Referrers(ctx, img, provenance.MediaTypeBundleV03, func(r []ocispec.Descriptor) error {
			found = append(found, r...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 {
			t.Fatalf("%d bundle referrers", len(found))
		}
		manifest, err := content.FetchAll(ctx, repo, found[0])
		if err != nil {
			t.Fatal(err)
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(manifest, &m); err != nil {
			t.Fatal(err)
		}
		data, err := content.FetchAll(ctx, repo, m.Layers[0])
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(ctx, provenance.Bundle{MediaType: m.Layers[0].MediaType, Data: data}, img.Digest, id)
		if err != nil {
			t.Fatal(err)
		}
		checkCosignResult(t, res)
	})
}
