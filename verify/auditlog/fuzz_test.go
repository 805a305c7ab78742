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

// FuzzEntry: entry bytes that are not an event signed by the log's signer never verify.
func FuzzEntry(f *testing.F) {
	k := newKeys(f)
	a := auditor(f, f.TempDir(), k)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := a.Verify(context.Background(), 9, data)
		var ee *auditlog.EntryError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, uint64(9), ee.Index)
	})
}
