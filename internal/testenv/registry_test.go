package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

func repository(t *testing.T, hostPort, name string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(hostPort + "/" + name)
	if err != nil {
		t.Fatalf("NewRepository: %v", err)
	}
	repo.PlainHTTP = true
	return repo
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pushArtifact pushes one blob and a manifest that lists it, tagged tag
// when tag is not empty, and returns the manifest's descriptor.
func pushArtifact(ctx context.Context, t *testing.T, repo *remote.Repository, data []byte, artifactType string, subject *ocispec.Descriptor, tag string) ocispec.Descriptor {
	t.Helper()
	blob := content.NewDescriptorFromBytes("application/vnd.provkit.test.blob", data)
	if err := repo.Push(ctx, blob, bytes.NewReader(data)); err != nil {
		t.Fatalf("push blob: %v", err)
	}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, artifactType, oras.PackManifestOptions{
		Layers:  []ocispec.Descriptor{blob},
		Subject: subject,
	})
	if err != nil {
		t.Fatalf("pack manifest: %v", err)
	}
	if tag != "" {
		if err := repo.Tag(ctx, desc, tag); err != nil {
			t.Fatalf("tag: %v", err)
		}
	}
	return desc
}

// checkRoundTrip pushes a blob and a tagged manifest and reads both back.
func checkRoundTrip(t *testing.T, hostPort string) ocispec.Descriptor {
	t.Helper()
	ctx := testContext(t)
	repo := repository(t, hostPort, "provkit/roundtrip")
	data := []byte("provkit test blob\n")
	desc := pushArtifact(ctx, t, repo, data, "application/vnd.provkit.test", nil, "v1")

	resolved, err := repo.Resolve(ctx, "v1")
	if err != nil {
		t.Fatalf("resolve tag: %v", err)
	}
	if resolved.Digest != desc.Digest {
		t.Fatalf("tag resolves to %s, pushed %s", resolved.Digest, desc.Digest)
	}
	raw, err := content.FetchAll(ctx, repo, resolved)
	if err != nil {
		t.Fatalf("fetch manifest: %v", err)
	}
	if got := digest.FromBytes(raw); got != desc.Digest {
		t.Fatalf("manifest digest %s, want %s", got, desc.Digest)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode manifest: %v", err)
	}
	if m.ArtifactType != "application/vnd.provkit.test" || len(m.Layers) != 1 {
		t.Fatalf("manifest artifactType %q with %d layers", m.ArtifactType, len(m.Layers))
	}
	rc, err := repo.Blobs().Fetch(ctx, m.Layers[0])
	if err != nil {
		t.Fatalf("fetch blob: %v", err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read blob: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("blob = %q, want %q", got, data)
	}
	return desc
}

func TestOlaregServerRoundTrip(t *testing.T) {
	checkRoundTrip(t, OlaregServer(t))
}

func TestGGCRServerRoundTrip(t *testing.T) {
	checkRoundTrip(t, GGCRServer(t))
}

func TestOlaregServerReferrersAPI(t *testing.T) {
	hostPort := OlaregServer(t)
	ctx := testContext(t)
	repo := repository(t, hostPort, "provkit/referrers")
	subject := pushArtifact(ctx, t, repo, []byte("subject"), "application/vnd.provkit.subject", nil, "subject")
	const refType = "application/vnd.provkit.test.referrer"
	referrer := pushArtifact(ctx, t, repo, []byte("referrer"), refType, &subject, "")

	// Pushing a manifest with a subject to a registry without the
	// referrers API makes oras-go fall back to the tag schema and create a
	// sha256-<hex> tag; olareg answers with OCI-Subject, so there is none.
	var found []ocispec.Descriptor
	err := repo.Referrers(ctx, subject, refType, func(refs []ocispec.Descriptor) error {
		found = append(found, refs...)
		return nil
	})
	if err != nil {
		t.Fatalf("referrers: %v", err)
	}
	if len(found) != 1 || found[0].Digest != referrer.Digest || found[0].ArtifactType != refType {
		t.Fatalf("referrers of %s = %+v, want one %s of type %s", subject.Digest, found, referrer.Digest, refType)
	}

	// The filter must apply: no referrer of another type.
	found = nil
	err = repo.Referrers(ctx, subject, "application/vnd.provkit.other", func(refs []ocispec.Descriptor) error {
		found = append(found, refs...)
		return nil
	})
	if err != nil {
		t.Fatalf("referrers with filter: %v", err)
	}
	if len(found) != 0 {
		t.Fatalf("referrers filtered on another type = %+v, want none", found)
	}

	// No fallback tag was made.
	var tags []string
	if err := repo.Tags(ctx, "", func(ts []string) error {
		tags = append(tags, ts...)
		return nil
	}); err != nil {
		t.Fatalf("tags: %v", err)
	}
	if len(tags) != 1 || tags[0] != "subject" {
		t.Fatalf("tags = %v, want [subject]", tags)
	}
}
