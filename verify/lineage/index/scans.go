package index

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/vuln"
)

// scanFacts is what the index records of a vulnerability scan statement.
type scanFacts struct {
	// finished is when the report says the scan finished; zero when it does not say.
	finished time.Time
	findings []findingRow
	// problem says why the report could not be read; a scan that cannot be read counts as
	// exposed to everything, never as one that found nothing.
	problem string
}

// findingRow is one name of one finding: its id or one of its aliases, upper-cased.
type findingRow struct {
	vulnerability, finding string
	severity               vuln.Severity
}

// scanOf reads the findings of an in-toto vulns v0.2 statement (canon is its canonical form),
// or of cosign's vuln predicate, whose scanner.result is a Trivy or grype report. It returns
// nil for statements of other predicate types.
func scanOf(st *intoto.Statement, canon []byte) *scanFacts {
	var report *vuln.Report
	var err error
	switch st.GetPredicateType() {
	case provenance.PredicateVulnsV02:
		report, err = vuln.ParseFormat(canon, vuln.FormatInToto)
	case provenance.PredicateCosignVuln:
		result := st.GetPredicate().GetFields()["scanner"].GetStructValue().GetFields()["result"]
		var data []byte
		if data, err = protojson.Marshal(result); err == nil {
			report, err = vuln.Parse(data)
		}
	default:
		return nil
	}
	if err != nil {
		return &scanFacts{problem: err.Error()}
	}
	sf := &scanFacts{finished: report.FinishedOn}
	if st.GetPredicateType() == provenance.PredicateCosignVuln {
		finished := st.GetPredicate().GetFields()["metadata"].GetStructValue().GetFields()["scanFinishedOn"].GetStringValue()
		if t, err := time.Parse(time.RFC3339Nano, finished); err == nil {
			sf.finished = t
		}
	}
	at := map[[2]string]int{}
	for _, f := range report.Findings {
		id := strings.ToUpper(f.ID)
		for _, name := range append([]string{f.ID}, f.Aliases...) {
			key := [2]string{strings.ToUpper(name), id}
			if i, ok := at[key]; ok {
				sf.findings[i].severity = worse(f.Severity, sf.findings[i].severity)
				continue
			}
			at[key] = len(sf.findings)
			sf.findings = append(sf.findings, findingRow{vulnerability: key[0], finding: id, severity: f.Severity})
		}
	}
	return sf
}

// worse returns the severity to record for a finding reported twice: unknown if either is,
// else the higher.
func worse(a, b vuln.Severity) vuln.Severity {
	if a == vuln.SeverityUnknown || b == vuln.SeverityUnknown {
		return vuln.SeverityUnknown
	}
	return max(a, b)
}

// scannedAt is when a scan happened, in Unix microseconds: when its report says it finished,
// unless that is after the verified signing time, which bounds it; else the signing time; else
// 0, which sorts before every dated scan.
func (sf *scanFacts) scannedAt(signedAt *int64) int64 {
	var signed time.Time
	if signedAt != nil {
		signed = time.Unix(0, *signedAt)
	}
	switch {
	case !sf.finished.IsZero() && (signed.IsZero() || !sf.finished.After(signed)):
		return sf.finished.UnixMicro()
	case !signed.IsZero():
		return signed.UnixMicro()
	}
	return 0
}

// Exposure is an artifact whose latest verified vulnerability scan lists what an ExposureQuery
// asks for, or could not be read.
type Exposure struct {
	// Digest is the artifact's digest.
	Digest digest.Digest
	// Name is the artifact's name, as the scan statement's subject gives it.
	Name string
	// Tags are the tags (REPOSITORY:TAG) the index saw pointing at Digest, sorted.
	Tags []string
	// Scan is the id of the scan statement (see Artifact.Statement).
	Scan digest.Digest
	// ScannedAt is when the scan happened: when its report says it finished, bounded by the
	// verified signing time; zero when neither is known.
	ScannedAt time.Time
	// Findings are the scan's findings that match the query, by id.
	Findings []ExposureFinding
	// Problem, when not empty, says why the scan's report could not be read: such an
	// artifact is exposed to every query, since nobody knows what it holds.
	Problem string
}

// ExposureFinding is one finding of an Exposure.
type ExposureFinding struct {
	// ID is the finding's id as its scan reports it, upper-cased.
	ID string
	// Severity is the finding's severity.
	Severity vuln.Severity
}

// ExposureQuery selects findings of the latest scans. At least one field must be set; both
// must hold when both are.
type ExposureQuery struct {
	// Vulnerability selects findings with this id or alias (CVE-2024-3094, GHSA-...), in any
	// case.
	Vulnerability string
	// AtLeast selects findings at or above this severity, and findings of unknown severity:
	// the threshold of a policy. SeverityUnknown, the zero value, selects by id alone.
	AtLeast vuln.Severity
	// DeployedIn, when set, keeps only artifacts with an ingested audit event of kind
	// "deployed" in this environment.
	DeployedIn string
}

// Exposed answers "which artifacts, and which of their tags, are affected by CVE-X" and "which
// deployed digests fail the threshold today": the artifacts whose latest verified scan (by
// ScannedAt, then statement id) has findings q selects, or could not be read, by digest. Only
// the latest scan of an artifact counts, so a rescan that no longer lists a finding clears it.
// OpenVEX statements are not applied here: they are the policy's to judge (package policy's
// vulnerabilities rule). A query with no field set is a *QueryError.
func (ix *Index) Exposed(ctx context.Context, q ExposureQuery) ([]Exposure, error) {
	if q.Vulnerability == "" && q.AtLeast == vuln.SeverityUnknown {
		return nil, &QueryError{Field: "Vulnerability", Err: errors.New("an exposure query needs a vulnerability or a severity")}
	}
	if ix.schema < tagsSchema {
		return nil, nil
	}
	var where []string
	var args []any
	if q.Vulnerability != "" {
		where, args = append(where, "f.vulnerability = ?"), append(args, strings.ToUpper(q.Vulnerability))
	}
	if q.AtLeast != vuln.SeverityUnknown {
		in := []string{"?"}
		args = append(args, int(vuln.SeverityUnknown))
		for s := q.AtLeast; s <= vuln.SeverityCritical; s++ {
			in, args = append(in, "?"), append(args, int(s))
		}
		where = append(where, "f.severity IN ("+strings.Join(in, ", ")+")")
	}
	deployed := ""
	var deployedArgs []any
	if q.DeployedIn != "" {
		deployed = ` AND EXISTS (SELECT 1 FROM audit_events e WHERE e.subject = s.digest AND e.kind = ? AND e.environment = ?)`
		deployedArgs = []any{string(audit.KindDeployed), q.DeployedIn}
	}
	// latest holds when no other scan of the subject's digest is later.
	const latest = ` AND NOT EXISTS (SELECT 1 FROM subjects s2 JOIN scans c2 ON c2.statement_id = s2.statement_id
		WHERE s2.digest = s.digest AND (c2.scanned_at > c.scanned_at OR (c2.scanned_at = c.scanned_at AND c2.statement_id > c.statement_id)))`
	matching := `SELECT DISTINCT s.digest, s.name, c.statement_id, c.scanned_at, c.problem, f.finding, f.severity
		FROM findings f JOIN scans c ON c.statement_id = f.statement_id JOIN subjects s ON s.statement_id = f.statement_id
		WHERE ` + strings.Join(where, " AND ") + latest + deployed
	unreadable := `SELECT s.digest, s.name, c.statement_id, c.scanned_at, c.problem, '', 0
		FROM scans c JOIN subjects s ON s.statement_id = c.statement_id WHERE c.problem > ''` + latest + deployed
	// Two queries rather than one UNION: each then runs from its own index.
	found, err := ix.exposureRows(ctx, matching, append(args, deployedArgs...))
	if err != nil {
		return nil, err
	}
	broken, err := ix.exposureRows(ctx, unreadable, deployedArgs)
	if err != nil {
		return nil, err
	}
	all := append(found, broken...)
	slices.SortFunc(all, func(x, y exposureRow) int {
		return cmp.Or(strings.Compare(x.digest, y.digest), strings.Compare(x.name, y.name), strings.Compare(x.scan, y.scan), strings.Compare(x.finding, y.finding))
	})
	var out []Exposure
	for _, r := range all {
		if n := len(out); n == 0 || string(out[n-1].Digest) != r.digest || out[n-1].Name != r.name || string(out[n-1].Scan) != r.scan {
			e := Exposure{Digest: digest.Digest(r.digest), Name: r.name, Scan: digest.Digest(r.scan), Problem: r.problem}
			if r.at != 0 {
				e.ScannedAt = time.UnixMicro(r.at).UTC()
			}
			out = append(out, e)
		}
		if r.finding != "" {
			last := &out[len(out)-1]
			last.Findings = append(last.Findings, ExposureFinding{ID: r.finding, Severity: vuln.Severity(r.severity)})
		}
	}
	digests := make([]string, 0, len(out))
	for _, e := range out {
		digests = append(digests, e.Digest.String())
	}
	tags, err := ix.tagsOf(ctx, slices.Compact(digests))
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Tags = tags[out[i].Digest.String()]
	}
	return out, nil
}

// exposureRow is one row of an exposure query: a finding of a scan of an artifact, or a scan
// that could not be read (no finding).
type exposureRow struct {
	digest, name, scan, problem, finding string
	at                                   int64
	severity                             int
}

func (ix *Index) exposureRows(ctx context.Context, query string, args []any) ([]exposureRow, error) {
	rows, err := ix.db.QueryContext(ctx, ix.dialect.bind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("index: exposure: %w", err)
	}
	defer rows.Close()
	var out []exposureRow
	for rows.Next() {
		var r exposureRow
		if err := rows.Scan(&r.digest, &r.name, &r.scan, &r.at, &r.problem, &r.finding, &r.severity); err != nil {
			return nil, fmt.Errorf("index: exposure: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: exposure: %w", err)
	}
	return out, nil
}
