package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	orasgo "oras.land/oras-go/v2"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
	"github.com/provkit/provkit/sign"
)

// pushImage pushes a one-layer image with body to host/repo:v1 and returns its store and descriptor.
func pushImage(t *testing.T, host, repo, body string) (*oras.Store, ocispec.Descriptor) {
	t.Helper()
	ctx := context.Background()
	s, err := oras.NewRemote(host+"/"+repo, oras.WithPlainHTTPUnsafe())
	require.NoError(t, err)
	target := s.Target()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "app.txt", Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0)}))
	_, err = tw.Write([]byte(body))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	layerDesc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageLayer, layer.Bytes())
	require.NoError(t, err)
	config, err := json.Marshal(ocispec.Image{Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDesc.Digest}}})
	require.NoError(t, err)
	configDesc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageConfig, config)
	require.NoError(t, err)
	manifest, err := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: configDesc, Layers: []ocispec.Descriptor{layerDesc}})
	require.NoError(t, err)
	desc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageManifest, manifest)
	require.NoError(t, err)
	require.NoError(t, target.Tag(ctx, desc, "v1"))
	return s, desc
}

// attest signs SLSA provenance from builder about image with key and attaches it.
func attest(t *testing.T, s *oras.Store, repo string, image ocispec.Descriptor, key crypto.Signer, builder string) {
	t.Helper()
	subject, err := provenance.SubjectFromDescriptor(repo, image)
	require.NoError(t, err)
	build := &provenance.Build{BuildType: collect.BuildTypeV1, BuilderID: builder,
		ExternalParameters: map[string]any{"source": "git+https://git.example/app@refs/heads/main"}}
	st, err := build.Statement([]*intoto.ResourceDescriptor{subject})
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(key)
	require.NoError(t, err)
	b, err := signer.Sign(context.Background(), st)
	require.NoError(t, err)
	_, err = s.Attach(context.Background(), image, b)
	require.NoError(t, err)
}

func TestAdmissionBatch(t *testing.T) {
	host := testenv.OlaregServer(t)
	trusted, err := sign.GenerateKeyPair(0, nil)
	require.NoError(t, err)
	other, err := sign.GenerateKeyPair(0, nil)
	require.NoError(t, err)
	pub := filepath.Join(t.TempDir(), "cosign.pub")
	require.NoError(t, os.WriteFile(pub, trusted.PublicPEM, 0o644))

	s, img := pushImage(t, host, "team/good", "good")
	attest(t, s, host+"/team/good", img, trusted.Signer, "https://ci.example/builder")
	s, img = pushImage(t, host, "team/laptop", "laptop")
	attest(t, s, host+"/team/laptop", img, trusted.Signer, "https://laptop.example/alice")
	s, img = pushImage(t, host, "team/forged", "forged")
	attest(t, s, host+"/team/forged", img, other.Signer, "https://ci.example/builder")
	pushImage(t, host, "team/bare", "bare")

	images := []string{host + "/team/good:v1", host + "/team/laptop:v1", host + "/team/forged:v1", host + "/team/bare:v1", host + "/team/missing:v1"}
	o := options{policyPath: filepath.Join("testdata", "policy.yaml"), env: "prod", keyPath: pub, insecureIgnoreTlog: true, plainHTTP: true, images: images}

	var out bytes.Buffer
	err = run(context.Background(), &out, o)
	require.ErrorIs(t, err, policy.ErrDenied, out.String())
	assert.Contains(t, err.Error(), "4 of 5 images denied for prod")
	text := out.String()
	for _, want := range []string{
		`(?m)^IMAGE +DIGEST +VERIFIED +VERDICT +REASON$`,
		`(?m)team/good:v1 +sha256:[0-9a-f]{12} +1/1 +allow +every enforced rule passed$`,
		`(?m)team/laptop:v1 +sha256:[0-9a-f]{12} +1/1 +deny +built-by-ci: `,
		`(?m)team/forged:v1 +sha256:[0-9a-f]{12} +0/1 +deny +no verified attestations`,
		`(?m)team/bare:v1 +sha256:[0-9a-f]{12} +0/0 +deny +no verified attestations`,
		`(?m)team/missing:v1 +- +0/0 +deny +error: `,
		`(?m)^1 of 5 images allowed for prod$`,
	} {
		assert.Regexp(t, regexp.MustCompile(want), text)
	}

	// In staging the builder rule only warns: the laptop build is admitted with a warning.
	o.env, o.images = "staging", images[:2]
	out.Reset()
	require.NoError(t, run(context.Background(), &out, o), out.String())
	assert.Regexp(t, `(?m)team/laptop:v1 .* allow +warn: built-by-ci: `, out.String())
}
