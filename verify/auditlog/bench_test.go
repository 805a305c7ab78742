package auditlog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/verify/auditlog"
)

// BenchmarkRecord measures append throughput on the POSIX log: b.N events recorded, signed,
// batched and written with fsync, then flushed.
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	k := newKeys(b)
	l, err := auditlog.Open(ctx, b.TempDir(), k.checkpoints, k.events, auditlog.WithActor("bench@example.com"))
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := l.Record(ctx, event(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.StopTimer()
	require.NoError(b, l.Close(ctx))
}

// BenchmarkVerifyInclusion measures checking one inclusion proof in a log of 10,000 entries.
func BenchmarkVerifyInclusion(b *testing.B) {
	ctx := context.Background()
	k := newKeys(b)
	dir := writeLog(b, k, 10000)
	a := auditor(b, dir, k)
	cp, err := a.Checkpoint(ctx)
	require.NoError(b, err)
	p, data, err := a.Prove(ctx, 4321, cp)
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := auditlog.VerifyInclusion(p, data, cp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAudit measures a full audit: every entry read, checked against the tiles and
// verified, and the root recomputed.
func BenchmarkAudit(b *testing.B) {
	k := newKeys(b)
	for _, size := range []struct {
		name string
		n    int
	}{{"1k", 1000}, {"100k", 100000}} {
		b.Run(size.name, func(b *testing.B) {
			dir := writeLog(b, k, size.n)
			a := auditor(b, dir, k)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				r, err := a.Audit(context.Background(), nil)
				if err != nil {
					b.Fatal(err)
				}
				if r.Entries != uint64(size.n) {
					b.Fatalf("audited %d entries, want %d", r.Entries, size.n)
				}
			}
			b.ReportMetric(float64(size.n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
