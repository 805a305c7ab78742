package index

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/provkit/provkit/verify"
)

// The ingestion statements. A statement or signature that is present is not inserted again,
// which makes Add idempotent; a statement's subjects, materials and parameters are inserted
// only with the statement.
const (
	insertStatement = `INSERT INTO statements (id, predicate_type, build_type, builder_id, source_repository, source_commit)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	insertSubject   = `INSERT INTO subjects (statement_id, digest, name) VALUES (?, ?, ?)`
	insertMaterial  = `INSERT INTO materials (statement_id, digest) VALUES (?, ?)`
	insertParameter = `INSERT INTO parameters (statement_id, path, value) VALUES (?, ?, ?)`
	insertSignature = `INSERT INTO signatures (statement_id, signer, key_id, issuer, san, signed_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
)

// Add indexes verified results in one transaction: all of them or, on error, none. A statement
// is keyed by the sha256 digest of its canonical form (provenance.Marshal), so adding a result
// again changes nothing, and adding the same statement verified with another signature records
// only that signature. For each statement the index records its predicate type and subjects
// and, for SLSA Provenance v1, its build type, builder id, source repository and commit (the
// dependency with role provenance.RoleSource, else the first with a gitCommit digest), the
// digests of its resolved dependencies, and its external parameters by dotted path; and who
// signed it (key id, or certificate issuer and SAN) and when (the verified signing time, if
// any). Only sha256, sha384 and sha512 digests are indexed.
//
// On PostgreSQL, two concurrent Add calls that hold some of the same statements in opposite
// orders may meet in a deadlock; the server then fails one of them, which changes nothing and
// can be retried.
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
	// The facts of each result are read on another goroutine while this one writes those of
	// the results before it.
	type item struct {
		f   *facts
		s   signerRow
		err error
	}
	items := make(chan item, 256)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(items)
		for _, r := range results {
			f, err := factsOf(r)
			select {
			case items <- item{f: f, s: signerOf(r), err: err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()

	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: add: %w", err)
	}
	defer tx.Rollback()
	var stmts [5]*sql.Stmt
	for i, q := range []string{insertStatement, insertSubject, insertMaterial, insertParameter, insertSignature} {
		if stmts[i], err = tx.PrepareContext(ctx, ix.dialect.bind(q)); err != nil {
			return fmt.Errorf("index: add: prepare: %w", err)
		}
		defer stmts[i].Close()
	}
	st, sub, mat, par, sig := stmts[0], stmts[1], stmts[2], stmts[3], stmts[4]
	i := 0
	for it := range items {
		if it.err != nil {
			return &ResultError{Index: i, Err: it.err}
		}
		f, id := it.f, it.f.id.String()
		res, err := st.ExecContext(ctx, id, f.predicateType, f.buildType, f.builderID, f.repo, f.commit)
		if err != nil {
			return fmt.Errorf("index: add statement %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("index: add statement %s: %w", id, err)
		}
		if n > 0 {
			// A new statement: its facts never change, so they are written once.
			for _, s := range f.subjects {
				if _, err := sub.ExecContext(ctx, id, s.digest.String(), s.name); err != nil {
					return fmt.Errorf("index: add subject %s of %s: %w", s.digest, id, err)
				}
			}
			for _, m := range f.materials {
				if _, err := mat.ExecContext(ctx, id, m.String()); err != nil {
					return fmt.Errorf("index: add material %s of %s: %w", m, id, err)
				}
			}
			for _, p := range f.params {
				if _, err := par.ExecContext(ctx, id, p[0], p[1]); err != nil {
					return fmt.Errorf("index: add parameter %s of %s: %w", p[0], id, err)
				}
			}
		}
		s := it.s
		if _, err := sig.ExecContext(ctx, id, s.label, s.keyID, s.issuer, s.san, s.signedAt); err != nil {
			return fmt.Errorf("index: add signature of %s: %w", id, err)
		}
		i++
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index: add: commit: %w", err)
	}
	return nil
}
