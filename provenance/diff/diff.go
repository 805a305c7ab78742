package diff

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Kind says how a field differs between the baseline and the current artifact.
type Kind string

// The kinds of change.
const (
	// Added: the field is in the current artifact only.
	Added Kind = "added"
	// Removed: the field is in the baseline only.
	Removed Kind = "removed"
	// Changed: the field is in both, with different values.
	Changed Kind = "changed"
)

// Change is one difference between a baseline and a current artifact.
type Change struct {
	// Field is the path of what differs, such as "layers[2]", "config.user", "config.env.PATH",
	// "config.labels.org.opencontainers.image.revision", "annotations.org.opencontainers.image.created",
	// "subjects[bin/app]", "materials[git+https://example.com/repo]" or "builder.id".
	Field string `json:"field"`
	// Kind is how it differs.
	Kind Kind `json:"kind"`
	// Baseline is the value in the baseline, empty when Added.
	Baseline string `json:"baseline,omitempty"`
	// Current is the value in the current artifact, empty when Removed.
	Current string `json:"current,omitempty"`
}

// Image is what drift and rebuild checks compare of an OCI image, index or artifact: the
// descriptor that was read and the documents behind it. Read one with oras.Store.Image.
type Image struct {
	// Descriptor is the manifest or index that was read.
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Index is set when Descriptor is an image index.
	Index *ocispec.Index `json:"index,omitempty"`
	// Manifest is set when Descriptor is an image manifest or an artifact manifest.
	Manifest *ocispec.Manifest `json:"manifest,omitempty"`
	// Config is the image configuration, set when Manifest's config is an OCI or Docker image
	// configuration.
	Config *ocispec.Image `json:"config,omitempty"`
}
