package oras

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// OpenLayout opens the existing OCI image layout in directory dir for reading, and writes
// nothing: not even when dir holds no layout. A directory that does not exist, or lacks the
// oci-layout or index.json file, fails with a *LayoutError wrapping provenance.ErrNotFound.
// Discover, Fetch, Resolve, Image and Copy from it work as on a Store NewLayout made, and see
// what other writers add to the layout meanwhile; Attach, PushFile, Repair and Copy into it fail
// with a *ReadOnlyError (wrapping ErrReadOnly) before writing anything. Use NewLayout for a
// layout to write to (an Attach or Copy destination): it creates the layout when dir holds none.
func OpenLayout(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	o, err := localOptions(opts)
	if err != nil {
		return nil, err
	}
	layout, err := openLayout(ctx, dir, false)
	if err != nil {
		return nil, &LayoutError{Path: dir, Err: err}
	}
	what := "OCI layout " + layout.root
	return &Store{target: readOnlyTarget{ReadOnlyGraphTarget: layout, what: what}, dir: layout.root, readOnly: what, o: o}, nil
}

// OpenLayoutFS opens the OCI image layout at the root of fsys for reading, such as os.DirFS,
// an embed.FS or an fstest.MapFS, through oras-go's read-only content/oci store (NewFromFS).
// The Store is read-only as OpenLayout's is, and reads index.json once, when opened.
//
// A layout is hostile input, read with the same limits as every other store: oci-layout and
// index.json are capped (index.json at 64 times provenance.MaxManifestBytes), every manifest and
// index reachable from index.json is checked against provenance.MaxManifestBytes before
// anything is read into memory (there are at most 100,000 of them) and verified against its
// digest, files that are not regular are refused with errors wrapping provenance.ErrNotRegular,
// and content read later is verified while reading, as in any Store. On os.DirFS a file is
// checked before it is opened, so a FIFO swapped in between can still block a read; OpenLayout
// has no such window. A missing oci-layout or index.json fails with a *LayoutError wrapping
// provenance.ErrNotFound; an unusable one with a *LayoutError naming the problem.
func OpenLayoutFS(ctx context.Context, fsys fs.FS, opts ...Option) (*Store, error) {
	if fsys == nil {
		return nil, &InputError{What: "fsys", Reason: "is nil"}
	}
	return openLayoutFS(ctx, &guardFS{fsys: fsys}, "", "OCI layout in a file system", opts)
}

// OpenLayoutTar opens the OCI image layout archived in the tar file at path for reading, as
// `oras backup` and `tar -C layout -cf pack.tar .` make them: an offline evidence pack. Blobs
// are read from the archive by oras-go's content/oci (NewStorageFromTar), which takes regular
// entries only; everything else is as OpenLayoutFS says. A path that does not exist fails with
// a *LayoutError wrapping provenance.ErrNotFound, and one that is not a regular file with a
// *LayoutError wrapping provenance.ErrNotRegular.
func OpenLayoutTar(ctx context.Context, path string, opts ...Option) (*Store, error) {
	small, err := readTarFiles(path, map[string]int64{
		ocispec.ImageLayoutFile: maxLayoutFileBytes,
		ocispec.ImageIndexFile:  maxIndexBytes,
	})
	if err != nil {
		return nil, &LayoutError{Path: path, Err: err}
	}
	blobs, err := oci.NewStorageFromTar(path)
	if err != nil {
		return nil, &LayoutError{Path: path, Err: err}
	}
	g := &guardFS{fsys: blobFS{blobs}, cache: small}
	return openLayoutFS(ctx, g, path, "OCI layout in "+absDir(path), opts)
}

// maxIndexBytes caps the index.json of a layout.
const maxIndexBytes = provenance.MaxManifestBytes * 64

// maxLayoutManifests caps how many manifests and indexes OpenLayoutFS reads when it opens a
// layout.
const maxLayoutManifests = 100_000

func openLayoutFS(ctx context.Context, g *guardFS, where, what string, opts []Option) (*Store, error) {
	o, err := localOptions(opts)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Store, error) { return nil, &LayoutError{Path: where, Err: err} }
	layoutData, err := g.readCapped(ocispec.ImageLayoutFile, maxLayoutFileBytes)
	if err != nil {
		return fail(err)
	}
	var layout ocispec.ImageLayout
	if err := json.Unmarshal(layoutData, &layout); err != nil {
		return fail(fmt.Errorf("decode %s: %w", ocispec.ImageLayoutFile, err))
	}
	if layout.Version != ocispec.ImageLayoutVersion {
		return fail(fmt.Errorf("%s: layout version %q, want %q", ocispec.ImageLayoutFile, layout.Version, ocispec.ImageLayoutVersion))
	}
	indexData, err := g.readCapped(ocispec.ImageIndexFile, maxIndexBytes)
	if err != nil {
		return fail(err)
	}
	idx, err := readIndex(bytes.NewReader(indexData))
	if err != nil {
		return fail(err)
	}
	// oras-go reads what it checked here, not the files again.
	g.cache = map[string][]byte{ocispec.ImageLayoutFile: layoutData, ocispec.ImageIndexFile: indexData}
	if err := checkLayoutGraph(ctx, oci.NewStorageFromFS(g), idx.Manifests); err != nil {
		return fail(err)
	}
	store, err := oci.NewFromFS(ctx, g)
	if err != nil {
		return fail(err)
	}
	return &Store{target: readOnlyTarget{ReadOnlyGraphTarget: store, what: what}, readOnly: what, o: o}, nil
}

// checkLayoutGraph reads every manifest and index reachable from roots as oras-go's
// oci.NewFromFS will, but capped and verified: oras-go (v2.6.0) allocates a manifest's declared
// size before reading it, so an index.json declaring an enormous size would crash the process.
// Descriptors are told apart as oras-go tells them apart (media type, digest and size), so each
// one it will read is checked. Missing manifests are skipped, as oras-go skips them.
func checkLayoutGraph(ctx context.Context, f content.Fetcher, roots []ocispec.Descriptor) error {
	type key struct {
		mediaType string
		digest    digest.Digest
		size      int64
	}
	seen := map[key]bool{}
	queue := append([]ocispec.Descriptor(nil), roots...)
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		k := key{d.MediaType, d.Digest, d.Size}
		if (!isManifest(d.MediaType) && !isIndex(d.MediaType)) || seen[k] {
			continue
		}
		seen[k] = true
		if len(seen) > maxLayoutManifests {
			return &LimitError{What: "manifests and indexes in the layout", Limit: maxLayoutManifests}
		}
		doc, _, err := fetchDocument(ctx, f, d)
		if errors.Is(err, provenance.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if doc.Subject != nil {
			queue = append(queue, *doc.Subject)
		}
		if doc.Config != nil {
			queue = append(queue, *doc.Config)
		}
		queue = append(queue, doc.Layers...)
		queue = append(queue, doc.Manifests...)
	}
	return nil
}

// localOptions builds the options of a local Store, rejecting remote-only ones.
func localOptions(opts []Option) (options, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return o, err
	}
	if o.remoteOnlyOpt != "" {
		return o, &OptionError{Option: o.remoteOnlyOpt, Reason: "applies to NewRemote only"}
	}
	return o, nil
}

// writable fails with a *ReadOnlyError when the Store is read-only.
func (s *Store) writable(op string) error {
	if s.readOnly != "" {
		return &ReadOnlyError{Op: op, Store: s.readOnly}
	}
	return nil
}

// readOnlyTarget is the graph target of a read-only Store: what Target returns refuses writes
// too.
type readOnlyTarget struct {
	orasgo.ReadOnlyGraphTarget
	what string
}

// Push refuses to write.
func (r readOnlyTarget) Push(_ context.Context, desc ocispec.Descriptor, _ io.Reader) error {
	return &ReadOnlyError{Op: "push " + desc.Digest.String(), Store: r.what}
}

// Tag refuses to write.
func (r readOnlyTarget) Tag(_ context.Context, _ ocispec.Descriptor, reference string) error {
	return &ReadOnlyError{Op: "tag " + reference, Store: r.what}
}

// Tags lists the layout's tags.
func (r readOnlyTarget) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
	if tl, ok := r.ReadOnlyGraphTarget.(registry.TagLister); ok {
		return tl.Tags(ctx, last, fn)
	}
	return fmt.Errorf("oras: %s lists no tags: %w", r.what, errdef.ErrUnsupported)
}

// guardFS is the file system a read-only layout is read through: it opens regular files only,
// and serves oci-layout and index.json from the bytes already checked.
type guardFS struct {
	fsys  fs.FS
	cache map[string][]byte
}

// Open opens name when it is a regular file.
func (g *guardFS) Open(name string) (fs.File, error) {
	if data, ok := g.cache[name]; ok {
		return &memFile{Reader: bytes.NewReader(data), name: name, size: int64(len(data))}, nil
	}
	fi, err := fs.Stat(g.fsys, name)
	if err != nil {
		return nil, err
	}
	if err := regular(name, fi); err != nil {
		return nil, err
	}
	f, err := g.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, err
	}
	if err := regular(name, fi); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Stat describes name.
func (g *guardFS) Stat(name string) (fs.FileInfo, error) {
	if data, ok := g.cache[name]; ok {
		return &memFile{name: name, size: int64(len(data))}, nil
	}
	return fs.Stat(g.fsys, name)
}

// readCapped reads name, refusing more than limit bytes; a missing file wraps
// provenance.ErrNotFound.
func (g *guardFS) readCapped(name string, limit int64) ([]byte, error) {
	f, err := g.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no %s file", provenance.ErrNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, &provenance.SizeError{What: name, Limit: limit, Size: -1}
	}
	return data, nil
}

func regular(name string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return &provenance.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%s)", provenance.ErrNotRegular, fi.Mode().Type())}
	}
	return nil
}

// memFile is a file held in memory; without a Reader it only describes itself.
type memFile struct {
	*bytes.Reader
	name string
	size int64
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m, nil }
func (m *memFile) Close() error               { return nil }
func (m *memFile) Name() string               { return path.Base(m.name) }
func (m *memFile) Size() int64                { return m.size }
func (m *memFile) Mode() fs.FileMode          { return 0o444 }
func (m *memFile) ModTime() time.Time         { return time.Time{} }
func (m *memFile) IsDir() bool                { return false }
func (m *memFile) Sys() any                   { return nil }

// blobFS presents the blobs of oras-go's read-only storage as blobs/<algorithm>/<encoded>.
type blobFS struct{ s *oci.ReadOnlyStorage }

func (b blobFS) Open(name string) (fs.File, error) {
	rest, ok := strings.CutPrefix(name, ocispec.ImageBlobsDir+"/")
	alg, enc, ok2 := strings.Cut(rest, "/")
	d := digest.NewDigestFromEncoded(digest.Algorithm(alg), enc)
	if !ok || !ok2 || d.Validate() != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	rc, err := b.s.Fetch(context.Background(), ocispec.Descriptor{Digest: d})
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if err != nil {
		return nil, err
	}
	f, ok := rc.(fs.File)
	if !ok {
		rc.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.ErrUnsupported}
	}
	return f, nil
}

// readTarFiles reads the regular entries of the tar archive at archive that want names, each
// capped at its limit; of entries with the same name the last counts, as for oras-go's tar
// reader. A name the archive lacks wraps provenance.ErrNotFound.
func readTarFiles(archive string, want map[string]int64) (map[string][]byte, error) {
	f, err := provenance.OpenRegular(archive)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", provenance.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read tar archive: %w", err)
		}
		name := path.Clean(h.Name)
		limit, ok := want[name]
		if !ok {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			delete(out, name)
			continue
		}
		if h.Size > limit {
			return nil, &provenance.SizeError{What: name, Limit: limit, Size: h.Size}
		}
		data, err := io.ReadAll(io.LimitReader(tr, limit))
		if err != nil {
			return nil, fmt.Errorf("read %s from tar archive: %w", name, err)
		}
		out[name] = data
	}
	return out, nil
}
