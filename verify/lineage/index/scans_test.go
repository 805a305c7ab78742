package index

import (
	"context"
	"crypto"
	"errors"
	"strconv"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/vuln"
	"github.com/provkit/provkit/verify"
)

// scanSigner signs and verifies scan statements with one trusted key.
type scanSigner struct {
	key crypto.Signer
	v   *verify.Verifier
}

func newScanSigner(t testing.TB) *scanSigner {
	t.Helper()
	key := newKey(t)
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "scanner", Key: key.Public()})
	require.NoError(t, err)
	v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	return &scanSigner{key: key, v: v}
}

// scan returns the verified vulns v0.2 statement of a report on subject.
func (s *scanSigner) scan(t testing.TB, subject digest.Digest, name string, finished time.Time, findings ...vuln.Finding) *verify.Result {
	t.Helper()
	r := &vuln.Report{Format: vuln.FormatGrype, Scanner: vuln.Scanner{Name: "grype", Version: "0.87.0"}, FinishedOn: finished, Findings: findings}
	st, err := r.Statement(subject, name)
	require.NoError(t, err)
	return s.result(t, st, subject)
}

func (s *scanSigner) result(t testing.TB, st *intoto.Statement, subject digest.Digest) *verify.Result {
	t.Helper()
	res, err := s.v.Verify(context.Background(), signStatement(t, s.key, st), subject, verify.KeyIDs("scanner"))
	require.NoError(t, err)
	return res
}

// TestExposed indexes verified scans of three images on every backend and answers which are
// affected by a vulnerability (by id or alias), which fail a severity threshold, and which of
// those are deployed: only each image's latest scan counts, an unreadable report is exposed to
// every query, and tags seen pointing at an image come with it.
func TestExposed(t *testing.T) {
	ctx := context.Background()
	a, b, c := digest.FromString("image a"), digest.FromString("image b"), digest.FromString("image c")
	t1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	s := newScanSigner(t)
	cosignVuln := &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: provenance.PredicateCosignVuln,
		Subject: []*intoto.ResourceDescriptor{file("registry.example/c", c)},
		Predicate: &structpb.Struct{Fields: map[string]*structpb.Value{"scanner": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"result": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"findings": structpb.NewNumberValue(0)}}),
		}})}}}
	results := []*verify.Result{
		s.scan(t, a, "registry.example/a", t1,
			vuln.Finding{ID: "CVE-2026-1", Aliases: []string{"GHSA-aaaa-bbbb-cccc"}, Severity: vuln.SeverityHigh, Score: "HIGH", Method: "nvd"},
			vuln.Finding{ID: "CVE-2026-2", Severity: vuln.SeverityLow, Score: "LOW", Method: "nvd"}),
		// The rescan of a no longer finds CVE-2026-1.
		s.scan(t, a, "registry.example/a", t2, vuln.Finding{ID: "CVE-2026-2", Severity: vuln.SeverityLow, Score: "LOW", Method: "nvd"}),
		s.scan(t, b, "registry.example/b", t1,
			vuln.Finding{ID: "CVE-2026-1", Aliases: []string{"GHSA-aaaa-bbbb-cccc"}, Severity: vuln.SeverityCritical, Score: "9.8", Method: "cvss_score"},
			vuln.Finding{ID: "CVE-2026-3"}),
		s.result(t, cosignVuln, c),
	}
	log := newAuditLog(t)
	log.write(t, audit.Event{Kind: audit.KindDeployed, Subject: b, Environment: "prod", Time: t2, Actor: "deploy"})
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			ix := be.open(t)(t)
			require.NoError(t, ix.Add(ctx, results...))
			require.NoError(t, ix.Add(ctx, results...), "adding again changes nothing")
			_, err := ix.AddAuditLog(ctx, log.auditor)
			require.NoError(t, err)
			require.NoError(t, ix.ObserveTag(ctx, "registry.example/b:1.0.0-20261101.abc1234", b, t1, "registry"))

			exposedA := Exposure{Digest: a, Name: "registry.example/a", Scan: statementID(t, results[1].Statement()), ScannedAt: t2,
				Findings: []ExposureFinding{{ID: "CVE-2026-2", Severity: vuln.SeverityLow}}}
			exposedB := func(fs ...ExposureFinding) Exposure {
				return Exposure{Digest: b, Name: "registry.example/b", Tags: []string{"registry.example/b:1.0.0-20261101.abc1234"},
					Scan: statementID(t, results[2].Statement()), ScannedAt: t1, Findings: fs}
			}
			critical := ExposureFinding{ID: "CVE-2026-1", Severity: vuln.SeverityCritical}
			unknown := ExposureFinding{ID: "CVE-2026-3", Severity: vuln.SeverityUnknown}
			got, err := ix.Exposed(ctx, ExposureQuery{Vulnerability: "cve-2026-1"})
			require.NoError(t, err)
			require.Len(t, got, 2)
			require.Equal(t, sortExposures(exposedB(critical), got[1]), got, "a is clear after its rescan; c's report is unreadable")
			unreadable := got[indexOf(got, c)]
			require.Equal(t, statementID(t, results[3].Statement()), unreadable.Scan)
			require.Contains(t, unreadable.Problem, "format")
			require.Empty(t, unreadable.Findings)

			got, err = ix.Exposed(ctx, ExposureQuery{Vulnerability: "GHSA-aaaa-bbbb-cccc"})
			require.NoError(t, err)
			require.Equal(t, sortExposures(exposedB(critical), unreadable), got, "found by alias")

			got, err = ix.Exposed(ctx, ExposureQuery{AtLeast: vuln.SeverityHigh})
			require.NoError(t, err)
			require.Equal(t, sortExposures(exposedB(critical, unknown), unreadable), got, "unknown severity is at every threshold")

			got, err = ix.Exposed(ctx, ExposureQuery{AtLeast: vuln.SeverityLow})
			require.NoError(t, err)
			require.Equal(t, sortExposures(exposedA, exposedB(critical, unknown), unreadable), got)

			got, err = ix.Exposed(ctx, ExposureQuery{AtLeast: vuln.SeverityHigh, DeployedIn: "prod"})
			require.NoError(t, err)
			require.Equal(t, []Exposure{exposedB(critical, unknown)}, got)
			got, err = ix.Exposed(ctx, ExposureQuery{Vulnerability: "CVE-2026-2", DeployedIn: "staging"})
			require.NoError(t, err)
			require.Empty(t, got)

			_, err = ix.Exposed(ctx, ExposureQuery{DeployedIn: "prod"})
			var qe *QueryError
			require.ErrorAs(t, err, &qe)
			require.True(t, errors.Is(err, ErrInvalidQuery))
		})
	}
}

func indexOf(es []Exposure, d digest.Digest) int {
	for i, e := range es {
		if e.Digest == d {
			return i
		}
	}
	return -1
}

// sortExposures orders exposures by digest, as Exposed does.
func sortExposures(es ...Exposure) []Exposure {
	for i := range es {
		for j := i + 1; j < len(es); j++ {
			if es[j].Digest < es[i].Digest {
				es[i], es[j] = es[j], es[i]
			}
		}
	}
	return es
}

// BenchmarkExposedSQLite answers "which artifacts are affected by this CVE" and "which fail
// the high threshold" over 10,000 scanned artifacts in SQLite, each with a rescan and five
// findings, one in a hundred affected by the CVE asked about.
func BenchmarkExposedSQLite(b *testing.B) {
	ctx := context.Background()
	s := newScanSigner(b)
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var results []*verify.Result
	for i := range 10_000 {
		d := digest.FromString("artifact " + strconv.Itoa(i))
		var fs []vuln.Finding
		for j := range 5 {
			fs = append(fs, vuln.Finding{ID: "CVE-2026-" + strconv.Itoa(1000+(i+j*37)%2000), Severity: vuln.SeverityLow, Score: "LOW", Method: "nvd"})
		}
		if i%100 == 0 {
			fs = append(fs, vuln.Finding{ID: "CVE-2026-0001", Severity: vuln.SeverityHigh, Score: "HIGH", Method: "nvd"})
		}
		results = append(results, s.scan(b, d, "registry.example/app-"+strconv.Itoa(i), at, fs[:2]...), s.scan(b, d, "registry.example/app-"+strconv.Itoa(i), at.Add(time.Hour), fs...))
	}
	ix, err := OpenSQLite(ctx, b.TempDir()+"/index.db")
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Add(ctx, results...); err != nil {
		b.Fatal(err)
	}
	for _, q := range []struct {
		name string
		q    ExposureQuery
	}{{"cve", ExposureQuery{Vulnerability: "CVE-2026-0001"}}, {"threshold", ExposureQuery{AtLeast: vuln.SeverityHigh}}} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				got, err := ix.Exposed(ctx, q.q)
				if err != nil || len(got) != 100 {
					b.Fatalf("Exposed = %d exposures, %v; want 100", len(got), err)
				}
			}
		})
	}
}
