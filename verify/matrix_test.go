package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	rekortypes "github.com/sigstore/rekor/pkg/types"
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"google.golang.org/protobuf/encoding/protojson"
)

// The evidence a bundle carries besides its signature: the columns of the matrix in doc.go.
type logKind int

const (
	noLog      logKind = iota
	logProof           // an entry with an inclusion proof and no signed entry timestamp: no time
	logPromise         // an entry with an inclusion proof and a signed entry timestamp: its integrated time
)

// cell is one bundle shape of the matrix.
type cell struct {
	keySigned bool
	log       logKind
	rfc3161   bool
}

func (c cell) name() string {
	s := "certificate"
	if c.keySigned {
		s = "key"
	}
	l := map[logKind]string{noLog: "no log", logProof: "log", logPromise: "log"}[c.log]
	var ts []string
	if c.rfc3161 {
		ts = append(ts, "RFC 3161 timestamp")
	}
	if c.log == logPromise {
		ts = append(ts, "log integrated time")
	}
	if len(ts) == 0 {
		ts = append(ts, "no timestamp")
	}
	return s + ", " + l + ", " + strings.Join(ts, " and ")
}

// evidence reports whether c carries everything d carries.
func (c cell) covers(d cell) bool {
	return c.keySigned == d.keySigned && c.log >= d.log && (c.rfc3161 || !d.rfc3161)
}

// stamper returns an RFC 3161 timestamp response over sig.
type stamper func(t *testing.T, sig []byte) []byte

// matrixEnv is the trust material of the matrix and the signers of its bundles.
type matrixEnv struct {
	vs      *ca.VirtualSigstore
	key     *ecdsa.PrivateKey
	trusted root.TrustedMaterial
	stamp   stamper
}

// withoutCT is trust material without CT logs: a private PKI, whose certificates carry no
// SCTs, so that the default verifier applies unchanged to the certificate rows.
type withoutCT struct{ root.TrustedMaterial }

func (withoutCT) CTLogs() map[string]*root.TransparencyLog { return nil }

func newMatrixEnv(t *testing.T, tsa root.TrustedMaterial, stamp stamper) *matrixEnv {
	t.Helper()
	vs := newVirtualSigstore(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	e := &matrixEnv{vs: vs, key: key, stamp: stamp}
	tm := root.TrustedMaterialCollection{withoutCT{vs}, keys}
	if tsa != nil {
		tm = append(tm, tsa)
	}
	e.trusted = tm
	if e.stamp == nil {
		e.stamp = func(t *testing.T, sig []byte) []byte {
			t.Helper()
			tsr, err := vs.TimestampResponse(sig)
			if err != nil {
				t.Fatal(err)
			}
			return tsr
		}
	}
	return e
}

// bundle makes the bundle of cell c about artifact.
func (e *matrixEnv) bundle(t *testing.T, c cell) provenance.Bundle {
	t.Helper()
	payload := statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact)
	var pb *protobundle.Bundle
	if c.keySigned {
		pb = e.keyBundle(t, payload)
		if c.log != noLog {
			pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{e.keyLogEntry(t, pb)}
		}
	} else {
		pb = keylessBundle(t, e.vs, payload)
		pb.VerificationMaterial.TimestampVerificationData = nil
		if c.log == noLog {
			pb.VerificationMaterial.TlogEntries = nil
		}
	}
	if c.log == logProof {
		pb.GetVerificationMaterial().GetTlogEntries()[0].InclusionPromise = nil
	}
	if c.rfc3161 {
		pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: e.stamp(t, pb.GetDsseEnvelope().GetSignatures()[0].GetSig())}},
		}
	}
	return bundleOf(t, pb)
}

// keyBundle signs payload with provkit's key signer, offline.
func (e *matrixEnv) keyBundle(t *testing.T, payload []byte) *protobundle.Bundle {
	t.Helper()
	s, err := sign.NewKeySigner(e.key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.SignPayload(bg, provenance.MediaTypeInToto, payload)
	if err != nil {
		t.Fatal(err)
	}
	pb := &protobundle.Bundle{}
	if err := protojson.Unmarshal(b.Data, pb); err != nil {
		t.Fatal(err)
	}
	return pb
}

// keyLogEntry makes a Rekor v1 dsse entry for the key-signed pb in the virtual Sigstore's log,
// with an inclusion proof and a signed entry timestamp.
func (e *matrixEnv) keyLogEntry(t *testing.T, pb *protobundle.Bundle) *protorekor.TransparencyLogEntry {
	t.Helper()
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(e.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	proposed, err := rekortypes.NewProposedEntry(ctx, "dsse", "0.0.1", rekortypes.ArtifactProperties{
		ArtifactBytes:  envelopeJSON(t, pb),
		PublicKeyBytes: [][]byte{pubPEM},
		PKIFormat:      "x509",
	})
	if err != nil {
		t.Fatal(err)
	}
	impl, err := rekortypes.CreateVersionedEntry(proposed)
	if err != nil {
		t.Fatal(err)
	}
	body, err := rekortypes.CanonicalizeEntry(ctx, impl)
	if err != nil {
		t.Fatal(err)
	}
	logID, err := e.vs.RekorLogID()
	if err != nil {
		t.Fatal(err)
	}
	rawLogID, err := hex.DecodeString(logID)
	if err != nil {
		t.Fatal(err)
	}
	integrated := time.Now().Unix()
	set, err := e.vs.RekorSignPayload(tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: integrated, LogID: logID})
	if err != nil {
		t.Fatal(err)
	}
	proof, err := e.vs.GetInclusionProof(body)
	if err != nil {
		t.Fatal(err)
	}
	rootHash, err := hex.DecodeString(*proof.RootHash)
	if err != nil {
		t.Fatal(err)
	}
	var hashes [][]byte
	for _, h := range proof.Hashes {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, b)
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:         *proof.LogIndex,
		LogId:            &protocommon.LogId{KeyId: rawLogID},
		KindVersion:      &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"},
		IntegratedTime:   integrated,
		InclusionPromise: &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		InclusionProof: &protorekor.InclusionProof{
			LogIndex:   *proof.LogIndex,
			RootHash:   rootHash,
			TreeSize:   *proof.TreeSize,
			Hashes:     hashes,
			Checkpoint: &protorekor.Checkpoint{Envelope: *proof.Checkpoint},
		},
		CanonicalizedBody: body,
	}
}

// The verifier configurations of the matrix.
const (
	cfgDefault     = "default"
	cfgUntimedKeys = "WithUntimestampedKeysUnsafe"
	cfgWithoutLog  = "WithoutTransparencyLog"
)

var matrixConfigs = []struct {
	name string
	opts []verify.Option
}{
	{cfgDefault, nil},
	{cfgUntimedKeys, []verify.Option{verify.WithUntimestampedKeysUnsafe()}},
	{cfgWithoutLog, []verify.Option{verify.WithoutTransparencyLog()}},
}

// matrix is the table of doc.go: for each bundle shape, the check that denies it under each
// verifier configuration, or "" where it passes.
var matrix = []struct {
	cell cell
	want map[string]verify.Check
}{
	{cell{true, noLog, false}, map[string]verify.Check{cfgDefault: verify.CheckTransparencyLog, cfgWithoutLog: verify.CheckTimestamp}},
	{cell{true, noLog, true}, map[string]verify.Check{cfgDefault: verify.CheckTransparencyLog}},
	{cell{true, logProof, false}, map[string]verify.Check{cfgDefault: verify.CheckTimestamp, cfgWithoutLog: verify.CheckTimestamp}},
	{cell{true, logProof, true}, nil},
	{cell{true, logPromise, false}, nil},
	{cell{true, logPromise, true}, nil},
	{cell{false, noLog, false}, map[string]verify.Check{cfgDefault: verify.CheckTransparencyLog, cfgUntimedKeys: verify.CheckTransparencyLog, cfgWithoutLog: verify.CheckTimestamp}},
	{cell{false, noLog, true}, map[string]verify.Check{cfgDefault: verify.CheckTransparencyLog, cfgUntimedKeys: verify.CheckTransparencyLog}},
	{cell{false, logProof, false}, map[string]verify.Check{cfgDefault: verify.CheckTimestamp, cfgUntimedKeys: verify.CheckTimestamp, cfgWithoutLog: verify.CheckTimestamp}},
	{cell{false, logProof, true}, nil},
	{cell{false, logPromise, false}, nil},
	{cell{false, logPromise, true}, nil},
}

// runMatrix verifies every cell under every configuration, checks the outcome against the
// table, and checks the rule the table must obey: under one configuration, a bundle that
// carries all the evidence of a passing bundle, and more, passes too.
func runMatrix(t *testing.T, e *matrixEnv) []error {
	t.Helper()
	var denials []error
	for _, c := range matrixConfigs {
		v := newVerifier(t, e.trusted, c.opts...)
		passed := map[cell]bool{}
		for _, row := range matrix {
			id := certIdentity(t)
			if row.cell.keySigned {
				id = verify.KeyIDs("release")
			}
			t.Run(c.name+"/"+row.cell.name(), func(t *testing.T) {
				_, err := v.Verify(bg, e.bundle(t, row.cell), artifact, id)
				want, deny := row.want[c.name]
				if !deny {
					if err != nil {
						t.Fatalf("denied: %v", err)
					}
					passed[row.cell] = true
					return
				}
				wantCheck(t, err, want)
				denials = append(denials, err)
			})
		}
		for a := range passed {
			for _, row := range matrix {
				if row.cell.covers(a) && !passed[row.cell] {
					t.Errorf("%s: %q passes but %q, which adds evidence to it, does not", c.name, a.name(), row.cell.name())
				}
			}
		}
	}
	return denials
}

// TestThresholdMatrix dates the bundles with the virtual Sigstore's timestamp authority.
func TestThresholdMatrix(t *testing.T) {
	runMatrix(t, newMatrixEnv(t, nil, nil))
}

// TestThresholdMatrixRealTSA dates the bundles with a running sigstore timestamp-authority
// server; its certificate chain is the trusted timestamp authority.
func TestThresholdMatrixRealTSA(t *testing.T) {
	url := testenv.TSAURL(t)
	tsa := realTSA(t, url)
	client := sgsign.NewTimestampAuthority(&sgsign.TimestampAuthorityOptions{URL: url, Timeout: 30 * time.Second})
	runMatrix(t, newMatrixEnv(t, tsa, func(t *testing.T, sig []byte) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(bg, time.Minute)
		defer cancel()
		tsr, err := client.GetTimestamp(ctx, sig)
		if err != nil {
			t.Fatal(err)
		}
		return tsr
	}))
}

// TestKeySignerWithRealTSA is the private deployment: provkit's key signer dates the bundle
// with a timestamp authority and writes no log entry; WithoutTransparencyLog accepts it, as
// does WithUntimestampedKeysUnsafe, which accepts the same statement without the timestamp.
func TestKeySignerWithRealTSA(t *testing.T) {
	url := testenv.TSAURL(t)
	tsa := realTSA(t, url)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(key, sign.WithTimestampAuthority(url))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.SignPayload(bg, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	if err != nil {
		t.Fatal(err)
	}
	tm := root.TrustedMaterialCollection{keys, tsa}
	for _, opt := range []verify.Option{verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe()} {
		res, err := newVerifier(t, tm, opt).Verify(bg, b, artifact, verify.KeyIDs("release"))
		if err != nil {
			t.Fatal(err)
		}
		if at, ok := res.SignedAt(); !ok || time.Since(at) > 5*time.Minute {
			t.Errorf("SignedAt = %v %v", at, ok)
		}
	}
	_, err = newVerifier(t, tm).Verify(bg, b, artifact, verify.KeyIDs("release"))
	wantCheck(t, err, verify.CheckTransparencyLog)
}

// realTSA returns the trust material of the timestamp authority at url.
func realTSA(t *testing.T, url string) root.TrustedMaterial {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+"/certchain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	pemChain, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("certchain: %d %v", resp.StatusCode, err)
	}
	chain, err := verify.ParseCertificatesPEM(pemChain)
	if err != nil {
		t.Fatal(err)
	}
	tsa, err := verify.TimestampAuthority(chain, url)
	if err != nil {
		t.Fatal(err)
	}
	return tsa
}
