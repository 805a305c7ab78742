package provenance_test

import (
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
)

func TestDecodePredicateStrict(t *testing.T) {
	d := digest.FromString("artifact")
	statement := func(predicateType string, predicate map[string]any, subjects ...*intoto.ResourceDescriptor) *intoto.Statement {
		st, err := provenance.NewStatement(subjects, predicateType, predicate)
		require.NoError(t, err)
		return st
	}
	one := &intoto.ResourceDescriptor{Name: "app", Digest: map[string]string{"sha256": d.Encoded()}}
	type wire struct {
		State string `json:"state"`
	}
	var w wire
	subject, got, err := provenance.DecodePredicateStrict(statement("t", map[string]any{"state": "x"}, one), "t", []string{"state"}, 100, &w)
	require.NoError(t, err)
	require.Equal(t, d, got)
	require.Equal(t, "app", subject.GetName())
	require.Equal(t, "x", w.State)

	two := &intoto.ResourceDescriptor{Digest: map[string]string{"sha256": d.Encoded(), "sha512": strings.Repeat("a", 128)}}
	for name, c := range map[string]struct {
		st     *intoto.Statement
		reason string
	}{
		"other type":       {statement("u", map[string]any{"state": "x"}, one), "predicate type"},
		"two subjects":     {statement("t", map[string]any{"state": "x"}, one, one), "2 subjects"},
		"two digests":      {statement("t", map[string]any{"state": "x"}, two), "2 digests"},
		"unknown field":    {statement("t", map[string]any{"state": "x", "more": "y"}, one), `unknown field "more"`},
		"field in capital": {statement("t", map[string]any{"State": "x"}, one), `unknown field "State"`},
		"too large":        {statement("t", map[string]any{"state": strings.Repeat("x", 200)}, one), "more than 100"},
		"wrong type":       {statement("t", map[string]any{"state": 3}, one), "cannot unmarshal"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := provenance.DecodePredicateStrict(c.st, "t", []string{"state"}, 100, &w)
			require.ErrorContains(t, err, c.reason)
		})
	}
}

func TestCheckArtifactDigest(t *testing.T) {
	require.NoError(t, provenance.CheckArtifactDigest(digest.FromString("a")))
	for d, reason := range map[digest.Digest]string{
		"0":          `not of the form "algorithm:value"`,
		"sha256:abc": "want 64 hexadecimal digits",
		"sha256:" + digest.Digest(strings.ToUpper(digest.FromString("a").Encoded())): "not in normal form",
		"md5:" + digest.Digest(strings.Repeat("a", 32)):                              "does not identify an artifact",
	} {
		err := provenance.CheckArtifactDigest(d)
		var de *provenance.DigestError
		require.ErrorAs(t, err, &de, d)
		require.Contains(t, de.Reason, reason, d)
	}
}
