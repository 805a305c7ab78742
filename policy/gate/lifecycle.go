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
//
// Statuses are read latest first, by the effective time their listing claims
// (oras.AnnotationBundleEffective, written from provenance.Bundle.Effective): those with no
// claim and those claiming a time after at are always read, then the latest claimed time at
// or before at, then earlier ones only until a verified status in effect is found. Statuses
// claiming an earlier time than that one are not read, and so not reported. A claim is
// unsigned, so each is compared with the verified status; when one differs, every status is
// read. Someone who can rewrite a listing's claims can as well drop referrers from it, so the
// order costs nothing in trust that reading every referrer would have protected.
func Lifecycle(ctx context.Context, store *oras.Store, subject ocispec.Descriptor, v *verify.Verifier, setters verify.Identity, at time.Time) (*lifecycle.Resolution, error) {
	if store == nil || v == nil || setters.IsZero() {
		return nil, fmt.Errorf("%w: a store, a verifier and the identities entitled to set statuses are required", ErrInvalidConfig)
	}
	found, err := store.Discover(ctx, subject, oras.Query{PredicateType: lifecycle.PredicateType, SkipNested: true, SkipBuildKit: true})
	if err != nil {
		return nil, &CheckError{Op: "discover", Subject: subject, Err: err}
	}
	rs := &statusReader{store: store, subject: subject, v: v, setters: setters, at: at, found: found,
		read: make([]*readStatus, len(found))}
	for {
		batch := rs.next()
		if len(batch) == 0 {
			break
		}
		if err := rs.verify(ctx, batch); err != nil {
			return nil, err
		}
	}
	var statuses []lifecycle.Signed
	var setAside []lifecycle.SetAside
	for _, r := range rs.read {
		switch {
		case r == nil:
		case r.err != nil:
			setAside = append(setAside, lifecycle.SetAside{Signed: r.signed, Err: r.err})
		default:
			statuses = append(statuses, r.signed)
		}
	}
	// Verification held every status to setters; Resolve has nothing more to refuse.
	res, err := lifecycle.Resolve(subject.Digest, statuses, at, func(string) bool { return true })
	if err != nil {
		return nil, err
	}
	res.SetAside = append(setAside, res.SetAside...)
	return res, nil
}

// statusReader reads an artifact's statuses latest first, as Lifecycle describes.
type statusReader struct {
	store   *oras.Store
	subject ocispec.Descriptor
	v       *verify.Verifier
	setters verify.Identity
	at      time.Time
	found   []oras.Attestation
	// read holds, by index in found, each status read so far: nil until then.
	read []*readStatus
	// readAll is set once a listing's claim proved wrong.
	readAll bool
	// inEffect is the latest effective time at or before at of a verified status, zero until one is read.
	inEffect time.Time
}

// readStatus is one status read: verified and parsed into signed, or set aside with err.
type readStatus struct {
	signed lifecycle.Signed
	err    error
}

// next returns the indexes in found of the statuses to read next; none when done.
func (rs *statusReader) next() []int {
	var batch []int
	var latest time.Time // the latest claimed time at or before at among those unread
	for i, a := range rs.found {
		if rs.read[i] != nil {
			continue
		}
		claim, err := oras.EffectiveTime(a.Manifest)
		if rs.readAll || err != nil || claim.IsZero() || claim.After(rs.at) {
			batch = append(batch, i)
			continue
		}
		if claim.After(latest) {
			latest = claim
		}
	}
	if latest.IsZero() || latest.Before(rs.inEffect) {
		return batch
	}
	for i, a := range rs.found {
		if rs.read[i] == nil {
			if claim, _ := oras.EffectiveTime(a.Manifest); claim.Equal(latest) {
				batch = append(batch, i)
			}
		}
	}
	return batch
}

// verify fetches and verifies the statuses at batch, on every core, and records each.
func (rs *statusReader) verify(ctx context.Context, batch []int) error {
	as := make([]oras.Attestation, len(batch))
	for j, i := range batch {
		as[j] = rs.found[i]
	}
	bundles, err := rs.store.FetchAll(ctx, as)
	if err != nil {
		return &CheckError{Op: "fetch", Subject: rs.subject, Err: err}
	}
	results := make([]*verify.Result, len(bundles))
	errs := make([]error, len(bundles))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for j, b := range bundles {
		g.Go(func() error {
			results[j], errs[j] = rs.v.Verify(gctx, b, rs.subject.Digest, rs.setters)
			return nil
		})
	}
	_ = g.Wait()
	for j, err := range errs {
		// A status that could not be checked is not one that failed: reading on could
		// report an artifact active that a status retires.
		if err != nil && !errors.Is(err, verify.ErrVerification) && !errors.Is(err, verify.ErrUnsupportedMediaType) {
			return &CheckError{Op: "verify", Subject: rs.subject, Err: fmt.Errorf("%s: %w", as[j].Manifest.Digest, err)}
		}
	}
	for j, b := range bundles {
		i := batch[j]
		res, err := results[j], errs[j]
		if err != nil {
			rs.read[i] = &readStatus{signed: lifecycle.Signed{Bundle: b.Digest(), Signer: signerOf(err)}, err: statusError(err)}
			continue
		}
		status, err := lifecycle.Parse(res.Statement())
		if err != nil {
			rs.read[i] = &readStatus{signed: lifecycle.Signed{Bundle: b.Digest(), Signer: signerName(res.Signer())}, err: err}
			continue
		}
		rs.read[i] = &readStatus{signed: lifecycle.Signed{Status: status, Signer: signerName(res.Signer()), Bundle: b.Digest()}}
		if claim, err := oras.EffectiveTime(as[j].Manifest); err != nil || (!claim.IsZero() && !claim.Equal(status.Effective)) {
			rs.readAll = true
		}
		if !status.Effective.After(rs.at) && status.Effective.After(rs.inEffect) {
			rs.inEffect = status.Effective
		}
	}
	return nil
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
