package gate_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// Release managers deprecate an image in favour of its successor; a consumer reads the status
// in effect, signed by the release managers' key.
func ExampleLifecycle() {
	ctx := context.Background()
	store, _ := oras.NewMemory()
	old, next := pushExampleImage(ctx, store), pushExampleImage(ctx, store)
	when := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	st, _ := (&lifecycle.Status{Subject: old.Digest, State: lifecycle.StateDeprecated, Reason: "base image end of life",
		Successor: next.Digest, Effective: when, DecidedBy: "release-managers@example.com"}).Statement()
	signer, _ := sign.NewKeySigner(key)
	b, _ := signer.Sign(ctx, st)
	if _, err := store.Attach(ctx, old, b); err != nil {
		fmt.Println(err)
		return
	}

	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "release-managers", Key: key.Public()})
	v, _ := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe(), // offline: no log, no timestamp
		verify.WithPredicateTypes(lifecycle.PredicateType))
	r, err := gate.Lifecycle(ctx, store, old, v, verify.KeyIDs("release-managers"), when.AddDate(0, 0, 7))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.State(), "by", r.Current.Signer, "- migrate:", r.Current.Status.Successor == next.Digest)
	r, _ = gate.Lifecycle(ctx, store, next, v, verify.KeyIDs("release-managers"), when.AddDate(0, 0, 7))
	fmt.Println(r.State())
	// Output:
	// deprecated by release-managers - migrate: true
	// active
}
