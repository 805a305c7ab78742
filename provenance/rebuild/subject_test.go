package rebuild_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// TestStatementIsAboutTheOriginal signs the outcome of a matched and of a differing rebuild and
// verifies each against the original artifact's digest, as anyone reading the artifact's
// attestations does: both are statements about the original artifact, whatever was rebuilt.
func TestStatementIsAboutTheOriginal(t *testing.T) {
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(key)
	require.NoError(t, err)
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "rebuilder", Key: key.Public()})
	require.NoError(t, err)
	v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)

	app := digest.FromString("app 1.0")
	original := statement(t, build("https://ci.example/release"), []*intoto.ResourceDescriptor{{Name: "bin/app", Digest: map[string]string{"sha256": app.Encoded()}}})
	for name, rebuilt := range map[string]digest.Digest{"match": app, "mismatch": digest.FromString("app 1.0 with a timestamp")} {
		t.Run(name, func(t *testing.T) {
			res, err := rebuild.Check(rebuild.Input{Original: original,
				Rebuilt: []*intoto.ResourceDescriptor{{Name: "bin/app", Digest: map[string]string{"sha256": rebuilt.Encoded()}}}, CheckedOn: checkedOn})
			require.NoError(t, err)
			require.Equal(t, name == "match", res.Matched())
			st, err := res.Statement()
			require.NoError(t, err)
			b, err := signer.Sign(ctx, st)
			require.NoError(t, err)
			verified, err := v.Verify(ctx, b, app, verify.KeyIDs("rebuilder"))
			require.NoError(t, err, "the rebuild statement is about the original artifact")
			back, err := rebuild.Parse(verified.Statement())
			require.NoError(t, err)
			require.Equal(t, rebuilt.Encoded(), back.Rebuilt[0].GetDigest()["sha256"], "the rebuilt digest is in the predicate")
		})
	}
}

// TestCheckInputs compares the inputs a rebuild fetched by digest with the original's resolved
// dependencies, and the summary says exactly what was compared.
func TestCheckInputs(t *testing.T) {
	raw := &intoto.ResourceDescriptor{Name: "raw.csv", Digest: map[string]string{"sha256": digest.FromString("raw").Encoded()}}
	img := &intoto.ResourceDescriptor{Uri: "oci://registry.example/clean", Name: "registry.example/clean@sha256:" + digest.FromString("img").Encoded(),
		Digest: map[string]string{"sha256": digest.FromString("img").Encoded()}}
	outputs := hashTree(t, map[string]string{"clean.csv": "a", "report.txt": "b"})
	original := statement(t, build("https://ci.example", img, raw), outputs)

	res, err := rebuild.Check(rebuild.Input{Original: original, Rebuilt: outputs, Inputs: []*intoto.ResourceDescriptor{img, raw}, CheckedOn: checkedOn})
	require.NoError(t, err)
	require.True(t, res.Matched(), "%v", res.Differences)
	require.Equal(t, []string{rebuild.ComparedSubjects, rebuild.ComparedInputs}, res.Compared)
	require.Equal(t, "rebuilt from the same inputs, and every output matched; outputs compared: 2 files by sha256; inputs compared: 2, each fetched by its digest and used", res.Summary())
	st, err := res.Statement()
	require.NoError(t, err)
	back, err := rebuild.Parse(st)
	require.NoError(t, err)
	equalResults(t, res, back)

	// Without the inputs, a match says only that the outputs matched.
	res, err = rebuild.Check(rebuild.Input{Original: original, Rebuilt: outputs, CheckedOn: checkedOn})
	require.NoError(t, err)
	require.Equal(t, "every output matched, but the inputs were not compared; outputs compared: 2 files by sha256; inputs not compared", res.Summary())

	// Another dataset, and the image left out: both are differences, though the outputs match.
	other := &intoto.ResourceDescriptor{Name: "raw.csv", Digest: map[string]string{"sha256": digest.FromString("raw, edited").Encoded()}}
	res, err = rebuild.Check(rebuild.Input{Original: original, Rebuilt: outputs, Inputs: []*intoto.ResourceDescriptor{other}, CheckedOn: checkedOn})
	require.NoError(t, err)
	var fields []string
	for _, c := range res.Differences {
		fields = append(fields, c.Field+" "+string(c.Kind))
	}
	require.Equal(t, []string{"inputs[raw.csv] changed", "inputs[" + img.GetName() + "] removed"}, fields)
	require.ErrorIs(t, res.Err(), rebuild.ErrMismatch)
	require.Equal(t, "did not match: 2 differences; outputs compared: 2 files by sha256; inputs compared: 1, each fetched by its digest and used", res.Summary())

	_, err = rebuild.Check(rebuild.Input{Original: original, Rebuilt: outputs, Inputs: []*intoto.ResourceDescriptor{{Name: "x"}}, CheckedOn: checkedOn})
	var ie *rebuild.InputError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, "Inputs", ie.Field)
}

// TestParseLegacySubjects reads a statement written before rebuild statements named the
// original: subjects that are the rebuilt artifacts are still accepted.
func TestParseLegacySubjects(t *testing.T) {
	st := validStatement(t)
	p := st.GetPredicate().AsMap()
	var rebuilt []*intoto.ResourceDescriptor
	for _, s := range p["rebuilt"].(map[string]any)["subjects"].([]any) {
		m := s.(map[string]any)
		rebuilt = append(rebuilt, &intoto.ResourceDescriptor{Name: m["name"].(string), Digest: map[string]string{"sha256": m["digest"].(map[string]any)["sha256"].(string)}})
	}
	legacy, err := provenance.NewStatement(rebuilt, rebuild.PredicateType, p)
	require.NoError(t, err)
	res, err := rebuild.Parse(legacy)
	require.NoError(t, err)
	require.False(t, res.Matched())
}
