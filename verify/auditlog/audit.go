package auditlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"runtime"
	"sync"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/verify"
)

// Source reads a tlog-tiles log: its checkpoint, hash tiles and entry bundles. Dir and URL
// return one; tessera's fetchers satisfy it.
type Source interface {
	// ReadCheckpoint returns the signed checkpoint.
	ReadCheckpoint(ctx context.Context) ([]byte, error)
	// ReadTile returns a hash tile (partial > 0 for a partial one), or an error wrapping
	// fs.ErrNotExist.
	ReadTile(ctx context.Context, level, index uint64, partial uint8) ([]byte, error)
	// ReadEntryBundle returns an entry bundle (partial > 0 for a partial one), or an error
	// wrapping fs.ErrNotExist.
	ReadEntryBundle(ctx context.Context, index uint64, partial uint8) ([]byte, error)
}

// Dir reads the log in a folder, as Open writes it.
func Dir(path string) Source { return client.FileFetcher{Root: path} }

// URL reads a log served over HTTP(S) at its tlog-tiles root, such as a log folder on a web
// server. c may be nil for http.DefaultClient.
func URL(root string, c *http.Client) (Source, error) {
	u, err := url.Parse(root)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not an http(s) URL", ErrInvalidConfig, root)
	}
	if c == nil {
		c = http.DefaultClient
	}
	return client.NewHTTPFetcher(u, c)
}

// Checkpoint is a signed tree head of the log: its origin, size and root hash, and the signed
// note it was read from. An auditor keeps the last one it saw.
type Checkpoint struct {
	log.Checkpoint
	// Raw is the signed note, as served.
	Raw []byte
}

// ParseCheckpoint opens a signed checkpoint with the log's verifier (whose name is the log's
// origin). A malformed note, another origin or a missing or bad signature fails with a
// *CheckpointError.
func ParseCheckpoint(raw []byte, v note.Verifier) (*Checkpoint, error) {
	if len(raw) > maxCheckpointBytes {
		return nil, &CheckpointError{Reason: fmt.Sprintf("%d bytes, more than %d", len(raw), maxCheckpointBytes)}
	}
	cp, _, _, err := log.ParseCheckpoint(raw, v.Name(), v)
	if err != nil {
		return nil, &CheckpointError{Reason: err.Error()}
	}
	return &Checkpoint{Checkpoint: *cp, Raw: bytes.Clone(raw)}, nil
}

const maxCheckpointBytes = 64 << 10

// Trust is what an auditor needs: the log's checkpoint key and who may sign its events.
type Trust struct {
	// Checkpoints verifies checkpoints; its name is the log's origin.
	Checkpoints note.Verifier
	// Events verifies the seals that sign the events; it must accept SealPredicateType.
	Events *verify.Verifier
	// Signer is who must have signed the seals.
	Signer verify.Identity
}

// Auditor reads and checks a log. It keeps no state between calls: the caller holds the last
// checkpoint it trusts and passes it in. An Auditor is safe for concurrent use.
type Auditor struct {
	src   Source
	trust Trust
}

// NewAuditor returns an auditor of the log src reads, trusting trust.
func NewAuditor(src Source, trust Trust) (*Auditor, error) {
	if src == nil || trust.Checkpoints == nil || trust.Events == nil || trust.Signer.IsZero() {
		return nil, fmt.Errorf("%w: a source, a checkpoint verifier, an event verifier and a signer identity are required", ErrInvalidConfig)
	}
	return &Auditor{src: src, trust: trust}, nil
}

// OpenCheckpoint opens a checkpoint of this log that the caller kept, with the log's key.
func (a *Auditor) OpenCheckpoint(raw []byte) (*Checkpoint, error) {
	return ParseCheckpoint(raw, a.trust.Checkpoints)
}

// Checkpoint reads the log's latest checkpoint and opens it.
func (a *Auditor) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	raw, err := a.src.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("auditlog: read checkpoint: %w", err)
	}
	return ParseCheckpoint(raw, a.trust.Checkpoints)
}

// Entry is one verified event of the log.
type Entry struct {
	// Index is the entry's position in the log.
	Index uint64
	// Event is the event, read from the verified statement.
	Event *audit.Event
	// Bundle is the seal that signs the event with the others of its batch.
	Bundle provenance.Bundle
	// Result is the verification of Bundle.
	Result *verify.Result
}

// Consistent reads the latest checkpoint and proves it extends held, the last checkpoint the
// caller trusted, and returns it. A smaller log fails with a *RollbackError; a latest
// checkpoint no append-only history joins to held (a rewrite or a fork) with a
// *ConsistencyError.
func (a *Auditor) Consistent(ctx context.Context, held *Checkpoint) (*Checkpoint, error) {
	return Follow(ctx, a.src, a.trust.Checkpoints, held)
}

// Follow reads the latest checkpoint of any C2SP tlog-tiles log, this package's or a shared
// one such as a Rekor v2 log, opens it with the log's key v and proves it consistent with held,
// a checkpoint of the same log the caller trusted (nil for none), from the log's tiles. It
// returns the latest checkpoint, which the caller keeps for the next call. A smaller log fails
// with a *RollbackError; a latest checkpoint no append-only history joins to held (a rewrite or
// a fork) with a *ConsistencyError. It reads no entries: what they mean is the log's business.
func Follow(ctx context.Context, src Source, v note.Verifier, held *Checkpoint) (*Checkpoint, error) {
	raw, err := src.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("auditlog: read checkpoint: %w", err)
	}
	latest, err := ParseCheckpoint(raw, v)
	if err != nil {
		return nil, err
	}
	if held == nil {
		return latest, nil
	}
	if held.Origin != latest.Origin {
		return nil, &ConsistencyError{Held: held.Size, Got: latest.Size, Reason: fmt.Sprintf("origin %q, held %q", latest.Origin, held.Origin)}
	}
	if latest.Size < held.Size {
		return nil, &RollbackError{Held: held.Size, Got: latest.Size}
	}
	if latest.Size == held.Size {
		if !bytes.Equal(latest.Hash, held.Hash) {
			return nil, &ConsistencyError{Held: held.Size, Got: latest.Size, Reason: "same size, another root: the log forked"}
		}
		return latest, nil
	}
	if held.Size == 0 {
		return latest, nil
	}
	pb, err := client.NewProofBuilder(ctx, latest.Size, src.ReadTile)
	if err != nil {
		return nil, fmt.Errorf("auditlog: consistency proof: %w", err)
	}
	hashes, err := pb.ConsistencyProof(ctx, held.Size, latest.Size)
	if err != nil {
		return nil, &ConsistencyError{Held: held.Size, Got: latest.Size, Reason: "no proof from the log's tiles: " + err.Error()}
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, held.Size, latest.Size, hashes, held.Hash, latest.Hash); err != nil {
		return nil, &ConsistencyError{Held: held.Size, Got: latest.Size, Reason: err.Error()}
	}
	return latest, nil
}

// InclusionProof proves that an entry is in the tree a checkpoint signs.
type InclusionProof struct {
	// Index is the entry's index; Size the checkpoint's tree size.
	Index, Size uint64
	// Hashes are the proof's nodes, RFC 6962 order.
	Hashes [][]byte
}

// Prove builds the inclusion proof of the entry at index in the tree cp signs, from the log's
// tiles, and checks it against entry data the log holds.
func (a *Auditor) Prove(ctx context.Context, index uint64, cp *Checkpoint) (*InclusionProof, []byte, error) {
	if index >= cp.Size {
		return nil, nil, &ProofError{Index: index, Size: cp.Size, Reason: "index beyond the tree"}
	}
	data, err := a.entryData(ctx, index, cp.Size)
	if err != nil {
		return nil, nil, err
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, a.src.ReadTile)
	if err != nil {
		return nil, nil, fmt.Errorf("auditlog: inclusion proof: %w", err)
	}
	hashes, err := pb.InclusionProof(ctx, index)
	if err != nil {
		return nil, nil, &ProofError{Index: index, Size: cp.Size, Reason: "no proof from the log's tiles: " + err.Error()}
	}
	p := &InclusionProof{Index: index, Size: cp.Size, Hashes: hashes}
	if err := VerifyInclusion(p, data, cp); err != nil {
		return nil, nil, err
	}
	return p, data, nil
}

// VerifyInclusion checks that p proves entry data in the tree cp signs. It needs nothing but
// the proof, the data and a checkpoint already opened with the log's key.
func VerifyInclusion(p *InclusionProof, data []byte, cp *Checkpoint) error {
	if p.Size != cp.Size {
		return &ProofError{Index: p.Index, Size: p.Size, Reason: fmt.Sprintf("proof for size %d, checkpoint of size %d", p.Size, cp.Size)}
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.Index, p.Size, rfc6962.DefaultHasher.HashLeaf(data), p.Hashes, cp.Hash); err != nil {
		return &ProofError{Index: p.Index, Size: p.Size, Reason: err.Error()}
	}
	return nil
}

// entryData reads the bytes of the entry at index in a tree of size.
func (a *Auditor) entryData(ctx context.Context, index, size uint64) ([]byte, error) {
	b, err := client.GetEntryBundle(ctx, a.src.ReadEntryBundle, index/layout.EntryBundleWidth, size)
	if err != nil {
		return nil, &EntryError{Index: index, Reason: "unreadable entry bundle", Err: err}
	}
	i := index % layout.EntryBundleWidth
	if i >= uint64(len(b.Entries)) {
		return nil, &EntryError{Index: index, Reason: "missing"}
	}
	return b.Entries[i], nil
}

// Verify checks one entry's data as an event of this log: its event statement is in the
// batch its seal covers (the entry's inclusion proof leads to the root the seal signs), the seal
// is signed by the trusted signer, and the statement is a valid event. It fails with an
// *EntryError naming index.
func (a *Auditor) Verify(ctx context.Context, index uint64, data []byte) (*Entry, error) {
	return a.verifyEntry(ctx, index, data, nil)
}

// seals caches the seals verified during one read of the log, by seal bundle digest and root.
type seals struct {
	mu       sync.Mutex
	verified map[string]*verify.Result
}

func (a *Auditor) verifyEntry(ctx context.Context, index uint64, data []byte, cache *seals) (*Entry, error) {
	o, err := openEntry(data)
	if err != nil {
		return nil, &EntryError{Index: index, Reason: "not an entry of an audit log", Err: err}
	}
	res, err := a.verifySeal(ctx, o, cache)
	if err != nil {
		return nil, &EntryError{Index: index, Reason: "seal", Err: err}
	}
	st, err := provenance.ParseStatement(o.statement)
	if err != nil {
		return nil, &EntryError{Index: index, Reason: "not a valid event", Err: err}
	}
	e, err := audit.Parse(st)
	if err != nil {
		return nil, &EntryError{Index: index, Reason: "not a valid event", Err: err}
	}
	return &Entry{Index: index, Event: e, Bundle: o.seal, Result: res}, nil
}

// verifySeal verifies that o's seal is signed by the trusted signer over o's root and batch
// size, once per seal when a cache is given.
func (a *Auditor) verifySeal(ctx context.Context, o *openedEntry, cache *seals) (*verify.Result, error) {
	key := string(o.seal.Digest()) + "@" + string(o.root)
	if cache != nil {
		cache.mu.Lock()
		res := cache.verified[key]
		cache.mu.Unlock()
		if res != nil {
			return res, nil
		}
	}
	res, err := a.trust.Events.Verify(ctx, o.seal, o.root, a.trust.Signer)
	if err != nil {
		return nil, err
	}
	if res.PredicateType() != SealPredicateType {
		return nil, fmt.Errorf("signed statement of type %q, not a seal (%s)", res.PredicateType(), SealPredicateType)
	}
	size := res.Statement().GetPredicate().GetFields()["size"].GetNumberValue()
	if size != float64(o.size) {
		return nil, fmt.Errorf("seal of a batch of %v events, the entry claims %d", size, o.size)
	}
	if cache != nil {
		cache.mu.Lock()
		cache.verified[key] = res
		cache.mu.Unlock()
	}
	return res, nil
}

// Entries reads the entries from index from up to cp's size, checking each on the way: the
// entry bundle holds it, its leaf hash is the one the log's tiles hold at its index, and it
// verifies as an event (Verify). The first failure ends the sequence with its error.
func (a *Auditor) Entries(ctx context.Context, cp *Checkpoint, from uint64) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		cache := &seals{verified: map[string]*verify.Result{}}
		a.walk(ctx, cp, from, func(index uint64, data []byte, _ []byte) error {
			e, err := a.verifyEntry(ctx, index, data, cache)
			if err != nil {
				return err
			}
			if !yield(e, nil) {
				return errStop
			}
			return nil
		}, func(err error) { yield(nil, err) })
	}
}

var errStop = errors.New("stop")

// walk calls fn for every entry from index from to cp.Size with its data and leaf hash, after
// checking the leaf hash against the level-0 tile. fail receives the first error.
func (a *Auditor) walk(ctx context.Context, cp *Checkpoint, from uint64, fn func(index uint64, data, leaf []byte) error, fail func(error)) {
	if from >= cp.Size {
		return
	}
	for ri := range layout.Range(from, cp.Size-from, cp.Size) {
		first := ri.Index*layout.EntryBundleWidth + uint64(ri.First)
		raw, err := a.src.ReadEntryBundle(ctx, ri.Index, ri.Partial)
		if err != nil {
			fail(&EntryError{Index: first, Reason: "entry bundle missing", Err: err})
			return
		}
		var bundle api.EntryBundle
		if err := bundle.UnmarshalText(raw); err != nil {
			fail(&EntryError{Index: ri.Index * layout.EntryBundleWidth, Reason: "malformed entry bundle", Err: err})
			return
		}
		leaves, err := client.FetchLeafHashes(ctx, a.src.ReadTile, first, uint64(ri.N), cp.Size)
		if err != nil {
			fail(&EntryError{Index: first, Reason: "hash tile unreadable or malformed", Err: err})
			return
		}
		for k := range ri.N {
			index := first + uint64(k)
			at := ri.First + k
			if int(at) >= len(bundle.Entries) {
				fail(&EntryError{Index: index, Reason: "missing from its entry bundle"})
				return
			}
			data := bundle.Entries[at]
			leaf := rfc6962.DefaultHasher.HashLeaf(data)
			if !bytes.Equal(leaf, leaves[k]) {
				fail(&EntryError{Index: index, Reason: "entry does not match the log's tree at its index (altered, removed, inserted or moved)"})
				return
			}
			if err := fn(index, data, leaf); err != nil {
				if !errors.Is(err, errStop) {
					fail(err)
				}
				return
			}
		}
		if want := ri.First + ri.N; ri.Partial != 0 && uint(len(bundle.Entries)) != want {
			fail(&EntryError{Index: ri.Index*layout.EntryBundleWidth + uint64(want), Reason: fmt.Sprintf("entry bundle holds %d entries, the tree %d", len(bundle.Entries), want)})
			return
		}
	}
}

type pendingEntry struct {
	index uint64
	data  []byte
}

// Report is the outcome of a full audit.
type Report struct {
	// Checkpoint is the checkpoint audited, which the caller keeps for its next audit.
	Checkpoint *Checkpoint
	// Entries counts the entries checked.
	Entries uint64
	// Kinds counts the entries checked by kind of event.
	Kinds map[audit.Kind]uint64
}

// Audit checks the whole log: the latest checkpoint opens with the log's key and extends held
// (Consistent; held may be nil on a first audit); every entry up to its size is present, is
// the one the tiles hold at its index, and verifies as an event; and the entries hash to the
// checkpoint's root. A failure is a typed error wrapping ErrTampered that names what failed:
// *EntryError with the index, *RootError, *RollbackError, *ConsistencyError, *CheckpointError.
func (a *Auditor) Audit(ctx context.Context, held *Checkpoint) (*Report, error) {
	cp, err := a.Consistent(ctx, held)
	if err != nil {
		return nil, err
	}
	report := &Report{Checkpoint: cp, Kinds: map[audit.Kind]uint64{}}
	tree := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	cache := &seals{verified: map[string]*verify.Result{}}
	// Entries are checked against the tiles in order, and their signatures verified a bundle's
	// worth at a time in parallel; the first failure by index is the one reported.
	var batch []pendingEntry
	verifyBatch := func() error {
		kinds := make([]audit.Kind, len(batch))
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		next := make(chan int)
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					e, err := a.verifyEntry(ctx, batch[i].index, batch[i].data, cache)
					if err != nil {
						errs[i] = err
						continue
					}
					kinds[i] = e.Event.Kind
				}
			}()
		}
		for i := range batch {
			next <- i
		}
		close(next)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				return err
			}
			report.Entries++
			report.Kinds[kinds[i]]++
		}
		batch = batch[:0]
		return nil
	}
	var failed error
	a.walk(ctx, cp, 0, func(index uint64, data, leaf []byte) error {
		if err := tree.Append(leaf, nil); err != nil {
			return err
		}
		batch = append(batch, pendingEntry{index: index, data: data})
		if len(batch) == layout.EntryBundleWidth {
			return verifyBatch()
		}
		return nil
	}, func(err error) { failed = err })
	// Entries before a failure found on the way are verified first: a bad signature at a lower
	// index is the first failure.
	if err := verifyBatch(); err != nil {
		return nil, err
	}
	if failed != nil {
		return nil, failed
	}
	root := rfc6962.DefaultHasher.EmptyRoot()
	if cp.Size > 0 {
		if root, err = tree.GetRootHash(nil); err != nil {
			return nil, err
		}
	}
	if !bytes.Equal(root, cp.Hash) {
		return nil, &RootError{Size: cp.Size, Want: cp.Hash, Got: root}
	}
	return report, nil
}
