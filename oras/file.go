package oras

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// ArtifactTypeFile is the artifactType of the OCI 1.1 manifests PushFile writes: one file,
// stored as a single application/octet-stream layer.
const ArtifactTypeFile = "application/vnd.provkit.file.v1"

// mediaTypeFile is the media type of the layer holding the file's bytes.
const mediaTypeFile = "application/octet-stream"

// PushFile stores the regular file at path as an OCI 1.1 artifact and tags it tag, unless tag
// is empty. The file's bytes become one blob of media type application/octet-stream, annotated
// org.opencontainers.image.title with the file's base name; the manifest has artifactType
// ArtifactTypeFile, the OCI empty config, and org.opencontainers.image.created from the
// Store's clock (WithClock), so the same file pushed at the same clock time gives the same
// manifest digest. Beside tag, the manifest is tagged with a file record,
// "sha256-<file hex>.file-<first 32 hex of the manifest digest>", by which FileManifests finds
// it from the file's digest alone. The file is read twice, once to hash it and once to push it, and is never
// held in memory whole. What is stored is always the bytes that were hashed: when the first
// Size bytes read the second time differ from the first (the file was rewritten or truncated
// meanwhile), the push fails with a *provenance.PathError wrapping an *IntegrityError; bytes
// appended meanwhile are not stored. Content already in the Store is not pushed again, so
// pushing a file twice is harmless.
//
// A path that is not a regular file (a FIFO, a device, a directory) fails at once with a
// *provenance.PathError wrapping provenance.ErrNotRegular.
//
// It returns the manifest's descriptor, which attestations attach to (Attach), and the file's
// descriptor, whose digest statements about the file name as their subject: the sha256 digest
// that provenance.SubjectFromFile computes for the same file.
func (s *Store) PushFile(ctx context.Context, path, tag string) (manifest, file ocispec.Descriptor, err error) {
	fail := func(err error) (ocispec.Descriptor, ocispec.Descriptor, error) {
		return ocispec.Descriptor{}, ocispec.Descriptor{}, err
	}
	if err := s.writable("push file " + path); err != nil {
		return fail(err)
	}
	if tag != "" {
		if err := (registry.Reference{Reference: tag}).ValidateReferenceAsTag(); err != nil {
			return fail(&InputError{What: "tag", Reason: fmt.Sprintf("%q is not a valid tag", tag)})
		}
	}
	f, err := provenance.OpenRegular(path)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	d := digest.SHA256.Digester()
	n, err := io.Copy(d.Hash(), f)
	if err != nil {
		return fail(&provenance.PathError{Op: "hash", Path: path, Err: err})
	}
	file = ocispec.Descriptor{
		MediaType:   mediaTypeFile,
		Digest:      d.Digest(),
		Size:        n,
		Annotations: map[string]string{ocispec.AnnotationTitle: filepath.Base(path)},
	}
	ok, err := s.target.Exists(ctx, file)
	if err != nil {
		return fail(fmt.Errorf("oras: check file %s: %w", file.Digest, err))
	}
	// oras-go's retry transport cannot send a streamed body again, so a blob upload answered
	// 429 or 5xx is retried here, from the start of the file, as a new upload.
	for attempt := 0; !ok; attempt++ {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fail(&provenance.PathError{Op: "seek", Path: path, Err: err})
		}
		cr := &checkedReader{r: f, v: file.Digest.Verifier(), left: n}
		err := s.target.Push(ctx, file, cr)
		if err == nil || errors.Is(err, errdef.ErrAlreadyExists) {
			break
		}
		if cr.changed {
			return fail(&provenance.PathError{Op: "push", Path: path, Err: &IntegrityError{Descriptor: file, Err: errFileChanged}})
		}
		var er *errcode.ErrorResponse
		if attempt >= fileUploadRetries || !errors.As(err, &er) ||
			(er.StatusCode != http.StatusTooManyRequests && er.StatusCode < 500) {
			return fail(fmt.Errorf("oras: push file %s (%s): %w", path, file.Digest, err))
		}
		s.o.logger.WarnContext(ctx, "file upload refused; uploading again", "path", path, "status", er.StatusCode, "attempt", attempt+1)
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-time.After(200 * time.Millisecond << attempt):
		}
	}
	manifest, err = orasgo.PackManifest(ctx, s.target, orasgo.PackManifestVersion1_1, ArtifactTypeFile, orasgo.PackManifestOptions{
		Layers:              []ocispec.Descriptor{file},
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: s.o.clock().UTC().Format(time.RFC3339)},
	})
	if err != nil {
		return fail(fmt.Errorf("oras: push manifest for file %s: %w", path, err))
	}
	// The file record, by which FileManifests finds the manifest from the file's digest.
	if rec := fileRecordTag(file.Digest, manifest.Digest); rec != "" {
		if err := s.target.Tag(ctx, manifest, rec); err != nil {
			return fail(fmt.Errorf("oras: record file %s as %s: %w", path, rec, err))
		}
	}
	if tag != "" {
		if err := s.target.Tag(ctx, manifest, tag); err != nil {
			return fail(fmt.Errorf("oras: tag file %s as %s: %w", path, tag, err))
		}
	}
	s.o.logger.DebugContext(ctx, "pushed file", "path", path, "file", file.Digest, "manifest", manifest.Digest, "tag", tag)
	return manifest, file, nil
}

// fileUploadRetries is how many times PushFile uploads a file again after a 429 or 5xx answer,
// as oras-go's retry transport does for requests whose body it can send again.
const fileUploadRetries = 4

// errFileChanged is the cause reported when a file's bytes differ between hashing and pushing.
var errFileChanged = errors.New("file changed after it was hashed")

// checkedReader reads the first left bytes of r, the bytes PushFile hashed, and fails with
// errFileChanged when they turn out different or fewer, before the target has seen all of them.
type checkedReader struct {
	r       io.Reader
	v       digest.Verifier
	left    int64
	changed bool
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.v.Write(p[:n]) // hashing into a digest.Verifier never fails
	c.left -= int64(n)
	switch {
	case c.left == 0 && !c.v.Verified():
		c.changed = true
		return n, errFileChanged
	case c.left == 0:
		return n, io.EOF
	case errors.Is(err, io.EOF):
		c.changed = true
		return n, errFileChanged
	}
	return n, err
}
