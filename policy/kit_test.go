package policy_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// kit signs statements with real keys and a virtual Sigstore, and verifies them with provkit's
// verify package, so every test evaluates genuine *verify.Result values.
type kit struct {
	vs       *ca.VirtualSigstore
	keys     map[string]*sgsign.EphemeralKeypair
	timed    *verify.Verifier // key-signed bundles with an RFC 3161 timestamp
	untimed  *verify.Verifier // key-signed bundles with no timestamp
	keyless  *verify.Verifier // virtual Fulcio certificates, Rekor and TSA
	keyNames []string
}

var (
	kitOnce sync.Once
	shared  *kit
	kitErr  error
)

// keyNames are the signing keys the kit holds; their ids are their names.
var keyNames = []string{"alice", "bob", "carol", "mallory"}

// newKit returns the kit shared by the package's tests (key generation is the slow part).
func newKit(t testing.TB) *kit {
	t.Helper()
	kitOnce.Do(func() { shared, kitErr = buildKit() })
	if kitErr != nil {
		t.Fatal(kitErr)
	}
	return shared
}

func buildKit() (*kit, error) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		return nil, err
	}
	k := &kit{vs: vs, keys: map[string]*sgsign.EphemeralKeypair{}, keyNames: keyNames}
	var pubs []verify.PublicKey
	for _, name := range keyNames {
		kp, err := sgsign.NewEphemeralKeypair(nil)
		if err != nil {
			return nil, err
		}
		k.keys[name] = kp
		pubs = append(pubs, verify.PublicKey{ID: name, Key: kp.GetPublicKey()})
	}
	ks, err := verify.TrustedKeys(pubs...)
	if err != nil {
		return nil, err
	}
	if k.timed, err = verify.New(root.TrustedMaterialCollection{vs, ks}, verify.WithoutTransparencyLog(), verify.WithSignedTimestamps(1)); err != nil {
		return nil, err
	}
	if k.untimed, err = verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe()); err != nil {
		return nil, err
	}
	if k.keyless, err = verify.New(vs, verify.WithoutCertificateTransparencyUnsafe()); err != nil {
		return nil, err
	}
	return k, nil
}

// bundle signs payload with the named key, adding an RFC 3161 timestamp when timed.
func (k *kit) bundle(t testing.TB, key string, payload []byte, timed bool) provenance.Bundle {
	t.Helper()
	kp, ok := k.keys[key]
	if !ok {
		t.Fatalf("no key %q", key)
	}
	pb, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: provenance.MediaTypeInToto}, kp, sgsign.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if timed {
		tsr, err := k.vs.TimestampResponse(pb.GetDsseEnvelope().GetSignatures()[0].GetSig())
		if err != nil {
			t.Fatal(err)
		}
		pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsr}},
		}
	}
	data, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return provenance.Bundle{MediaType: pb.GetMediaType(), Data: data}
}

// keyResult signs st with the named key (with a signed timestamp) and verifies it.
func (k *kit) keyResult(t testing.TB, key string, st *intoto.Statement) *verify.Result {
	t.Helper()
	return k.verifyKey(t, key, st, true)
}

// untimedResult signs st with the named key and no timestamp, and verifies it.
func (k *kit) untimedResult(t testing.TB, key string, st *intoto.Statement) *verify.Result {
	t.Helper()
	return k.verifyKey(t, key, st, false)
}

func (k *kit) verifyKey(t testing.TB, key string, st *intoto.Statement, timed bool) *verify.Result {
	t.Helper()
	payload, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	v := k.untimed
	if timed {
		v = k.timed
	}
	res, err := v.Verify(context.Background(), k.bundle(t, key, payload, timed), subjectOf(t, st), verify.KeyIDs(key))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return res
}

// certResult signs st keylessly as san from issuer (virtual Fulcio, Rekor and TSA) and verifies it.
func (k *kit) certResult(t testing.TB, san, issuer string, st *intoto.Statement) *verify.Result {
	t.Helper()
	payload, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	ent, err := k.vs.Attest(san, issuer, payload)
	if err != nil {
		t.Fatal(err)
	}
	id, err := verify.Certificates(verify.CertificateMatch{Issuer: issuer, SubjectAlternativeName: san})
	if err != nil {
		t.Fatal(err)
	}
	res, err := k.keyless.VerifyEntity(context.Background(), ent, subjectOf(t, st), id)
	if err != nil {
		t.Fatalf("verify keyless: %v", err)
	}
	return res
}

func subjectOf(t testing.TB, st *intoto.Statement) digest.Digest {
	t.Helper()
	for alg, hex := range st.GetSubject()[0].GetDigest() {
		return digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)
	}
	t.Fatal("statement has no subject digest")
	return ""
}

// artifact is the subject every fixture statement is about.
var artifact = digest.FromString("provkit policy test artifact")

func subjects(d digest.Digest) []*intoto.ResourceDescriptor {
	return []*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{d.Algorithm().String(): d.Encoded()}}}
}

// statement makes a statement about artifact.
func statement(t testing.TB, predicateType string, predicate any) *intoto.Statement {
	t.Helper()
	st, err := provenance.NewStatement(subjects(artifact), predicateType, predicate)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

const (
	testBuilder   = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml"
	testBuildType = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
	testRepo      = "https://github.com/acme/app"
)

// build returns a SLSA provenance statement about artifact; edit may change the Build first.
func build(t testing.TB, edit func(*provenance.Build)) *intoto.Statement {
	t.Helper()
	b := &provenance.Build{
		BuildType: testBuildType,
		ExternalParameters: map[string]any{
			"workflow": map[string]any{"repository": testRepo, "ref": "refs/tags/v1.4.2", "path": ".github/workflows/release.yml"},
		},
		InternalParameters: map[string]any{"github": map[string]any{"event_name": "push", "runner_environment": "github-hosted"}},
		ResolvedDependencies: []*intoto.ResourceDescriptor{
			dep(t, "git+"+testRepo+"@refs/tags/v1.4.2", map[string]string{"gitCommit": strings.Repeat("ab", 20)}, provenance.RoleSource),
			dep(t, "pkg:golang/golang.org/x/mod@v0.42.0", map[string]string{"sha256": strings.Repeat("01", 32)}, provenance.RoleModule),
			baseImage(t, "cgr.dev/chainguard/static:latest", strings.Repeat("02", 32)),
		},
		BuilderID:  testBuilder + "@refs/tags/v2.1.0",
		StartedOn:  time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC),
		FinishedOn: time.Date(2026, 11, 1, 10, 5, 0, 0, time.UTC),
	}
	if edit != nil {
		edit(b)
	}
	st, err := b.Statement(subjects(artifact))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func dep(t testing.TB, uri string, dg map[string]string, role string) *intoto.ResourceDescriptor {
	t.Helper()
	rd := &intoto.ResourceDescriptor{Uri: uri, Digest: dg}
	setAnnotation(t, rd, provenance.AnnotationRole, role)
	return rd
}

// baseImage is a base-image dependency named ref; an empty hex makes it unpinned.
func baseImage(t testing.TB, ref, hex string) *intoto.ResourceDescriptor {
	t.Helper()
	rd := &intoto.ResourceDescriptor{Name: ref}
	setAnnotation(t, rd, provenance.AnnotationRole, provenance.RoleBaseImage)
	if hex == "" {
		setAnnotation(t, rd, provenance.AnnotationUnpinned, "true")
	} else {
		rd.Digest = map[string]string{"sha256": hex}
	}
	return rd
}

func setAnnotation(t testing.TB, rd *intoto.ResourceDescriptor, k, v string) {
	t.Helper()
	if rd.Annotations == nil {
		rd.Annotations = &structpb.Struct{Fields: map[string]*structpb.Value{}}
	}
	rd.Annotations.Fields[k] = structpb.NewStringValue(v)
}

// load loads a policy document, failing the test on error.
func load(t testing.TB, doc string) *policy.Policy {
	t.Helper()
	p, err := policy.Load(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return p
}

// oneRule wraps a rule body (YAML, indented for a list item) into a policy named "rule".
func oneRule(body string) string {
	return "apiVersion: provkit.dev/policy/v1\nkind: Policy\nmetadata:\n  name: test\nrules:\n  - name: rule\n" + body
}
