package diff_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance/diff"
)

func layer(s string) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromString(s), Size: int64(len(s))}
}

// testImage returns an image with layers and a configuration; each call returns fresh values.
func testImage() diff.Image {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return diff.Image{
		Descriptor: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("manifest")},
		Manifest: &ocispec.Manifest{
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromString("config")},
			Layers:    []ocispec.Descriptor{layer("base"), layer("app")},
			Annotations: map[string]string{
				ocispec.AnnotationRevision: "abc",
			},
		},
		Config: &ocispec.Image{
			Created:  &created,
			Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
			Config: ocispec.ImageConfig{
				User:         "app",
				Env:          []string{"PATH=/usr/bin", "MODE=prod"},
				Entrypoint:   []string{"/app"},
				Cmd:          []string{"serve"},
				WorkingDir:   "/srv",
				Labels:       map[string]string{"team": "payments"},
				ExposedPorts: map[string]struct{}{"8080/tcp": {}},
			},
			RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString("base.tar"), digest.FromString("app.tar")}},
		},
	}
}

func TestImagesIdentical(t *testing.T) {
	assert.Nil(t, diff.Images(testImage(), testImage()))
	assert.Nil(t, diff.Images(diff.Image{}, diff.Image{}))
}

func TestImages(t *testing.T) {
	d := func(s string) string { return digest.FromString(s).String() }
	tests := []struct {
		name string
		edit func(*diff.Image)
		want []diff.Change
	}{
		{"user", func(i *diff.Image) { i.Config.Config.User = "root" },
			[]diff.Change{{Field: "config.user", Kind: diff.Changed, Baseline: "app", Current: "root"}}},
		{"env added, changed, removed", func(i *diff.Image) {
			i.Config.Config.Env = []string{"MODE=debug", "DEBUG=1", "EMPTY="}
		}, []diff.Change{
			{Field: "config.env.DEBUG", Kind: diff.Added, Current: "1"},
			{Field: "config.env.EMPTY", Kind: diff.Added},
			{Field: "config.env.MODE", Kind: diff.Changed, Baseline: "prod", Current: "debug"},
			{Field: "config.env.PATH", Kind: diff.Removed, Baseline: "/usr/bin"},
		}},
		{"env duplicate: the later wins", func(i *diff.Image) {
			i.Config.Config.Env = append(i.Config.Config.Env, "MODE=debug")
		}, []diff.Change{{Field: "config.env.MODE", Kind: diff.Changed, Baseline: "prod", Current: "debug"}}},
		{"env reordered is no change", func(i *diff.Image) {
			i.Config.Config.Env = []string{"MODE=prod", "PATH=/usr/bin"}
		}, nil},
		{"entrypoint and cmd", func(i *diff.Image) {
			i.Config.Config.Entrypoint = []string{"/bin/sh", "-c"}
			i.Config.Config.Cmd = nil
		}, []diff.Change{
			{Field: "config.cmd", Kind: diff.Removed, Baseline: `["serve"]`},
			{Field: "config.entrypoint", Kind: diff.Changed, Baseline: `["/app"]`, Current: `["/bin/sh","-c"]`},
		}},
		{"labels, ports, volumes, workdir, stop signal", func(i *diff.Image) {
			i.Config.Config.Labels = map[string]string{"team": "infra", "tier": "1"}
			i.Config.Config.ExposedPorts = map[string]struct{}{"9090/tcp": {}}
			i.Config.Config.Volumes = map[string]struct{}{"/data": {}}
			i.Config.Config.WorkingDir = ""
			i.Config.Config.StopSignal = "SIGINT"
		}, []diff.Change{
			{Field: "config.exposedPorts.8080/tcp", Kind: diff.Removed},
			{Field: "config.exposedPorts.9090/tcp", Kind: diff.Added},
			{Field: "config.labels.team", Kind: diff.Changed, Baseline: "payments", Current: "infra"},
			{Field: "config.labels.tier", Kind: diff.Added, Current: "1"},
			{Field: "config.stopSignal", Kind: diff.Added, Current: "SIGINT"},
			{Field: "config.volumes./data", Kind: diff.Added},
			{Field: "config.workingDir", Kind: diff.Removed, Baseline: "/srv"},
		}},
		{"platform", func(i *diff.Image) {
			i.Config.Architecture, i.Config.Variant = "arm64", "v8"
		}, []diff.Change{
			{Field: "architecture", Kind: diff.Changed, Baseline: "amd64", Current: "arm64"},
			{Field: "variant", Kind: diff.Added, Current: "v8"},
		}},
		{"layer replaced and added", func(i *diff.Image) {
			i.Manifest.Layers[1] = layer("app v2")
			i.Manifest.Layers = append(i.Manifest.Layers, layer("extra"))
		}, []diff.Change{
			{Field: "layers[1]", Kind: diff.Changed, Baseline: d("app"), Current: d("app v2")},
			{Field: "layers[2]", Kind: diff.Added, Current: d("extra")},
		}},
		{"layer removed", func(i *diff.Image) { i.Manifest.Layers = i.Manifest.Layers[:1] },
			[]diff.Change{{Field: "layers[1]", Kind: diff.Removed, Baseline: d("app")}}},
		{"layer media type", func(i *diff.Image) { i.Manifest.Layers[0].MediaType = ocispec.MediaTypeImageLayerZstd },
			[]diff.Change{{Field: "layers[0].mediaType", Kind: diff.Changed, Baseline: ocispec.MediaTypeImageLayerGzip, Current: ocispec.MediaTypeImageLayerZstd}}},
		{"layer annotations", func(i *diff.Image) {
			i.Manifest.Layers[1].Annotations = map[string]string{ocispec.AnnotationTitle: "model.json"}
		}, []diff.Change{{Field: "layers[1].annotations.org.opencontainers.image.title", Kind: diff.Added, Current: "model.json"}}},
		{"annotations and artifact type", func(i *diff.Image) {
			i.Manifest.Annotations = map[string]string{ocispec.AnnotationRevision: "def", "x": "y"}
			i.Manifest.ArtifactType = "application/example"
		}, []diff.Change{
			{Field: "annotations.org.opencontainers.image.revision", Kind: diff.Changed, Baseline: "abc", Current: "def"},
			{Field: "annotations.x", Kind: diff.Added, Current: "y"},
			{Field: "artifactType", Kind: diff.Added, Current: "application/example"},
		}},
		{"digest, config and diff IDs", func(i *diff.Image) {
			i.Descriptor.Digest = digest.FromString("manifest 2")
			i.Manifest.Config.Digest = digest.FromString("config 2")
			i.Config.RootFS.DiffIDs[1] = digest.FromString("app2.tar")
		}, []diff.Change{
			{Field: "configDescriptor.digest", Kind: diff.Changed, Baseline: d("config"), Current: d("config 2")},
			{Field: "digest", Kind: diff.Changed, Baseline: d("manifest"), Current: d("manifest 2")},
			{Field: "rootfs.diffIDs[1]", Kind: diff.Changed, Baseline: d("app.tar"), Current: d("app2.tar")},
		}},
		{"no config", func(i *diff.Image) { i.Config = nil }, nil /* checked below */},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := testImage()
			tt.edit(&cur)
			got := diff.Images(testImage(), cur)
			if tt.name == "no config" {
				require.NotEmpty(t, got)
				for _, c := range got {
					assert.Equal(t, diff.Removed, c.Kind, c.Field)
				}
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestImagesLayerOrderIsNumeric(t *testing.T) {
	base, cur := testImage(), testImage()
	for i := range 12 {
		cur.Manifest.Layers = append(cur.Manifest.Layers, layer(strconv.Itoa(i)))
	}
	got := diff.Images(base, cur)
	require.Len(t, got, 12)
	for i, c := range got {
		assert.Equal(t, "layers["+strconv.Itoa(i+2)+"]", c.Field)
	}
}

func TestImagesIndex(t *testing.T) {
	child := func(s, os, arch, variant string) ocispec.Descriptor {
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString(s),
			Platform: &ocispec.Platform{OS: os, Architecture: arch, Variant: variant}}
	}
	index := func(children ...ocispec.Descriptor) diff.Image {
		return diff.Image{
			Descriptor: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromString("index")},
			Index:      &ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: children},
		}
	}
	base := index(child("amd64", "linux", "amd64", ""), child("arm", "linux", "arm", "v7"),
		child("att1", "unknown", "unknown", ""), child("att2", "unknown", "unknown", ""))
	cur := index(child("amd64 v2", "linux", "amd64", ""), child("arm64", "linux", "arm64", ""),
		child("att1", "unknown", "unknown", ""), child("att3", "unknown", "unknown", ""))
	assert.Equal(t, []diff.Change{
		{Field: "manifests[linux/amd64]", Kind: diff.Changed, Baseline: digest.FromString("amd64").String(), Current: digest.FromString("amd64 v2").String()},
		{Field: "manifests[linux/arm/v7]", Kind: diff.Removed, Baseline: digest.FromString("arm").String()},
		{Field: "manifests[linux/arm64]", Kind: diff.Added, Current: digest.FromString("arm64").String()},
		{Field: "manifests[unknown/unknown#2]", Kind: diff.Changed, Baseline: digest.FromString("att2").String(), Current: digest.FromString("att3").String()},
	}, diff.Images(base, cur))

	// An index against a manifest: the media type and every field of each side differ.
	got := diff.Images(base, testImage())
	assert.Contains(t, got, diff.Change{Field: "mediaType", Kind: diff.Changed, Baseline: ocispec.MediaTypeImageIndex, Current: ocispec.MediaTypeImageManifest})
}

func TestEnvironments(t *testing.T) {
	a, b := digest.FromString("a"), digest.FromString("b")
	got := diff.Environments("prod", map[string]digest.Digest{
		"prod": a, "staging": b, "dr": a, "dev": "", "eu": b,
	})
	assert.Equal(t, []diff.Change{
		{Field: "environments.dev", Kind: diff.Removed, Baseline: a.String()},
		{Field: "environments.eu", Kind: diff.Changed, Baseline: a.String(), Current: b.String()},
		{Field: "environments.staging", Kind: diff.Changed, Baseline: a.String(), Current: b.String()},
	}, got)
	assert.Equal(t, []diff.Change{{Field: "environments.prod", Kind: diff.Added, Current: a.String()}},
		diff.Environments("new", map[string]digest.Digest{"prod": a}))
	assert.Nil(t, diff.Environments("prod", map[string]digest.Digest{"prod": a, "dr": a}))
}

func TestSort(t *testing.T) {
	c := []diff.Change{{Field: "layers[10]"}, {Field: "layers[2].mediaType"}, {Field: "layers[2]"}, {Field: "a01"}, {Field: "a1"}, {Field: "b"}}
	diff.Sort(c)
	var got []string
	for _, x := range c {
		got = append(got, x.Field)
	}
	assert.Equal(t, []string{"a1", "a01", "b", "layers[2]", "layers[2].mediaType", "layers[10]"}, got)
}
