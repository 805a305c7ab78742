package index

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/verify"
)

// recordsSchema is the first schema version that records each statement's body and time.
const recordsSchema = 7

// upsertRecord keeps the record of a statement written first, but fills in the body (and a
// missing time) of one migrated from a version that recorded none.
const upsertRecord = ` ON CONFLICT (statement_id) DO UPDATE SET body = excluded.body,
	at = COALESCE(statement_records.at, excluded.at) WHERE statement_records.body IS NULL`

// MaxPage is the most rows one page of Recent or Artifacts returns.
const MaxPage = 500

// Page selects a window of a listing: Limit rows (0 means 50, at most MaxPage) after the first
// Offset.
type Page struct {
	// Offset is how many rows to skip.
	Offset int
	// Limit is how many rows to return at most.
	Limit int
}

func (p Page) bounds() (offset, limit int) {
	limit = p.Limit
	if limit <= 0 {
		limit = 50
	}
	return max(p.Offset, 0), min(limit, MaxPage)
}

// Record is what the index holds of one statement.
type Record struct {
	// ID is the sha256 digest of the statement's canonical form (see Artifact.Statement).
	ID digest.Digest
	// PredicateType is the statement's predicate type.
	PredicateType string
	// BuildType, BuilderID, SourceRepository (a provenance.RepositoryID) and SourceCommit are
	// those of a SLSA Provenance v1 predicate, as Add records them; empty for other statements.
	BuildType, BuilderID, SourceRepository, SourceCommit string
	// Name is the step's name for a workflow step (see package provenance/workflow), else the
	// build type, else the predicate type.
	Name string
	// Subjects are the statement's subjects, by digest then name.
	Subjects []Artifact
	// Materials are the digests of its resolved dependencies, sorted.
	Materials []digest.Digest
	// Signatures are who signed it and when, as Signatures returns them.
	Signatures []Signature
	// At is when the statement happened: its earliest verified signing time when it was first
	// added, else the time its predicate records (a step's end or start, a check, a status's
	// effective time, a scan's end); zero when neither is known.
	At time.Time
}

// recordedAt is when a statement says it happened, in Unix nanoseconds: a SLSA run's end or
// start, a rebuild check's time, a lifecycle status's effective time, a scan's end; nil when
// it says none.
func recordedAt(st *intoto.Statement) *int64 {
	p := st.GetPredicate().GetFields()
	md := p["runDetails"].GetStructValue().GetFields()["metadata"].GetStructValue().GetFields()
	candidates := []*structpb.Value{md["finishedOn"], md["startedOn"], p["checkedOn"], p["effective"],
		p["metadata"].GetStructValue().GetFields()["scanFinishedOn"]}
	for _, v := range candidates {
		if t, err := time.Parse(time.RFC3339Nano, v.GetStringValue()); err == nil {
			ns := t.UnixNano()
			return &ns
		}
	}
	return nil
}

// recordTime is the time Add records for an item: its verified signing time, else the time
// its statement records, else NULL.
func recordTime(it item) any {
	switch {
	case it.s.signedAt != nil:
		return *it.s.signedAt
	case it.f.recorded != nil:
		return *it.f.recorded
	}
	return nil
}

// Records returns what the index holds of the statements with the given ids, in the order
// given; ids the index does not hold are left out.
func (ix *Index) Records(ctx context.Context, ids ...digest.Digest) ([]Record, error) {
	byID := map[digest.Digest]*Record{}
	var keys []string
	for _, id := range ids {
		if _, ok := byID[id]; !ok {
			byID[id] = nil
			keys = append(keys, id.String())
		}
	}
	for chunk := range slices.Chunk(keys, 400) {
		if err := ix.readRecords(ctx, chunk, byID); err != nil {
			return nil, fmt.Errorf("index: records: %w", err)
		}
	}
	out := make([]Record, 0, len(ids))
	seen := map[digest.Digest]bool{}
	for _, id := range ids {
		if r := byID[id]; r != nil && !seen[id] {
			seen[id] = true
			slices.SortFunc(r.Subjects, func(x, y Artifact) int {
				return cmp.Or(cmp.Compare(x.Digest, y.Digest), cmp.Compare(x.Name, y.Name))
			})
			slices.Sort(r.Materials)
			r.Materials = slices.Compact(r.Materials)
			out = append(out, *r)
		}
	}
	sigs := map[digest.Digest][]Signature{}
	for chunk := range slices.Chunk(keys, 400) {
		if err := ix.readSignatures(ctx, chunk, sigs); err != nil {
			return nil, fmt.Errorf("index: records: %w", err)
		}
	}
	for i := range out {
		out[i].Signatures = sigs[out[i].ID]
	}
	return out, nil
}

// readSignatures reads the signatures of the statements with the given ids into byID, as
// Signatures returns them.
func (ix *Index) readSignatures(ctx context.Context, ids []string, byID map[digest.Digest][]Signature) error {
	list, args := in(ids)
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(`SELECT statement_id, signer, key_id, issuer, san, signed_at FROM signatures WHERE statement_id IN `+list), args...)
	if err != nil {
		return err
	}
	type row struct {
		label string
		sig   Signature
	}
	all := map[digest.Digest][]row{}
	certs := false
	for rows.Next() {
		var id digest.Digest
		var r row
		var keyID, issuer, san string
		var at sql.NullInt64
		if err := rows.Scan(&id, &r.label, &keyID, &issuer, &san, &at); err != nil {
			rows.Close()
			return err
		}
		if issuer != "" || san != "" {
			r.sig.Signer.Certificate = &verify.CertificateIdentity{Issuer: issuer, SubjectAlternativeName: san}
			certs = true
		} else {
			r.sig.Signer.KeyID = keyID
		}
		if at.Valid {
			r.sig.SignedAt = time.Unix(0, at.Int64).UTC()
		}
		all[id] = append(all[id], r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for id, rs := range all {
		if certs && ix.schema >= extensionsSchema {
			exts, err := ix.extensions(ctx, id)
			if err != nil {
				return err
			}
			for i := range rs {
				sig := &rs[i].sig
				sig.Extensions = exts[rs[i].label]
				if sig.Signer.Certificate != nil && sig.Extensions != nil {
					b, err := json.Marshal(sig.Extensions)
					if err == nil {
						err = json.Unmarshal(b, &sig.Signer.Certificate.Extensions)
					}
					if err != nil {
						return fmt.Errorf("signatures of %s: extensions: %w", id, err)
					}
				}
			}
		}
		slices.SortFunc(rs, func(x, y row) int {
			xz, yz := x.sig.SignedAt.IsZero(), y.sig.SignedAt.IsZero()
			switch {
			case xz != yz && xz:
				return 1
			case xz != yz:
				return -1
			}
			return cmp.Or(x.sig.SignedAt.Compare(y.sig.SignedAt), cmp.Compare(x.label, y.label))
		})
		out := make([]Signature, len(rs))
		for i, r := range rs {
			out[i] = r.sig
		}
		byID[id] = out
	}
	return nil
}

// in returns "(?, ?, ...)" for n values, and the values as arguments.
func in(values []string) (string, []any) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ") + ")", args
}

func (ix *Index) readRecords(ctx context.Context, ids []string, byID map[digest.Digest]*Record) error {
	list, args := in(ids)
	timed := ""
	if ix.schema >= recordsSchema {
		timed = `, (SELECT r.at FROM statement_records r WHERE r.statement_id = st.id)`
	} else {
		timed = `, NULL`
	}
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(`SELECT st.id, st.predicate_type, st.build_type, st.builder_id, st.source_repository, st.source_commit`+
		timed+` FROM statements st WHERE st.id IN `+list), args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		r := &Record{}
		var at sql.NullInt64
		if err := rows.Scan(&r.ID, &r.PredicateType, &r.BuildType, &r.BuilderID, &r.SourceRepository, &r.SourceCommit, &at); err != nil {
			rows.Close()
			return err
		}
		if at.Valid {
			r.At = time.Unix(0, at.Int64).UTC()
		}
		r.Name = cmp.Or(r.BuildType, r.PredicateType)
		byID[r.ID] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	each := func(query string, scan func(rows *sql.Rows) error) error {
		rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err = each(`SELECT statement_id, digest, name FROM subjects WHERE statement_id IN `+list, func(rows *sql.Rows) error {
		var a Artifact
		if err := rows.Scan(&a.Statement, &a.Digest, &a.Name); err != nil {
			return err
		}
		if r := byID[a.Statement]; r != nil {
			r.Subjects = append(r.Subjects, a)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = each(`SELECT statement_id, digest FROM materials WHERE statement_id IN `+list, func(rows *sql.Rows) error {
		var id, d digest.Digest
		if err := rows.Scan(&id, &d); err != nil {
			return err
		}
		if r := byID[id]; r != nil {
			r.Materials = append(r.Materials, d)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// "path || ''" keeps SQLite from reading every step's name by the index on (path, value)
	// instead of the few asked for by the index on (statement_id, path).
	return each(`SELECT statement_id, value FROM parameters WHERE statement_id IN `+list+` AND path || '' = '/name'`, func(rows *sql.Rows) error {
		var id digest.Digest
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		if r := byID[id]; r != nil && r.BuildType == workflow.BuildType && name != "" {
			r.Name = name
		}
		return nil
	})
}

// Statement returns the statement with the given id as it was verified when it was added, and
// false when the index does not hold it: not indexed, or indexed by a schema version before 7
// and not added again since.
func (ix *Index) Statement(ctx context.Context, id digest.Digest) (*intoto.Statement, bool, error) {
	if ix.schema < recordsSchema {
		return nil, false, nil
	}
	var body sql.NullString
	err := ix.db.QueryRowContext(ctx, ix.dialect.bind(`SELECT body FROM statement_records WHERE statement_id = ?`), id.String()).Scan(&body)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && !body.Valid):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("index: statement %s: %w", id, err)
	}
	st := &intoto.Statement{}
	if err := protojson.Unmarshal([]byte(body.String), st); err != nil {
		return nil, false, fmt.Errorf("index: statement %s: %w", id, err)
	}
	return st, true, nil
}

// RecentQuery selects statements for Recent.
type RecentQuery struct {
	// PredicateType, when set, keeps statements of this predicate type only, such as
	// provenance.PredicateSLSAProvenanceV1 for builds and workflow steps.
	PredicateType string
	// Page is the window of the listing.
	Page Page
}

// Recent returns statements newest first, by Record.At then id, and the untimed ones last, by
// id.
func (ix *Index) Recent(ctx context.Context, q RecentQuery) ([]Record, error) {
	if ix.schema < recordsSchema {
		return nil, nil
	}
	offset, limit := q.Page.bounds()
	from := `FROM statement_records r`
	var args []any
	if q.PredicateType != "" {
		// "|| ''" keeps SQLite reading statements newest first by the index on at, rather than
		// every statement of the type, to sort them.
		from += ` JOIN statements st ON st.id = r.statement_id WHERE st.predicate_type || '' = ? AND`
		args = append(args, q.PredicateType)
	} else {
		from += ` WHERE`
	}
	// The timed statements by the index on (at, statement_id), then the untimed ones.
	ids, err := ix.digests(ctx, `SELECT r.statement_id `+from+` r.at IS NOT NULL ORDER BY r.at DESC, r.statement_id DESC LIMIT ? OFFSET ?`,
		append(slices.Clip(args), limit, offset)...)
	if err == nil && len(ids) < limit {
		var timed int
		if err = ix.db.QueryRowContext(ctx, ix.dialect.bind(`SELECT COUNT(*) `+from+` r.at IS NOT NULL`), args...).Scan(&timed); err == nil {
			var more []digest.Digest
			more, err = ix.digests(ctx, `SELECT r.statement_id `+from+` r.at IS NULL ORDER BY r.statement_id LIMIT ? OFFSET ?`,
				append(slices.Clip(args), limit-len(ids), max(0, offset-timed))...)
			ids = append(ids, more...)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("index: recent: %w", err)
	}
	return ix.Records(ctx, ids...)
}

func (ix *Index) digests(ctx context.Context, query string, args ...any) ([]digest.Digest, error) {
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []digest.Digest
	for rows.Next() {
		var d digest.Digest
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Summary is one artifact of the index: a digest some statement names as a subject.
type Summary struct {
	// Digest is the artifact's digest.
	Digest digest.Digest
	// Names are the names statements gave it, sorted.
	Names []string
	// Statements is how many indexed statements name it.
	Statements int
	// Latest is the latest Record.At of those statements; zero when none is timed.
	Latest time.Time
}

// Artifacts returns a page of the indexed artifacts, those named by the latest statements
// first (by Summary.Latest, then digest), with how many there are in all. It reads the
// statements newest first until the page is full, so later pages cost more than earlier ones.
func (ix *Index) Artifacts(ctx context.Context, p Page) ([]Summary, int, error) {
	var total int
	if err := ix.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT digest) FROM subjects`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("index: artifacts: %w", err)
	}
	offset, limit := p.bounds()
	var out []Summary
	seen := map[digest.Digest]bool{}
	skipped := 0
	// scan reads digests in the query's order, keeping the first sighting of each, and reports
	// whether the page is full.
	scan := func(query string) (bool, error) {
		rows, err := ix.db.QueryContext(ctx, query)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		for rows.Next() {
			var d digest.Digest
			var at sql.NullInt64
			if err := rows.Scan(&d, &at); err != nil {
				return false, err
			}
			if seen[d] {
				continue
			}
			seen[d] = true
			if skipped < offset {
				skipped++
				continue
			}
			s := Summary{Digest: d}
			if at.Valid {
				s.Latest = time.Unix(0, at.Int64).UTC()
			}
			out = append(out, s)
			if len(out) == limit {
				return true, nil
			}
		}
		return false, rows.Err()
	}
	full := false
	var err error
	if ix.schema >= recordsSchema {
		full, err = scan(`SELECT s.digest, r.at FROM statement_records r JOIN subjects s ON s.statement_id = r.statement_id
			WHERE r.at IS NOT NULL ORDER BY r.at DESC, r.statement_id DESC`)
	}
	if err == nil && !full {
		// Then the artifacts of untimed statements, by digest; every artifact, before schema 7.
		untimed := `SELECT s.digest, NULL FROM subjects s ORDER BY s.digest`
		if ix.schema >= recordsSchema {
			untimed = `SELECT s.digest, NULL FROM subjects s JOIN statement_records r ON r.statement_id = s.statement_id
				WHERE r.at IS NULL ORDER BY s.digest`
		}
		_, err = scan(untimed)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("index: artifacts: %w", err)
	}
	if len(out) == 0 {
		return out, total, nil
	}
	keys := make([]string, len(out))
	for i, s := range out {
		keys[i] = s.Digest.String()
	}
	list, args := in(keys)
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(`SELECT digest, name, statement_id FROM subjects WHERE digest IN `+list), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("index: artifacts: %w", err)
	}
	defer rows.Close()
	names := map[digest.Digest][]string{}
	statements := map[digest.Digest]map[string]bool{}
	for rows.Next() {
		var d digest.Digest
		var name, id string
		if err := rows.Scan(&d, &name, &id); err != nil {
			return nil, 0, fmt.Errorf("index: artifacts: %w", err)
		}
		if name != "" {
			names[d] = append(names[d], name)
		}
		if statements[d] == nil {
			statements[d] = map[string]bool{}
		}
		statements[d][id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("index: artifacts: %w", err)
	}
	for i := range out {
		ns := names[out[i].Digest]
		slices.Sort(ns)
		out[i].Names = slices.Compact(ns)
		out[i].Statements = len(statements[out[i].Digest])
	}
	return out, total, nil
}

// Link is one step of lineage: To was made by the statement Statement from From, among other
// inputs.
type Link struct {
	// From is the input's digest.
	From digest.Digest
	// To is the output's digest.
	To digest.Digest
	// Statement is the id of the statement that records the step.
	Statement digest.Digest
}

// Upstream returns the links that lead to d: the statements that name d as a subject, with
// each of their resolved dependencies, then those that name those dependencies, on up, as far
// as the index knows. At most limit links are returned (0 means 10,000), and truncated says
// whether there were more. Links are sorted by To, From and Statement.
func (ix *Index) Upstream(ctx context.Context, d digest.Digest, limit int) (links []Link, truncated bool, err error) {
	return ix.walk(ctx, d, limit, `WITH RECURSIVE up(digest) AS (SELECT ? UNION
		SELECT m.digest FROM up JOIN subjects s ON s.digest = up.digest JOIN materials m ON m.statement_id = s.statement_id)
		SELECT m.digest, s.digest, s.statement_id FROM up JOIN subjects s ON s.digest = up.digest
		JOIN materials m ON m.statement_id = s.statement_id LIMIT ?`)
}

// Downstream returns the links that lead from d: the statements that name d as a resolved
// dependency, with each of their subjects, then those made from those subjects, on down. The
// limit and order are Upstream's.
func (ix *Index) Downstream(ctx context.Context, d digest.Digest, limit int) (links []Link, truncated bool, err error) {
	return ix.walk(ctx, d, limit, `WITH RECURSIVE down(digest) AS (SELECT ? UNION
		SELECT s.digest FROM down JOIN materials m ON m.digest = down.digest JOIN subjects s ON s.statement_id = m.statement_id)
		SELECT m.digest, s.digest, s.statement_id FROM down JOIN materials m ON m.digest = down.digest
		JOIN subjects s ON s.statement_id = m.statement_id LIMIT ?`)
}

func (ix *Index) walk(ctx context.Context, d digest.Digest, limit int, query string) ([]Link, bool, error) {
	n, err := provenance.ParseDigest(string(d))
	if err != nil {
		return nil, false, &QueryError{Field: "Subject", Err: err}
	}
	if limit <= 0 {
		limit = 10_000
	}
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(query), n.String(), limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("index: lineage of %s: %w", n, err)
	}
	defer rows.Close()
	var out []Link
	for rows.Next() {
		var l Link
		if err := rows.Scan(&l.From, &l.To, &l.Statement); err != nil {
			return nil, false, fmt.Errorf("index: lineage of %s: %w", n, err)
		}
		if l.From != l.To {
			out = append(out, l)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("index: lineage of %s: %w", n, err)
	}
	truncated := len(out) > limit
	if truncated {
		out = out[:limit]
	}
	slices.SortFunc(out, func(x, y Link) int {
		return cmp.Or(cmp.Compare(x.To, y.To), cmp.Compare(x.From, y.From), cmp.Compare(x.Statement, y.Statement))
	})
	return slices.Compact(out), truncated, nil
}

// TagsOf returns where tags were seen pointing at d, by tag then first sighting.
func (ix *Index) TagsOf(ctx context.Context, d digest.Digest) ([]Sighting, error) {
	if ix.schema < tagsSchema {
		return nil, nil
	}
	return ix.sightings(ctx, `WHERE digest = ?`, d.String())
}

// Deployment is what one environment last ran of one repository, by the ingested audit events
// of kind deployed.
type Deployment struct {
	// Environment is the event's environment.
	Environment string
	// Repository is the subject name without its tag or digest; the digest itself when the
	// event named none.
	Repository string
	// Event is the latest such event: its Subject the digest, its SubjectName the reference.
	Event Event
}

// Deployments returns, for each environment and repository, the latest audit event of kind
// deployed, by repository then environment: what each environment runs.
func (ix *Index) Deployments(ctx context.Context) ([]Deployment, error) {
	if ix.schema < eventsSchema {
		return nil, nil
	}
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(`SELECT origin, log_index, subject, actor, event_time, decision, environment, detail, bundle
		FROM audit_events WHERE kind = ? ORDER BY event_time, origin, log_index`), string(audit.KindDeployed))
	if err != nil {
		return nil, fmt.Errorf("index: deployments: %w", err)
	}
	defer rows.Close()
	latest := map[[2]string]Deployment{}
	for rows.Next() {
		var e Event
		var index, at int64
		var subject, decision, detail, bundle string
		if err := rows.Scan(&e.Origin, &index, &subject, &e.Event.Actor, &at, &decision, &e.Event.Environment, &detail, &bundle); err != nil {
			return nil, fmt.Errorf("index: deployments: %w", err)
		}
		var ed eventDetail
		if err := json.Unmarshal([]byte(detail), &ed); err != nil {
			return nil, fmt.Errorf("index: deployments: entry %d: %w", index, err)
		}
		e.Index, e.Bundle = uint64(index), digest.Digest(bundle)
		e.Event.Kind, e.Event.Decision, e.Event.Subject = audit.KindDeployed, audit.Decision(decision), digest.Digest(subject)
		e.Event.Time = time.UnixMicro(at).UTC()
		e.Event.SubjectName, e.Event.Evidence, e.Event.Reasons, e.Event.Attributes = ed.SubjectName, ed.Evidence, ed.Reasons, ed.Attributes
		repo := repositoryOf(ed.SubjectName)
		if repo == "" {
			repo = subject
		}
		latest[[2]string{repo, e.Event.Environment}] = Deployment{Environment: e.Event.Environment, Repository: repo, Event: e}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: deployments: %w", err)
	}
	out := make([]Deployment, 0, len(latest))
	for _, d := range latest {
		out = append(out, d)
	}
	slices.SortFunc(out, func(x, y Deployment) int {
		return cmp.Or(cmp.Compare(x.Repository, y.Repository), cmp.Compare(x.Environment, y.Environment))
	})
	return out, nil
}

// repositoryOf returns a reference without its digest and tag.
func repositoryOf(name string) string {
	name, _, _ = strings.Cut(name, "@")
	if ref, ok := tagReference(name); ok {
		return ref[:strings.LastIndex(ref, ":")]
	}
	return name
}

// StatementsJSON returns the canonical JSON (provenance.Marshal) of the statements with the
// given ids, as verified when they were added, by id; ids the index holds no statement for are
// left out (see Statement). It spares a reader that needs a few fields the cost of decoding
// whole statements.
func (ix *Index) StatementsJSON(ctx context.Context, ids ...digest.Digest) (map[digest.Digest][]byte, error) {
	out := map[digest.Digest][]byte{}
	err := ix.bodies(ctx, ids, func(id digest.Digest, body string) error {
		out[id] = []byte(body)
		return nil
	})
	return out, err
}

// bodies calls fn with the body of each statement with the given ids that the index holds.
func (ix *Index) bodies(ctx context.Context, ids []digest.Digest, fn func(id digest.Digest, body string) error) error {
	if ix.schema < recordsSchema {
		return nil
	}
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, id.String())
	}
	slices.Sort(keys)
	for chunk := range slices.Chunk(slices.Compact(keys), 400) {
		list, args := in(chunk)
		rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(`SELECT statement_id, body FROM statement_records WHERE body IS NOT NULL AND statement_id IN `+list), args...)
		if err != nil {
			return fmt.Errorf("index: statements: %w", err)
		}
		for rows.Next() {
			var id digest.Digest
			var body string
			if err := rows.Scan(&id, &body); err != nil {
				rows.Close()
				return fmt.Errorf("index: statements: %w", err)
			}
			if err := fn(id, body); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("index: statements: %w", err)
		}
	}
	return nil
}

// Statements returns the statements with the given ids as they were verified when they were
// added, by id; ids the index holds no statement for are left out (see Statement).
func (ix *Index) Statements(ctx context.Context, ids ...digest.Digest) (map[digest.Digest]*intoto.Statement, error) {
	out := map[digest.Digest]*intoto.Statement{}
	err := ix.bodies(ctx, ids, func(id digest.Digest, body string) error {
		st := &intoto.Statement{}
		if err := protojson.Unmarshal([]byte(body), st); err != nil {
			return fmt.Errorf("index: statement %s: %w", id, err)
		}
		out[id] = st
		return nil
	})
	return out, err
}
