package release_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance/release"
)

// FuzzParseTag checks that every text either fails with a *TagError or is a tag that prints
// back to exactly that text and that NewTag makes again.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{
		"1.4.2-20261206.abc1234",
		"2.0.0-rc.1-20261206.abc1234",
		"1.0.0-x-y-z.1-20261206.abcdef012345",
		"0.0.0-19700101.0000000",
		"v1.4.2-20261206.abc1234",
		"1.4-20261206.abc1234",
		"1.4.2+meta-20261206.abc1234",
		"1.4.2-2026126.abc1234",
		"1.4.2-20261306.abc1234",
		"1.4.2-20260229.abc1234",
		"1.4.2-20261206.ABC1234",
		"1.4.2-20261206.abc12",
		"1.4.2-01-20261206.abc1234",
		"1.4.2",
		"",
		strings.Repeat("1", 200),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tag, err := release.ParseTag(s)
		if err != nil {
			var tagErr *release.TagError
			require.ErrorAs(t, err, &tagErr)
			require.ErrorIs(t, err, release.ErrInvalidTag)
			return
		}
		require.Equal(t, s, tag.String())
		require.LessOrEqual(t, len(s), 128)
		made, err := release.NewTag(tag.Version, tag.Date, tag.Commit)
		require.NoError(t, err)
		require.Equal(t, tag, made)
	})
}
