package lineage

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// DataSource gives the content of the artifact whose node key is d, for WriteROCrateDir and
// WriteROCrateZip to copy into the crate: from files on disk, a store, or anywhere the caller
// chooses. An error wrapping fs.ErrNotExist means the source does not have it: the crate then
// describes the artifact without holding it. Any other error stops the writing.
type DataSource func(d digest.Digest) (io.ReadCloser, error)

// FSDataSource is a DataSource reading files of fsys by name: each artifact from the path
// name(d) returns, which is "" for an artifact fsys does not have. Callers that keep data by
// digest, such as a content-addressed folder, give a name function that maps digests to paths.
func FSDataSource(fsys fs.FS, name func(d digest.Digest) string) DataSource {
	return func(d digest.Digest) (io.ReadCloser, error) {
		p := name(d)
		if p == "" {
			return nil, fmt.Errorf("%s: %w", d, fs.ErrNotExist)
		}
		return fsys.Open(p)
	}
}

// reservedCrateNames are the names RO-Crate gives files of its own.
var reservedCrateNames = map[string]bool{"ro-crate-metadata.json": true, "ro-crate-preview.html": true, "ro-crate-metadata.jsonld": true}

// safeCratePath reports whether p is a relative path that is safe and portable as a file name in
// a crate folder or zip, and as an @id without escaping: segments of letters, digits and ". _ + -",
// none of them "." or "..".
func safeCratePath(p string) bool {
	if p == "" || len(p) > 200 || !fs.ValidPath(p) || reservedCrateNames[strings.ToLower(p)] {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." || strings.HasPrefix(seg, ".") {
			return false
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._+-", r)) {
				return false
			}
		}
	}
	return true
}

// dataPaths chooses where in the crate each data artifact goes: the name statements gave it,
// when that is a safe relative path no other artifact takes, else "data/ALG-HEX12/BASE" (or
// "data/ALG-HEX" without a usable base name). The choice depends only on the graph.
func (g *Graph) dataPaths() map[digest.Digest]string {
	tools := g.tools()
	out := map[digest.Digest]string{}
	files, dirs := map[string]bool{}, map[string]bool{} // lower-cased, for case-insensitive file systems
	free := func(p string) bool {
		lp := strings.ToLower(p)
		if files[lp] || dirs[lp] {
			return false
		}
		for dir := path.Dir(lp); dir != "."; dir = path.Dir(dir) {
			if files[dir] {
				return false
			}
		}
		return true
	}
	take := func(p string) {
		lp := strings.ToLower(p)
		files[lp] = true
		for dir := path.Dir(lp); dir != "."; dir = path.Dir(dir) {
			dirs[dir] = true
		}
	}
	for _, d := range g.order {
		if tools[d] || d.Algorithm() == sourceAlgorithm {
			continue
		}
		n := g.nodes[d]
		var base string
		if len(n.Names) > 0 {
			base = n.Names[0]
		} else if len(n.URIs) > 0 {
			u := n.URIs[0]
			if i := strings.IndexAny(u, "?#"); i >= 0 {
				u = u[:i]
			}
			base = path.Base(u)
		}
		p := base
		if !safeCratePath(p) || !free(p) {
			alg, enc, _ := strings.Cut(string(d), ":")
			b := path.Base(base)
			if safeCratePath(b) {
				p = "data/" + alg + "-" + enc[:min(12, len(enc))] + "/" + b
			} else {
				p = "data/" + alg + "-" + enc
			}
		}
		take(p)
		out[d] = p
	}
	return out
}

// crateSink receives the files of a crate.
type crateSink interface {
	create(name string) (io.Writer, error)
	commit(name string) error
	abort(name string)
}

// WriteROCrateDir writes a crate folder at dir (made if missing): ro-crate-metadata.json, as
// WriteROCrate writes it, and beside it every data artifact data has, copied in and verified
// against its digest while copying. The crate then names those files by their relative path
// (the name statements gave them when that is a safe, unique relative path, else under
// "data/"), with their size and digests. Artifacts data does not have are described as by
// WriteROCrate.
//
// The data is data's to find; WriteROCrateDir reads nothing else, and writes only under dir
// (through os.Root, so no name leaves it). A file whose content does not match its digest is
// removed and fails with a *CrateDataError wrapping ErrCrateData and ErrDataDigest; a read or
// write that fails, with one wrapping the cause. ctx is checked between files.
func (g *Graph) WriteROCrateDir(ctx context.Context, dir string, c Crate, data DataSource) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &CrateDataError{Op: "create", Path: dir, Err: err}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return &CrateDataError{Op: "create", Path: dir, Err: err}
	}
	defer root.Close()
	return g.writeCrateWith(ctx, &dirSink{root: root}, c, data)
}

// WriteROCrateZip writes the crate folder WriteROCrateDir would write as one zip archive to w:
// the data files first, then ro-crate-metadata.json, at the archive's root. Entries are
// deflated and dated c.Published (or the graph's latest time), so the same graph, Crate and
// data give the same bytes. On error, what was written to w is not a valid crate.
func (g *Graph) WriteROCrateZip(ctx context.Context, w io.Writer, c Crate, data DataSource) error {
	modified, err := g.published(c)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	sink := &zipSink{zw: zw, modified: modified}
	if err := g.writeCrateWith(ctx, sink, c, data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return &CrateDataError{Op: "write", Path: ROCrateMetadataFile, Err: err}
	}
	return nil
}

// published is the date the crate gives, checked as crateDocument checks it.
func (g *Graph) published(c Crate) (time.Time, error) {
	if _, err := g.crateDocument(c, nil); err != nil {
		return time.Time{}, err
	}
	if !c.Published.IsZero() {
		return c.Published, nil
	}
	var t time.Time
	for _, a := range g.activities {
		for _, x := range []time.Time{a.FinishedOn, a.StartedOn, a.SignedAt} {
			if x.After(t) {
				t = x
			}
		}
	}
	return t, nil
}

func (g *Graph) writeCrateWith(ctx context.Context, sink crateSink, c Crate, data DataSource) error {
	if data == nil {
		return &CrateDataError{Op: "read", Err: errors.New("no DataSource")}
	}
	if _, err := g.crateDocument(c, nil); err != nil {
		return err
	}
	held := map[digest.Digest]heldFile{}
	paths := g.dataPaths()
	for _, d := range g.order {
		p, ok := paths[d]
		if !ok {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		size, err := copyVerified(sink, p, d, data)
		if errors.Is(err, errNotHeld) {
			continue
		}
		if err != nil {
			return err
		}
		held[d] = heldFile{path: p, size: size}
	}
	doc, err := g.crateDocument(c, held)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, doc); err != nil {
		return err
	}
	w, err := sink.create(ROCrateMetadataFile)
	if err == nil {
		_, err = w.Write(buf.Bytes())
	}
	if err == nil {
		err = sink.commit(ROCrateMetadataFile)
	}
	if err != nil {
		return &CrateDataError{Op: "write", Path: ROCrateMetadataFile, Err: err}
	}
	return nil
}

var errNotHeld = errors.New("not held")

// copyVerified copies the artifact d from data to p in sink, hashing it with d's algorithm.
func copyVerified(sink crateSink, p string, d digest.Digest, data DataSource) (int64, error) {
	rc, err := data(d)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, errNotHeld
	}
	if err != nil {
		return 0, &CrateDataError{Op: "read", Digest: d, Path: p, Err: err}
	}
	defer rc.Close()
	if !d.Algorithm().Available() {
		return 0, &CrateDataError{Op: "verify", Digest: d, Path: p, Err: fmt.Errorf("%w: cannot hash %s", ErrDataDigest, d.Algorithm())}
	}
	w, err := sink.create(p)
	if err != nil {
		return 0, &CrateDataError{Op: "write", Digest: d, Path: p, Err: err}
	}
	verifier := d.Algorithm().Digester()
	n, err := io.Copy(io.MultiWriter(w, verifier.Hash()), rc)
	if err != nil {
		sink.abort(p)
		return 0, &CrateDataError{Op: "copy", Digest: d, Path: p, Err: err}
	}
	if got := verifier.Digest(); got != d {
		sink.abort(p)
		return 0, &CrateDataError{Op: "verify", Digest: d, Path: p, Got: got, Err: ErrDataDigest}
	}
	if err := sink.commit(p); err != nil {
		return 0, &CrateDataError{Op: "write", Digest: d, Path: p, Err: err}
	}
	return n, nil
}

type dirSink struct {
	root *os.Root
	f    *os.File
}

func (s *dirSink) create(name string) (io.Writer, error) {
	if dir := path.Dir(name); dir != "." {
		if err := s.root.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	s.f = f
	return f, nil
}

func (s *dirSink) commit(string) error {
	err := s.f.Close()
	s.f = nil
	return err
}

func (s *dirSink) abort(name string) {
	s.f.Close()
	s.f = nil
	s.root.Remove(name)
}

type zipSink struct {
	zw       *zip.Writer
	modified time.Time
}

func (s *zipSink) create(name string) (io.Writer, error) {
	return s.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: s.modified.UTC()})
}

func (s *zipSink) commit(string) error { return nil }
func (s *zipSink) abort(string)        {}
