package index

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// Query selects artifacts: the subjects of indexed statements that meet every condition set.
// The zero Query selects every indexed artifact.
type Query struct {
	// SourceCommit is the git commit the build ran from (the source dependency's gitCommit,
	// else sha1, digest), in either case.
	SourceCommit string
	// SourceRepository is the source repository, in any form provenance.RepositoryID accepts:
	// "https://github.com/org/repo" finds what was built from
	// "git+ssh://git@github.com/org/repo.git@refs/heads/main". Both sides are compared as
	// RepositoryID values; one it refuses fails Find with a *QueryError.
	SourceRepository string
	// BuilderID is the SLSA builder id, exactly.
	BuilderID string
	// Material is the digest of a resolved dependency: a dataset, file, image or module the
	// statement's subjects were made from. Like Subject, it is compared in provenance's normal
	// form (provenance.ParseDigest), and must be of an identifying algorithm.
	Material digest.Digest
	// Parameters are external parameters the statement must hold, by JSON Pointer (RFC 6901,
	// see Pointer): object keys and list indexes each after a "/" ("/command/0"), with "~"
	// written "~0" and "/" written "~1". Values are compared as text: a string as it is, a
	// number in JSON's shortest form ("42"), a boolean as "true" or "false".
	Parameters map[string]string
	// PredicateType is the statement's predicate type, exactly.
	PredicateType string
	// Subject selects the artifacts with this digest: every statement naming it as a subject,
	// whatever its predicate type, gives one Artifact. It may be of any identifying algorithm
	// (provenance.IdentifyingAlgorithm), in either case, and matches the subject's digest of
	// that algorithm; the index records no others. One that provenance.ParseDigest refuses
	// fails Find with a *QueryError.
	Subject digest.Digest
	// Signer selects statements with a verified signature by this signer: a trusted key's id
	// (verify.Signer.KeyID) or a certificate's subject alternative name
	// (verify.CertificateIdentity.SubjectAlternativeName, such as an email or a workflow
	// URI), compared exactly.
	Signer string
	// SignedFrom and SignedBefore bound the verified signing time: a statement matches when one
	// of its signatures was made at or after SignedFrom and before SignedBefore. A zero bound is
	// open; statements without a verified signing time match only when both are zero. With
	// Signer, the same signature must be by Signer and within the bounds.
	SignedFrom, SignedBefore time.Time
	// SignerExtensions selects statements with a verified signature whose certificate carries
	// every extension given, by its JSON name in sigstore-go's certificate.Extensions, with
	// exactly that value: {"sourceRepositoryURI": "https://github.com/org/repo",
	// "sourceRepositoryRef": "refs/tags/v1.0.0"} selects what a workflow of that repository
	// signed at that ref. The names are those Fulcio documents for its OIDs, such as
	// "buildSignerURI", "runInvocationURI", "sourceRepositoryDigest" and
	// "githubWorkflowRepository". One signature must carry them all, and, with Signer and the
	// signing-time bounds, be by Signer and within the bounds too. A signature is one per
	// statement and signer (issuer and SAN): when the same statement was added again with a
	// certificate of the same signer, extensions the first certificate lacked were recorded
	// from the later one (see Index.Add), so the set matched may come from both.
	SignerExtensions map[string]string
}

// shared reports 1 for the certificate extensions, by JSON name, whose values many signers
// share, which make a poor start for a query; 0 for the others.
func shared(extension string) int {
	switch extension {
	case "issuer", "sourceRepositoryRef", "githubWorkflowRef", "buildTrigger", "githubWorkflowTrigger",
		"runnerEnvironment", "sourceRepositoryVisibilityAtSigning", "sourceRepositoryOwnerURI", "sourceRepositoryOwnerIdentifier":
		return 1
	}
	return 0
}

// Artifact is one subject of one indexed statement.
type Artifact struct {
	// Digest is the subject's digest; a subject with several digests is one Artifact per digest.
	Digest digest.Digest
	// Name is the subject's name in the statement; empty when it has none.
	Name string
	// Statement is the sha256 digest of the statement's canonical form (provenance.Marshal).
	Statement digest.Digest
}

// Find returns the artifacts q selects, sorted by digest, then name, then statement, so the
// same index and query always give the same answer on either backend.
func (ix *Index) Find(ctx context.Context, q Query) ([]Artifact, error) {
	q, err := q.normal()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	var args []any
	b.WriteString(`SELECT s.digest, s.name, s.statement_id FROM subjects s JOIN statements st ON st.id = s.statement_id WHERE 1 = 1`)
	eq := func(column, value string) {
		if value != "" {
			b.WriteString(" AND st." + column + " = ?")
			args = append(args, value)
		}
	}
	eq("source_commit", q.SourceCommit)
	eq("source_repository", q.SourceRepository)
	eq("builder_id", q.BuilderID)
	eq("predicate_type", q.PredicateType)
	if q.Subject != "" {
		b.WriteString(` AND s.digest = ?`)
		args = append(args, q.Subject.String())
	}
	if q.Material != "" {
		b.WriteString(` AND EXISTS (SELECT 1 FROM materials m WHERE m.statement_id = s.statement_id AND m.digest = ?)`)
		args = append(args, q.Material.String())
	}
	paths := make([]string, 0, len(q.Parameters))
	for p := range q.Parameters {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		b.WriteString(` AND EXISTS (SELECT 1 FROM parameters p WHERE p.statement_id = s.statement_id AND p.path = ? AND p.value = ?)`)
		args = append(args, p, q.Parameters[p])
	}
	// The conditions on one signature g: its signing time and its extensions.
	var sigCond string
	var sigArgs []any
	if !q.SignedFrom.IsZero() || !q.SignedBefore.IsZero() {
		sigCond = ` AND g.signed_at IS NOT NULL`
		if !q.SignedFrom.IsZero() {
			sigCond += ` AND g.signed_at >= ?`
			sigArgs = append(sigArgs, q.SignedFrom.UnixNano())
		}
		if !q.SignedBefore.IsZero() {
			sigCond += ` AND g.signed_at < ?`
			sigArgs = append(sigArgs, q.SignedBefore.UnixNano())
		}
	}
	names := make([]string, 0, len(q.SignerExtensions))
	for n := range q.SignerExtensions {
		names = append(names, n)
	}
	// The first name is the one that selects the signatures to check, so the extensions that
	// many signers share (an issuer, a ref such as refs/heads/main) come last.
	slices.SortFunc(names, func(x, y string) int {
		return cmp.Or(cmp.Compare(shared(x), shared(y)), cmp.Compare(x, y))
	})
	// restCond holds the conditions but the first extension's, for the query that starts from
	// that extension's signatures; sigCond holds them all.
	const extCond = ` AND EXISTS (SELECT 1 FROM signature_extensions e WHERE e.statement_id = g.statement_id AND e.signer = g.signer AND e.name = ? AND e.value = ?)`
	restCond, restArgs := sigCond, slices.Clip(sigArgs)
	for _, n := range names[min(1, len(names)):] {
		restCond += extCond
		restArgs = append(restArgs, n, q.SignerExtensions[n])
	}
	if len(names) > 0 {
		sigCond = restCond + extCond
		sigArgs = append(slices.Clip(restArgs), names[0], q.SignerExtensions[names[0]])
	}
	// Another filter that an index serves selects few statements, and each is checked for the
	// signature; without one, the signer's statements are read from the key id and SAN indexes,
	// or those with an extension from the extensions' index.
	narrowed := q.Subject != "" || q.Material != "" || q.SourceCommit != "" || q.SourceRepository != "" || len(q.Parameters) > 0
	switch {
	case q.Signer != "" && narrowed:
		b.WriteString(` AND EXISTS (SELECT 1 FROM signatures g WHERE g.statement_id = s.statement_id AND (g.key_id = ? OR g.san = ?)` + sigCond + `)`)
		args = append(append(args, q.Signer, q.Signer), sigArgs...)
	case q.Signer != "":
		b.WriteString(` AND s.statement_id IN (SELECT g.statement_id FROM signatures g WHERE g.key_id = ?` + sigCond +
			` UNION SELECT g.statement_id FROM signatures g WHERE g.san = ?` + sigCond + `)`)
		args = append(append(append(append(args, q.Signer), sigArgs...), q.Signer), sigArgs...)
	case len(names) > 0 && !narrowed:
		// The signatures with the first extension, by the index on (name, value, statement_id),
		// checked for the rest.
		b.WriteString(` AND s.statement_id IN (SELECT x.statement_id FROM signature_extensions x JOIN signatures g ON g.statement_id = x.statement_id AND g.signer = x.signer WHERE x.name = ? AND x.value = ?` + restCond + `)`)
		args = append(append(args, names[0], q.SignerExtensions[names[0]]), restArgs...)
	case sigCond != "":
		b.WriteString(` AND EXISTS (SELECT 1 FROM signatures g WHERE g.statement_id = s.statement_id` + sigCond + `)`)
		args = append(args, sigArgs...)
	}
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(b.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("index: find: %w", err)
	}
	defer rows.Close()
	var out []Artifact
	for rows.Next() {
		var a Artifact
		if err := rows.Scan(&a.Digest, &a.Name, &a.Statement); err != nil {
			return nil, fmt.Errorf("index: find: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: find: %w", err)
	}
	// Sorted here rather than by ORDER BY: text collation differs between databases.
	slices.SortFunc(out, func(x, y Artifact) int {
		return cmp.Or(cmp.Compare(x.Digest, y.Digest), cmp.Compare(x.Name, y.Name), cmp.Compare(x.Statement, y.Statement))
	})
	return out, nil
}

// normal returns q with its digests, repository and commit in the form the index records them,
// and its parameter paths checked.
func (q Query) normal() (Query, error) {
	for _, f := range []struct {
		name string
		d    *digest.Digest
	}{{"Subject", &q.Subject}, {"Material", &q.Material}} {
		if *f.d == "" {
			continue
		}
		n, err := provenance.ParseDigest(string(*f.d))
		if err != nil {
			return q, &QueryError{Field: f.name, Err: err}
		}
		*f.d = n
	}
	if q.SourceRepository != "" {
		id, err := provenance.RepositoryID(q.SourceRepository)
		if err != nil {
			return q, &QueryError{Field: "SourceRepository", Err: err}
		}
		q.SourceRepository = id
	}
	q.SourceCommit = strings.ToLower(q.SourceCommit)
	for p := range q.Parameters {
		if _, err := parsePointer(p); err != nil {
			return q, &QueryError{Field: "Parameters", Err: err}
		}
	}
	return q, nil
}

// Signature is one verified signature of an indexed statement.
type Signature struct {
	// Signer is who signed: KeyID for a trusted key, or Certificate with its Issuer and
	// SubjectAlternativeName, and Certificate.Extensions filled from Extensions.
	Signer verify.Signer
	// SignedAt is the verified signing time; zero when the signature had none.
	SignedAt time.Time
	// Extensions are the certificate's non-empty extensions, by their JSON names in
	// sigstore-go's certificate.Extensions ("sourceRepositoryURI", "buildSignerURI"...), as
	// Query.SignerExtensions names them; nil for a key's signature or a certificate without
	// extensions.
	Extensions map[string]string
}

// Signatures returns who signed the statement with the given id (see Artifact.Statement) and
// when, sorted by signing time (untimed last), then signer. It returns no signatures and no
// error for a statement that is not indexed.
func (ix *Index) Signatures(ctx context.Context, statement digest.Digest) ([]Signature, error) {
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(
		`SELECT signer, key_id, issuer, san, signed_at FROM signatures WHERE statement_id = ?`), statement.String())
	if err != nil {
		return nil, fmt.Errorf("index: signatures of %s: %w", statement, err)
	}
	defer rows.Close()
	type row struct {
		label string
		sig   Signature
	}
	var all []row
	for rows.Next() {
		var r row
		var keyID, issuer, san string
		var at sql.NullInt64
		if err := rows.Scan(&r.label, &keyID, &issuer, &san, &at); err != nil {
			return nil, fmt.Errorf("index: signatures of %s: %w", statement, err)
		}
		if issuer != "" || san != "" {
			r.sig.Signer.Certificate = &verify.CertificateIdentity{Issuer: issuer, SubjectAlternativeName: san}
		} else {
			r.sig.Signer.KeyID = keyID
		}
		if at.Valid {
			r.sig.SignedAt = time.Unix(0, at.Int64).UTC()
		}
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: signatures of %s: %w", statement, err)
	}
	rows.Close()
	if len(all) > 0 {
		exts, err := ix.extensions(ctx, statement)
		if err != nil {
			return nil, err
		}
		for i := range all {
			sig := &all[i].sig
			sig.Extensions = exts[all[i].label]
			if sig.Signer.Certificate != nil && sig.Extensions != nil {
				// The names are certificate.Extensions' JSON names, so JSON fills it.
				b, err := json.Marshal(sig.Extensions)
				if err == nil {
					err = json.Unmarshal(b, &sig.Signer.Certificate.Extensions)
				}
				if err != nil {
					return nil, fmt.Errorf("index: signatures of %s: extensions: %w", statement, err)
				}
			}
		}
	}
	slices.SortFunc(all, func(x, y row) int {
		xz, yz := x.sig.SignedAt.IsZero(), y.sig.SignedAt.IsZero()
		switch {
		case xz != yz && xz:
			return 1
		case xz != yz:
			return -1
		}
		return cmp.Or(x.sig.SignedAt.Compare(y.sig.SignedAt), cmp.Compare(x.label, y.label))
	})
	out := make([]Signature, len(all))
	for i, r := range all {
		out[i] = r.sig
	}
	return out, nil
}

// extensions returns the recorded certificate extensions of a statement's signatures, by
// signer label.
func (ix *Index) extensions(ctx context.Context, statement digest.Digest) (map[string]map[string]string, error) {
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(
		`SELECT signer, name, value FROM signature_extensions WHERE statement_id = ?`), statement.String())
	if err != nil {
		return nil, fmt.Errorf("index: signatures of %s: extensions: %w", statement, err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var label, name, value string
		if err := rows.Scan(&label, &name, &value); err != nil {
			return nil, fmt.Errorf("index: signatures of %s: extensions: %w", statement, err)
		}
		if out[label] == nil {
			out[label] = map[string]string{}
		}
		out[label][name] = value
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: signatures of %s: extensions: %w", statement, err)
	}
	return out, nil
}
