package oras_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/testenv"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
)

// namedStore is a Store of one kind, for tests that run on every kind.
type namedStore struct {
	name string
	s    *provoras.Store
}

// everyStore returns a memory store, an OCI layout in a temporary directory and a store on an
// in-process olareg registry, each made with opts.
func everyStore(t *testing.T, repo string, opts ...provoras.Option) []namedStore {
	t.Helper()
	mem, err := provoras.NewMemory(opts...)
	require.NoError(t, err)
	layout, err := provoras.NewLayout(t.Context(), t.TempDir(), opts...)
	require.NoError(t, err)
	return []namedStore{
		{"memory", mem},
		{"layout", layout},
		{"olareg", remoteStore(t, testenv.OlaregServer(t), repo, opts...)},
	}
}

// pushRaw pushes data as content of the given media type, unless it is there already.
func pushRaw(t *testing.T, target orasgo.Target, mediaType string, data []byte) ocispec.Descriptor {
	t.Helper()
	desc := content.NewDescriptorFromBytes(mediaType, data)
	require.NoError(t, pushBlob(t.Context(), target, desc, data))
	return desc
}

// testConfig is the image configuration the tests push and expect back.
func testConfig(arch string) ocispec.Image {
	return ocispec.Image{
		Platform: ocispec.Platform{Architecture: arch, OS: "linux"},
		Config: ocispec.ImageConfig{
			User:   "65532:65532",
			Env:    []string{"PATH=/usr/bin", "APP_MODE=" + arch},
			Labels: map[string]string{ocispec.AnnotationRevision: "abc123"},
		},
		RootFS: ocispec.RootFS{Type: "layers"},
	}
}

// pushConfigImage pushes an image whose configuration is cfg, with the manifest and config
// media types given (OCI or Docker), and returns its manifest descriptor.
func pushConfigImage(t *testing.T, target orasgo.Target, manifestType, configType string, cfg ocispec.Image) ocispec.Descriptor {
	t.Helper()
	layer := pushRaw(t, target, ocispec.MediaTypeImageLayer, []byte("layer for "+cfg.Architecture))
	cfg.RootFS.DiffIDs = []digest.Digest{layer.Digest}
	config := pushJSON(t, target, configType, cfg)
	return pushJSON(t, target, manifestType, ocispec.Manifest{
		Versioned: specV2, MediaType: manifestType, Config: config, Layers: []ocispec.Descriptor{layer},
	})
}

func TestImage(t *testing.T) {
	for _, ns := range everyStore(t, "image/app") {
		t.Run(ns.name, func(t *testing.T) {
			ctx := t.Context()
			target := ns.s.Target()

			t.Run("OCIImage", func(t *testing.T) {
				desc := pushConfigImage(t, target, ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig, testConfig("amd64"))
				img, err := ns.s.Image(ctx, desc)
				require.NoError(t, err)
				assert.Equal(t, desc, img.Descriptor)
				require.NotNil(t, img.Manifest)
				assert.Nil(t, img.Index)
				assert.Len(t, img.Manifest.Layers, 1)
				require.NotNil(t, img.Config)
				assert.Equal(t, "65532:65532", img.Config.Config.User)
				assert.Equal(t, []string{"PATH=/usr/bin", "APP_MODE=amd64"}, img.Config.Config.Env)
				assert.Equal(t, "abc123", img.Config.Config.Labels[ocispec.AnnotationRevision])
				assert.Equal(t, []digest.Digest{img.Manifest.Layers[0].Digest}, img.Config.RootFS.DiffIDs)
			})

			t.Run("TestenvImage", func(t *testing.T) {
				desc := testenv.PushImage(t, target, "v1", "hello")
				img, err := ns.s.Image(ctx, desc)
				require.NoError(t, err)
				require.NotNil(t, img.Config)
				assert.Equal(t, "amd64", img.Config.Architecture)
				assert.Equal(t, "linux", img.Config.OS)
			})

			t.Run("DockerSchema2", func(t *testing.T) {
				desc := pushConfigImage(t, target, "application/vnd.docker.distribution.manifest.v2+json",
					"application/vnd.docker.container.image.v1+json", testConfig("arm64"))
				img, err := ns.s.Image(ctx, desc)
				require.NoError(t, err)
				require.NotNil(t, img.Manifest)
				require.NotNil(t, img.Config)
				assert.Equal(t, "arm64", img.Config.Architecture)
				assert.Equal(t, "65532:65532", img.Config.Config.User)
			})

			t.Run("Index", func(t *testing.T) {
				amd := pushConfigImage(t, target, ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig, testConfig("amd64"))
				arm := pushConfigImage(t, target, ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig, testConfig("arm64"))
				amd.Platform = &ocispec.Platform{Architecture: "amd64", OS: "linux"}
				arm.Platform = &ocispec.Platform{Architecture: "arm64", OS: "linux"}
				desc := pushJSON(t, target, ocispec.MediaTypeImageIndex, ocispec.Index{
					Versioned: specV2, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{amd, arm},
				})
				img, err := ns.s.Image(ctx, desc)
				require.NoError(t, err)
				assert.Nil(t, img.Manifest)
				assert.Nil(t, img.Config)
				require.NotNil(t, img.Index)
				require.Len(t, img.Index.Manifests, 2)
				assert.Equal(t, amd.Digest, img.Index.Manifests[0].Digest)
				assert.Equal(t, "arm64", img.Index.Manifests[1].Platform.Architecture)
				child, err := ns.s.Image(ctx, img.Index.Manifests[1])
				require.NoError(t, err)
				require.NotNil(t, child.Config)
				assert.Equal(t, "APP_MODE=arm64", child.Config.Config.Env[1])
			})

			t.Run("Artifact", func(t *testing.T) {
				desc := pushImage(t, target, "artifact", "")
				img, err := ns.s.Image(ctx, desc)
				require.NoError(t, err)
				require.NotNil(t, img.Manifest)
				assert.Nil(t, img.Config, "an artifact's config is not an image configuration")
				assert.Equal(t, "application/vnd.example.image.v1", img.Manifest.ArtifactType)
				assert.Equal(t, "artifact", img.Manifest.Annotations["name"])
			})

			t.Run("Missing", func(t *testing.T) {
				desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2}`))
				_, err := ns.s.Image(ctx, desc)
				require.ErrorIs(t, err, provenance.ErrNotFound)
			})
		})
	}
}

func TestImageRejects(t *testing.T) {
	ctx := t.Context()
	s, err := provoras.NewMemory()
	require.NoError(t, err)
	target := s.Target()
	emptyConfig := ocispec.DescriptorEmptyJSON
	require.NoError(t, pushBlob(ctx, target, emptyConfig, emptyConfig.Data))

	badConfig := pushRaw(t, target, ocispec.MediaTypeImageConfig, []byte(`{"config":{"User":7}}`))
	arrayConfig := pushRaw(t, target, ocispec.MediaTypeImageConfig, []byte(`["not","an","object"]`))
	huge := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromString("huge"), Size: provoras.MaxConfigBytes + 1}

	manifestWith := func(config ocispec.Descriptor) ocispec.Descriptor {
		return pushJSON(t, target, ocispec.MediaTypeImageManifest, ocispec.Manifest{
			Versioned: specV2, MediaType: ocispec.MediaTypeImageManifest, Config: config, Layers: []ocispec.Descriptor{},
		})
	}
	tests := []struct {
		name      string
		desc      ocispec.Descriptor
		want      error
		malformed bool
	}{
		{"ConfigOfWrongShape", manifestWith(badConfig), provoras.ErrMalformed, true},
		{"ConfigNotAnObject", manifestWith(arrayConfig), provoras.ErrMalformed, true},
		{"ConfigTooLarge", manifestWith(huge), provenance.ErrTooLarge, false},
		{"SchemaVersion1", pushJSON(t, target, ocispec.MediaTypeImageManifest, ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 1}, Config: emptyConfig}), provoras.ErrMalformed, true},
		{"IndexClaimsToBeManifest", pushRaw(t, target, ocispec.MediaTypeImageManifest,
			[]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"`+
				string(emptyConfig.Digest)+`","size":2},"manifests":[]}`)), provoras.ErrMalformed, true},
		{"ManifestWithoutConfig", pushRaw(t, target, ocispec.MediaTypeImageManifest,
			[]byte(`{"schemaVersion":2,"layers":[]}`)), provoras.ErrMalformed, true},
		{"ManifestTooLarge", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("big"),
			Size: provenance.MaxManifestBytes + 1}, provenance.ErrTooLarge, false},
		{"TooManyManifests", pushJSON(t, target, ocispec.MediaTypeImageIndex, ocispec.Index{
			Versioned: specV2, MediaType: ocispec.MediaTypeImageIndex,
			Manifests: slices.Repeat([]ocispec.Descriptor{emptyConfig}, provenance.MaxReferrers+1)}), provenance.ErrTooLarge, false},
		{"NotAManifest", badConfig, provoras.ErrInvalidInput, false},
		{"BadDigest", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: "sha256:zz", Size: 2}, provoras.ErrInvalidInput, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Image(ctx, tc.desc)
			require.ErrorIs(t, err, tc.want)
			if tc.malformed {
				var me *provoras.MalformedError
				require.ErrorAs(t, err, &me)
				assert.Equal(t, tc.desc.Digest, me.Digest)
			}
			if tc.want == provenance.ErrTooLarge {
				var se *provenance.SizeError
				var le *provoras.LimitError
				require.True(t, errors.As(err, &se) || errors.As(err, &le), "%v is neither a *SizeError nor a *LimitError", err)
			}
		})
	}
}

// TestImageTampered checks that a manifest or configuration whose bytes do not match their
// digest is refused, on a tampered memory target and behind a tampering registry proxy.
func TestImageTampered(t *testing.T) {
	mem, err := provoras.NewMemory()
	require.NoError(t, err)
	tt := &tamperTarget{GraphTarget: mem.Target()}
	tampered, err := provoras.New(tt)
	require.NoError(t, err)

	host, markProxy := tamperProxy(t, testenv.OlaregServer(t))
	remote := remoteStore(t, host, "image/tampered")

	for _, tc := range []struct {
		name   string
		s      *provoras.Store
		target orasgo.Target
		mark   func(digest.Digest)
	}{
		{"memory", tampered, mem.Target(), func(d digest.Digest) { tt.bad.Store(d, true) }},
		{"olareg", remote, remote.Target(), markProxy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			manifest := pushConfigImage(t, tc.target, ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig, testConfig("amd64"))
			config := pushConfigImage(t, tc.target, ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig, testConfig("s390x"))
			img, err := tc.s.Image(ctx, config)
			require.NoError(t, err)
			tc.mark(manifest.Digest)
			tc.mark(img.Manifest.Config.Digest)
			for name, desc := range map[string]ocispec.Descriptor{"Manifest": manifest, "Config": config} {
				t.Run(name, func(t *testing.T) {
					_, err := tc.s.Image(ctx, desc)
					var ie *provoras.IntegrityError
					require.ErrorAs(t, err, &ie)
					require.ErrorIs(t, err, provoras.ErrIntegrity)
					if name == "Config" {
						assert.Equal(t, img.Manifest.Config.Digest, ie.Descriptor.Digest)
					}
				})
			}
		})
	}
}

// TestImageOfResolved reads an image the way callers do: resolve the tag, then read by digest.
func TestImageOfResolved(t *testing.T) {
	ctx := context.Background()
	s, err := provoras.NewMemory()
	require.NoError(t, err)
	desc := pushConfigImage(t, s.Target(), ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig, testConfig("amd64"))
	require.NoError(t, s.Target().Tag(ctx, desc, "v2"))
	got, err := s.Resolve(ctx, "v2")
	require.NoError(t, err)
	img, err := s.Image(ctx, got)
	require.NoError(t, err)
	assert.Equal(t, desc.Digest, img.Descriptor.Digest)
	assert.True(t, strings.HasPrefix(img.Config.Config.Env[0], "PATH="))
}
