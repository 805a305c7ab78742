package provenance

import (
	"context"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// HashOption configures how subjects are hashed.
type HashOption func(*hashOptions) error

type hashOptions struct {
	algorithms []digest.Algorithm
	workers    int
	progress   func(hashedBytes int64)
}

// WithAlgorithms sets the digests computed for each subject; the default is sha256 alone.
// Several algorithms are computed concurrently in one pass over the bytes. Supported: sha256,
// sha384 and sha512.
func WithAlgorithms(algs ...digest.Algorithm) HashOption {
	return func(o *hashOptions) error {
		if len(algs) == 0 {
			return fmt.Errorf("%w: no algorithm given", ErrInvalidDigest)
		}
		seen := map[digest.Algorithm]bool{}
		for _, a := range algs {
			if a != digest.SHA256 && a != digest.SHA384 && a != digest.SHA512 {
				return fmt.Errorf("%w: unsupported algorithm %q", ErrInvalidDigest, a)
			}
			if seen[a] {
				return fmt.Errorf("%w: algorithm %q given twice", ErrInvalidDigest, a)
			}
			seen[a] = true
		}
		o.algorithms = algs
		return nil
	}
}

// WithWorkers bounds how many files SubjectsFromDir hashes at once; the default is
// runtime.GOMAXPROCS(0). It has no effect on single files.
func WithWorkers(n int) HashOption {
	return func(o *hashOptions) error {
		if n < 1 {
			return fmt.Errorf("provenance: workers must be at least 1, got %d", n)
		}
		o.workers = n
		return nil
	}
}

// WithProgress calls fn with the running total of bytes hashed, after each chunk of up to 1 MiB.
// fn may be called from several goroutines at once and must be quick.
func WithProgress(fn func(hashedBytes int64)) HashOption {
	return func(o *hashOptions) error {
		o.progress = fn
		return nil
	}
}

func newHashOptions(opts []HashOption) (*hashOptions, error) {
	o := &hashOptions{algorithms: []digest.Algorithm{digest.SHA256}, workers: runtime.GOMAXPROCS(0)}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// SubjectFromReader returns a subject named name whose digests are computed by streaming r.
// Memory use does not depend on the length of r.
func SubjectFromReader(name string, r io.Reader, opts ...HashOption) (*intoto.ResourceDescriptor, error) {
	o, err := newHashOptions(opts)
	if err != nil {
		return nil, err
	}
	var counter *atomic.Int64
	if o.progress != nil {
		counter = new(atomic.Int64)
	}
	set, _, err := digestStream(r, o.algorithms, o.progress, counter)
	if err != nil {
		return nil, err
	}
	return &intoto.ResourceDescriptor{Name: name, Digest: set}, nil
}

// SubjectFromFile returns a subject for the file at path, named by its base name.
// A path that is not a regular file (a FIFO, a device) fails at once with a *PathError wrapping
// ErrNotRegular.
func SubjectFromFile(path string, opts ...HashOption) (*intoto.ResourceDescriptor, error) {
	f, err := openRegular(path, "hash", func(flag int) (*os.File, error) { return os.OpenFile(path, flag, 0) })
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd, err := SubjectFromReader(filepath.Base(path), f, opts...)
	if err != nil {
		return nil, &PathError{Op: "hash", Path: path, Err: err}
	}
	return rd, nil
}

// OpenRegular opens the file at path for reading when it is a regular file (following
// symbolic links), and otherwise fails with a *PathError wrapping ErrNotRegular, without
// blocking: a FIFO is opened without waiting for a writer, and its mode checked on the open
// file, so swapping the path between a check and the open changes nothing.
func OpenRegular(path string) (*os.File, error) {
	return openRegular(path, "open", func(flag int) (*os.File, error) { return os.OpenFile(path, flag, 0) })
}

// openRegular opens name with open, refusing anything but a regular file with a *PathError of
// operation op.
func openRegular(name, op string, open func(flag int) (*os.File, error)) (*os.File, error) {
	f, err := open(openFlags)
	if err != nil {
		return nil, &PathError{Op: "open", Path: name, Err: err}
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &PathError{Op: "stat", Path: name, Err: err}
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, &PathError{Op: op, Path: name, Err: fmt.Errorf("%w (%s)", ErrNotRegular, info.Mode().Type())}
	}
	return f, nil
}

// SubjectFromDescriptor returns the subject for an OCI manifest: named by repository (such as
// "registry.example/team/app"), with the descriptor's digest.
func SubjectFromDescriptor(repository string, desc ocispec.Descriptor) (*intoto.ResourceDescriptor, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrInvalidDigest, desc.Digest, err)
	}
	if repository == "" {
		return nil, &MissingFieldError{Field: "subject.name"}
	}
	return &intoto.ResourceDescriptor{
		Name:   repository,
		Digest: map[string]string{desc.Digest.Algorithm().String(): desc.Digest.Encoded()},
	}, nil
}

// SubjectsFromDir returns one subject for each regular file below root, named by its path
// relative to root with forward slashes, in lexical order. Files are hashed concurrently by a
// bounded pool of workers (see WithWorkers). A symbolic link to a file inside the tree is hashed
// under the link's own name; a link to a directory is not descended (its files are in the tree
// already); a link that leads outside root fails with an error wrapping ErrOutsideTree. Devices,
// sockets and pipes are skipped; one that replaces a file after the walk saw it fails with a
// *PathError wrapping ErrNotRegular, never blocking. An empty tree yields ErrNoSubjects.
func SubjectsFromDir(ctx context.Context, root string, opts ...HashOption) ([]*intoto.ResourceDescriptor, error) {
	o, err := newHashOptions(opts)
	if err != nil {
		return nil, err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, &PathError{Op: "walk", Path: root, Err: err}
	}
	dir, err := os.OpenRoot(realRoot)
	if err != nil {
		return nil, &PathError{Op: "open", Path: root, Err: err}
	}
	defer dir.Close()

	// The walk feeds the workers as it goes, so hashing overlaps with reading directories.
	type job struct {
		index int
		name  string
	}
	jobs := make(chan job, 4*o.workers)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var counter *atomic.Int64
	if o.progress != nil {
		counter = new(atomic.Int64)
	}
	var (
		mu       sync.Mutex
		subjects []*intoto.ResourceDescriptor
		wg       sync.WaitGroup
	)
	for range o.workers {
		wg.Go(func() {
			for j := range jobs {
				rd, err := hashTreeFile(dir, j.name, o, counter)
				if err != nil {
					cancel(err)
					continue
				}
				mu.Lock()
				if j.index >= len(subjects) {
					subjects = append(subjects, make([]*intoto.ResourceDescriptor, j.index+1-len(subjects))...)
				}
				subjects[j.index] = rd
				mu.Unlock()
			}
		})
	}
	count := 0
	walkErr := walkTree(ctx, dir, realRoot, func(name string) error {
		select {
		case jobs <- job{index: count, name: name}:
			count++
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(jobs)
	wg.Wait()
	if walkErr != nil {
		return nil, walkErr
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	if count == 0 {
		return nil, fmt.Errorf("%w: no regular files below %s", ErrNoSubjects, root)
	}
	return subjects, nil
}

// walkTree calls visit, in lexical order, with the slash-separated name of every regular file
// below dir and of every link to a regular file inside it, without following links.
func walkTree(ctx context.Context, dir *os.Root, realRoot string, visit func(name string) error) error {
	return fs.WalkDir(dir.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return &PathError{Op: "walk", Path: name, Err: err}
		}
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		switch {
		case d.Type().IsRegular():
			return visit(name)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := filepath.EvalSymlinks(filepath.Join(realRoot, filepath.FromSlash(name)))
			if err != nil {
				return &PathError{Op: "walk", Path: name, Err: err}
			}
			rel, err := filepath.Rel(realRoot, target)
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
				return &PathError{Op: "walk", Path: name, Err: fmt.Errorf("%w: links to %s", ErrOutsideTree, target)}
			}
			info, err := os.Stat(target)
			if err != nil {
				return &PathError{Op: "walk", Path: name, Err: err}
			}
			if info.Mode().IsRegular() {
				return visit(name)
			}
		}
		return nil
	})
}

func hashTreeFile(dir *os.Root, name string, o *hashOptions, counter *atomic.Int64) (*intoto.ResourceDescriptor, error) {
	// os.Root refuses to follow a link out of the tree, even one changed since the walk; a
	// file replaced since the walk by a FIFO or device is refused rather than waited on.
	f, err := openRegular(name, "hash", func(flag int) (*os.File, error) { return dir.OpenFile(filepath.FromSlash(name), flag, 0) })
	if err != nil {
		return nil, err
	}
	defer f.Close()
	set, _, err := digestStream(f, o.algorithms, o.progress, counter)
	if err != nil {
		return nil, &PathError{Op: "hash", Path: name, Err: err}
	}
	return &intoto.ResourceDescriptor{Name: name, Digest: set}, nil
}

// chunkSize is small enough for a chunk to stay in cache between being read on one core and
// hashed on another, and large enough to keep the per-chunk hand-off cost negligible.
const chunkSize = 512 << 10

// ring is how many chunks can be in flight between the reader and the slowest hasher.
const ring = 8

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// chunk is one buffer of the ring, with how many hashers have yet to read it.
type chunk struct {
	buf     *[]byte
	n       int
	pending atomic.Int32
}

// digestStream hashes r with every algorithm in one pass. Input that fits in one chunk is
// hashed in the calling goroutine. Longer input is read by the caller into a fixed ring of
// buffers while each algorithm hashes in a goroutine of its own, at its own pace, so reading and
// every hash run at once and memory stays constant; a buffer returns to the ring when its last
// hasher is done with it.
func digestStream(r io.Reader, algs []digest.Algorithm, progress func(int64), counter *atomic.Int64) (map[string]string, int64, error) {
	hashes := make([]hash.Hash, len(algs))
	for i, a := range algs {
		hashes[i] = a.Hash()
	}
	first := chunkPool.Get().(*[]byte)
	n, err := io.ReadFull(r, *first)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		for _, h := range hashes {
			h.Write((*first)[:n])
		}
		chunkPool.Put(first)
		if progress != nil {
			progress(counter.Add(int64(n)))
		}
		return digestSet(algs, hashes), int64(n), nil
	}
	if err != nil {
		chunkPool.Put(first)
		return nil, 0, err
	}

	free := make(chan *chunk, ring)
	free <- &chunk{buf: first}
	for range ring - 1 {
		free <- &chunk{buf: chunkPool.Get().(*[]byte)}
	}
	queues := make([]chan *chunk, len(hashes))
	var wg sync.WaitGroup
	for i, h := range hashes {
		queue := make(chan *chunk, ring)
		queues[i] = queue
		wg.Go(func() {
			for c := range queue {
				h.Write((*c.buf)[:c.n])
				if c.pending.Add(-1) == 0 {
					if progress != nil {
						progress(counter.Add(int64(c.n)))
					}
					free <- c
				}
			}
		})
	}
	send := func(c *chunk, n int) {
		c.n = n
		c.pending.Store(int32(len(queues)))
		for _, q := range queues {
			q <- c
		}
	}

	total := int64(n)
	send(<-free, n)
	var readErr error
	for {
		c := <-free
		n, err := io.ReadFull(r, *c.buf)
		if n > 0 {
			total += int64(n)
			send(c, n)
		} else {
			free <- c
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	close(free)
	for c := range free {
		chunkPool.Put(c.buf)
	}
	if readErr != nil {
		return nil, 0, readErr
	}
	return digestSet(algs, hashes), total, nil
}

func digestSet(algs []digest.Algorithm, hashes []hash.Hash) map[string]string {
	set := make(map[string]string, len(algs))
	for i, a := range algs {
		set[a.String()] = hex.EncodeToString(hashes[i].Sum(nil))
	}
	return set
}
