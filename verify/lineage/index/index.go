package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/provkit/provkit/provenance"
	// The pure-Go SQLite driver; it registers the database/sql driver "sqlite".
	_ "modernc.org/sqlite"
)

// Index is a queryable store of facts from verified provenance, in SQLite or PostgreSQL.
// An Index is safe for concurrent use, and several processes may share one database file or
// PostgreSQL database. SQLite runs one operation of an Index at a time.
type Index struct {
	db      *sql.DB
	dialect dialect
	// schema is the version of the schema: SchemaVersion, but in tests of migrations, where
	// Add writes only the tables of an older version.
	schema int
	// fileLock, for SQLite, serialises the schema's creation and write transactions across
	// processes; mu serialises its holders within this Index, since flock locks per open file.
	fileLock *fileLock
	mu       sync.Mutex
}

// dialect is the one place the two backends differ: how a query names its parameters.
type dialect struct {
	name     string
	numbered bool // PostgreSQL's $1, $2 ... rather than SQLite's ?
}

// bind rewrites a query written with ? placeholders for the backend. The queries of this
// package hold no ? inside string literals.
func (d dialect) bind(query string) string {
	if !d.numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// OpenSQLite opens the SQLite database file at path, creating it when it does not exist, and
// creates or migrates the index schema in it. The driver is pure Go (modernc.org/sqlite).
// Failures wrap ErrOpen in an *OpenError, except a schema newer than this package knows, which
// is a *SchemaError.
func OpenSQLite(ctx context.Context, path string) (*Index, error) {
	if path == "" {
		return nil, &OpenError{Backend: "sqlite", Err: errors.New("empty path")}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// 64 MiB of page cache, so that a large Add does not spill pages to the log mid-transaction.
	q.Add("_pragma", "cache_size(-65536)")
	// Statement journals in memory: a multi-row INSERT keeps one, to undo itself on failure.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, &OpenError{Backend: "sqlite", Err: err}
	}
	// One connection: SQLite allows one writer, and a single connection spares waiting on locks.
	db.SetMaxOpenConns(1)
	// Processes that open one new file at once would each try to switch it to WAL and create its
	// schema; the lock file beside it lets one do so while the others wait.
	l := openLock(path + ".lock")
	l.lock()
	ix, err := open(ctx, db, dialect{name: "sqlite"}, len(migrations))
	l.unlock()
	if err != nil {
		l.close()
		return nil, err
	}
	ix.fileLock = l
	return ix, nil
}

// OpenPostgres opens the PostgreSQL database named by dsn (a URL such as
// "postgres://user@host:5432/db?sslmode=disable", or key=value pairs, as pgx accepts), checks
// that the server answers, and creates or migrates the index schema in it. Failures wrap
// ErrOpen in an *OpenError, except a schema newer than this package knows, which is a
// *SchemaError.
func OpenPostgres(ctx context.Context, dsn string) (*Index, error) {
	config, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, &OpenError{Backend: "postgres", Err: err}
	}
	db := stdlib.OpenDB(*config)
	return open(ctx, db, dialect{name: "postgres", numbered: true}, len(migrations))
}

// open checks that db answers and brings its schema to version schema: len(migrations), but
// in tests of migrations.
func open(ctx context.Context, db *sql.DB, d dialect, schema int) (*Index, error) {
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, &OpenError{Backend: d.name, Err: err}
	}
	ix := &Index{db: db, dialect: d, schema: schema}
	if err := ix.migrate(ctx, schema); err != nil {
		db.Close()
		var se *SchemaError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, &OpenError{Backend: d.name, Err: err}
	}
	return ix, nil
}

// Close closes the database.
func (ix *Index) Close() error {
	err := ix.db.Close()
	ix.fileLock.close()
	return err
}

// lockWrites takes the SQLite lock file for one write transaction, and returns its release; a
// no-op for PostgreSQL.
func (ix *Index) lockWrites() func() {
	if ix.fileLock == nil {
		return func() {}
	}
	ix.mu.Lock()
	ix.fileLock.lock()
	return func() {
		ix.fileLock.unlock()
		ix.mu.Unlock()
	}
}

// migrations are the schema, one step per version: migrations[i] takes the database from
// version i to version i+1. Steps are only ever appended. The SQL is common to both backends.
var migrations = [][]string{
	{
		`CREATE TABLE statements (
			id TEXT PRIMARY KEY,
			predicate_type TEXT NOT NULL,
			build_type TEXT NOT NULL,
			builder_id TEXT NOT NULL,
			source_repository TEXT NOT NULL,
			source_commit TEXT NOT NULL
		)`,
		`CREATE INDEX statements_predicate_type ON statements (predicate_type)`,
		`CREATE INDEX statements_builder_id ON statements (builder_id)`,
		`CREATE INDEX statements_source_repository ON statements (source_repository)`,
		`CREATE INDEX statements_source_commit ON statements (source_commit)`,
		// Subjects, materials and parameters are written once, with their new statement (see
		// Add), so they need no key of their own: only the indexes the queries use.
		`CREATE TABLE subjects (
			statement_id TEXT NOT NULL REFERENCES statements (id),
			digest TEXT NOT NULL,
			name TEXT NOT NULL
		)`,
		`CREATE INDEX subjects_statement ON subjects (statement_id)`,
		`CREATE TABLE materials (
			statement_id TEXT NOT NULL REFERENCES statements (id),
			digest TEXT NOT NULL
		)`,
		`CREATE INDEX materials_digest ON materials (digest, statement_id)`,
		`CREATE TABLE parameters (
			statement_id TEXT NOT NULL REFERENCES statements (id),
			path TEXT NOT NULL,
			value TEXT NOT NULL
		)`,
		`CREATE INDEX parameters_path_value ON parameters (path, value, statement_id)`,
		`CREATE TABLE signatures (
			statement_id TEXT NOT NULL REFERENCES statements (id),
			signer TEXT NOT NULL,
			key_id TEXT NOT NULL,
			issuer TEXT NOT NULL,
			san TEXT NOT NULL,
			signed_at BIGINT,
			PRIMARY KEY (statement_id, signer)
		)`,
		`CREATE INDEX signatures_signed_at ON signatures (signed_at)`,
	},
	// Version 2: artifacts found by subject digest, statements by signer (Query.Subject,
	// Query.Signer).
	{
		`CREATE INDEX subjects_digest ON subjects (digest, statement_id)`,
		`CREATE INDEX signatures_key_id ON signatures (key_id, statement_id)`,
		`CREATE INDEX signatures_san ON signatures (san, statement_id)`,
	},
	// Version 3: the certificate extensions of keyless signatures, by their JSON names in
	// sigstore-go's certificate.Extensions (Query.SignerExtensions, Signature.Extensions).
	{
		// A row belongs to the signature (statement_id, signer); Add writes rows in batches,
		// so the reference is to the statement, which is always written first.
		`CREATE TABLE signature_extensions (
			statement_id TEXT NOT NULL REFERENCES statements (id),
			signer TEXT NOT NULL,
			name TEXT NOT NULL,
			value TEXT NOT NULL,
			PRIMARY KEY (statement_id, signer, name)
		)`,
		`CREATE INDEX signature_extensions_name_value ON signature_extensions (name, value, statement_id)`,
	},
	// Version 4: identities in one normal form. A certificate signer's label carries the length
	// of its issuer, so that issuer "a b" with SAN "c" and issuer "a" with SAN "b c" are two
	// signers; parameter paths are JSON Pointers; commits are lower case; and source
	// repositories are provenance.RepositoryID values (rewritten by upgradeRepositories). Paths
	// recorded by earlier versions are converted on the assumption that no key held a ".":
	// adding the results again records their exact paths.
	{
		`UPDATE signature_extensions SET signer = (SELECT ` + certLabelSQL + ` FROM signatures g
			WHERE g.statement_id = signature_extensions.statement_id AND g.signer = signature_extensions.signer)
			WHERE EXISTS (SELECT 1 FROM signatures g WHERE g.statement_id = signature_extensions.statement_id
			AND g.signer = signature_extensions.signer AND (g.issuer <> '' OR g.san <> ''))`,
		`UPDATE signatures SET signer = ` + certLabelSQL + ` WHERE issuer <> '' OR san <> ''`,
		`UPDATE parameters SET path = '/' || REPLACE(REPLACE(REPLACE(path, '~', '~0'), '/', '~1'), '.', '/')`,
		`UPDATE statements SET source_commit = LOWER(source_commit)`,
	},
	// Version 5: audit events ingested from audit logs (AddAuditLog, Events), and the
	// checkpoint each log was last ingested at, which the next ingestion must extend.
	{
		`CREATE TABLE audit_logs (
			origin TEXT PRIMARY KEY,
			size BIGINT NOT NULL,
			checkpoint TEXT NOT NULL
		)`,
		`CREATE TABLE audit_events (
			origin TEXT NOT NULL,
			log_index BIGINT NOT NULL,
			kind TEXT NOT NULL,
			subject TEXT NOT NULL,
			actor TEXT NOT NULL,
			event_time BIGINT NOT NULL,
			decision TEXT NOT NULL,
			environment TEXT NOT NULL,
			detail TEXT NOT NULL,
			bundle TEXT NOT NULL,
			PRIMARY KEY (origin, log_index)
		)`,
		`CREATE INDEX audit_events_subject ON audit_events (subject, event_time)`,
		`CREATE INDEX audit_events_actor ON audit_events (actor, event_time)`,
	},
	// Version 6: where tags pointed and when (ObserveTag, Drifts), from the caller and from the
	// audit events' subject names (backfilled by backfillTags); and the findings of verified
	// vulnerability scans (Affected, Exceeding).
	{
		`CREATE TABLE tags (
			reference TEXT NOT NULL,
			digest TEXT NOT NULL,
			first_seen BIGINT NOT NULL,
			last_seen BIGINT NOT NULL,
			source TEXT NOT NULL,
			PRIMARY KEY (reference, digest)
		)`,
		`CREATE INDEX tags_digest ON tags (digest)`,
		`CREATE TABLE scans (
			statement_id TEXT PRIMARY KEY REFERENCES statements (id),
			scanned_at BIGINT NOT NULL,
			problem TEXT NOT NULL
		)`,
		`CREATE INDEX scans_problem ON scans (problem)`,
		`CREATE TABLE findings (
			statement_id TEXT NOT NULL REFERENCES statements (id),
			vulnerability TEXT NOT NULL,
			finding TEXT NOT NULL,
			severity INTEGER NOT NULL
		)`,
		`CREATE INDEX findings_vulnerability ON findings (vulnerability, statement_id)`,
		`CREATE INDEX findings_severity ON findings (severity, statement_id)`,
	},
	// Version 7: each statement as verified, in canonical form, and when it happened (Record,
	// Recent, Artifacts). Statements indexed before have the time of their earliest verified
	// signature and no body: adding their results again records it.
	{
		`CREATE TABLE statement_records (
			statement_id TEXT PRIMARY KEY REFERENCES statements (id),
			at BIGINT,
			body TEXT
		)`,
		`CREATE INDEX statement_records_at ON statement_records (at, statement_id)`,
		// A statement's materials and named parameters, read by Records.
		`CREATE INDEX materials_statement ON materials (statement_id)`,
		`CREATE INDEX parameters_statement ON parameters (statement_id, path)`,
		`INSERT INTO statement_records (statement_id, at, body)
			SELECT id, (SELECT MIN(g.signed_at) FROM signatures g WHERE g.statement_id = statements.id), NULL FROM statements`,
	},
}

// certLabelSQL computes certLabel from the issuer and san columns of a signatures row.
const certLabelSQL = `'cert:' || CAST(LENGTH(issuer) AS TEXT) || ':' || issuer || ' ' || san`

// migrationCode is the part of a migration step that SQL cannot do, by the version it takes the
// schema to; it runs after that step's SQL, in the same transaction.
var migrationCode = map[int]func(ctx context.Context, tx *sql.Tx, d dialect) error{
	4: upgradeRepositories,
	6: backfillTags,
}

// upgradeRepositories rewrites each recorded source repository URL as its
// provenance.RepositoryID, or as empty when it has none.
func upgradeRepositories(ctx context.Context, tx *sql.Tx, d dialect) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT source_repository FROM statements WHERE source_repository <> ''`)
	if err != nil {
		return err
	}
	var urls []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return err
		}
		urls = append(urls, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	update := d.bind(`UPDATE statements SET source_repository = ? WHERE source_repository = ?`)
	for _, u := range urls {
		id, _ := provenance.RepositoryID(u) // idempotent: an ID is its own ID
		if id == u {
			continue
		}
		if _, err := tx.ExecContext(ctx, update, id, u); err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion is the version of the schema this package creates and reads. Opening an index
// of an older version migrates it, one step per version, in one transaction.
const SchemaVersion = 7

// migrateLock is the PostgreSQL advisory lock key that serializes migrations, so that
// processes opening one database at the same moment create its schema once.
const migrateLock = 0x70726f766b6964 // "provkid"

// migrate brings the schema to version target (len(migrations) but in tests) in one
// transaction.
func (ix *Index) migrate(ctx context.Context, target int) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if ix.dialect.numbered {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return fmt.Errorf("lock for migration: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	current := int(v.Int64)
	if current > len(migrations) {
		return &SchemaError{Found: current, Supported: len(migrations)}
	}
	if current >= target {
		return nil
	}
	for i := current; i < target; i++ {
		for _, stmt := range migrations[i] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate to schema version %d: %w", i+1, err)
			}
		}
		if code := migrationCode[i+1]; code != nil {
			if err := code(ctx, tx, ix.dialect); err != nil {
				return fmt.Errorf("migrate to schema version %d: %w", i+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM schema_version`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, ix.dialect.bind(`INSERT INTO schema_version (version) VALUES (?)`), target); err != nil {
		return err
	}
	return tx.Commit()
}
