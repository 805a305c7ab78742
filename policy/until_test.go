package policy_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/verify"
)

// TestDecisionUntil: a decision says when it may change with time alone: when a fresh
// attestation becomes too old, when a status published ahead takes effect, at once when a CEL
// rule reads now, and never for rules time does not touch. Deciding again just after Until
// gives another outcome where one was predicted.
func TestDecisionUntil(t *testing.T) {
	k := newKit(t)
	prov := k.keyResult(t, "alice", build(t, nil))
	signedAt, _ := prov.SignedAt()
	day := 24 * time.Hour

	t.Run("Timeless", func(t *testing.T) {
		p := load(t, oneRule("    signers:\n      identities: [{keyId: alice}]\n"))
		d, err := p.Evaluate(artifact, []*verify.Result{prov}, signedAt.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, d.Until.IsZero(), "no rule depends on the time: %v", d.Until)
	})
	t.Run("Freshness", func(t *testing.T) {
		p := load(t, oneRule("    freshness: {maxAge: 1h}\n"))
		d, err := p.Evaluate(artifact, []*verify.Result{prov}, signedAt.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, d.Until.Equal(signedAt.Add(time.Hour)), "until %v, want signing time + 1h", d.Until)
		_, err = p.Evaluate(artifact, []*verify.Result{prov}, d.Until.Add(time.Second))
		require.ErrorIs(t, err, policy.ErrDenied, "just after Until the attestation is stale")
		stale, _ := p.Evaluate(artifact, []*verify.Result{prov}, signedAt.Add(2*time.Hour))
		require.True(t, stale.Until.IsZero(), "a stale attestation stays stale")
	})
	t.Run("StatusPublishedAhead", func(t *testing.T) {
		p := load(t, oneRule("    lifecycle: {deny: [revoked]}\n"))
		ahead := status(lifecycle.StateRevoked, -day, "")(t)
		effective := time.Now().UTC().Add(day)
		d, err := p.Evaluate(artifact, []*verify.Result{prov, k.keyResult(t, "alice", ahead)}, time.Now())
		require.NoError(t, err)
		require.WithinDuration(t, effective, d.Until, time.Minute)
		_, err = p.Evaluate(artifact, []*verify.Result{prov, k.keyResult(t, "alice", ahead)}, d.Until.Add(time.Second))
		require.ErrorIs(t, err, policy.ErrDenied, "once the revocation takes effect")
	})
	t.Run("CELReadsNow", func(t *testing.T) {
		p := load(t, oneRule("    cel: {expression: \"now > signedAt\"}\n"))
		now := signedAt.Add(time.Minute)
		d, err := p.Evaluate(artifact, []*verify.Result{prov}, now)
		require.NoError(t, err)
		require.True(t, d.Until.Equal(now), "until %v, want the decision time itself", d.Until)
	})
	t.Run("UnselectedRulesDoNotCount", func(t *testing.T) {
		p := load(t, header+"rules:\n  - name: signed\n    signers:\n      identities: [{keyId: alice}]\n  - name: fresh\n    freshness: {maxAge: 1h}\nenvironments:\n  dev:\n    rules: {signed: enforce}\n")
		d, err := p.Gate("dev", artifact, []*verify.Result{prov}, signedAt.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, d.Until.IsZero(), "freshness is not selected in dev: %v", d.Until)
	})
}
