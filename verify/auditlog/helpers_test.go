package auditlog_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
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

const origin = "audit.provkit.test"

// keys is a log's key material: the checkpoint note key and the event signing key.
type keys struct {
	checkpoints note.Signer
	verifier    note.Verifier
	events      sign.Signer
	trust       auditlog.Trust
}

func newKeys(tb testing.TB) *keys {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	require.NoError(tb, err)
	return keysFrom(tb, skey, vkey)
}

func keysFrom(tb testing.TB, skey, vkey string) *keys {
	tb.Helper()
	ns, err := note.NewSigner(skey)
	require.NoError(tb, err)
	nv, err := note.NewVerifier(vkey)
	require.NoError(tb, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	return keysWith(tb, ns, nv, ek)
}

func keysWith(tb testing.TB, ns note.Signer, nv note.Verifier, ek *ecdsa.PrivateKey) *keys {
	tb.Helper()
	s, err := sign.NewKeySigner(ek)
	require.NoError(tb, err)
	set, err := verify.TrustedKeys(verify.PublicKey{ID: "audit", Key: ek.Public()})
	require.NoError(tb, err)
	v, err := verify.New(set, verify.WithUntimestampedKeysUnsafe(), verify.WithPredicateTypes(auditlog.SealPredicateType))
	require.NoError(tb, err)
	return &keys{checkpoints: ns, verifier: nv, events: s,
		trust: auditlog.Trust{Checkpoints: nv, Events: v, Signer: verify.KeyIDs("audit")}}
}

func event(i int) audit.Event {
	return audit.Event{
		Kind:        audit.KindVerified,
		Subject:     digest.FromString(fmt.Sprintf("image %d", i)),
		Evidence:    []digest.Digest{digest.FromString(fmt.Sprintf("bundle %d", i))},
		Time:        time.Date(2026, 12, 7, 9, 0, i%60, 0, time.UTC),
		Decision:    audit.DecisionAllow,
		Reasons:     []string{"all rules passed"},
		Environment: "prod",
	}
}

// writeLog appends n events to a new log in a temporary folder and closes it.
func writeLog(tb testing.TB, k *keys, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	appendEvents(tb, dir, k, 0, n)
	return dir
}

func appendEvents(tb testing.TB, dir string, k *keys, from, n int) {
	tb.Helper()
	ctx := context.Background()
	l, err := auditlog.Open(ctx, dir, k.checkpoints, k.events, auditlog.WithActor("gate@example.com"))
	require.NoError(tb, err)
	for i := from; i < from+n; i++ {
		require.NoError(tb, l.Record(ctx, event(i)))
	}
	require.NoError(tb, l.Close(ctx))
}

func auditor(tb testing.TB, dir string, k *keys) *auditlog.Auditor {
	tb.Helper()
	a, err := auditlog.NewAuditor(auditlog.Dir(dir), k.trust)
	require.NoError(tb, err)
	return a
}

func mustKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	return k
}
