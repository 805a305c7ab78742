package oras

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	"oras.land/oras-go/v2/content"
)

// absDir returns dir made absolute, as oras-go's OCI store keeps it, or dir when that fails.
func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// reader returns what the Store reads content through. For an OCI layout that is a
// layoutReader, so a blob that is not a regular file is refused instead of blocking.
func (s *Store) reader() content.ReadOnlyStorage {
	if s.dir == "" {
		return s.target
	}
	return &layoutReader{ReadOnlyStorage: s.target, dir: s.dir}
}

// layoutReader opens an OCI layout's blobs itself (blobs/<algorithm>/<encoded>, as the
// image-spec lays them out) with provenance.OpenRegular, rather than through oras-go, which
// opens them with a plain open: a FIFO placed in a layout would block it for ever.
type layoutReader struct {
	content.ReadOnlyStorage
	dir string
}

func (l *layoutReader) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, &InputError{What: "descriptor", Reason: err.Error()}
	}
	f, err := provenance.OpenRegular(filepath.Join(l.dir, ocispec.ImageBlobsDir, desc.Digest.Algorithm().String(), desc.Digest.Encoded()))
	if errors.Is(err, fs.ErrNotExist) {
		return l.ReadOnlyStorage.Fetch(ctx, desc) // oras-go's not-found error
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}
