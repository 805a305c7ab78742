package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/verify/auditlog"
)

// Event is an audit event the index ingested from an audit log.
type Event struct {
	// Origin names the log.
	Origin string
	// Index is the event's position in the log.
	Index uint64
	// Event is the event, as verified when it was ingested.
	Event audit.Event
	// Bundle is the digest of the signed event the log holds.
	Bundle digest.Digest
}

// eventDetail holds the fields of an event that queries do not filter on.
type eventDetail struct {
	SubjectName string            `json:"subjectName,omitempty"`
	Evidence    []digest.Digest   `json:"evidence,omitempty"`
	Reasons     []string          `json:"reasons,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
}

// AddAuditLog ingests the events of the log a reads that the index does not hold yet, and
// returns how many it added. The index acts as the log's auditor: the log's latest checkpoint
// must extend the one the index last ingested at (a rollback or a rewrite fails with the
// auditor's error, wrapping auditlog.ErrTampered, and adds nothing), and each new entry is
// checked against the tree and verified before it is added. Ingestions of one log are
// serialised; a second one that finds the work done adds nothing.
func (ix *Index) AddAuditLog(ctx context.Context, a *auditlog.Auditor) (int, error) {
	if ix.schema < eventsSchema {
		return 0, fmt.Errorf("index: audit events need schema version %d, the index has %d", eventsSchema, ix.schema)
	}
	latest, err := a.Checkpoint(ctx)
	if err != nil {
		return 0, err
	}
	var held *auditlog.Checkpoint
	var raw string
	err = ix.db.QueryRowContext(ctx, ix.dialect.bind(`SELECT checkpoint FROM audit_logs WHERE origin = ?`), latest.Origin).Scan(&raw)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return 0, fmt.Errorf("index: audit log %s: %w", latest.Origin, err)
	default:
		if held, err = a.OpenCheckpoint([]byte(raw)); err != nil {
			return 0, err
		}
	}
	if latest, err = a.Consistent(ctx, held); err != nil {
		return 0, err
	}
	from := uint64(0)
	if held != nil {
		from = held.Size
	}
	var events []Event
	for e, err := range a.Entries(ctx, latest, from) {
		if err != nil {
			return 0, err
		}
		events = append(events, Event{Origin: latest.Origin, Index: e.Index, Event: *e.Event, Bundle: e.Bundle.Digest()})
	}
	return ix.writeEvents(ctx, latest, held, events)
}

// eventsSchema is the first schema version with audit events.
const eventsSchema = 5

func (ix *Index) writeEvents(ctx context.Context, latest, held *auditlog.Checkpoint, events []Event) (int, error) {
	defer ix.lockWrites()()
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("index: audit log %s: %w", latest.Origin, err)
	}
	defer tx.Rollback()
	// Another ingestion may have moved the log on since this one read it: write only from
	// the size recorded now, and never move the recorded checkpoint back.
	var size int64
	err = tx.QueryRowContext(ctx, ix.dialect.bind(`SELECT size FROM audit_logs WHERE origin = ?`), latest.Origin).Scan(&size)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("index: audit log %s: %w", latest.Origin, err)
	}
	if uint64(size) >= latest.Size && !errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if (held == nil) != errors.Is(err, sql.ErrNoRows) || (held != nil && uint64(size) != held.Size) {
		return 0, fmt.Errorf("index: audit log %s changed during ingestion; ingest again", latest.Origin)
	}
	insert, err := tx.PrepareContext(ctx, ix.dialect.bind(`INSERT INTO audit_events
		(origin, log_index, kind, subject, actor, event_time, decision, environment, detail, bundle)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return 0, fmt.Errorf("index: audit log %s: %w", latest.Origin, err)
	}
	defer insert.Close()
	for _, e := range events {
		detail, err := json.Marshal(eventDetail{SubjectName: e.Event.SubjectName, Evidence: e.Event.Evidence, Reasons: e.Event.Reasons, Attributes: e.Event.Attributes})
		if err != nil {
			return 0, err
		}
		if _, err := insert.ExecContext(ctx, e.Origin, int64(e.Index), string(e.Event.Kind), e.Event.Subject.String(), e.Event.Actor,
			e.Event.Time.UnixMicro(), string(e.Event.Decision), e.Event.Environment, string(detail), e.Bundle.String()); err != nil {
			return 0, fmt.Errorf("index: audit log %s entry %d: %w", e.Origin, e.Index, err)
		}
	}
	if ix.schema >= tagsSchema {
		for _, e := range events {
			ref, ok := tagReference(e.Event.SubjectName)
			if !ok {
				continue
			}
			if _, err := tx.ExecContext(ctx, ix.dialect.bind(upsertTag), ref, e.Event.Subject.String(), e.Event.Time.UnixMicro(),
				e.Event.Time.UnixMicro(), auditSource(e.Origin, e.Index)); err != nil {
				return 0, fmt.Errorf("index: audit log %s entry %d: %w", e.Origin, e.Index, err)
			}
		}
	}
	if held == nil {
		_, err = tx.ExecContext(ctx, ix.dialect.bind(`INSERT INTO audit_logs (origin, size, checkpoint) VALUES (?, ?, ?)`),
			latest.Origin, int64(latest.Size), string(latest.Raw))
	} else {
		_, err = tx.ExecContext(ctx, ix.dialect.bind(`UPDATE audit_logs SET size = ?, checkpoint = ? WHERE origin = ?`),
			int64(latest.Size), string(latest.Raw), latest.Origin)
	}
	if err != nil {
		return 0, fmt.Errorf("index: audit log %s: %w", latest.Origin, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("index: audit log %s: %w", latest.Origin, err)
	}
	return len(events), nil
}

// Events returns the audit events ingested about subject, from every log, oldest first (by
// event time, then log and index): which decisions were made about this digest, by whom, when.
// Times are kept to the microsecond.
func (ix *Index) Events(ctx context.Context, subject digest.Digest) ([]Event, error) {
	if ix.schema < eventsSchema {
		return nil, nil
	}
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(`SELECT origin, log_index, kind, actor, event_time, decision, environment, detail, bundle
		FROM audit_events WHERE subject = ? ORDER BY event_time, origin, log_index`), subject.String())
	if err != nil {
		return nil, fmt.Errorf("index: events of %s: %w", subject, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var index, at int64
		var kind, decision, detail, bundle string
		if err := rows.Scan(&e.Origin, &index, &kind, &e.Event.Actor, &at, &decision, &e.Event.Environment, &detail, &bundle); err != nil {
			return nil, fmt.Errorf("index: events of %s: %w", subject, err)
		}
		var d eventDetail
		if err := json.Unmarshal([]byte(detail), &d); err != nil {
			return nil, fmt.Errorf("index: events of %s: entry %d: %w", subject, index, err)
		}
		e.Index, e.Bundle = uint64(index), digest.Digest(bundle)
		e.Event.Kind, e.Event.Decision, e.Event.Subject = audit.Kind(kind), audit.Decision(decision), subject
		e.Event.Time = time.UnixMicro(at).UTC()
		e.Event.SubjectName, e.Event.Evidence, e.Event.Reasons, e.Event.Attributes = d.SubjectName, d.Evidence, d.Reasons, d.Attributes
		out = append(out, e)
	}
	return out, rows.Err()
}
