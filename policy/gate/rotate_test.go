package gate_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"slices"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

// attestWith signs SLSA provenance saying builderID built image with signer, attaches it to
// image in store, and returns the bundle.
func attestWith(t *testing.T, store *oras.Store, repo string, image ocispec.Descriptor, signer sign.Signer, builderID string) provenance.Bundle {
	t.Helper()
	subject, err := provenance.SubjectFromDescriptor(repo, image)
	require.NoError(t, err)
	st, err := (&provenance.Build{BuildType: "https://provkit.dev/build/v1", BuilderID: builderID,
		ExternalParameters: map[string]any{"source": "git+https://git.example/app@refs/heads/main"}}).Statement([]*intoto.ResourceDescriptor{subject})
	require.NoError(t, err)
	b, err := signer.Sign(t.Context(), st)
	require.NoError(t, err)
	_, err = store.Attach(t.Context(), image, b)
	require.NoError(t, err)
	return b
}

func keySigner(t *testing.T, key *ecdsa.PrivateKey, opts ...sign.Option) sign.Signer {
	t.Helper()
	s, err := sign.NewKeySigner(key, opts...)
	require.NoError(t, err)
	return s
}

// mustVerify fetches the attestation manifest desc from store and verifies it against subject
// as signed by id.
func mustVerify(t *testing.T, store *oras.Store, v *verify.Verifier, desc ocispec.Descriptor, subject digest.Digest, id verify.Identity) (provenance.Bundle, *verify.Result) {
	t.Helper()
	b, err := store.Fetch(t.Context(), desc)
	require.NoError(t, err)
	r, err := v.Verify(t.Context(), b, subject, id)
	require.NoError(t, err)
	return b, r
}

func referrerDigests(t *testing.T, store *oras.Store, subject ocispec.Descriptor) []digest.Digest {
	t.Helper()
	refs, err := store.Referrers(t.Context(), subject, "")
	require.NoError(t, err)
	var out []digest.Digest
	for _, r := range refs {
		out = append(out, r.Digest)
	}
	return out
}

// TestRotate re-signs, on every backend, what the 2026 release key signed with the 2027 key:
// each attestation that verifies gets a replacement naming its bundle, attached beside it; the
// one a stranger signed is reported and not re-signed; running the rotation again re-signs
// nothing and names the same replacements; a checker trusting only the new key accepts the
// replacements; and the audit log holds one "resigned" event per re-signing, with the old
// bundle, the new bundle and the new manifest as evidence.
func TestRotate(t *testing.T) {
	oldKey, newKey, stranger := mustECDSA(t), mustECDSA(t), mustECDSA(t)
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release-2026", Key: oldKey.Public()}, verify.PublicKey{ID: "release-2027", Key: newKey.Public()})
	require.NoError(t, err)
	v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	logDir := t.TempDir()
	log, vkey, eventKey := openAuditLogIn(t, logDir)
	c, err := gate.New(v, verify.KeyIDs("release-2026"), gate.WithRecorder(log, "rotator@example.com"), gate.WithEnvironment("prod"), gate.WithPolicy(prodPolicy(t, builder)))
	require.NoError(t, err)
	rotation := gate.Rotation{Signer: keySigner(t, newKey), Identity: verify.KeyIDs("release-2027"),
		DecidedBy: "security@example.com", Reason: "release key 2026 retired"}
	oldSigner, strangerSigner := keySigner(t, oldKey), keySigner(t, stranger)

	type triple struct{ old, new, manifest digest.Digest }
	var wantEvents []triple
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			store, repo := be.open(t)
			app := testenv.PushImage(t, store.Target(), "app", "app 1.0\n")
			slsa := attestWith(t, store, repo, app, oldSigner, builder)
			other := attestWith(t, store, repo, app, oldSigner, "https://ci.example/builders/nightly")
			forged := attestWith(t, store, repo, app, strangerSigner, builder)
			lib := testenv.PushImage(t, store.Target(), "lib", "lib 1.0\n")
			libAtt := attestWith(t, store, repo, lib, oldSigner, builder)
			bare := testenv.PushImage(t, store.Target(), "bare", "nothing attached\n")
			before := referrerDigests(t, store, app)

			rows, err := c.Rotate(ctx, store, []ocispec.Descriptor{app, lib, bare}, rotation)
			require.NoError(t, err)
			require.Len(t, rows, 4, "three attestations of app, one of lib, none of bare")
			byBundle := map[digest.Digest]gate.Rotated{}
			for _, r := range rows {
				byBundle[r.Bundle] = r
			}
			require.Len(t, byBundle, 4)
			for _, b := range []provenance.Bundle{slsa, other, libAtt} {
				r := byBundle[b.Digest()]
				require.NoError(t, r.Err)
				require.True(t, r.Resigned)
				require.Equal(t, "release-2026", r.Signer.KeyID)
				require.NotEmpty(t, r.Replacement.Digest)
				require.NotEqual(t, r.Replaced.Manifest.Digest, r.Replacement.Digest)
				subject := app
				if b.Digest() == libAtt.Digest() {
					subject = lib
				}
				require.Equal(t, subject.Digest, r.Subject.Digest)
				nb, res := mustVerify(t, store, v, r.Replacement, subject.Digest, verify.KeyIDs("release-2027"))
				require.Equal(t, b.Digest(), nb.Replaces, "the new bundle names the one it replaces")
				_, old := mustVerify(t, store, v, r.Replaced.Manifest, subject.Digest, verify.KeyIDs("release-2026"))
				require.True(t, proto.Equal(old.Statement(), res.Statement()), "the same statement, re-signed")
				wantEvents = append(wantEvents, triple{b.Digest(), nb.Digest(), r.Replacement.Digest})
			}
			f := byBundle[forged.Digest()]
			require.False(t, f.Resigned)
			require.Zero(t, f.Replacement)
			require.Zero(t, f.Signer)
			var re *gate.RotateError
			require.ErrorAs(t, f.Err, &re)
			require.Equal(t, "verify", re.Op)
			require.Equal(t, app.Digest, re.Subject.Digest)
			require.Equal(t, f.Replaced.Manifest.Digest, re.Attestation)
			require.ErrorIs(t, f.Err, verify.ErrVerification)

			// History: every old attestation is still there, beside the two new ones.
			after := referrerDigests(t, store, app)
			require.Len(t, after, len(before)+2)
			for _, d := range before {
				require.Contains(t, after, d)
			}

			// Resumed: nothing is re-signed again, and each row names the replacement made before.
			again, err := c.Rotate(ctx, store, []ocispec.Descriptor{app, lib, bare}, rotation)
			require.NoError(t, err)
			require.Len(t, again, 4)
			for _, r := range again {
				require.False(t, r.Resigned, "re-signed again: %s", r.Bundle)
				if r.Bundle == forged.Digest() {
					require.ErrorIs(t, r.Err, verify.ErrVerification)
					continue
				}
				require.NoError(t, r.Err)
				require.Equal(t, byBundle[r.Bundle].Replacement.Digest, r.Replacement.Digest)
			}
			require.ElementsMatch(t, after, referrerDigests(t, store, app))

			// A gate that trusts only the new key now accepts the artifact on the replacements.
			next, err := gate.New(v, verify.KeyIDs("release-2027"), gate.WithPolicy(prodPolicy(t, builder)))
			require.NoError(t, err)
			report, err := next.Check(ctx, store, lib)
			require.NoError(t, err)
			require.Len(t, report.Verified, 1)
			require.Equal(t, byBundle[libAtt.Digest()].Replacement.Digest, report.Verified[0].Found.Manifest.Digest)
		})
	}

	require.NoError(t, log.Close(t.Context()))
	a := auditorOf(t, logDir, vkey, eventKey)
	report, err := a.Audit(t.Context(), nil)
	require.NoError(t, err)
	require.Equal(t, map[audit.Kind]uint64{audit.KindResigned: uint64(len(wantEvents))}, report.Kinds, "one event per re-signing, none for the rerun")
	var got []triple
	for e, err := range a.Entries(t.Context(), report.Checkpoint, 0) {
		require.NoError(t, err)
		ev := e.Event
		require.Equal(t, audit.KindResigned, ev.Kind)
		require.Equal(t, "rotator@example.com", ev.Actor)
		require.Equal(t, "prod", ev.Environment)
		require.Equal(t, "security@example.com", ev.Attributes["decidedBy"])
		require.Equal(t, provenance.PredicateSLSAProvenanceV1, ev.Attributes["predicateType"])
		require.Contains(t, ev.Reasons, "release key 2026 retired")
		require.Len(t, ev.Evidence, 3)
		require.Equal(t, ev.Evidence[0].String(), ev.Attributes["replaces"])
		got = append(got, triple{ev.Evidence[0], ev.Evidence[1], ev.Evidence[2]})
	}
	require.ElementsMatch(t, wantEvents, got)
}

// TestRotateKeyValidityWindows rotates, on every backend, from key A to key B at time T with
// signing times from a real RFC 3161 timestamp authority, then verifies with trust in which A
// is valid until T and B from T: the old bundle still verifies for the time it was signed, the
// new one for its own, and a bundle A signs after T is rejected, by verification and so by the
// rotation, which does not re-sign it.
func TestRotateKeyValidityWindows(t *testing.T) {
	url, _, chainPEM := testenv.TSA(t)
	chain, err := verify.ParseCertificatesPEM(chainPEM)
	require.NoError(t, err)
	tsa, err := verify.TimestampAuthority(chain, url)
	require.NoError(t, err)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			store, repo := be.open(t)
			keyA, keyB := mustECDSA(t), mustECDSA(t)
			signerA := keySigner(t, keyA, sign.WithTimestampAuthority(url))
			signerB := keySigner(t, keyB, sign.WithTimestampAuthority(url))
			image := testenv.PushImage(t, store.Target(), "app", "app 1.0\n")
			old := attestWith(t, store, repo, image, signerA, builder)

			// T is a whole second, over a second after A signed and before B signs: the
			// authority's times are compared with it whatever their precision.
			rotation := time.Now().Truncate(time.Second).Add(2 * time.Second)
			time.Sleep(time.Until(rotation.Add(time.Second)))
			ks, err := verify.TrustedKeys(verify.PublicKey{ID: "A", Key: keyA.Public(), NotAfter: rotation},
				verify.PublicKey{ID: "B", Key: keyB.Public(), NotBefore: rotation})
			require.NoError(t, err)
			v, err := verify.New(root.TrustedMaterialCollection{ks, tsa}, verify.WithoutTransparencyLog(), verify.WithSignedTimestamps(1))
			require.NoError(t, err)
			c, err := gate.New(v, verify.KeyIDs("A"))
			require.NoError(t, err)

			rows, err := c.Rotate(ctx, store, []ocispec.Descriptor{image}, gate.Rotation{Signer: signerB, Identity: verify.KeyIDs("B")})
			require.NoError(t, err)
			require.Len(t, rows, 1)
			require.NoError(t, rows[0].Err)
			require.True(t, rows[0].Resigned)
			require.Equal(t, old.Digest(), rows[0].Bundle)

			_, oldRes := mustVerify(t, store, v, rows[0].Replaced.Manifest, image.Digest, verify.KeyIDs("A"))
			at, ok := oldRes.SignedAt()
			require.True(t, ok)
			require.True(t, at.Before(rotation), "A signed at %s, before the rotation at %s", at, rotation)
			nb, newRes := mustVerify(t, store, v, rows[0].Replacement, image.Digest, verify.KeyIDs("B"))
			require.Equal(t, old.Digest(), nb.Replaces)
			at, ok = newRes.SignedAt()
			require.True(t, ok)
			require.False(t, at.Before(rotation), "B signed at %s, not before the rotation at %s", at, rotation)

			// A signs after T: outside its window, at the verified signing time.
			late := attestWith(t, store, repo, image, signerA, "https://ci.example/builders/late")
			_, err = v.Verify(ctx, late, image.Digest, verify.KeyIDs("A"))
			var ve *verify.VerificationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, verify.CheckKey, ve.Check)
			require.ErrorIs(t, err, verify.ErrVerification)

			replacement := rows[0].Replacement
			rows, err = c.Rotate(ctx, store, []ocispec.Descriptor{image}, gate.Rotation{Signer: signerB, Identity: verify.KeyIDs("B")})
			require.NoError(t, err)
			require.Len(t, rows, 2)
			for _, r := range rows {
				require.False(t, r.Resigned)
				switch r.Bundle {
				case old.Digest():
					require.NoError(t, r.Err)
					require.Equal(t, replacement.Digest, r.Replacement.Digest)
				case late.Digest():
					var re *gate.RotateError
					require.ErrorAs(t, r.Err, &re)
					require.Equal(t, "verify", re.Op)
					require.ErrorAs(t, r.Err, &ve)
					require.Equal(t, verify.CheckKey, ve.Check)
					require.Zero(t, r.Replacement)
				default:
					t.Fatalf("row for bundle %s", r.Bundle)
				}
			}

			// Whoever trusts both keys, each in its window, counts the old and the new bundle
			// and rejects the late one.
			both, err := gate.New(v, verify.KeyIDs("A", "B"))
			require.NoError(t, err)
			report, err := both.Check(ctx, store, image)
			require.NoError(t, err)
			require.Len(t, report.Verified, 2)
			require.Len(t, report.Rejected, 1)
			require.ErrorAs(t, report.Rejected[0].Err, &ve)
			require.Equal(t, verify.CheckKey, ve.Check)
		})
	}
}

// failingSigner is a signing service that is down.
type failingSigner struct{}

var errSignerDown = errors.New("signing service unavailable")

func (failingSigner) Sign(context.Context, *intoto.Statement) (provenance.Bundle, error) {
	return provenance.Bundle{}, errSignerDown
}

// TestRotateFailures: a rotation that cannot sign, whose signer is not the identity it claims,
// or whose events cannot be recorded, says so per attestation, with the step; only the last
// leaves a replacement, attached before the recording failed. A rotation limited to other
// predicate types leaves everything alone. Bad configurations fail the call.
func TestRotateFailures(t *testing.T) {
	oldKey, newKey, third := mustECDSA(t), mustECDSA(t), mustECDSA(t)
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "old", Key: oldKey.Public()}, verify.PublicKey{ID: "new", Key: newKey.Public()},
		verify.PublicKey{ID: "third", Key: third.Public()})
	require.NoError(t, err)
	v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	c, err := gate.New(v, verify.KeyIDs("old"))
	require.NoError(t, err)
	store, repo := backends[0].open(t)
	image := testenv.PushImage(t, store.Target(), "app", "app 1.0\n")
	old := attestWith(t, store, repo, image, keySigner(t, oldKey), builder)
	before := referrerDigests(t, store, image)
	newSigner := keySigner(t, newKey)

	for _, tc := range []struct {
		name     string
		rotation gate.Rotation
		op       string
		cause    error
	}{
		{"sign", gate.Rotation{Signer: failingSigner{}, Identity: verify.KeyIDs("new")}, "sign", errSignerDown},
		{"not the identity claimed", gate.Rotation{Signer: newSigner, Identity: verify.KeyIDs("third")}, "verify-replacement", verify.ErrVerification},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := c.Rotate(t.Context(), store, []ocispec.Descriptor{image}, tc.rotation)
			require.NoError(t, err)
			require.Len(t, rows, 1)
			var re *gate.RotateError
			require.ErrorAs(t, rows[0].Err, &re)
			require.Equal(t, tc.op, re.Op)
			require.ErrorIs(t, rows[0].Err, tc.cause)
			require.False(t, rows[0].Resigned)
			require.Zero(t, rows[0].Replacement)
			require.Equal(t, old.Digest(), rows[0].Bundle)
			require.Equal(t, "old", rows[0].Signer.KeyID)
			require.ElementsMatch(t, before, referrerDigests(t, store, image), "nothing attached")
		})
	}

	t.Run("other predicate types", func(t *testing.T) {
		rows, err := c.Rotate(t.Context(), store, []ocispec.Descriptor{image},
			gate.Rotation{Signer: newSigner, Identity: verify.KeyIDs("new"), PredicateTypes: []string{lifecycle.PredicateType}})
		require.NoError(t, err)
		require.Empty(t, rows)
		require.ElementsMatch(t, before, referrerDigests(t, store, image))
	})

	t.Run("unknown subject", func(t *testing.T) {
		missing := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("missing"), Size: 100}
		rows, err := c.Rotate(t.Context(), store, []ocispec.Descriptor{missing}, gate.Rotation{Signer: newSigner, Identity: verify.KeyIDs("new")})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		var re *gate.RotateError
		require.ErrorAs(t, rows[0].Err, &re)
		require.Equal(t, "read", re.Op, "the subject manifest is read first")
		require.Empty(t, re.Attestation)
		require.ErrorIs(t, rows[0].Err, provenance.ErrNotFound)
	})

	t.Run("record", func(t *testing.T) {
		log, _, _ := openAuditLogIn(t, t.TempDir())
		require.NoError(t, log.Close(t.Context()))
		rc, err := gate.New(v, verify.KeyIDs("old"), gate.WithRecorder(log, "rotator@example.com"))
		require.NoError(t, err)
		rows, err := rc.Rotate(t.Context(), store, []ocispec.Descriptor{image}, gate.Rotation{Signer: newSigner, Identity: verify.KeyIDs("new")})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		var re *gate.RotateError
		require.ErrorAs(t, rows[0].Err, &re)
		require.Equal(t, "record", re.Op)
		require.ErrorIs(t, rows[0].Err, auditlog.ErrClosed)
		require.True(t, rows[0].Resigned, "attached before the recording failed")
		after := referrerDigests(t, store, image)
		require.Len(t, after, len(before)+1)
		require.True(t, slices.Contains(after, rows[0].Replacement.Digest))
	})

	for name, r := range map[string]gate.Rotation{
		"no signer":   {Identity: verify.KeyIDs("new")},
		"no identity": {Signer: newSigner},
	} {
		_, err := c.Rotate(t.Context(), store, []ocispec.Descriptor{image}, r)
		require.ErrorIs(t, err, gate.ErrInvalidConfig, name)
	}
	_, err = c.Rotate(t.Context(), nil, nil, gate.Rotation{Signer: newSigner, Identity: verify.KeyIDs("new")})
	require.ErrorIs(t, err, gate.ErrInvalidConfig)
}
