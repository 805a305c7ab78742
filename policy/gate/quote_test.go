package gate_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance/runtime/tpm"
	"github.com/provkit/provkit/verify"
)

// TestCheckRuntimeQuote: with a Quote requirement, runtime facts pass only when a quote
// statement signed by the node binds that very statement with the enrolled AK and shows the
// required PCR values; a missing quote, a quote of older facts, another TPM's AK, a PCR with
// another value and a quote statement from an untrusted signer are hardware deviations.
func TestCheckRuntimeQuote(t *testing.T) {
	sw := testenv.StartSWTPM(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := net.Dial("tcp", sw.Addr)
	require.NoError(t, err)
	chip, err := tpm.Open(ctx, conn)
	require.NoError(t, err)
	defer chip.Close()
	akPub, err := chip.AKPublic(ctx)
	require.NoError(t, err)
	ak, err := tpm.ParseAKPublic(akPub)
	require.NoError(t, err)

	k := newRuntimeKit(t, gate.WithRole(tpm.QuotePredicateType, verify.KeyIDs("node")))
	store, err := oras.NewMemory()
	require.NoError(t, err)
	image := testenv.PushImage(t, store.Target(), "v1", "api\n")
	testenv.AttestSLSA(t, store, "memory.example/app", image, k.build, builder)
	w := gate.Workload{Store: store, Admitted: image}
	now := time.Now().UTC()

	zero := make([]byte, 32)
	want := gate.RuntimeRequirements{Quote: &gate.QuoteRequirement{AK: ak, PCRs: []tpm.PCR{{Index: 0, Digest: zero}}}}

	first := facts(image.Digest, now.Add(-time.Minute))
	firstSt := factsStatement(t, first)
	attachStatement(t, store, image, k.node, firstSt)
	_, err = k.checker.CheckRuntime(ctx, w, want)
	var de *gate.DeviationError
	require.ErrorAs(t, err, &de)
	require.Equal(t, []gate.DeviationKind{gate.DeviationHardware}, kinds(de.Deviations), "facts without a quote")
	require.Equal(t, "tpm.quote", de.Deviations[0].Fact)

	d, err := tpm.StatementDigest(firstSt)
	require.NoError(t, err)
	q, err := chip.Quote(ctx, d, []int{0, 16})
	require.NoError(t, err)
	qs, err := tpm.QuoteStatement(firstSt, q)
	require.NoError(t, err)
	attachStatement(t, store, image, k.managers, qs)
	_, err = k.checker.CheckRuntime(ctx, w, want)
	require.ErrorAs(t, err, &de)
	require.Equal(t, "tpm.quote", de.Deviations[0].Fact, "a quote statement signed by someone the role does not name")

	attachStatement(t, store, image, k.node, qs)
	r, err := k.checker.CheckRuntime(ctx, w, want)
	require.NoError(t, err)
	require.NotNil(t, r.Quote)
	require.Equal(t, d, r.Quote.Statement)

	golden := gate.RuntimeRequirements{Quote: &gate.QuoteRequirement{AK: ak,
		PCRs: []tpm.PCR{{Index: 16, Digest: []byte("0123456789abcdef0123456789abcdef")}, {Index: 9, Digest: zero}}}}
	_, err = k.checker.CheckRuntime(ctx, w, golden)
	require.ErrorAs(t, err, &de)
	require.Equal(t, []gate.DeviationKind{gate.DeviationHardware, gate.DeviationHardware}, kinds(de.Deviations))
	require.Equal(t, "tpm.pcr.16", de.Deviations[0].Fact)
	require.Equal(t, "tpm.pcr.9", de.Deviations[1].Fact, "a PCR the quote did not cover")

	otherTPM := testenv.StartSWTPM(t)
	conn2, err := net.Dial("tcp", otherTPM.Addr)
	require.NoError(t, err)
	chip2, err := tpm.Open(ctx, conn2)
	require.NoError(t, err)
	defer chip2.Close()
	pub2, err := chip2.AKPublic(ctx)
	require.NoError(t, err)
	ak2, err := tpm.ParseAKPublic(pub2)
	require.NoError(t, err)
	_, err = k.checker.CheckRuntime(ctx, w, gate.RuntimeRequirements{Quote: &gate.QuoteRequirement{AK: ak2}})
	require.ErrorAs(t, err, &de)
	require.ErrorIs(t, err, gate.ErrDeviation)
	require.Contains(t, de.Deviations[0].Message, "signature", "quoted by another TPM")

	// Newer facts, unquoted: the old quote binds the old statement only.
	attachStatement(t, store, image, k.node, factsStatement(t, facts(image.Digest, now)))
	_, err = k.checker.CheckRuntime(ctx, w, want)
	require.ErrorAs(t, err, &de)
	require.Equal(t, "tpm.quote", de.Deviations[0].Fact, "the latest facts are not the quoted ones")
}
