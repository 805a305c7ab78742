package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
)

// Sighting is a tag seen pointing at one digest: when first and last, and by whom first.
type Sighting struct {
	// Reference is the tag, as REPOSITORY:TAG.
	Reference string
	// Digest is the manifest the tag pointed at.
	Digest digest.Digest
	// FirstSeen and LastSeen bound the sightings, to the microsecond.
	FirstSeen, LastSeen time.Time
	// Source says who saw it first: what the caller of ObserveTag named, or "audit:ORIGIN#INDEX"
	// for the audit event whose subject name held the tag.
	Source string
}

// Drift is a tag seen pointing at more than one digest.
type Drift struct {
	// Reference is the tag, as REPOSITORY:TAG.
	Reference string
	// Sightings holds one sighting per digest, by first sighting.
	Sightings []Sighting
}

// tagsSchema is the first schema version with tags and vulnerability findings.
const tagsSchema = 6

// tagPattern is the OCI distribution specification's tag grammar.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// tagReference returns the REPOSITORY:TAG a reference names, without a digest it may pin, or
// false when it names no tag.
func tagReference(name string) (string, bool) {
	name, _, _ = strings.Cut(name, "@")
	slash := strings.LastIndex(name, "/")
	colon := strings.LastIndex(name, ":")
	if colon <= slash+1 || colon == len(name)-1 || !tagPattern.MatchString(name[colon+1:]) {
		return "", false
	}
	return name, true
}

// upsertTag records a sighting, widening the sighting of that tag and digest already held.
const upsertTag = `INSERT INTO tags (reference, digest, first_seen, last_seen, source) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (reference, digest) DO UPDATE SET
		first_seen = CASE WHEN excluded.first_seen < tags.first_seen THEN excluded.first_seen ELSE tags.first_seen END,
		source = CASE WHEN excluded.first_seen < tags.first_seen THEN excluded.source ELSE tags.source END,
		last_seen = CASE WHEN excluded.last_seen > tags.last_seen THEN excluded.last_seen ELSE tags.last_seen END`

// ObserveTag records that reference (REPOSITORY:TAG, as in "registry.example/app:1.4.2"; a
// digest it pins is ignored) pointed at d at time at, as seen by source (a name of the
// caller's choosing, such as "registry" or "deploy"). Release tags are meant never to move:
// when the index has seen the tag point at another digest, from any source, including the
// subject names of ingested audit events, ObserveTag returns a *DriftError naming every digest
// and when each was seen. The sighting is recorded either way. A reference without a tag is a
// *ReferenceError; a malformed digest a *provenance.DigestError.
func (ix *Index) ObserveTag(ctx context.Context, reference string, d digest.Digest, at time.Time, source string) error {
	if ix.schema < tagsSchema {
		return fmt.Errorf("index: tags need schema version %d, the index has %d", tagsSchema, ix.schema)
	}
	ref, ok := tagReference(reference)
	if !ok {
		return &ReferenceError{Reference: reference}
	}
	if err := provenance.CheckArtifactDigest(d); err != nil {
		return err
	}
	if err := ix.recordSighting(ctx, Sighting{Reference: ref, Digest: d, FirstSeen: at, LastSeen: at, Source: source}); err != nil {
		return err
	}
	seen, err := ix.Tag(ctx, ref)
	if err != nil {
		return err
	}
	drift := &DriftError{Reference: ref}
	for _, s := range seen {
		if s.Digest == d {
			drift.Current = s
		} else {
			drift.Earlier = append(drift.Earlier, s)
		}
	}
	if len(drift.Earlier) > 0 {
		return drift
	}
	return nil
}

func (ix *Index) recordSighting(ctx context.Context, s Sighting) error {
	defer ix.lockWrites()()
	_, err := ix.db.ExecContext(ctx, ix.dialect.bind(upsertTag), s.Reference, s.Digest.String(), s.FirstSeen.UnixMicro(), s.LastSeen.UnixMicro(), s.Source)
	if err != nil {
		return fmt.Errorf("index: tag %s: %w", s.Reference, err)
	}
	return nil
}

// Tag returns where reference (REPOSITORY:TAG) was seen pointing, one sighting per digest, by
// first sighting; none when the index never saw it.
func (ix *Index) Tag(ctx context.Context, reference string) ([]Sighting, error) {
	if ix.schema < tagsSchema {
		return nil, nil
	}
	ref, ok := tagReference(reference)
	if !ok {
		return nil, &ReferenceError{Reference: reference}
	}
	return ix.sightings(ctx, `WHERE reference = ?`, ref)
}

// Drifts returns every tag the index saw pointing at more than one digest, by reference.
func (ix *Index) Drifts(ctx context.Context) ([]Drift, error) {
	if ix.schema < tagsSchema {
		return nil, nil
	}
	all, err := ix.sightings(ctx, `WHERE reference IN (SELECT reference FROM tags GROUP BY reference HAVING COUNT(*) > 1)`)
	if err != nil {
		return nil, err
	}
	var out []Drift
	for _, s := range all {
		if len(out) == 0 || out[len(out)-1].Reference != s.Reference {
			out = append(out, Drift{Reference: s.Reference})
		}
		last := &out[len(out)-1]
		last.Sightings = append(last.Sightings, s)
	}
	return out, nil
}

// tagsOf returns the tags seen pointing at each of digests, sorted.
func (ix *Index) tagsOf(ctx context.Context, digests []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(digests) == 0 {
		return out, nil
	}
	args := make([]any, len(digests))
	for i, d := range digests {
		args[i] = d
	}
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(`SELECT digest, reference FROM tags WHERE digest IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(digests)), ", ")+`) ORDER BY digest, reference`), args...)
	if err != nil {
		return nil, fmt.Errorf("index: tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, ref string
		if err := rows.Scan(&d, &ref); err != nil {
			return nil, fmt.Errorf("index: tags: %w", err)
		}
		out[d] = append(out[d], ref)
	}
	return out, rows.Err()
}

func (ix *Index) sightings(ctx context.Context, where string, args ...any) ([]Sighting, error) {
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(`SELECT reference, digest, first_seen, last_seen, source FROM tags `+where+
		` ORDER BY reference, first_seen, digest`), args...)
	if err != nil {
		return nil, fmt.Errorf("index: tags: %w", err)
	}
	defer rows.Close()
	var out []Sighting
	for rows.Next() {
		var s Sighting
		var d string
		var first, last int64
		if err := rows.Scan(&s.Reference, &d, &first, &last, &s.Source); err != nil {
			return nil, fmt.Errorf("index: tags: %w", err)
		}
		s.Digest = digest.Digest(d)
		s.FirstSeen, s.LastSeen = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
		out = append(out, s)
	}
	return out, rows.Err()
}

// auditSource names the audit event a sighting came from.
func auditSource(origin string, index uint64) string {
	return "audit:" + origin + "#" + strconv.FormatUint(index, 10)
}

// backfillTags records the tags in the subject names of the audit events an index of schema
// version 5 ingested, as AddAuditLog records those of the events it ingests.
func backfillTags(ctx context.Context, tx *sql.Tx, d dialect) error {
	rows, err := tx.QueryContext(ctx, `SELECT origin, log_index, subject, event_time, detail FROM audit_events`)
	if err != nil {
		return err
	}
	var found []Sighting
	for rows.Next() {
		var origin, subject, detail string
		var index, at int64
		if err := rows.Scan(&origin, &index, &subject, &at, &detail); err != nil {
			rows.Close()
			return err
		}
		var ed eventDetail
		if err := json.Unmarshal([]byte(detail), &ed); err != nil {
			rows.Close()
			return fmt.Errorf("audit event %s#%d: %w", origin, index, err)
		}
		if ref, ok := tagReference(ed.SubjectName); ok {
			when := time.UnixMicro(at)
			found = append(found, Sighting{Reference: ref, Digest: digest.Digest(subject), FirstSeen: when, LastSeen: when, Source: auditSource(origin, uint64(index))})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range found {
		if _, err := tx.ExecContext(ctx, d.bind(upsertTag), s.Reference, s.Digest.String(), s.FirstSeen.UnixMicro(), s.LastSeen.UnixMicro(), s.Source); err != nil {
			return err
		}
	}
	return nil
}
