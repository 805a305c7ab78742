package oras

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"
)

// layoutLockFile is the file in a layout's directory that writers of index.json lock.
const layoutLockFile = "index.json.lock"

// indexTempPrefix starts the names of the temporary files index.json is written through.
const indexTempPrefix = ".index.json-"

// layoutTarget is an OCI image layout that several processes may share, on a local disk or a
// network file system. Blobs are stored by oras-go's content/oci.Storage (written to a
// temporary file and renamed into place); this type owns index.json:
//
//   - every change to index.json is a read-modify-write of the file as it is on disk, done
//     while holding an exclusive lock on index.json.lock (flock(2), which Linux maps to POSIX
//     locks on NFS), so writers in different processes never drop each other's entries;
//   - index.json is replaced atomically: written to a temporary file in the same directory,
//     fsynced, renamed over index.json, and the directory fsynced, so a reader or a writer
//     killed at any point sees either the old index or the new one, never a torn one, and an
//     entry is on disk before the push that added it returns;
//   - readers re-read index.json whenever it is not the file they read last (another inode,
//     size or modification time), so a long-lived layoutTarget sees what other processes
//     added.
//
// oras-go's oci.Store (v2.6.0) does none of this: it loads index.json once into an in-memory
// tag resolver and graph, and rewrites the whole file in place with os.WriteFile from that
// memory on every push, so a second process's entries are overwritten, a reader can decode a
// partly written file ("failed to decode index file: EOF"), and a process killed mid-write
// leaves a truncated index.json that no longer opens. The fix that belongs upstream in
// oras-go's content/oci: write index.json through a temporary file, fsync and rename; merge
// with the file on disk under a file lock in saveIndex instead of writing the in-memory view;
// and reload the tag resolver and graph when the file changed.
//
// A layoutTarget is safe for concurrent use.
type layoutTarget struct {
	root      string
	indexPath string
	blobs     *oci.Storage

	writeMu sync.Mutex // one writer of index.json at a time in this process; the file lock orders processes

	mu   sync.Mutex
	fi   os.FileInfo // of the index.json view was read from
	view *layoutView
	succ sync.Map // digest.Digest -> []ocispec.Descriptor: successors of manifests read so far
}

var _ orasgo.GraphTarget = (*layoutTarget)(nil)

// layoutView is what one reading of index.json says.
type layoutView struct {
	tags     map[string]ocispec.Descriptor
	byDigest map[digest.Digest]ocispec.Descriptor
	preds    map[digest.Digest][]ocispec.Descriptor
}

// openLayout opens the OCI image layout in dir. With create it makes the layout when dir
// holds none; without, it writes nothing and fails with an error wrapping
// provenance.ErrNotFound when dir, its oci-layout file or its index.json is missing.
func openLayout(ctx context.Context, dir string, create bool) (*layoutTarget, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if !create {
		for _, name := range []string{ocispec.ImageLayoutFile, ocispec.ImageIndexFile} {
			if _, err := os.Stat(filepath.Join(root, name)); errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w: no %s file", provenance.ErrNotFound, name)
			} else if err != nil {
				return nil, err
			}
		}
	} else if err := os.MkdirAll(filepath.Join(root, ocispec.ImageBlobsDir), 0o755); err != nil {
		return nil, err
	}
	blobs, err := oci.NewStorage(root)
	if err != nil {
		return nil, err
	}
	l := &layoutTarget{root: root, indexPath: filepath.Join(root, ocispec.ImageIndexFile), blobs: blobs}
	if err := l.ensureLayoutFile(create); err != nil {
		return nil, err
	}
	if _, err := os.Stat(l.indexPath); create && errors.Is(err, fs.ErrNotExist) {
		if err := l.updateIndex(func(*ocispec.Index) bool { return true }); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if _, err := l.refresh(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *layoutTarget) ensureLayoutFile(create bool) error {
	path := filepath.Join(l.root, ocispec.ImageLayoutFile)
	data, err := readFileCapped(path, maxLayoutFileBytes)
	if create && errors.Is(err, fs.ErrNotExist) {
		data, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
		if err != nil {
			return err
		}
		return writeFileAtomic(l.root, ocispec.ImageLayoutFile, ".oci-layout-", data)
	}
	if err != nil {
		return err
	}
	var layout ocispec.ImageLayout
	if err := json.Unmarshal(data, &layout); err != nil {
		return fmt.Errorf("decode %s: %w", ocispec.ImageLayoutFile, err)
	}
	if layout.Version != ocispec.ImageLayoutVersion {
		return fmt.Errorf("%s: layout version %q, want %q", ocispec.ImageLayoutFile, layout.Version, ocispec.ImageLayoutVersion)
	}
	return nil
}

// maxLayoutFileBytes caps the oci-layout file, which holds one short JSON object.
const maxLayoutFileBytes = 4096

// readFileCapped reads the regular file at path, refusing one larger than limit bytes.
func readFileCapped(path string, limit int64) ([]byte, error) {
	f, err := provenance.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &provenance.SizeError{What: path, Limit: limit, Size: -1}
	}
	return data, nil
}

// readIndex decodes index.json from f.
func readIndex(f io.Reader) (ocispec.Index, error) {
	var idx ocispec.Index
	data, err := io.ReadAll(io.LimitReader(f, provenance.MaxManifestBytes*64+1))
	if err != nil {
		return idx, err
	}
	if len(data) > provenance.MaxManifestBytes*64 {
		return idx, fmt.Errorf("%s is larger than %d bytes", ocispec.ImageIndexFile, provenance.MaxManifestBytes*64)
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return idx, fmt.Errorf("decode %s: %w", ocispec.ImageIndexFile, err)
	}
	return idx, nil
}

// refresh returns the view of index.json as it is now, reading the file again only when it is
// not the one read last.
func (l *layoutTarget) refresh(ctx context.Context) (*layoutView, error) {
	f, err := os.Open(l.indexPath)
	if errors.Is(err, fs.ErrNotExist) {
		return &layoutView{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.view != nil && sameFile(l.fi, fi) {
		v := l.view
		l.mu.Unlock()
		return v, nil
	}
	l.mu.Unlock()
	idx, err := readIndex(f)
	if err != nil {
		return nil, fmt.Errorf("oras: OCI layout %s: %w", l.root, err)
	}
	v := l.buildView(ctx, idx)
	l.mu.Lock()
	l.fi, l.view = fi, v
	l.mu.Unlock()
	return v, nil
}

func sameFile(a, b os.FileInfo) bool {
	return a != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// buildView indexes the tags of idx and the predecessor graph of every manifest reachable from
// it. A manifest that is missing or unreadable contributes no edges, as in a layout holding
// part of an image.
func (l *layoutTarget) buildView(ctx context.Context, idx ocispec.Index) *layoutView {
	v := &layoutView{
		tags:     map[string]ocispec.Descriptor{},
		byDigest: map[digest.Digest]ocispec.Descriptor{},
		preds:    map[digest.Digest][]ocispec.Descriptor{},
	}
	seen := map[digest.Digest]bool{}
	var walk func(node ocispec.Descriptor)
	walk = func(node ocispec.Descriptor) {
		if seen[node.Digest] {
			return
		}
		seen[node.Digest] = true
		plain := ocispec.Descriptor{MediaType: node.MediaType, Digest: node.Digest, Size: node.Size}
		for _, child := range l.successors(ctx, plain) {
			v.preds[child.Digest] = append(v.preds[child.Digest], plain)
			walk(child)
		}
	}
	for _, d := range idx.Manifests {
		if d.Digest.Validate() != nil {
			continue
		}
		if ref := d.Annotations[ocispec.AnnotationRefName]; ref != "" {
			v.tags[ref] = d
		}
		if _, ok := v.byDigest[d.Digest]; !ok {
			v.byDigest[d.Digest] = d
		}
		walk(d)
	}
	return v
}

// successors returns the children of a manifest or index, reading each manifest once: blobs
// are content-addressed, so what was read stays true.
func (l *layoutTarget) successors(ctx context.Context, node ocispec.Descriptor) []ocispec.Descriptor {
	if !isManifest(node.MediaType) && !isIndex(node.MediaType) {
		return nil
	}
	if s, ok := l.succ.Load(node.Digest); ok {
		return s.([]ocispec.Descriptor)
	}
	if node.Size <= 0 || node.Size > provenance.MaxManifestBytes {
		return nil
	}
	s, err := content.Successors(ctx, l.blobs, node)
	if err != nil {
		return nil
	}
	l.succ.Store(node.Digest, s)
	return s
}

// updateIndex applies change to index.json as it is on disk, under the layout's file lock,
// and writes the result atomically when change reports that it changed something.
func (l *layoutTarget) updateIndex(change func(*ocispec.Index) bool) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	unlock, err := lockFile(filepath.Join(l.root, layoutLockFile))
	if err != nil {
		return fmt.Errorf("oras: lock OCI layout %s: %w", l.root, err)
	}
	defer unlock()
	removeStaleTemps(l.root)
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	f, err := os.Open(l.indexPath)
	switch {
	case err == nil:
		idx, err = readIndex(f)
		f.Close()
		if err != nil {
			// Never overwrite an index that does not decode: it may hold what nothing else does.
			return fmt.Errorf("oras: OCI layout %s: %w", l.root, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	if !change(&idx) {
		return nil
	}
	data, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(l.root, ocispec.ImageIndexFile, indexTempPrefix, data); err != nil {
		return fmt.Errorf("oras: write %s of OCI layout %s: %w", ocispec.ImageIndexFile, l.root, err)
	}
	return nil
}

// staleIngest is the age past which a blob upload file in the layout's ingest folder is taken
// for one a killed writer left.
const staleIngest = 24 * time.Hour

// removeStaleTemps deletes temporary files killed writers left: index files (it runs under
// the file lock, while no other writer can have one in progress) and blob uploads older than
// staleIngest.
func removeStaleTemps(root string) {
	names, _ := filepath.Glob(filepath.Join(root, indexTempPrefix+"*"))
	for _, n := range names {
		_ = os.Remove(n)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "ingest"))
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && time.Since(info.ModTime()) > staleIngest {
			_ = os.Remove(filepath.Join(root, "ingest", e.Name()))
		}
	}
}

// writeFileAtomic replaces dir/name with data: a temporary file in dir, fsynced, renamed over
// name, then dir fsynced, so the name holds the old or the new bytes whatever happens.
func writeFileAtomic(dir, name, tempPrefix string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the entries of dir durable. Some systems cannot fsync a directory; there the
// rename is as durable as the system makes it.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !strings.Contains(err.Error(), "invalid argument") {
		return err
	}
	return nil
}

// Fetch reads a blob.
func (l *layoutTarget) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	return l.blobs.Fetch(ctx, target)
}

// Exists reports whether a blob is stored.
func (l *layoutTarget) Exists(ctx context.Context, target ocispec.Descriptor) (bool, error) {
	return l.blobs.Exists(ctx, target)
}

// Push stores a blob, fsyncs it, and adds a manifest or index to index.json. Pushing a
// manifest that is stored but not in index.json (its writer was killed in between) adds it
// and reports errdef.ErrAlreadyExists like any stored blob.
func (l *layoutTarget) Push(ctx context.Context, expected ocispec.Descriptor, r io.Reader) error {
	err := l.blobs.Push(ctx, expected, r)
	exists := errors.Is(err, errdef.ErrAlreadyExists)
	if err != nil && !exists {
		return err
	}
	if !exists {
		if err := l.syncBlob(expected.Digest); err != nil {
			return fmt.Errorf("oras: sync blob %s: %w", expected.Digest, err)
		}
	}
	if isManifest(expected.MediaType) || isIndex(expected.MediaType) {
		entry := expected
		if entry.Annotations != nil {
			entry.Annotations = maps.Clone(entry.Annotations)
			delete(entry.Annotations, ocispec.AnnotationRefName)
			if len(entry.Annotations) == 0 {
				entry.Annotations = nil
			}
		}
		if err := l.updateIndex(func(idx *ocispec.Index) bool {
			if slices.ContainsFunc(idx.Manifests, func(d ocispec.Descriptor) bool { return d.Digest == entry.Digest }) {
				return false
			}
			idx.Manifests = append(idx.Manifests, entry)
			return true
		}); err != nil {
			return err
		}
	}
	if exists {
		return fmt.Errorf("%s: %s: %w", expected.Digest, expected.MediaType, errdef.ErrAlreadyExists)
	}
	return nil
}

func (l *layoutTarget) blobPath(d digest.Digest) string {
	return filepath.Join(l.root, ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
}

func (l *layoutTarget) syncBlob(d digest.Digest) error {
	path := l.blobPath(d)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// Tag points reference at desc in index.json, replacing what it pointed at.
func (l *layoutTarget) Tag(ctx context.Context, desc ocispec.Descriptor, reference string) error {
	if reference == "" {
		return errdef.ErrMissingReference
	}
	ok, err := l.blobs.Exists(ctx, desc)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %s: %w", desc.Digest, desc.MediaType, errdef.ErrNotFound)
	}
	entry := desc
	entry.Annotations = maps.Clone(desc.Annotations)
	if entry.Annotations == nil {
		entry.Annotations = map[string]string{}
	}
	entry.Annotations[ocispec.AnnotationRefName] = reference
	if reference == desc.Digest.String() {
		delete(entry.Annotations, ocispec.AnnotationRefName)
	}
	return l.updateIndex(func(idx *ocispec.Index) bool {
		kept := idx.Manifests[:0:0]
		for _, d := range idx.Manifests {
			ref := d.Annotations[ocispec.AnnotationRefName]
			if ref == reference || (ref == "" && d.Digest == desc.Digest) {
				continue
			}
			kept = append(kept, d)
		}
		idx.Manifests = append(kept, entry)
		return true
	})
}

// Resolve returns the descriptor a tag points at, or a plain descriptor for the digest of a
// manifest in index.json or of any stored blob.
func (l *layoutTarget) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	if reference == "" {
		return ocispec.Descriptor{}, errdef.ErrMissingReference
	}
	v, err := l.refresh(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if d, ok := v.tags[reference]; ok {
		return d, nil
	}
	dg := digest.Digest(reference)
	if d, ok := v.byDigest[dg]; ok {
		return ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}, nil
	}
	if dg.Validate() != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w", reference, errdef.ErrNotFound)
	}
	fi, err := os.Stat(l.blobPath(dg))
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w", reference, errdef.ErrNotFound)
	}
	return ocispec.Descriptor{MediaType: "application/octet-stream", Digest: dg, Size: fi.Size()}, nil
}

// Predecessors returns the manifests and indexes in the layout that point at node.
func (l *layoutTarget) Predecessors(ctx context.Context, node ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	v, err := l.refresh(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.preds[node.Digest]), nil
}

// Tags lists the layout's tags in ascending order, those after last when last is not empty.
func (l *layoutTarget) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
	v, err := l.refresh(ctx)
	if err != nil {
		return err
	}
	var tags []string
	for t := range v.tags {
		if last == "" || t > last {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	return fn(tags)
}

// repair adds to index.json every stored manifest whose subject is subject but that
// index.json does not list, as a writer that rewrote index.json from a stale copy (oras-go's
// oci.Store in another process) leaves them. It reads every blob no larger than a manifest may
// be, and takes only blobs whose bytes match their name.
func (l *layoutTarget) repair(ctx context.Context, subject digest.Digest) ([]ocispec.Descriptor, error) {
	v, err := l.refresh(ctx)
	if err != nil {
		return nil, err
	}
	var lost []ocispec.Descriptor
	for _, alg := range []digest.Algorithm{digest.SHA256, digest.SHA384, digest.SHA512} {
		dir := filepath.Join(l.root, ocispec.ImageBlobsDir, alg.String())
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			d := digest.NewDigestFromEncoded(alg, e.Name())
			if d.Validate() != nil || !e.Type().IsRegular() {
				continue
			}
			if _, ok := v.byDigest[d]; ok {
				continue
			}
			info, err := e.Info()
			if err != nil || info.Size() > provenance.MaxManifestBytes {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil || alg.FromBytes(data) != d {
				continue
			}
			doc, err := parseDocument(d, data)
			if err != nil || doc.Subject == nil || doc.Subject.Digest != subject || !isManifest(doc.MediaType) && !isIndex(doc.MediaType) {
				continue
			}
			lost = append(lost, listingEntry(ocispec.Descriptor{MediaType: doc.MediaType, Digest: d, Size: int64(len(data))}, doc))
		}
	}
	if len(lost) == 0 {
		return nil, nil
	}
	var added []ocispec.Descriptor
	err = l.updateIndex(func(idx *ocispec.Index) bool {
		for _, m := range lost {
			if !slices.ContainsFunc(idx.Manifests, func(d ocispec.Descriptor) bool { return d.Digest == m.Digest }) {
				idx.Manifests = append(idx.Manifests, m)
				added = append(added, m)
			}
		}
		return len(added) > 0
	})
	return added, err
}
