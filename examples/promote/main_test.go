package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"

	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/release"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

// pushImage pushes a one-layer image with body to host/repo:v1 and returns its store and descriptor.
func pushImage(t *testing.T, host, repo, body string) (*oras.Store, ocispec.Descriptor) {
	t.Helper()
	s, err := oras.NewRemote(host+"/"+repo, oras.WithPlainHTTPUnsafe())
	require.NoError(t, err)
	desc := testenv.PushImage(t, s.Target(), "v1", body)
	return s, desc
}

func TestPromote(t *testing.T) {
	host := testenv.OlaregServer(t)
	dir := t.TempDir()
	builderKey, err := sign.GenerateKeyPair(0, nil)
	require.NoError(t, err)
	vsaKey, err := sign.GenerateKeyPair(0, []byte("pw"))
	require.NoError(t, err)
	pub, signKey := filepath.Join(dir, "builder.pub"), filepath.Join(dir, "vsa.key")
	require.NoError(t, os.WriteFile(pub, builderKey.PublicPEM, 0o644))
	require.NoError(t, os.WriteFile(signKey, vsaKey.PrivatePEM, 0o600))
	base := options{policyPath: filepath.Join("testdata", "policy.yaml"), env: "prod", keyPath: pub, signKeyPath: signKey,
		levels: "SLSA_BUILD_LEVEL_2", password: "pw", insecureIgnoreTlog: true, plainHTTP: true}
	ctx := context.Background()

	t.Run("RecordedInAuditLog", func(t *testing.T) {
		s, image := pushImage(t, host, "dev/audited", "audited build")
		testenv.AttestSLSA(t, s, host+"/dev/audited", image, builderKey.Signer, "https://ci.example/builder")
		skey, vkey, err := note.GenerateKey(nil, "audit.promote.test")
		require.NoError(t, err)
		o := base
		o.from, o.to = host+"/dev/audited:v1", host+"/prod/audited:1.0"
		o.deployDir, o.approvedBy = filepath.Join("testdata", "deploy"), "release-managers@example.com"
		o.auditLog, o.auditLogKey = filepath.Join(dir, "audit"), filepath.Join(dir, "audit.note.key")
		require.NoError(t, os.WriteFile(o.auditLogKey, []byte(skey+"\n"), 0o600))
		var out bytes.Buffer
		require.NoError(t, run(ctx, &out, o), out.String())

		nv, err := note.NewVerifier(vkey)
		require.NoError(t, err)
		keys, err := verify.TrustedKeys(verify.PublicKey{ID: "vsa", Key: vsaKey.Signer.Public()})
		require.NoError(t, err)
		ev, err := verify.New(keys, verify.WithUntimestampedKeysUnsafe())
		require.NoError(t, err)
		a, err := auditlog.NewAuditor(auditlog.Dir(o.auditLog), auditlog.Trust{Checkpoints: nv, Events: ev, Signer: verify.KeyIDs("vsa")})
		require.NoError(t, err)
		report, err := a.Audit(ctx, nil)
		require.NoError(t, err)
		var kinds []audit.Kind
		for e, err := range a.Entries(ctx, report.Checkpoint, 0) {
			require.NoError(t, err)
			require.Equal(t, image.Digest, e.Event.Subject)
			require.Equal(t, "prod", e.Event.Environment)
			kinds = append(kinds, e.Event.Kind)
		}
		require.Equal(t, []audit.Kind{audit.KindVerified, audit.KindPromoted, audit.KindReleased}, kinds)
	})
	t.Run("Allowed", func(t *testing.T) {
		s, image := pushImage(t, host, "dev/app", "from ci")
		testenv.AttestSLSA(t, s, host+"/dev/app", image, builderKey.Signer, "https://ci.example/builder")
		o := base
		o.from, o.to = host+"/dev/app:v1", host+"/prod/app:1.0"
		o.deployDir, o.approvedBy, o.approval = filepath.Join("testdata", "deploy"), "release-managers@example.com", "https://tickets.example/CHG-1234"
		var out bytes.Buffer
		require.NoError(t, run(ctx, &out, o), out.String())
		assert.Regexp(t, `(?m)^pass +built-by-ci `, out.String())
		assert.Contains(t, out.String(), "(prod, approved by release-managers@example.com)")
		assert.Contains(t, out.String(), "verdict  allow for prod")
		assert.Contains(t, out.String(), "copied   "+host+"/prod/app:1.0@"+image.Digest.String())

		prod, err := oras.NewRemote(host+"/prod/app", oras.WithPlainHTTPUnsafe())
		require.NoError(t, err)
		copied, err := prod.Resolve(ctx, "1.0")
		require.NoError(t, err)
		assert.Equal(t, image.Digest, copied.Digest)

		// The provenance came along, and the VSA, signed by the gate's key, sits beside it.
		found, err := prod.Discover(ctx, copied, oras.Query{})
		require.NoError(t, err)
		types := map[string]oras.Attestation{}
		for _, a := range found {
			types[a.PredicateType] = a
		}
		require.Contains(t, types, provenance.PredicateSLSAProvenanceV1)
		require.Contains(t, types, provenance.PredicateSLSAVSAV1)
		b, err := prod.FetchAttestation(ctx, types[provenance.PredicateSLSAVSAV1])
		require.NoError(t, err)
		keys, err := verify.TrustedKeys(verify.PublicKey{ID: "gate", Key: vsaKey.Signer.Public()})
		require.NoError(t, err)
		v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
		require.NoError(t, err)
		res, err := v.Verify(ctx, b, copied.Digest, verify.KeyIDs("gate"))
		require.NoError(t, err)
		var vsa struct {
			Verifier           struct{ ID string }
			VerificationResult string   `json:"verificationResult"`
			VerifiedLevels     []string `json:"verifiedLevels"`
			ResourceURI        string   `json:"resourceUri"`
		}
		require.NoError(t, provenance.DecodePredicate(res.Statement(), &vsa))
		assert.Equal(t, policy.VSAPassed, vsa.VerificationResult)
		assert.Equal(t, verifierID, vsa.Verifier.ID)
		assert.Contains(t, vsa.VerifiedLevels, "SLSA_BUILD_LEVEL_2")
		assert.Equal(t, host+"/prod/app@"+image.Digest.String(), vsa.ResourceURI)

		// The release record binds the image to its deployment configuration and approval.
		require.Contains(t, types, release.PredicateType)
		rb, err := prod.FetchAttestation(ctx, types[release.PredicateType])
		require.NoError(t, err)
		rres, err := v.Verify(ctx, rb, copied.Digest, verify.KeyIDs("gate"))
		require.NoError(t, err)
		record, err := release.Parse(rres.Statement())
		require.NoError(t, err)
		assert.Equal(t, "prod", record.Environment)
		assert.Equal(t, "release-managers@example.com", record.Approval.By)
		assert.Equal(t, "https://tickets.example/CHG-1234", record.Approval.Reference)
		assert.Equal(t, b.Digest().Encoded(), record.Approval.Decision.GetDigest()["sha256"], "the approval names the VSA that allowed it")
		config := map[string]string{}
		for _, c := range record.Configuration {
			config[c.GetName()] = c.GetDigest()["sha256"]
		}
		deployment, err := os.ReadFile(filepath.Join("testdata", "deploy", "deployment.yaml"))
		require.NoError(t, err)
		assert.Equal(t, digest.FromBytes(deployment).Encoded(), config["deployment.yaml"])
		assert.Contains(t, config, "values-prod.yaml")
	})

	t.Run("DeniedIsNotCopied", func(t *testing.T) {
		s, image := pushImage(t, host, "dev/tool", "from a laptop")
		testenv.AttestSLSA(t, s, host+"/dev/tool", image, builderKey.Signer, "https://laptop.example/alice")
		o := base
		o.from, o.to = host+"/dev/tool:v1", host+"/prod/tool:1.0"
		var out bytes.Buffer
		err := run(ctx, &out, o)
		require.ErrorIs(t, err, policy.ErrDenied)
		var denied *policy.DeniedError
		require.ErrorAs(t, err, &denied)
		rule, _ := denied.Decision.Rule("built-by-ci")
		assert.Equal(t, policy.OutcomeFail, rule.Outcome)
		assert.Regexp(t, `(?m)^fail +built-by-ci `, out.String())
		assert.Contains(t, out.String(), "verdict  deny for prod")

		prod, err := oras.NewRemote(host+"/prod/tool", oras.WithPlainHTTPUnsafe())
		require.NoError(t, err)
		_, err = prod.Resolve(ctx, "1.0")
		assert.ErrorIs(t, err, provenance.ErrNotFound, "a denied image is not copied")

		// The dev profile only warns about the builder, so the same image may go to dev.
		o.env, o.to = "dev", host+"/dev-stable/tool:1.0"
		out.Reset()
		require.NoError(t, run(ctx, &out, o), out.String())
		assert.Regexp(t, `(?m)^warn +built-by-ci `, out.String())
	})

	t.Run("BadApprovalCopiesNothing", func(t *testing.T) {
		s, image := pushImage(t, host, "dev/api", "api from ci")
		testenv.AttestSLSA(t, s, host+"/dev/api", image, builderKey.Signer, "https://ci.example/builder")
		o := base
		o.from, o.to = host+"/dev/api:v1", host+"/prod/api:1.0"
		o.deployDir, o.approvedBy, o.approval = filepath.Join("testdata", "deploy"), "release-managers@example.com", "CHG-1234"
		var out bytes.Buffer
		err := run(ctx, &out, o)
		require.ErrorIs(t, err, release.ErrInvalidField, "the approval reference must be an absolute URI")
		prod, err := oras.NewRemote(host+"/prod/api", oras.WithPlainHTTPUnsafe())
		require.NoError(t, err)
		_, err = prod.Resolve(ctx, "1.0")
		assert.ErrorIs(t, err, provenance.ErrNotFound, "nothing is copied when the release record is invalid")
	})

	t.Run("Unsigned", func(t *testing.T) {
		pushImage(t, host, "dev/bare", "bare")
		o := base
		o.from, o.to = host+"/dev/bare:v1", host+"/prod/bare:1.0"
		var out bytes.Buffer
		err := run(ctx, &out, o)
		require.ErrorIs(t, err, policy.ErrDenied)
		assert.Contains(t, out.String(), "0 of 0 attestations verified")
	})
}
