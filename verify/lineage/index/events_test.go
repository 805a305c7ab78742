package index

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

// TestAuditEvents ingests a real audit log into every backend, incrementally, answers which
// decisions were made about a digest, and refuses a log rolled back behind what it ingested.
func TestAuditEvents(t *testing.T) {
	ctx := context.Background()
	image, other := digest.FromString("image"), digest.FromString("other")
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	events := []audit.Event{
		{Kind: audit.KindVerified, Subject: image, Decision: audit.DecisionAllow, Environment: "staging", Time: at, Actor: "gate@example.com",
			Evidence: []digest.Digest{digest.FromString("bundle")}, Reasons: []string{"all rules passed"}, Attributes: map[string]string{"policy": "prod"}},
		{Kind: audit.KindDenied, Subject: other, Decision: audit.DecisionDeny, Time: at.Add(time.Minute), Actor: "gate@example.com", Reasons: []string{"builder not allowed"}},
		{Kind: audit.KindPromoted, Subject: image, Environment: "prod", Time: at.Add(2 * time.Minute), Actor: "release@example.com", SubjectName: "registry.example/app:1.0"},
		{Kind: audit.KindRetired, Subject: image, Time: at.Add(3 * time.Minute), Actor: "security@example.com", Reasons: []string{"CVE-2026-1 above threshold"}},
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			log := newAuditLog(t)
			dir, a := log.dir, log.auditor
			ix := be.open(t)(t)

			log.write(t, events[:2]...)
			n, err := ix.AddAuditLog(ctx, a)
			require.NoError(t, err)
			require.Equal(t, 2, n)
			n, err = ix.AddAuditLog(ctx, a)
			require.NoError(t, err)
			require.Equal(t, 0, n, "nothing new")
			twoEntries, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
			require.NoError(t, err)

			log.write(t, events[2:]...)
			n, err = ix.AddAuditLog(ctx, a)
			require.NoError(t, err)
			require.Equal(t, 2, n)

			got, err := ix.Events(ctx, image)
			require.NoError(t, err)
			require.Len(t, got, 3)
			for i, want := range []audit.Event{events[0], events[2], events[3]} {
				require.Equal(t, "audit.index.test", got[i].Origin)
				require.Equal(t, want, got[i].Event)
			}
			require.Equal(t, []uint64{0, 2, 3}, []uint64{got[0].Index, got[1].Index, got[2].Index})

			require.NoError(t, os.WriteFile(filepath.Join(dir, "checkpoint"), twoEntries, 0o644))
			_, err = ix.AddAuditLog(ctx, a)
			var re *auditlog.RollbackError
			require.ErrorAs(t, err, &re)
			require.Equal(t, auditlog.RollbackError{Held: 4, Got: 2}, *re)
		})
	}
}

// testAuditLog is a real audit log in a temporary folder, with an auditor that trusts it.
type testAuditLog struct {
	dir     string
	ns      note.Signer
	signer  sign.Signer
	auditor *auditlog.Auditor
}

func newAuditLog(t *testing.T) *testAuditLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "audit.index.test")
	require.NoError(t, err)
	ns, err := note.NewSigner(skey)
	require.NoError(t, err)
	nv, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(key)
	require.NoError(t, err)
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "audit", Key: key.Public()})
	require.NoError(t, err)
	v, err := verify.New(keys, verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	dir := t.TempDir()
	a, err := auditlog.NewAuditor(auditlog.Dir(dir), auditlog.Trust{Checkpoints: nv, Events: v, Signer: verify.KeyIDs("audit")})
	require.NoError(t, err)
	return &testAuditLog{dir: dir, ns: ns, signer: signer, auditor: a}
}

// write appends es to the log.
func (l *testAuditLog) write(t *testing.T, es ...audit.Event) {
	t.Helper()
	ctx := t.Context()
	w, err := auditlog.Open(ctx, l.dir, l.ns, l.signer)
	require.NoError(t, err)
	for _, e := range es {
		_, err := w.Append(ctx, e)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close(ctx))
}
