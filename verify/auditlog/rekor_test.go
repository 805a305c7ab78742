package auditlog_test

import (
	"context"
	"crypto"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	rekornote "github.com/sigstore/rekor-tiles/v2/pkg/note"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

// TestRekorV2 is the shared option against the real Rekor v2 server: a team log whose seals are
// signed through Rekor, so every entry carries a Rekor inclusion proof the auditor checks,
// and the Rekor log itself, read from its tiles as a static host serves them, followed from one
// checkpoint to the next. Events are also timestamped by the `make test` timestamp authority,
// since Rekor v2 entries carry no signing time. It skips unless PROVKIT_TEST_REKOR_V2 names a rekor-server binary.
func TestRekorV2(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := testenv.StartRekorV2(t, "rekor.audit.provkit.test")
	ek := mustKey(t)
	tsaURL, tsa, _ := testenv.TSA(t)
	logged, err := sign.NewKeySigner(ek, sign.WithTransparencyLog(r.URL, 2), sign.WithTimestampAuthority(tsaURL))
	require.NoError(t, err)
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "audit", Key: ek.Public()})
	require.NoError(t, err)
	logs, err := root.NewTrustedRoot(root.TrustedRootMediaType01, nil, nil, []root.TimestampingAuthority{tsa},
		map[string]*root.TransparencyLog{hex.EncodeToString(r.Log.ID): r.Log})
	require.NoError(t, err)
	events, err := verify.New(root.TrustedMaterialCollection{keys, logs}, verify.WithTransparencyLog(1),
		verify.WithPredicateTypes(auditlog.SealPredicateType))
	require.NoError(t, err)
	k := newKeys(t)
	trust := auditlog.Trust{Checkpoints: k.verifier, Events: events, Signer: verify.KeyIDs("audit")}

	dir := t.TempDir()
	record(t, dir, k, logged, 0, 3)
	a, err := auditlog.NewAuditor(auditlog.Dir(dir), trust)
	require.NoError(t, err)
	report, err := a.Audit(ctx, nil)
	require.NoError(t, err)
	require.EqualValues(t, 3, report.Entries)
	seals := map[string]bool{}
	for e, err := range a.Entries(ctx, report.Checkpoint, 0) {
		require.NoError(t, err)
		seals[e.Bundle.Digest().String()] = true
		var b sgbundle.Bundle
		require.NoError(t, b.UnmarshalJSON(e.Bundle.Data))
		entries := b.GetVerificationMaterial().GetTlogEntries()
		require.Len(t, entries, 1, "entry %d", e.Index)
		require.NotNil(t, entries[0].GetInclusionProof(), "entry %d", e.Index)
	}

	t.Run("EventNotInRekor", func(t *testing.T) {
		unlogged, err := sign.NewKeySigner(ek, sign.WithTimestampAuthority(tsaURL))
		require.NoError(t, err)
		dir := t.TempDir()
		record(t, dir, k, unlogged, 0, 1)
		a, err := auditlog.NewAuditor(auditlog.Dir(dir), trust)
		require.NoError(t, err)
		_, err = a.Audit(ctx, nil)
		var entryErr *auditlog.EntryError
		require.ErrorAs(t, err, &entryErr)
		require.EqualValues(t, 0, entryErr.Index)
		require.ErrorIs(t, err, verify.ErrVerification)
	})

	t.Run("FollowRekor", func(t *testing.T) {
		tiles := httptest.NewServer(http.FileServer(http.Dir(r.Tiles)))
		t.Cleanup(tiles.Close)
		src, err := auditlog.URL(tiles.URL, tiles.Client())
		require.NoError(t, err)
		sv, err := signature.LoadVerifier(r.Key.Public(), crypto.SHA256)
		require.NoError(t, err)
		rekorKey, err := rekornote.NewNoteVerifier(r.Origin, sv)
		require.NoError(t, err)

		held, err := auditlog.Follow(ctx, src, rekorKey, nil)
		require.NoError(t, err)
		require.GreaterOrEqual(t, held.Size, uint64(len(seals)), "Rekor's checkpoint covers the seals of the three events")

		record(t, t.TempDir(), k, logged, 3, 2)
		var latest *auditlog.Checkpoint
		require.Eventually(t, func() bool {
			latest, err = auditlog.Follow(ctx, src, rekorKey, held)
			require.NoError(t, err)
			return latest.Size > held.Size
		}, 30*time.Second, 100*time.Millisecond, "Rekor's checkpoint grows by the new events' seal")

		_, err = auditlog.Follow(ctx, src, rekorKey, latest)
		require.NoError(t, err, "the same checkpoint is consistent with itself")
		_, err = auditlog.Follow(ctx, src, k.verifier, nil)
		var cpErr *auditlog.CheckpointError
		require.ErrorAs(t, err, &cpErr, "a checkpoint opened with another log's key")
		require.ErrorIs(t, err, auditlog.ErrTampered)

		bigger := *latest
		bigger.Size = latest.Size + 100
		_, err = auditlog.Follow(ctx, src, rekorKey, &bigger)
		var rollback *auditlog.RollbackError
		require.ErrorAs(t, err, &rollback, "a log smaller than a checkpoint already held")
		require.EqualValues(t, latest.Size+100, rollback.Held)

		forked := *held
		forked.Hash = append([]byte(nil), held.Hash...)
		forked.Hash[0] ^= 1
		_, err = auditlog.Follow(ctx, src, rekorKey, &forked)
		var consistency *auditlog.ConsistencyError
		require.ErrorAs(t, err, &consistency, "a held root no append-only history joins")
		require.True(t, errors.Is(err, auditlog.ErrTampered))
	})
}

// record appends n events from index from to the log in dir, signing them with events.
func record(t *testing.T, dir string, k *keys, events sign.Signer, from, n int) {
	t.Helper()
	ctx := context.Background()
	l, err := auditlog.Open(ctx, dir, k.checkpoints, events, auditlog.WithActor("gate@example.com"))
	require.NoError(t, err)
	for i := from; i < from+n; i++ {
		require.NoError(t, l.Record(ctx, event(i)))
	}
	require.NoError(t, l.Close(ctx))
}
