package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/provkit/provkit/verify"
)

// The ingestion statements. A statement or signature that is present is not inserted again,
// which makes Add idempotent; a statement's subjects, materials and parameters are inserted
// only with the statement.
const insertStatement = `INSERT INTO statements (id, predicate_type, build_type, builder_id, source_repository, source_commit)
	VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`

// rowsTable is a table whose rows Add writes in batches of batchRows, one INSERT of many rows
// each, which costs far less per row than an INSERT of one row.
type rowsTable struct {
	name, columns, suffix string
	n                     int // columns
}

var (
	subjectRows   = rowsTable{name: "subjects", columns: "statement_id, digest, name", n: 3}
	materialRows  = rowsTable{name: "materials", columns: "statement_id, digest", n: 2}
	parameterRows = rowsTable{name: "parameters", columns: "statement_id, path, value", n: 3}
	signatureRows = rowsTable{name: "signatures", columns: "statement_id, signer, key_id, issuer, san, signed_at", n: 6, suffix: " ON CONFLICT DO NOTHING"}
	extensionRows = rowsTable{name: "signature_extensions", columns: "statement_id, signer, name, value", n: 4, suffix: " ON CONFLICT DO NOTHING"}
	scanRows      = rowsTable{name: "scans", columns: "statement_id, scanned_at, problem", n: 3}
	findingRows   = rowsTable{name: "findings", columns: "statement_id, vulnerability, finding, severity", n: 4}
	recordRows    = rowsTable{name: "statement_records", columns: "statement_id, at, body", n: 3, suffix: upsertRecord}
)

const batchRows = 64

// extensionsSchema is the first schema version with the table of signature extensions.
const extensionsSchema = 3

// identitySchema is the first schema version that records signers by unambiguous labels,
// parameters by JSON Pointer and source repositories by provenance.RepositoryID.
const identitySchema = 4

// insert returns the INSERT of rows rows into t, with ? placeholders.
func (t rowsTable) insert(rows int) string {
	tuple := "(" + strings.Repeat("?, ", t.n-1) + "?)"
	return "INSERT INTO " + t.name + " (" + t.columns + ") VALUES " + strings.Repeat(tuple+", ", rows-1) + tuple + t.suffix
}

// batch gathers the rows of one table and writes them batchRows at a time.
type batch struct {
	table     rowsTable
	many, one *sql.Stmt
	args      []any
}

func (ix *Index) newBatch(ctx context.Context, tx *sql.Tx, t rowsTable) (*batch, error) {
	many, err := tx.PrepareContext(ctx, ix.dialect.bind(t.insert(batchRows)))
	if err != nil {
		return nil, fmt.Errorf("index: add: prepare %s: %w", t.name, err)
	}
	one, err := tx.PrepareContext(ctx, ix.dialect.bind(t.insert(1)))
	if err != nil {
		many.Close()
		return nil, fmt.Errorf("index: add: prepare %s: %w", t.name, err)
	}
	return &batch{table: t, many: many, one: one, args: make([]any, 0, batchRows*t.n)}, nil
}

func (b *batch) close() {
	b.many.Close()
	b.one.Close()
}

// add appends one row, and writes the batch when it is full.
func (b *batch) add(ctx context.Context, row ...any) error {
	b.args = append(b.args, row...)
	if len(b.args) < batchRows*b.table.n {
		return nil
	}
	_, err := b.many.ExecContext(ctx, b.args...)
	b.args = b.args[:0]
	if err != nil {
		return fmt.Errorf("index: add %s: %w", b.table.name, err)
	}
	return nil
}

// flush writes the rows of a part-full batch, one at a time.
func (b *batch) flush(ctx context.Context) error {
	for len(b.args) > 0 {
		if _, err := b.one.ExecContext(ctx, b.args[:b.table.n]...); err != nil {
			return fmt.Errorf("index: add %s: %w", b.table.name, err)
		}
		b.args = b.args[b.table.n:]
	}
	return nil
}

// Add indexes verified results in one transaction: all of them or, on error, none. A statement
// is keyed by the sha256 digest of its canonical form (provenance.Marshal), so adding a result
// again changes nothing, and adding the same statement verified with another signature records
// only that signature. For each statement the index records its predicate type and subjects
// and, for SLSA Provenance v1, its build type, builder id, source repository and commit (the
// dependency with role provenance.RoleSource, else the first with a gitCommit digest), the
// digests of its resolved dependencies, and its external parameters by JSON Pointer (see
// Pointer); and who signed it (key id, or certificate issuer and SAN, with the certificate's
// extensions) and when (the verified signing time, if any). Only identifying digests
// (provenance.IdentifyingAlgorithm) are indexed, in normal form (lower-case hex); a descriptor
// with a malformed one is not. The source repository is recorded as its
// provenance.RepositoryID (empty when it has none) and the commit in lower case.
//
// A signature is identified by its statement and signer: a key id, or a certificate's issuer
// and SAN. Adding a statement again with a signature by the same signer keeps the signature
// recorded first, its signing time and the values of its extensions; an extension the first
// certificate did not carry is recorded from the later one. So adding results again to an
// index upgraded from schema version 2, which recorded no extensions, records them.
//
// Concurrent Add calls are safe whatever statements they share. Each writes all its statement
// rows first, then the rows that hang off them, both in the order of the statements' ids, so
// transactions rarely wait for each other in a cycle; when PostgreSQL still fails one for a
// deadlock or a serialization failure, it changed nothing, and Add runs it again, up to
// maxAttempts times in all.
//
// Only a *verify.Result can be added, and only verify makes one, so unverified statements are
// never indexed. A nil or zero result fails with a *ResultError wrapping ErrNotVerified.
func (ix *Index) Add(ctx context.Context, results ...*verify.Result) error {
	if len(results) == 0 {
		return nil
	}
	for i, r := range results {
		if r == nil || r.Statement() == nil {
			return &ResultError{Index: i, Err: ErrNotVerified}
		}
	}
	items, err := readAll(results)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err := ix.write(ctx, items)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return err
		}
		// Back off, by a different amount in each caller, so the transactions that met do
		// not meet again.
		pause := time.Duration(attempt)*10*time.Millisecond + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// maxAttempts is how many times Add runs a transaction PostgreSQL failed for a conflict with
// another.
const maxAttempts = 5

// retryable says whether err is PostgreSQL failing a transaction for a deadlock (40P01) or a
// serialization failure (40001): the transaction changed nothing and may run again.
func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}

// write writes items in one transaction: every statement row, then the rows of each.
func (ix *Index) write(ctx context.Context, items []item) error {
	defer ix.lockWrites()()
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: add: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, ix.dialect.bind(insertStatement))
	if err != nil {
		return fmt.Errorf("index: add: prepare statements: %w", err)
	}
	defer st.Close()
	var sub, mat, par, sig, ext, scan, fnd, rec *batch
	tables := []struct {
		b **batch
		t rowsTable
	}{{&sub, subjectRows}, {&mat, materialRows}, {&par, parameterRows}, {&sig, signatureRows}, {&ext, extensionRows}, {&scan, scanRows}, {&fnd, findingRows}, {&rec, recordRows}}
	switch {
	case ix.schema < extensionsSchema:
		tables = tables[:4]
	case ix.schema < tagsSchema:
		tables = tables[:5]
	case ix.schema < recordsSchema:
		tables = tables[:7]
	}
	for _, x := range tables {
		if *x.b, err = ix.newBatch(ctx, tx, x.t); err != nil {
			return err
		}
		defer (*x.b).close()
	}
	legacy := ix.schema < identitySchema
	added := make([]bool, len(items))
	for i, it := range items {
		f, id := it.f, it.f.id.String()
		repo := f.repo
		if legacy {
			repo = f.repoURL
		}
		res, err := st.ExecContext(ctx, id, f.predicateType, f.buildType, f.builderID, repo, f.commit)
		if err != nil {
			return fmt.Errorf("index: add statement %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("index: add statement %s: %w", id, err)
		}
		added[i] = n > 0
	}
	for i, it := range items {
		f, id := it.f, it.f.id.String()
		if added[i] {
			// A new statement: its facts never change, so they are written once.
			for _, s := range f.subjects {
				if err := sub.add(ctx, id, s.digest.String(), s.name); err != nil {
					return err
				}
			}
			for _, m := range f.materials {
				if err := mat.add(ctx, id, m.String()); err != nil {
					return err
				}
			}
			seen := make(map[[2]string]bool, len(f.params))
			for _, p := range f.params {
				path := Pointer(p.path...)
				if legacy {
					path = dotted(p.path)
				}
				if k := [2]string{path, p.value}; !seen[k] { // dotted paths can meet
					seen[k] = true
					if err := par.add(ctx, id, path, p.value); err != nil {
						return err
					}
				}
			}
			if f.scan != nil && scan != nil {
				if err := scan.add(ctx, id, f.scan.scannedAt(it.s.signedAt), f.scan.problem); err != nil {
					return err
				}
				for _, r := range f.scan.findings {
					if err := fnd.add(ctx, id, r.vulnerability, r.finding, int(r.severity)); err != nil {
						return err
					}
				}
			}
		}
		if rec != nil && (i == 0 || items[i-1].f.id != it.f.id) {
			if err := rec.add(ctx, id, recordTime(it), string(f.canon)); err != nil {
				return err
			}
		}
		s := it.s
		label := s.label
		if legacy {
			label = s.legacy
		}
		if err := sig.add(ctx, id, label, s.keyID, s.issuer, s.san, s.signedAt); err != nil {
			return err
		}
		if ext == nil {
			continue
		}
		for _, e := range s.extensions {
			if err := ext.add(ctx, id, label, e[0], e[1]); err != nil {
				return err
			}
		}
	}
	for _, x := range tables {
		if err := (*x.b).flush(ctx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index: add: commit: %w", err)
	}
	return nil
}

// item is what Add writes of one result.
type item struct {
	f *facts
	s signerRow
}

// readAll reads the facts of every result, on as many goroutines as there are processors, and
// returns them in the order of their statement ids: the order every Add writes in.
func readAll(results []*verify.Result) ([]item, error) {
	items := make([]item, len(results))
	errs := make([]error, len(results))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(results)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(results); i = int(next.Add(1) - 1) {
				items[i].f, errs[i] = factsOf(results[i])
				items[i].s = signerOf(results[i])
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, &ResultError{Index: i, Err: err}
		}
	}
	slices.SortStableFunc(items, func(x, y item) int { return strings.Compare(x.f.id.String(), y.f.id.String()) })
	return items, nil
}
