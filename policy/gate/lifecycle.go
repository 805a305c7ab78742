package gate

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/verify"
)

// Lifecycle reads the lifecycle statuses attached to subject in store and returns the one in
// effect at time at. Each status is verified with v as signed by setters, the identities
// entitled to set statuses, and bound to subject's digest: a status that fails verification
// is set aside with its error, one signed by anyone else with lifecycle.ErrNotEntitled, one
// about another artifact with lifecycle.ErrOtherSubject. Of the rest, lifecycle.Resolve picks
// the latest effective, failing closed with a *lifecycle.ConflictError. v must accept
// lifecycle.PredicateType. An artifact with no status in effect is active. Failures to read
// the store, and statuses that could not be checked (rather than failed), are a *CheckError:
// the status in effect is never guessed.
func Lifecycle(ctx context.Context, store *oras.Store, subject ocispec.Descriptor, v *verify.Verifier, setters verify.Identity, at time.Time) (*lifecycle.Resolution, error) {
	if store == nil || v == nil || setters.IsZero() {
		return nil, fmt.Errorf("%w: a store, a verifier and the identities entitled to set statuses are required", ErrInvalidConfig)
	}
	found, err := store.Discover(ctx, subject, oras.Query{PredicateType: lifecycle.PredicateType, SkipNested: true, SkipBuildKit: true})
	if err != nil {
		return nil, &CheckError{Op: "discover", Subject: subject, Err: err}
	}
	bundles, err := store.FetchAll(ctx, found)
	if err != nil {
		return nil, &CheckError{Op: "fetch", Subject: subject, Err: err}
	}
	// Verified on every core; read back in the order listed.
	results := make([]*verify.Result, len(bundles))
	errs := make([]error, len(bundles))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, b := range bundles {
		g.Go(func() error {
			results[i], errs[i] = v.Verify(gctx, b, subject.Digest, setters)
			return nil
		})
	}
	_ = g.Wait()
	for i, err := range errs {
		// A status that could not be checked is not one that failed: reading on could
		// report an artifact active that a status retires.
		if err != nil && !errors.Is(err, verify.ErrVerification) && !errors.Is(err, verify.ErrUnsupportedMediaType) {
			return nil, &CheckError{Op: "verify", Subject: subject, Err: fmt.Errorf("%s: %w", found[i].Manifest.Digest, err)}
		}
	}
	var statuses []lifecycle.Signed
	var setAside []lifecycle.SetAside
	for i, b := range bundles {
		res, err := results[i], errs[i]
		if err != nil {
			setAside = append(setAside, lifecycle.SetAside{Signed: lifecycle.Signed{Bundle: b.Digest(), Signer: signerOf(err)}, Err: statusError(err)})
			continue
		}
		status, err := lifecycle.Parse(res.Statement())
		if err != nil {
			setAside = append(setAside, lifecycle.SetAside{Signed: lifecycle.Signed{Bundle: b.Digest(), Signer: signerName(res.Signer())}, Err: err})
			continue
		}
		statuses = append(statuses, lifecycle.Signed{Status: status, Signer: signerName(res.Signer()), Bundle: b.Digest()})
	}
	// Verification held every status to setters; Resolve has nothing more to refuse.
	r, err := lifecycle.Resolve(subject.Digest, statuses, at, func(string) bool { return true })
	if err != nil {
		return nil, err
	}
	r.SetAside = append(setAside, r.SetAside...)
	return r, nil
}

// statusError says why a status failed verification, in lifecycle's terms where it has them.
func statusError(err error) error {
	var ve *verify.VerificationError
	if errors.As(err, &ve) {
		switch ve.Check {
		case verify.CheckIdentity:
			return fmt.Errorf("%w: %w", lifecycle.ErrNotEntitled, err)
		case verify.CheckSubject:
			return fmt.Errorf("%w: %w", lifecycle.ErrOtherSubject, err)
		}
	}
	return err
}

// signerOf is who signed a status that failed the identity check, as far as the error says.
func signerOf(err error) string {
	var ie *verify.IdentityError
	if errors.As(err, &ie) {
		return ie.Got
	}
	return ""
}

// signerName names a verified signer: its key ID, or its certificate identity and issuer.
func signerName(s verify.Signer) string {
	if s.Certificate != nil {
		return s.Certificate.SubjectAlternativeName + " (" + s.Certificate.Issuer + ")"
	}
	return s.KeyID
}
