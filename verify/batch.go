package verify

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
)

// Item is one verification of a batch.
type Item struct {
	// Bundle is the signed provenance.
	Bundle provenance.Bundle
	// Annotations, when not nil, make the item a cosign legacy layer (see VerifyCosignLayer).
	Annotations map[string]string
	// Subject is the artifact digest the statement must name.
	Subject digest.Digest
	// Identity is the expected signer.
	Identity Identity
}

// Outcome is the result of one Item: exactly one of Result and Err is set.
type Outcome struct {
	// Result is the verified result, when the item verified.
	Result *Result
	// Err is why the item did not verify: a denial wrapping ErrVerification, or an error
	// saying it could not be checked.
	Err error
}

// VerifyAll verifies items with at most workers goroutines (fewer than 1 means 1) and returns
// one Outcome per item, in input order. Cancelling ctx makes the items not yet started fail
// with ctx's error. Progress is reported through WithProgress.
func (v *Verifier) VerifyAll(ctx context.Context, items []Item, workers int) []Outcome {
	out := make([]Outcome, len(items))
	if len(items) == 0 {
		return out
	}
	workers = max(1, min(workers, len(items)))
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(items) {
					return
				}
				it := &items[i]
				var r *Result
				var err error
				if it.Annotations != nil {
					r, err = v.VerifyCosignLayer(ctx, it.Bundle, it.Annotations, it.Subject, it.Identity)
				} else {
					r, err = v.Verify(ctx, it.Bundle, it.Subject, it.Identity)
				}
				out[i] = Outcome{Result: r, Err: err}
				if v.cfg.progress != nil {
					v.cfg.progress(int(done.Add(1)), len(items))
				}
			}
		}()
	}
	wg.Wait()
	return out
}
