package gate_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

// TestRecordsDecisions records the gate's decisions in a real audit log and reads them back
// through an auditor: one verified and one denied event, with the attestation as evidence and
// the policy's rules as reasons; a check that could not be made records nothing, and a gate
// whose log is closed decides nothing.
func TestRecordsDecisions(t *testing.T) {
	ctx := context.Background()
	k := newKeys(t)
	store, err := oras.NewMemory()
	require.NoError(t, err)
	const repo = "memory.example/app"
	good := testenv.PushImage(t, store.Target(), "good", "built by the release builder\n")
	testenv.AttestSLSA(t, store, repo, good, k.trusted, builder)
	bad := testenv.PushImage(t, store.Target(), "bad", "built elsewhere\n")
	testenv.AttestSLSA(t, store, repo, bad, k.trusted, "https://ci.example/builders/laptop")

	dir := t.TempDir()
	log, vkey, eventKey := openAuditLogIn(t, dir)

	c := checker(t, k, gate.WithPolicy(prodPolicy(t, builder)), gate.WithEnvironment("prod"), gate.WithRecorder(log, "gate.prod@example.com"))
	_, err = c.Check(ctx, store, good)
	require.NoError(t, err)
	_, err = c.Check(ctx, store, bad)
	var de *policy.DeniedError
	require.ErrorAs(t, err, &de)
	unreachable, err := oras.NewRemote("127.0.0.1:1/gate/app", oras.WithPlainHTTPUnsafe())
	require.NoError(t, err)
	_, err = c.Check(ctx, unreachable, good)
	require.ErrorIs(t, err, gate.ErrNotChecked)
	require.NoError(t, log.Close(ctx))

	_, err = c.Check(ctx, store, good)
	var ce *gate.CheckError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "record", ce.Op)
	require.ErrorIs(t, err, auditlog.ErrClosed)

	a := auditorOf(t, dir, vkey, eventKey)
	report, err := a.Audit(ctx, nil)
	require.NoError(t, err)
	var events []*audit.Event
	for e, err := range a.Entries(ctx, report.Checkpoint, 0) {
		require.NoError(t, err)
		events = append(events, e.Event)
	}
	require.Len(t, events, 2, "one event per decision, none for the check that could not be made")
	allowed, denied := events[0], events[1]
	if allowed.Kind != audit.KindVerified {
		allowed, denied = denied, allowed
	}
	require.Equal(t, audit.KindVerified, allowed.Kind)
	require.Equal(t, audit.DecisionAllow, allowed.Decision)
	require.Equal(t, good.Digest, allowed.Subject)
	require.Equal(t, "prod", allowed.Environment)
	require.Equal(t, "gate.prod@example.com", allowed.Actor)
	require.Len(t, allowed.Evidence, 1)
	require.Equal(t, audit.KindDenied, denied.Kind)
	require.Equal(t, bad.Digest, denied.Subject)
	require.Equal(t, audit.DecisionDeny, denied.Decision)
	require.Contains(t, denied.Reasons[0], "denied")
	require.Greater(t, len(denied.Reasons), 1, "the policy's rules follow the denial")
	require.Equal(t, de.Decision.Policy.Digest.String(), denied.Attributes["policyDigest"])
}

func TestWithRecorderNeedsActor(t *testing.T) {
	k := newKeys(t)
	_, err := gate.New(k.verifier, verify.KeyIDs("release"), gate.WithRecorder(nil, "gate"))
	require.ErrorIs(t, err, gate.ErrInvalidConfig)
}

// openAuditLogIn opens a new audit log in dir and returns it with its checkpoint verifier key
// and its event signing key.
func openAuditLogIn(tb testing.TB, dir string) (*auditlog.Log, string, *ecdsa.PrivateKey) {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "audit.gate.test")
	require.NoError(tb, err)
	checkpoints, err := note.NewSigner(skey)
	require.NoError(tb, err)
	eventKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	signer, err := sign.NewKeySigner(eventKey)
	require.NoError(tb, err)
	log, err := auditlog.Open(context.Background(), dir, checkpoints, signer)
	require.NoError(tb, err)
	return log, vkey, eventKey
}

// auditorOf audits the log in dir with its checkpoint verifier key and event signing key.
func auditorOf(tb testing.TB, dir, vkey string, eventKey *ecdsa.PrivateKey) *auditlog.Auditor {
	tb.Helper()
	nv, err := note.NewVerifier(vkey)
	require.NoError(tb, err)
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "audit", Key: eventKey.Public()})
	require.NoError(tb, err)
	ev, err := verify.New(keys, verify.WithUntimestampedKeysUnsafe())
	require.NoError(tb, err)
	a, err := auditlog.NewAuditor(auditlog.Dir(dir), auditlog.Trust{Checkpoints: nv, Events: ev, Signer: verify.KeyIDs("audit")})
	require.NoError(tb, err)
	return a
}
