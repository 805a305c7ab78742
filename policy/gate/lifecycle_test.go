package gate_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// TestLifecycle attaches signed statuses to an image on every backend and reads the one in
// effect: the latest effective status by the entitled signer wins, and a status by a trusted
// but not entitled key, one about another image, one not yet effective and one by an unknown
// key are set aside with their reasons; two disagreeing statuses of the same time fail closed.
func TestLifecycle(t *testing.T) {
	managers, intern := mustECDSA(t), mustECDSA(t)
	stranger := mustECDSA(t)
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release-managers", Key: managers.Public()}, verify.PublicKey{ID: "intern", Key: intern.Public()})
	require.NoError(t, err)
	v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe(), verify.WithPredicateTypes(lifecycle.PredicateType))
	require.NoError(t, err)
	setters := verify.KeyIDs("release-managers")
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour

	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			store, _ := be.open(t)
			image := testenv.PushImage(t, store.Target(), "v1", "api 1.4.2\n")
			next := testenv.PushImage(t, store.Target(), "v2", "api 1.5.0\n")

			r, err := gate.Lifecycle(ctx, store, image, v, setters, now)
			require.NoError(t, err)
			require.Equal(t, lifecycle.StateActive, r.State(), "no status: active")

			setStatus(t, store, image, managers, lifecycle.Status{Subject: image.Digest, State: lifecycle.StateDeprecated, Reason: "end of life",
				Successor: next.Digest, Effective: now.Add(-3 * day), DecidedBy: "release-managers@example.com"})
			setStatus(t, store, image, managers, lifecycle.Status{Subject: image.Digest, State: lifecycle.StateRetired, Reason: "past support",
				Successor: next.Digest, Effective: now.Add(-day), DecidedBy: "release-managers@example.com"})
			setStatus(t, store, image, intern, lifecycle.Status{Subject: image.Digest, State: lifecycle.StateActive,
				Effective: now.Add(-time.Hour), DecidedBy: "intern@example.com"})
			setStatus(t, store, image, managers, lifecycle.Status{Subject: image.Digest, State: lifecycle.StateRevoked, Reason: "scheduled",
				Effective: now.Add(day), DecidedBy: "release-managers@example.com"})
			setStatus(t, store, image, managers, lifecycle.Status{Subject: next.Digest, State: lifecycle.StateRevoked, Reason: "about v2",
				Effective: now.Add(-time.Hour), DecidedBy: "release-managers@example.com"})
			setStatus(t, store, image, stranger, lifecycle.Status{Subject: image.Digest, State: lifecycle.StateActive,
				Effective: now.Add(-time.Minute), DecidedBy: "stranger@example.com"})

			r, err = gate.Lifecycle(ctx, store, image, v, setters, now)
			require.NoError(t, err)
			require.Equal(t, lifecycle.StateRetired, r.State())
			require.Equal(t, next.Digest, r.Current.Status.Successor)
			require.Equal(t, "release-managers", r.Current.Signer)
			reasons := map[error]int{}
			var unverified int
			for _, s := range r.SetAside {
				switch {
				case errors.Is(s.Err, lifecycle.ErrNotEntitled):
					reasons[lifecycle.ErrNotEntitled]++
					require.Contains(t, s.Signed.Signer, "intern")
				case errors.Is(s.Err, lifecycle.ErrOtherSubject):
					reasons[lifecycle.ErrOtherSubject]++
				case errors.Is(s.Err, lifecycle.ErrNotYetEffective):
					reasons[lifecycle.ErrNotYetEffective]++
				case errors.Is(s.Err, verify.ErrVerification):
					unverified++
				default:
					t.Errorf("set aside for %v", s.Err)
				}
			}
			require.Equal(t, map[error]int{lifecycle.ErrNotEntitled: 1, lifecycle.ErrOtherSubject: 1, lifecycle.ErrNotYetEffective: 1}, reasons)
			require.Equal(t, 1, unverified, "the stranger's status")

			other := testenv.PushImage(t, store.Target(), "v3", "api 1.6.0\n")
			at := now.Add(-time.Hour)
			setStatus(t, store, other, managers, lifecycle.Status{Subject: other.Digest, State: lifecycle.StateRetired, Reason: "a",
				Effective: at, DecidedBy: "release-managers@example.com"})
			setStatus(t, store, other, managers, lifecycle.Status{Subject: other.Digest, State: lifecycle.StateActive,
				Effective: at, DecidedBy: "release-managers@example.com"})
			_, err = gate.Lifecycle(ctx, store, other, v, setters, now)
			var ce *lifecycle.ConflictError
			require.ErrorAs(t, err, &ce)
			require.Len(t, ce.Statuses, 2)
		})
	}
}

func mustECDSA(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// setStatus signs s with key and attaches it to image in store, listed with its effective time.
func setStatus(t *testing.T, store *oras.Store, image ocispec.Descriptor, key *ecdsa.PrivateKey, s lifecycle.Status) digest.Digest {
	t.Helper()
	return attachStatus(t, store, image, key, s, s.Effective)
}

// attachStatus signs s with key and attaches it to image in store, listed as effective at
// claim (unlisted when claim is zero).
func attachStatus(t *testing.T, store *oras.Store, image ocispec.Descriptor, key *ecdsa.PrivateKey, s lifecycle.Status, claim time.Time) digest.Digest {
	t.Helper()
	st, err := s.Statement()
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(key)
	require.NoError(t, err)
	b, err := signer.Sign(context.Background(), st)
	require.NoError(t, err)
	b.Effective = claim
	_, err = store.Attach(context.Background(), image, b)
	require.NoError(t, err)
	return b.Digest()
}

// TestLifecycleReadsLatestFirst: statuses are read latest first by the effective time their
// listing claims. A status older than the one in effect is not read (a broken one among them
// is not reported), statuses with no claim or a future claim are always read, and a claim
// that differs from the verified status makes Lifecycle read every status, so a listing that
// misorders statuses cannot hide the one in effect.
func TestLifecycleReadsLatestFirst(t *testing.T) {
	managers, stranger := mustECDSA(t), mustECDSA(t)
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release-managers", Key: managers.Public()})
	require.NoError(t, err)
	v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe(), verify.WithPredicateTypes(lifecycle.PredicateType))
	require.NoError(t, err)
	setters := verify.KeyIDs("release-managers")
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	status := func(subject digest.Digest, state lifecycle.State, effective time.Time) lifecycle.Status {
		s := lifecycle.Status{Subject: subject, State: state, Reason: string(state) + " " + effective.Format(time.DateOnly), Effective: effective, DecidedBy: "release-managers@example.com"}
		if state == lifecycle.StateActive {
			s.Reason = ""
		}
		return s
	}
	unverified := func(r *lifecycle.Resolution) (n int) {
		for _, s := range r.SetAside {
			if errors.Is(s.Err, verify.ErrVerification) {
				n++
			}
		}
		return n
	}

	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			store, _ := be.open(t)
			image := testenv.PushImage(t, store.Target(), "v1", "api 1.4.2\n")

			setStatus(t, store, image, stranger, status(image.Digest, lifecycle.StateActive, now.Add(-5*day)))
			setStatus(t, store, image, managers, status(image.Digest, lifecycle.StateDeprecated, now.Add(-4*day)))
			setStatus(t, store, image, managers, status(image.Digest, lifecycle.StateRetired, now.Add(-2*day)))
			r, err := gate.Lifecycle(ctx, store, image, v, setters, now)
			require.NoError(t, err)
			require.Equal(t, lifecycle.StateRetired, r.State())
			require.Zero(t, unverified(r), "the stranger's status predates the one in effect and is not read")

			attachStatus(t, store, image, stranger, status(image.Digest, lifecycle.StateActive, now.Add(-6*day)), time.Time{})
			setStatus(t, store, image, managers, status(image.Digest, lifecycle.StateRevoked, now.Add(day)))
			r, err = gate.Lifecycle(ctx, store, image, v, setters, now)
			require.NoError(t, err)
			require.Equal(t, lifecycle.StateRetired, r.State())
			require.Equal(t, 1, unverified(r), "a status with no claim is read")
			require.True(t, slices.ContainsFunc(r.SetAside, func(s lifecycle.SetAside) bool { return errors.Is(s.Err, lifecycle.ErrNotYetEffective) }),
				"a status claiming a future time is read and set aside")

			// Two misleading claims: an active status listed as later than it is, and the
			// revocation in effect listed as older than everything. Read by the claims alone,
			// the active status would win.
			other := testenv.PushImage(t, store.Target(), "v2", "api 1.5.0\n")
			attachStatus(t, store, other, managers, status(other.Digest, lifecycle.StateActive, now.Add(-3*day)), now.Add(-time.Hour))
			attachStatus(t, store, other, managers, status(other.Digest, lifecycle.StateRevoked, now.Add(-2*day)), now.Add(-30*day))
			r, err = gate.Lifecycle(ctx, store, other, v, setters, now)
			require.NoError(t, err)
			require.Equal(t, lifecycle.StateRevoked, r.State())
		})
	}
}

// TestRoles gives lifecycle statuses their own signers: statuses count only when signed by the
// release managers and build provenance only when signed by the build key, and a build
// provenance the release managers signed and listed as a status is rejected with a RoleError.
func TestRoles(t *testing.T) {
	build, managers := mustECDSA(t), mustECDSA(t)
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: build.Public()}, verify.PublicKey{ID: "release-managers", Key: managers.Public()})
	require.NoError(t, err)
	v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	c, err := gate.New(v, verify.KeyIDs("release"), gate.WithRole(lifecycle.PredicateType, verify.KeyIDs("release-managers")))
	require.NoError(t, err)
	_, err = gate.New(v, verify.KeyIDs("release"), gate.WithRole(lifecycle.PredicateType, verify.KeyIDs("a")), gate.WithRole(lifecycle.PredicateType, verify.KeyIDs("b")))
	require.ErrorIs(t, err, gate.ErrInvalidConfig)

	for _, be := range backends[:2] {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			store, repo := be.open(t)
			image := testenv.PushImage(t, store.Target(), "v1", "api\n")
			built := testenv.AttestSLSA(t, store, repo, image, build, builder)
			byManagers := testenv.AttestSLSA(t, store, repo, image, managers, builder)
			status := lifecycle.Status{Subject: image.Digest, State: lifecycle.StateDeprecated, Reason: "r",
				Effective: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), DecidedBy: "release-managers@example.com"}
			setStatus(t, store, image, managers, status)
			setStatus(t, store, image, build, status)

			// Build provenance signed by the release managers, listed as a lifecycle status.
			subject, err := provenance.SubjectFromDescriptor(repo, image)
			require.NoError(t, err)
			st, err := (&provenance.Build{BuildType: "https://provkit.dev/build/v1", BuilderID: builder,
				ExternalParameters: map[string]any{"source": "git+https://git.example/app@refs/heads/main"}}).Statement([]*intoto.ResourceDescriptor{subject})
			require.NoError(t, err)
			signer, err := sign.NewKeySigner(managers)
			require.NoError(t, err)
			b, err := signer.Sign(ctx, st)
			require.NoError(t, err)
			b.PredicateType = lifecycle.PredicateType
			mislisted, err := store.Attach(ctx, image, b)
			require.NoError(t, err)

			report, err := c.Check(ctx, store, image)
			require.NoError(t, err)
			verified := map[digest.Digest]string{}
			for _, a := range report.Verified {
				verified[a.Found.Manifest.Digest] = a.Result.PredicateType()
			}
			require.Len(t, verified, 2, "the build key's provenance and the release managers' status")
			require.Contains(t, verified, built.Digest)
			rejected := map[digest.Digest]error{}
			for _, r := range report.Rejected {
				rejected[r.Found.Manifest.Digest] = r.Err
			}
			require.Len(t, rejected, 3)
			require.ErrorIs(t, rejected[byManagers.Digest], verify.ErrVerification, "provenance by the release managers is not build provenance")
			var re *gate.RoleError
			require.ErrorAs(t, rejected[mislisted.Digest], &re)
			require.Equal(t, lifecycle.PredicateType, re.Listed)
			require.ErrorIs(t, rejected[mislisted.Digest], gate.ErrWrongRole)
		})
	}
}

// TestLifecyclePolicy: with statuses signed by their role, a deprecated image warns in dev and
// is denied in prod with the successor in the explanation, and a retired one is denied in both;
// a retirement signed by the build key is not the release managers' and does not count.
func TestLifecyclePolicy(t *testing.T) {
	build, managers := mustECDSA(t), mustECDSA(t)
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: build.Public()}, verify.PublicKey{ID: "release-managers", Key: managers.Public()})
	require.NoError(t, err)
	v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	p, err := policy.Load(strings.NewReader(`apiVersion: provkit.dev/policy/v1
kind: Policy
metadata:
  name: lifecycle
rules:
  - name: built-by-release
    slsa:
      builders: [{id: "` + builder + `"}]
  - name: not-retired
    lifecycle: {deny: [retired, revoked]}
  - name: not-deprecated
    lifecycle: {deny: [deprecated]}
environments:
  dev:
    defaultMode: enforce
    rules: {not-deprecated: warn}
  prod:
    defaultMode: enforce
`))
	require.NoError(t, err)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	check := func(env string) (*gate.Checker, error) {
		return gate.New(v, verify.KeyIDs("release"), gate.WithPolicy(p), gate.WithEnvironment(env),
			gate.WithRole(lifecycle.PredicateType, verify.KeyIDs("release-managers")), gate.WithClock(func() time.Time { return now }))
	}
	dev, err := check("dev")
	require.NoError(t, err)
	prod, err := check("prod")
	require.NoError(t, err)

	ctx := context.Background()
	store, repo := backends[0].open(t)
	image := testenv.PushImage(t, store.Target(), "v1", "api\n")
	next := testenv.PushImage(t, store.Target(), "v2", "api 2\n")
	testenv.AttestSLSA(t, store, repo, image, build, builder)
	setStatus(t, store, image, managers, lifecycle.Status{Subject: image.Digest, State: lifecycle.StateDeprecated, Reason: "end of life",
		Successor: next.Digest, Effective: now.Add(-48 * time.Hour), DecidedBy: "release-managers@example.com"})
	setStatus(t, store, image, build, lifecycle.Status{Subject: image.Digest, State: lifecycle.StateRetired, Reason: "not theirs to say",
		Effective: now.Add(-time.Hour), DecidedBy: "ci@example.com"})

	report, err := dev.Check(ctx, store, image)
	require.NoError(t, err, "deprecation warns in dev")
	rule, ok := report.Decision.Rule("not-deprecated")
	require.True(t, ok)
	require.Equal(t, policy.OutcomeWarn, rule.Outcome)
	require.Contains(t, rule.Reason, "migrate to "+next.Digest.String())

	_, err = prod.Check(ctx, store, image)
	var de *policy.DeniedError
	require.ErrorAs(t, err, &de, "deprecation denies in prod")
	rule, _ = de.Decision.Rule("not-deprecated")
	require.Equal(t, policy.OutcomeFail, rule.Outcome)
	rule, _ = de.Decision.Rule("not-retired")
	require.Equal(t, policy.OutcomePass, rule.Outcome, "the build key's retirement does not count")

	setStatus(t, store, image, managers, lifecycle.Status{Subject: image.Digest, State: lifecycle.StateRetired, Reason: "past support",
		Effective: now.Add(-time.Hour), DecidedBy: "release-managers@example.com"})
	_, err = dev.Check(ctx, store, image)
	require.ErrorAs(t, err, &de, "retired denies in dev too")
	rule, _ = de.Decision.Rule("not-retired")
	require.Equal(t, policy.OutcomeFail, rule.Outcome)
}

// TestSweep deprecates the images a policy denies, once: the status is signed by the release
// managers and attached beside the image, recorded in the audit log, and read back as the
// status in effect; an allowed image and an image already deprecated are left alone.
func TestSweep(t *testing.T) {
	build, managers := mustECDSA(t), mustECDSA(t)
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: build.Public()}, verify.PublicKey{ID: "release-managers", Key: managers.Public()})
	require.NoError(t, err)
	v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	logDir := t.TempDir()
	log, vkey, eventKey := openAuditLogIn(t, logDir)
	c, err := gate.New(v, verify.KeyIDs("release"), gate.WithPolicy(prodPolicy(t, builder)), gate.WithEnvironment("prod"),
		gate.WithRole(lifecycle.PredicateType, verify.KeyIDs("release-managers")), gate.WithClock(func() time.Time { return now }),
		gate.WithRecorder(log, "sweeper@example.com"))
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(managers)
	require.NoError(t, err)

	ctx := context.Background()
	for _, be := range backends[:2] {
		t.Run(be.name, func(t *testing.T) {
			store, repo := be.open(t)
			good := testenv.PushImage(t, store.Target(), "good", "good\n")
			testenv.AttestSLSA(t, store, repo, good, build, builder)
			stale := testenv.PushImage(t, store.Target(), "stale", "stale\n")
			testenv.AttestSLSA(t, store, repo, stale, build, "https://ci.example/builders/old")
			bare := testenv.PushImage(t, store.Target(), "bare", "bare\n")

			sweep := gate.Sweep{State: lifecycle.StateDeprecated, Signer: signer, DecidedBy: "release-managers@example.com"}
			swept, err := c.Sweep(ctx, store, []ocispec.Descriptor{good, stale, bare}, sweep)
			require.NoError(t, err)
			require.Len(t, swept, 3)
			require.NoError(t, swept[0].Err)
			require.Nil(t, swept[0].Denied)
			require.Zero(t, swept[0].Status.Digest, "allowed: left alone")
			for _, s := range swept[1:] {
				require.NoError(t, s.Err)
				require.ErrorIs(t, s.Denied, policy.ErrDenied)
				require.NotZero(t, s.Status.Digest)
			}

			r, err := gate.Lifecycle(ctx, store, stale, v, verify.KeyIDs("release-managers"), now)
			require.NoError(t, err)
			require.Equal(t, lifecycle.StateDeprecated, r.State())
			require.Contains(t, r.Current.Status.Reason, "policy: ")

			again, err := c.Sweep(ctx, store, []ocispec.Descriptor{stale}, sweep)
			require.NoError(t, err)
			require.Zero(t, again[0].Status.Digest, "already deprecated: no second status")
			retire := sweep
			retire.State = lifecycle.StateRetired
			again, err = c.Sweep(ctx, store, []ocispec.Descriptor{stale}, retire)
			require.NoError(t, err)
			require.NotZero(t, again[0].Status.Digest, "retiring goes further")
		})
	}
	_, err = c.Sweep(ctx, nil, nil, gate.Sweep{State: lifecycle.StateRevoked, Signer: signer, DecidedBy: "x"})
	require.ErrorIs(t, err, gate.ErrInvalidConfig)

	require.NoError(t, log.Close(ctx))
	report, err := auditorOf(t, logDir, vkey, eventKey).Audit(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, map[audit.Kind]uint64{audit.KindDeprecated: 4, audit.KindRetired: 2}, report.Kinds, "one event per status set")
}

// TestLifecycleNotCheckedIsNotActive: when the statuses cannot be checked (here, the context
// ends), Lifecycle fails with a CheckError instead of calling the artifact active.
func TestLifecycleNotCheckedIsNotActive(t *testing.T) {
	managers := mustECDSA(t)
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release-managers", Key: managers.Public()})
	require.NoError(t, err)
	v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	store, _ := backends[0].open(t)
	image := testenv.PushImage(t, store.Target(), "v1", "api\n")
	setStatus(t, store, image, managers, lifecycle.Status{Subject: image.Digest, State: lifecycle.StateRevoked, Reason: "compromised",
		Effective: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), DecidedBy: "security@example.com"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := gate.Lifecycle(ctx, store, image, v, verify.KeyIDs("release-managers"), time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	require.Nil(t, r)
	require.ErrorIs(t, err, gate.ErrNotChecked)
}
