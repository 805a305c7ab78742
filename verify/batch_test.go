package verify_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

func TestVerifyAll(t *testing.T) {
	kf := newKeyFixture(t, "k")
	var calls atomic.Int64
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe(), verify.WithProgress(func(done, total int) {
		calls.Add(1)
		if done < 1 || done > total {
			t.Errorf("progress %d/%d", done, total)
		}
	}))
	var items []verify.Item
	var subjects []digest.Digest
	for i := range 20 {
		s := digest.FromString(string(rune('a' + i)))
		subjects = append(subjects, s)
		items = append(items, verify.Item{
			Bundle:   bundleOf(t, signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, s))),
			Subject:  s,
			Identity: verify.KeyIDs("k"),
		})
	}
	items[7].Subject = otherArtifact
	for _, workers := range []int{0, 1, 3, 50} {
		calls.Store(0)
		out := v.VerifyAll(bg, items, workers)
		if len(out) != len(items) || calls.Load() != int64(len(items)) {
			t.Fatalf("workers %d: %d outcomes, %d progress calls", workers, len(out), calls.Load())
		}
		for i, o := range out {
			if i == 7 {
				wantCheck(t, o.Err, verify.CheckSubject)
				continue
			}
			if o.Err != nil || o.Result.Subject() != subjects[i] {
				t.Fatalf("workers %d item %d: %v", workers, i, o.Err)
			}
		}
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	for _, o := range v.VerifyAll(ctx, items[:3], 2) {
		if !errors.Is(o.Err, context.Canceled) {
			t.Fatalf("err = %v", o.Err)
		}
	}
	if out := v.VerifyAll(bg, nil, 4); len(out) != 0 {
		t.Fatalf("%d outcomes for no items", len(out))
	}
}
