package audit_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
)

// FuzzParse feeds statement bytes to provenance.ParseStatement and Parse: anything Parse accepts
// is a valid event that Statement writes back and Parse reads as the same event.
func FuzzParse(f *testing.F) {
	e := validEvent()
	st, err := e.Statement()
	require.NoError(f, err)
	raw, err := provenance.Marshal(st)
	require.NoError(f, err)
	f.Add(raw)
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + subject.Encoded() + `"}}],"predicateType":"https://provkit.dev/audit/event/v1","predicate":{"kind":"attested","time":"2026-01-01T00:00:00Z","actor":"a"}}`))
	f.Add([]byte(`{"predicate":{"kind":[]}}`))
	// Field names differing only in case, and an empty attributes object.
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicate":{"ACtor":"0000000000000000","AttriButes":{},"deCision":"deny","kind":"denied","time":"0001-01-01T00:00:01Z"},"predicateType":"https://provkit.dev/audit/event/v1","subject":[{"digest":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}]}`))
	// Evidence with no algorithm: go-digest panics on it unless checked first.
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + subject.Encoded() + `"}}],"predicateType":"https://provkit.dev/audit/event/v1","predicate":{"kind":"attested","time":"2026-01-01T00:00:00Z","actor":"a","evidence":["0"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := provenance.ParseStatement(data)
		if err != nil {
			return
		}
		e, err := audit.Parse(st)
		if err != nil {
			require.ErrorIs(t, err, audit.ErrInvalidPredicate)
			return
		}
		require.NoError(t, e.Validate())
		again, err := e.Statement()
		require.NoError(t, err)
		back, err := audit.Parse(again)
		require.NoError(t, err)
		require.Equal(t, e, back)
	})
}
