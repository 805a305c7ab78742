package oras

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
)

// MaxConfigBytes is the largest image configuration Image reads: 4 MiB. Configurations hold
// the environment, labels and history of an image and are rarely more than a few KiB.
const MaxConfigBytes = 4 << 20

// mediaTypeDockerConfig is the media type of the image configuration of Docker's schema 2
// manifests; its JSON has the shape of the OCI image configuration.
const mediaTypeDockerConfig = "application/vnd.docker.container.image.v1+json"

// Image reads the manifest or index desc names, and for an image manifest its configuration,
// for comparison with diff's functions. desc is usually what Resolve returned. Docker schema 2
// manifests and manifest lists are read like their OCI counterparts, whose JSON shape they
// share. Only the configuration of an OCI or Docker image configuration media type is read;
// an artifact's config (such as the OCI empty config) is not, and the result's Config is nil.
// For an index, Index is set and its manifests are not read: call Image on those you want.
//
// Every read is verified against digest and size and capped: the manifest or index at
// provenance.MaxManifestBytes, the configuration at MaxConfigBytes (*provenance.SizeError,
// wrapping provenance.ErrTooLarge), and a manifest or index listing more than
// provenance.MaxReferrers layers or manifests fails with a *LimitError (wrapping
// provenance.ErrTooLarge as well). Content that does not match its descriptor fails with an
// *IntegrityError, JSON that does not decode or is not of the expected shape with a
// *MalformedError, and missing content with an error wrapping provenance.ErrNotFound.
func (s *Store) Image(ctx context.Context, desc ocispec.Descriptor) (diff.Image, error) {
	if !isManifest(desc.MediaType) && !isIndex(desc.MediaType) {
		return diff.Image{}, &InputError{What: "image",
			Reason: fmt.Sprintf("media type %q of %s is not an image manifest or index", desc.MediaType, desc.Digest)}
	}
	data, err := fetchBytes(ctx, s.reader(), desc, "manifest", provenance.MaxManifestBytes)
	if err != nil {
		return diff.Image{}, err
	}
	img, err := decodeImage(desc, data)
	if err != nil {
		return diff.Image{}, err
	}
	if img.Manifest == nil || !isImageConfig(img.Manifest.Config.MediaType) {
		return img, nil
	}
	cfg := img.Manifest.Config
	raw, err := fetchBytes(ctx, s.reader(), cfg, "image config", MaxConfigBytes)
	if err != nil {
		return diff.Image{}, err
	}
	img.Config, err = decodeConfig(desc.Digest, cfg.Digest, raw)
	if err != nil {
		return diff.Image{}, err
	}
	return img, nil
}

func isImageConfig(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageConfig || mediaType == mediaTypeDockerConfig
}

// decodeImage decodes the untrusted manifest or index bytes that desc names. It checks what
// parseDocument checks (size, descriptor shapes, counts), that the document is a JSON object
// with schemaVersion 2, that a mediaType field in the document agrees with the descriptor on
// whether it is a manifest or an index, and that a manifest has a well-formed config.
func decodeImage(desc ocispec.Descriptor, data []byte) (diff.Image, error) {
	doc, err := parseDocument(desc.Digest, data)
	if err != nil {
		return diff.Image{}, err
	}
	malformed := func(format string, args ...any) error {
		return &MalformedError{Digest: desc.Digest, Reason: fmt.Sprintf(format, args...)}
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return diff.Image{}, malformed("not a JSON object")
	}
	img := diff.Image{Descriptor: desc}
	switch {
	case isIndex(desc.MediaType):
		if doc.MediaType != "" && !isIndex(doc.MediaType) {
			return diff.Image{}, malformed("descriptor says %s but the document says %s", desc.MediaType, doc.MediaType)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(data, &idx); err != nil {
			return diff.Image{}, malformed("%v", err)
		}
		if idx.SchemaVersion != 2 {
			return diff.Image{}, malformed("schemaVersion is %d, not 2", idx.SchemaVersion)
		}
		img.Index = &idx
	default:
		if doc.MediaType != "" && !isManifest(doc.MediaType) {
			return diff.Image{}, malformed("descriptor says %s but the document says %s", desc.MediaType, doc.MediaType)
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return diff.Image{}, malformed("%v", err)
		}
		if m.SchemaVersion != 2 {
			return diff.Image{}, malformed("schemaVersion is %d, not 2", m.SchemaVersion)
		}
		if doc.Config == nil || m.Config.MediaType == "" {
			return diff.Image{}, malformed("has no config")
		}
		img.Manifest = &m
	}
	return img, nil
}

// decodeConfig decodes the untrusted image configuration bytes with digest cfg, the config of
// manifest m.
func decodeConfig(m, cfg digest.Digest, data []byte) (*ocispec.Image, error) {
	if len(data) > MaxConfigBytes {
		return nil, &provenance.SizeError{What: "image config " + cfg.String(), Limit: MaxConfigBytes, Size: int64(len(data))}
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, &MalformedError{Digest: m, Reason: fmt.Sprintf("image config %s: not a JSON object", cfg)}
	}
	var img ocispec.Image
	if err := json.Unmarshal(data, &img); err != nil {
		return nil, &MalformedError{Digest: m, Reason: fmt.Sprintf("image config %s: %v", cfg, err)}
	}
	return &img, nil
}
