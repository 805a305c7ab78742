package lifecycle_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/lifecycle"
)

// FuzzParse feeds statement bytes to provenance.ParseStatement and Parse: anything Parse accepts
// is a valid status that Statement writes back and Parse reads as the same status.
func FuzzParse(f *testing.F) {
	s := deprecated()
	st, err := s.Statement()
	require.NoError(f, err)
	raw, err := provenance.Marshal(st)
	require.NoError(f, err)
	f.Add(raw)
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + image.Encoded() + `"}}],"predicateType":"https://provkit.dev/lifecycle/v1","predicate":{"state":"active","effective":"2026-01-01T00:00:00Z","decidedBy":"a"}}`))
	f.Add([]byte(`{"predicate":{"state":[]}}`))
	// A successor with no algorithm once panicked in go-digest.
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicate":{"decidedBy":"0","effective":"0001-01-01T01:00:00Z","reason":"0","state":"deprecated","successor":"0"},"predicateType":"https://provkit.dev/lifecycle/v1","subject":[{"digest":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := provenance.ParseStatement(data)
		if err != nil {
			return
		}
		s, err := lifecycle.Parse(st)
		if err != nil {
			require.ErrorIs(t, err, lifecycle.ErrInvalidPredicate)
			return
		}
		require.NoError(t, s.Validate())
		again, err := s.Statement()
		require.NoError(t, err)
		back, err := lifecycle.Parse(again)
		require.NoError(t, err)
		require.Equal(t, s, back)
	})
}
