package auditlog_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/tessera/api/layout"

	"github.com/provkit/provkit/verify/auditlog"
)

// FuzzParseCheckpoint: a checkpoint opens only when signed by the log's key, and anything else
// fails with a *CheckpointError.
func FuzzParseCheckpoint(f *testing.F) {
	k := newKeys(f)
	dir := writeLog(f, k, 2)
	raw, err := os.ReadFile(filepath.Join(dir, layout.CheckpointPath))
	require.NoError(f, err)
	f.Add(raw)
	f.Add([]byte("audit.provkit.test\n2\nAAAA\n\n— audit.provkit.test AAAA\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := auditlog.ParseCheckpoint(data, k.verifier)
		if err != nil {
			var ce *auditlog.CheckpointError
			require.ErrorAs(t, err, &ce)
			return
		}
		require.Equal(t, origin, cp.Origin)
	})
}

// FuzzEntry: entry bytes verify only as an event sealed by the log's signer, and anything else
// fails with an *EntryError naming the index. The seed is a real entry of a sealed batch.
func FuzzEntry(f *testing.F) {
	k := newKeys(f)
	dir := writeLog(f, k, 3)
	a := auditor(f, dir, k)
	cp, err := a.Checkpoint(context.Background())
	require.NoError(f, err)
	_, real, err := a.Prove(context.Background(), 1, cp)
	require.NoError(f, err)
	f.Add(real)
	f.Add([]byte(`{"mediaType":"application/vnd.provkit.audit.entry.v1+json","event":"e30=","seal":{},"index":0,"size":1,"proof":[]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := a.Verify(context.Background(), 1, data)
		if err != nil {
			var ee *auditlog.EntryError
			require.ErrorAs(t, err, &ee)
			require.Equal(t, uint64(1), ee.Index)
			return
		}
		require.Equal(t, auditlog.SealPredicateType, e.Result.PredicateType())
		require.NoError(t, e.Event.Validate())
	})
}
