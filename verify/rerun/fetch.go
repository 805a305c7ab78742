package rerun

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/provenance"
)

// Media types of Docker's image formats, which registries still serve.
const (
	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	// mediaTypeNonDistributable is the deprecated OCI non-distributable layer, which old
	// images still carry.
	mediaTypeNonDistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
)

// verifiedReader reads at most want bytes of r and, at EOF, fails with ErrIntegrity unless
// they are exactly want bytes hashing to d.
type verifiedReader struct {
	r    io.Reader
	v    digest.Verifier
	d    digest.Digest
	left int64
	want int64
}

func newVerifiedReader(r io.Reader, desc ocispec.Descriptor) *verifiedReader {
	return &verifiedReader{r: r, v: desc.Digest.Verifier(), d: desc.Digest, left: desc.Size, want: desc.Size}
}

func (v *verifiedReader) Read(p []byte) (int, error) {
	if v.left <= 0 {
		// One byte more would be over the size: check that there is none.
		var one [1]byte
		if n, _ := v.r.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w: more than the %d bytes its descriptor says", ErrIntegrity, v.want)
		}
		if !v.v.Verified() {
			return 0, fmt.Errorf("%w: the %d bytes read are not %s", ErrIntegrity, v.want, v.d)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > v.left {
		p = p[:v.left]
	}
	n, err := v.r.Read(p)
	v.v.Write(p[:n])
	v.left -= int64(n)
	if errors.Is(err, io.EOF) {
		if v.left > 0 {
			return n, fmt.Errorf("%w: %d bytes, fewer than the %d its descriptor says", ErrIntegrity, v.want-v.left, v.want)
		}
		err = nil
	}
	return n, err
}

// fetchSmall reads a manifest or configuration, at most provenance.MaxManifestBytes, verified.
func fetchSmall(ctx context.Context, c Content, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size <= 0 || desc.Size > provenance.MaxManifestBytes {
		return nil, &provenance.SizeError{What: desc.Digest.String(), Limit: provenance.MaxManifestBytes, Size: desc.Size}
	}
	rc, err := c.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(newVerifiedReader(rc, desc))
}

// fetchInput writes the stored file whose digest is f.Digest to dst, verifying it while
// writing, and returns its descriptor as the rebuild used it.
func (r *rerunner) fetchInput(ctx context.Context, f File, dst string) error {
	what := "input " + f.Path
	manifests, err := r.store.FileManifests(ctx, f.Digest)
	if err != nil {
		return &FetchError{What: what, Digest: f.Digest, Err: err}
	}
	if len(manifests) == 0 {
		return &FetchError{What: what, Digest: f.Digest, Err: fmt.Errorf("%w: no stored file has this digest", ErrNotStored)}
	}
	data, err := fetchSmall(ctx, r.content, manifests[0])
	if err != nil {
		return &FetchError{What: what, Digest: f.Digest, Err: fmt.Errorf("manifest %s: %w", manifests[0].Digest, err)}
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil || len(m.Layers) != 1 || m.Layers[0].Digest != f.Digest {
		return &FetchError{What: what, Digest: f.Digest, Err: fmt.Errorf("%w: manifest %s does not hold exactly this file", ErrIntegrity, manifests[0].Digest)}
	}
	layer := m.Layers[0]
	if layer.Size < 0 || layer.Size > r.budget.bytes {
		return &FetchError{What: what, Digest: f.Digest, Err: &provenance.SizeError{What: what, Limit: r.budget.bytes, Size: layer.Size}}
	}
	r.budget.bytes -= layer.Size
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	rc, err := r.content.Fetch(ctx, layer)
	if err != nil {
		return &FetchError{What: what, Digest: f.Digest, Err: err}
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, newVerifiedReader(rc, layer)); err != nil {
		out.Close()
		os.Remove(dst)
		return &FetchError{What: what, Digest: f.Digest, Err: err}
	}
	return out.Close()
}

// image is an image as Run unpacked it.
type image struct {
	manifest ocispec.Descriptor
	config   ocispec.ImageConfig
}

// fetchImage unpacks the image s names into root, layer by layer, and returns its
// configuration. An index is read for the manifest of linux on this machine's architecture.
func (r *rerunner) fetchImage(ctx context.Context, s *Step, root string) (*image, error) {
	what := "image " + s.Image
	fail := func(err error) (*image, error) { return nil, &FetchError{What: what, Digest: s.ImageDigest, Err: err} }
	desc, err := r.store.Resolve(ctx, s.ImageDigest.String())
	if errors.Is(err, provenance.ErrNotFound) {
		return fail(fmt.Errorf("%w: %v", ErrNotStored, err))
	}
	if err != nil {
		return fail(err)
	}
	if desc.Digest != s.ImageDigest {
		return fail(fmt.Errorf("%w: the store resolved it to %s", ErrIntegrity, desc.Digest))
	}
	data, err := fetchSmall(ctx, r.content, desc)
	if err != nil {
		return fail(err)
	}
	if desc.MediaType == ocispec.MediaTypeImageIndex || desc.MediaType == mediaTypeDockerManifestList {
		var idx ocispec.Index
		if err := json.Unmarshal(data, &idx); err != nil {
			return fail(fmt.Errorf("index: %w", err))
		}
		found := false
		for _, m := range idx.Manifests {
			if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == runtime.GOARCH {
				desc, found = m, true
				break
			}
		}
		if !found {
			return fail(fmt.Errorf("%w: the index has no manifest for linux/%s", ErrNotStored, runtime.GOARCH))
		}
		if data, err = fetchSmall(ctx, r.content, desc); err != nil {
			return fail(err)
		}
	}
	if desc.MediaType != ocispec.MediaTypeImageManifest && desc.MediaType != mediaTypeDockerManifest {
		return fail(fmt.Errorf("media type %q is not an image manifest", desc.MediaType))
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return fail(fmt.Errorf("manifest: %w", err))
	}
	img := &image{manifest: desc}
	switch m.Config.MediaType {
	case ocispec.MediaTypeImageConfig, mediaTypeDockerConfig:
		raw, err := fetchSmall(ctx, r.content, m.Config)
		if err != nil {
			return fail(fmt.Errorf("configuration: %w", err))
		}
		var cfg ocispec.Image
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fail(fmt.Errorf("configuration: %w", err))
		}
		img.config = cfg.Config
	default:
		return fail(fmt.Errorf("config media type %q is not an image configuration", m.Config.MediaType))
	}
	for _, layer := range m.Layers {
		if err := r.unpack(ctx, layer, root); err != nil {
			return fail(err)
		}
	}
	return img, nil
}

// unpack fetches one layer, verifies it while reading, and extracts it into root.
func (r *rerunner) unpack(ctx context.Context, layer ocispec.Descriptor, root string) error {
	if layer.Size < 0 || layer.Size > r.budget.bytes {
		return &provenance.SizeError{What: "layer " + layer.Digest.String(), Limit: r.budget.bytes, Size: layer.Size}
	}
	var gz bool
	switch layer.MediaType {
	case ocispec.MediaTypeImageLayer, mediaTypeNonDistributable:
	case ocispec.MediaTypeImageLayerGzip, mediaTypeNonDistributable + "+gzip", mediaTypeDockerLayerGzip:
		gz = true
	default:
		return fmt.Errorf("layer %s: media type %q is not supported (tar or tar+gzip)", layer.Digest, layer.MediaType)
	}
	rc, err := r.content.Fetch(ctx, layer)
	if err != nil {
		return fmt.Errorf("layer %s: %w", layer.Digest, err)
	}
	defer rc.Close()
	vr := newVerifiedReader(rc, layer)
	var tr io.Reader = vr
	if gz {
		zr, err := gzip.NewReader(vr)
		if err != nil {
			return fmt.Errorf("layer %s: %w", layer.Digest, err)
		}
		defer zr.Close()
		tr = zr
	}
	if err := unpackLayer(tr, root, &r.budget); err != nil {
		return fmt.Errorf("layer %s: %w", layer.Digest, err)
	}
	// What follows the archive's end is part of the blob: read it, so the digest is checked.
	if _, err := io.Copy(io.Discard, vr); err != nil {
		return fmt.Errorf("layer %s: %w", layer.Digest, err)
	}
	return nil
}
