package auditlog_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"

	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

func TestAppendAuditProve(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	dir := writeLog(t, k, 300) // one full entry bundle and a partial one
	a := auditor(t, dir, k)
	report, err := a.Audit(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, uint64(300), report.Entries)
	require.Equal(t, uint64(300), report.Checkpoint.Size)
	require.Equal(t, uint64(300), report.Kinds[audit.KindVerified])

	var seen []string
	for e, err := range a.Entries(ctx, report.Checkpoint, 298) {
		require.NoError(t, err)
		require.Equal(t, "gate@example.com", e.Event.Actor, "the log's actor fills events that name none")
		seen = append(seen, e.Event.Subject.String())
	}
	require.Equal(t, []string{event(298).Subject.String(), event(299).Subject.String()}, seen)

	for _, index := range []uint64{0, 5, 255, 256, 299} {
		p, data, err := a.Prove(ctx, index, report.Checkpoint)
		require.NoError(t, err)
		require.NoError(t, auditlog.VerifyInclusion(p, data, report.Checkpoint))
		other := slices.Clone(data)
		other[len(other)/2] ^= 1
		var pe *auditlog.ProofError
		require.ErrorAs(t, auditlog.VerifyInclusion(p, other, report.Checkpoint), &pe)
		require.Equal(t, index, pe.Index)
	}
	_, _, err = a.Prove(ctx, 300, report.Checkpoint)
	require.ErrorIs(t, err, auditlog.ErrTampered)
}

func TestReopenContinuesTheLog(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	dir := writeLog(t, k, 3)
	a := auditor(t, dir, k)
	first, err := a.Audit(ctx, nil)
	require.NoError(t, err)

	l, err := auditlog.Open(ctx, dir, k.checkpoints, k.events, auditlog.WithActor("promote@example.com"))
	require.NoError(t, err)
	index, err := l.Append(ctx, event(3))
	require.NoError(t, err)
	require.Equal(t, uint64(3), index)
	require.NoError(t, l.Close(ctx))
	_, err = l.Append(ctx, event(4))
	require.ErrorIs(t, err, auditlog.ErrClosed)

	second, err := a.Audit(ctx, first.Checkpoint)
	require.NoError(t, err)
	require.Equal(t, uint64(4), second.Checkpoint.Size)
}

func TestInvalidEventIsReportedByFlush(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	l, err := auditlog.Open(ctx, t.TempDir(), k.checkpoints, k.events) // no actor to fill in
	require.NoError(t, err)
	require.NoError(t, l.Record(ctx, event(0)))
	err = l.Flush(ctx)
	require.ErrorIs(t, err, audit.ErrInvalidEvent)
	require.NoError(t, l.Flush(ctx), "a failure is reported once")
	require.NoError(t, l.Close(ctx))
}

// encodeBundle writes entries as a tlog-tiles entry bundle.
func encodeBundle(entries [][]byte) []byte {
	var out []byte
	for _, e := range entries {
		out = binary.BigEndian.AppendUint16(out, uint16(len(e)))
		out = append(out, e...)
	}
	return out
}

func rewriteBundle(t *testing.T, dir string, change func([][]byte) [][]byte) {
	t.Helper()
	path := filepath.Join(dir, layout.EntriesPath(0, 0))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var b api.EntryBundle
	require.NoError(t, b.UnmarshalText(raw))
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.WriteFile(path, encodeBundle(change(b.Entries)), 0o644))
}

func TestAuditDetectsTampering(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		index  uint64
	}{
		{"altered entry", func(t *testing.T, dir string) {
			rewriteBundle(t, dir, func(e [][]byte) [][]byte {
				e[7] = slices.Clone(e[7])
				e[7][len(e[7])/2] ^= 1
				return e
			})
		}, 7},
		{"deleted entry", func(t *testing.T, dir string) {
			rewriteBundle(t, dir, func(e [][]byte) [][]byte { return slices.Delete(e, 7, 8) })
		}, 7},
		{"reordered entries", func(t *testing.T, dir string) {
			rewriteBundle(t, dir, func(e [][]byte) [][]byte { e[7], e[8] = e[8], e[7]; return e })
		}, 7},
		{"inserted entry", func(t *testing.T, dir string) {
			rewriteBundle(t, dir, func(e [][]byte) [][]byte { return slices.Insert(e, 7, e[3]) })
		}, 7},
		{"entry bundle gone", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, layout.EntriesPath(0, 0))))
		}, 0},
		{"hash tile of the wrong size", func(t *testing.T, dir string) {
			path := filepath.Join(dir, layout.TilePath(0, 0, 0))
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.Remove(path))
			require.NoError(t, os.WriteFile(path, raw[:len(raw)-5], 0o644))
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeLog(t, k, 260)
			tc.tamper(t, dir)
			_, err := auditor(t, dir, k).Audit(ctx, nil)
			var ee *auditlog.EntryError
			require.ErrorAs(t, err, &ee)
			require.Equal(t, tc.index, ee.Index, "%v", err)
			require.ErrorIs(t, err, auditlog.ErrTampered)
		})
	}
}

func TestAuditRejectsEventsOfAnotherSigner(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	intruder := keysWith(t, k.checkpoints, k.verifier, mustKey(t))
	dir := writeLog(t, k, 2)
	appendEvents(t, dir, intruder, 2, 1)
	_, err := auditor(t, dir, k).Audit(ctx, nil)
	var ee *auditlog.EntryError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, uint64(2), ee.Index)
	require.ErrorIs(t, err, verify.ErrVerification)
}

func TestCheckpointOfAnotherKeyOrMalformed(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	dir := writeLog(t, k, 2)
	other := writeLog(t, newKeys(t), 2) // same origin, another key
	raw, err := os.ReadFile(filepath.Join(other, layout.CheckpointPath))
	require.NoError(t, err)
	for name, cp := range map[string][]byte{"another key": raw, "malformed": []byte("not a note\n"), "empty": nil} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, layout.CheckpointPath), cp, 0o644))
			_, err := auditor(t, dir, k).Audit(ctx, nil)
			var ce *auditlog.CheckpointError
			require.ErrorAs(t, err, &ce)
			require.ErrorIs(t, err, auditlog.ErrTampered)
		})
	}
}

func TestRollbackAndForkDetected(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	dir := writeLog(t, k, 10)
	small, err := os.ReadFile(filepath.Join(dir, layout.CheckpointPath))
	require.NoError(t, err)
	appendEvents(t, dir, k, 10, 5)
	a := auditor(t, dir, k)
	held, err := a.Checkpoint(ctx)
	require.NoError(t, err)

	t.Run("rolled back", func(t *testing.T) {
		rolled := t.TempDir()
		require.NoError(t, os.CopyFS(rolled, os.DirFS(dir)))
		require.NoError(t, os.WriteFile(filepath.Join(rolled, layout.CheckpointPath), small, 0o644))
		_, err := auditor(t, rolled, k).Audit(ctx, held)
		var re *auditlog.RollbackError
		require.ErrorAs(t, err, &re)
		require.Equal(t, auditlog.RollbackError{Held: 15, Got: 10}, *re)
	})
	t.Run("fork of the same size", func(t *testing.T) {
		fork := writeLog(t, k, 15)
		_, err := auditor(t, fork, k).Consistent(ctx, held)
		var ce *auditlog.ConsistencyError
		require.ErrorAs(t, err, &ce)
		require.ErrorIs(t, err, auditlog.ErrTampered)
	})
	t.Run("rewritten history, grown", func(t *testing.T) {
		fork := t.TempDir()
		appendEvents(t, fork, k, 100, 20)
		_, err := auditor(t, fork, k).Audit(ctx, held)
		var ce *auditlog.ConsistencyError
		require.ErrorAs(t, err, &ce)
	})
	t.Run("extension passes", func(t *testing.T) {
		appendEvents(t, dir, k, 15, 1)
		got, err := a.Audit(ctx, held)
		require.NoError(t, err)
		require.Equal(t, uint64(16), got.Checkpoint.Size)
	})
}

func TestConfigurationRequired(t *testing.T) {
	k := newKeys(t)
	_, err := auditlog.Open(context.Background(), t.TempDir(), nil, k.events)
	require.ErrorIs(t, err, auditlog.ErrInvalidConfig)
	_, err = auditlog.NewAuditor(auditlog.Dir(t.TempDir()), auditlog.Trust{Checkpoints: k.verifier, Events: k.trust.Events})
	require.ErrorIs(t, err, auditlog.ErrInvalidConfig)
	_, err = auditlog.URL("file:///etc", nil)
	require.ErrorIs(t, err, auditlog.ErrInvalidConfig)
	require.False(t, errors.Is(err, auditlog.ErrTampered))
}

// TestSealedBatches: events recorded together share one seal, one signature, and each entry
// still verifies alone; an entry whose event, position or batch size is changed no longer
// leads to the root its seal signs, and one sealed by another signer is refused.
func TestSealedBatches(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	dir := writeLog(t, k, 40)
	a := auditor(t, dir, k)
	cp, err := a.Checkpoint(ctx)
	require.NoError(t, err)
	seals := map[string]int{}
	var entries [][]byte
	for e, err := range a.Entries(ctx, cp, 0) {
		require.NoError(t, err)
		seals[e.Bundle.Digest().String()]++
		require.Equal(t, auditlog.SealPredicateType, e.Result.PredicateType())
		_, data, err := a.Prove(ctx, e.Index, cp)
		require.NoError(t, err)
		entries = append(entries, data)
	}
	require.Less(t, len(seals), 40, "events recorded together share seals")

	alone, err := a.Verify(ctx, 3, entries[3])
	require.NoError(t, err)
	require.Equal(t, event(3).Subject, alone.Event.Subject)

	var wire map[string]any
	require.NoError(t, json.Unmarshal(entries[3], &wire))
	var other map[string]any
	require.NoError(t, json.Unmarshal(entries[4], &other))
	for name, change := range map[string]func(map[string]any){
		"another event":     func(w map[string]any) { w["event"] = other["event"] },
		"another position":  func(w map[string]any) { w["index"] = w["index"].(float64) + 1 },
		"another size":      func(w map[string]any) { w["size"] = w["size"].(float64) + 1 },
		"no proof":          func(w map[string]any) { w["proof"] = []any{} },
		"unknown field":     func(w map[string]any) { w["note"] = "x" },
		"another mediaType": func(w map[string]any) { w["mediaType"] = "application/json" },
	} {
		t.Run(name, func(t *testing.T) {
			w := maps.Clone(wire)
			change(w)
			data, err := json.Marshal(w)
			require.NoError(t, err)
			_, err = a.Verify(ctx, 3, data)
			var ee *auditlog.EntryError
			require.ErrorAs(t, err, &ee)
			require.EqualValues(t, 3, ee.Index)
		})
	}

	intruder := keysWith(t, k.checkpoints, k.verifier, mustKey(t))
	dir2 := writeLog(t, intruder, 1)
	_, data, err := auditor(t, dir2, intruder).Prove(ctx, 0, mustCheckpoint(t, auditor(t, dir2, intruder)))
	require.NoError(t, err)
	_, err = a.Verify(ctx, 0, data)
	require.ErrorIs(t, err, verify.ErrVerification, "a seal by another signer")
}

func mustCheckpoint(t *testing.T, a *auditlog.Auditor) *auditlog.Checkpoint {
	t.Helper()
	cp, err := a.Checkpoint(context.Background())
	require.NoError(t, err)
	return cp
}

// TestEntryEncoding: the entries the log writes decode, field for field, as the documented
// entry object, and re-encode to the same JSON.
func TestEntryEncoding(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	a := auditor(t, writeLog(t, k, 5), k)
	cp := mustCheckpoint(t, a)
	for i := range uint64(5) {
		_, data, err := a.Prove(ctx, i, cp)
		require.NoError(t, err)
		var w struct {
			MediaType string          `json:"mediaType"`
			Event     []byte          `json:"event"`
			Seal      json.RawMessage `json:"seal"`
			Index     uint64          `json:"index"`
			Size      uint64          `json:"size"`
			Proof     [][]byte        `json:"proof"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&w))
		require.Equal(t, auditlog.EntryMediaType, w.MediaType)
		require.Less(t, w.Index, w.Size)
		again, err := json.Marshal(w)
		require.NoError(t, err)
		require.JSONEq(t, string(data), string(again))
		e, err := a.Verify(ctx, i, data)
		require.NoError(t, err)
		require.Equal(t, event(int(i)).Subject, e.Event.Subject)
	}
}
