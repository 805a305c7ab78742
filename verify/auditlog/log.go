package auditlog

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
)

// Signer signs the seal of each batch of events into a bundle. sign.Signer satisfies it: a key
// signer for a private log, or one that also logs each seal in a shared Rekor v2 log
// (sign.WithTransparencyLog).
type Signer interface {
	// Sign signs st as a DSSE envelope in a Sigstore bundle.
	Sign(ctx context.Context, st *intoto.Statement) (provenance.Bundle, error)
}

// Batching and publication. Events recorded within sealAge share one seal; entries are
// written in batches of up to batchSize, or every batchAge; a checkpoint follows within
// checkpointInterval (tessera's minimum).
const (
	batchSize          = 512
	batchAge           = 20 * time.Millisecond
	sealAge            = 10 * time.Millisecond
	checkpointInterval = 100 * time.Millisecond
	recordQueue        = 4096
)

// Log appends signed events to a C2SP tlog-tiles log in a folder, with tessera's POSIX
// storage: entry bundles and hash tiles written durably (fsync) before the tree state moves,
// and a checkpoint, signed in the C2SP signed-note format, published from the tree state only.
// A crash at any point leaves a log whose checkpoint covers only entries on disk; opening the
// folder again continues the same log. Several processes may append to one folder. A Log is
// safe for concurrent use.
type Log struct {
	signer   Signer
	actor    string
	add      tessera.AddFn
	reader   tessera.LogReader
	awaiter  *tessera.PublicationAwaiter
	shutdown func(context.Context) error
	cancel   context.CancelFunc

	// Recorded events flow in order from queue through dispatch, which gathers those waiting
	// into a batch whenever a sealing worker is free, to the workers (in parallel: one
	// signature per batch) and to addInOrder, which appends each batch's entries in the order
	// recorded once sealed; resolve waits for each entry to be durable.
	queue   chan *job
	batches chan *batch
	toAdd   chan *batch
	futures chan pending
	stages  sync.WaitGroup

	mu       sync.Mutex
	changed  *sync.Cond
	inflight int
	failures []error
	largest  uint64
	appended bool
	closed   bool
}

type job struct {
	ctx   context.Context
	event audit.Event
}

// batch is events sealed together.
type batch struct {
	jobs   []*job
	sealed chan sealed
}

type sealed struct {
	entries [][]byte
	err     error
}

// pending is one recorded event on its way into the log: its entry's future, or the error that
// stopped it. A batch that failed to seal reports its error once, with its other events silent.
type pending struct {
	future tessera.IndexFuture
	err    error
	silent bool
}

// Option configures a Log.
type Option func(*Log) error

// WithActor sets the actor recorded for events that name none, such as the gate's or the
// pipeline's identity.
func WithActor(actor string) Option {
	return func(l *Log) error {
		if actor == "" {
			return fmt.Errorf("%w: empty actor", ErrInvalidConfig)
		}
		l.actor = actor
		return nil
	}
}

// Open opens the log in dir, creating it when dir holds none, signing checkpoints with
// checkpoints (a note.Signer whose name is the log's origin) and events with events. The
// context bounds only the opening. Close the Log to publish what it appended.
func Open(ctx context.Context, dir string, checkpoints note.Signer, events Signer, opts ...Option) (*Log, error) {
	if dir == "" || checkpoints == nil || events == nil {
		return nil, fmt.Errorf("%w: a folder, a checkpoint signer and an event signer are required", ErrInvalidConfig)
	}
	l := &Log{signer: events}
	for _, o := range opts {
		if err := o(l); err != nil {
			return nil, err
		}
	}
	driver, err := posix.New(ctx, posix.Config{Path: dir})
	if err != nil {
		return nil, fmt.Errorf("auditlog: open %s: %w", dir, err)
	}
	// tessera's background work lives as long as the Log, not as the opening call.
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	appender, shutdown, reader, err := tessera.NewAppender(bg, driver, tessera.NewAppendOptions().
		WithCheckpointSigner(checkpoints).
		WithBatching(batchSize, batchAge).
		WithCheckpointInterval(checkpointInterval))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("auditlog: open %s: %w", dir, err)
	}
	l.add, l.reader, l.shutdown, l.cancel = appender.Add, reader, shutdown, cancel
	l.awaiter = tessera.NewPublicationAwaiter(bg, reader.ReadCheckpoint, 20*time.Millisecond)
	l.changed = sync.NewCond(&l.mu)
	l.queue = make(chan *job, recordQueue)
	l.batches = make(chan *batch) // unbuffered: events wait in queue, and batch, while every worker is busy
	l.toAdd = make(chan *batch, recordQueue)
	l.futures = make(chan pending, recordQueue)
	var workers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			l.work()
		}()
	}
	l.stages.Add(3)
	go l.dispatch()
	go func() {
		defer l.stages.Done()
		l.addInOrder()
		workers.Wait()
		close(l.futures)
	}()
	go l.resolve()
	return l, nil
}

// Append signs e and appends it, and returns its index once the entry is durable. Its
// checkpoint follows within a fraction of a second; Close waits for it.
func (l *Log) Append(ctx context.Context, e audit.Event) (uint64, error) {
	if err := l.begin(); err != nil {
		return 0, err
	}
	entries, err := sealEvents(ctx, l.signer, l.actor, []audit.Event{e})
	if err != nil {
		l.done(0, err)
		return 0, err
	}
	idx, err := l.add(ctx, tessera.NewEntry(entries[0]))()
	if err != nil {
		err = fmt.Errorf("auditlog: append %s event of %s: %w", e.Kind, e.Subject, err)
		l.done(0, err)
		return 0, err
	}
	l.done(idx.Index, nil)
	return idx.Index, nil
}

// Record queues e to be signed and appended, and returns without waiting, so that logging
// costs a decision almost nothing. Events recorded one after the other are appended in that
// order. Record blocks only while the queue is full. An event that fails later is reported by
// the next Flush or Close.
func (l *Log) Record(ctx context.Context, e audit.Event) error {
	if err := l.begin(); err != nil {
		return err
	}
	select {
	case l.queue <- &job{ctx: context.WithoutCancel(ctx), event: e}:
		return nil
	case <-ctx.Done():
		l.done(0, nil)
		return ctx.Err()
	}
}

var _ audit.Recorder = (*Log)(nil)

func (l *Log) begin() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.inflight++
	return nil
}

func (l *Log) done(index uint64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	switch {
	case errors.Is(err, errSilent):
	case err != nil:
		l.failures = append(l.failures, err)
	case !l.appended || index > l.largest:
		l.largest, l.appended = index, true
	}
	l.changed.Broadcast()
}

// dispatch gathers recorded jobs, in order, into batches: a batch is sealed when it holds
// MaxSealedEvents, or sealAge after its first event, or when the log closes, so that one
// signature covers every event recorded in that time however slowly they come.
func (l *Log) dispatch() {
	defer l.stages.Done()
	timer := time.NewTimer(sealAge)
	timer.Stop()
	for j := range l.queue {
		b := &batch{jobs: []*job{j}, sealed: make(chan sealed, 1)}
		timer.Reset(sealAge)
	gather:
		for len(b.jobs) < MaxSealedEvents {
			select {
			case next, ok := <-l.queue:
				if !ok {
					break gather
				}
				b.jobs = append(b.jobs, next)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		l.toAdd <- b
		l.batches <- b
	}
	close(l.batches)
	close(l.toAdd)
}

func (l *Log) work() {
	for b := range l.batches {
		events := make([]audit.Event, len(b.jobs))
		for i, j := range b.jobs {
			events[i] = j.event
		}
		entries, err := sealEvents(b.jobs[0].ctx, l.signer, l.actor, events)
		b.sealed <- sealed{entries: entries, err: err}
	}
}

// addInOrder appends each batch's entries, in the order recorded, once the batch is sealed.
func (l *Log) addInOrder() {
	for b := range l.toAdd {
		s := <-b.sealed
		for i, j := range b.jobs {
			switch {
			case s.err != nil:
				l.futures <- pending{err: s.err, silent: i > 0}
			default:
				l.futures <- pending{future: l.add(j.ctx, tessera.NewEntry(s.entries[i]))}
			}
		}
	}
}

func (l *Log) resolve() {
	defer l.stages.Done()
	for p := range l.futures {
		switch {
		case p.silent:
			l.done(0, errSilent)
			continue
		case p.err != nil:
			l.done(0, p.err)
			continue
		}
		idx, err := p.future()
		if err != nil {
			l.done(0, fmt.Errorf("auditlog: append: %w", err))
			continue
		}
		l.done(idx.Index, nil)
	}
}

// errSilent marks an event lost with an error already reported for its batch.
var errSilent = errors.New("reported with its batch")

// Flush waits until every event recorded before it is durable in the log, and returns the
// errors of the events that failed since the last Flush, joined.
func (l *Log) Flush(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.changed.Broadcast()
	})
	defer stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.inflight > 0 && ctx.Err() == nil {
		l.changed.Wait()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := errors.Join(l.failures...)
	l.failures = nil
	return err
}

// Close flushes, waits until a published checkpoint covers every entry appended, and stops the
// log. It returns Flush's errors. Calls after Close fail with ErrClosed.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true // new calls fail from here; Flush waits for those already begun
	l.mu.Unlock()
	err := l.Flush(ctx)
	l.mu.Lock()
	largest, appended := l.largest, l.appended
	l.mu.Unlock()
	close(l.queue)
	l.stages.Wait()
	if appended {
		covered := func() (tessera.Index, error) { return tessera.Index{Index: largest}, nil }
		if _, _, werr := l.awaiter.Await(ctx, covered); werr != nil {
			err = errors.Join(err, fmt.Errorf("auditlog: await checkpoint of entry %d: %w", largest, werr))
		}
	}
	if serr := l.shutdown(ctx); serr != nil {
		err = errors.Join(err, fmt.Errorf("auditlog: close: %w", serr))
	}
	l.cancel()
	return err
}
