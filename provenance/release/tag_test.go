package release_test

import (
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance/release"
)

var buildDay = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)

func TestParseTagRoundTrips(t *testing.T) {
	tests := []struct {
		tag         string
		version     string
		commit      string
		releaseType string
	}{
		{tag: "1.4.2-20261206.abc1234", version: "1.4.2", commit: "abc1234", releaseType: "stable"},
		{tag: "0.0.0-20261206.0000000", version: "0.0.0", commit: "0000000", releaseType: "stable"},
		{tag: "10.20.30-20261206.abcdef012345", version: "10.20.30", commit: "abcdef012345", releaseType: "stable"},
		{tag: "2.0.0-rc.1-20261206.abc1234", version: "2.0.0-rc.1", commit: "abc1234", releaseType: "rc"},
		{tag: "2.0.0-beta-20261206.abc1234", version: "2.0.0-beta", commit: "abc1234", releaseType: "beta"},
		{tag: "2.0.0-alpha.0.x-20261206.abc1234", version: "2.0.0-alpha.0.x", commit: "abc1234", releaseType: "alpha"},
		{tag: "2.1.0-nightly.20261205-20261206.abc1234", version: "2.1.0-nightly.20261205", commit: "abc1234", releaseType: "nightly"},
		{tag: "1.0.0-x-y-z.1-20261206.abc1234", version: "1.0.0-x-y-z.1", commit: "abc1234", releaseType: "x-y-z"},
		{tag: "1.0.0-0-20261206.abc1234", version: "1.0.0-0", commit: "abc1234", releaseType: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			tag, err := release.ParseTag(tt.tag)
			require.NoError(t, err)
			require.Equal(t, release.Tag{Version: tt.version, Date: buildDay, Commit: tt.commit}, tag)
			require.Equal(t, tt.tag, tag.String())
			require.Equal(t, tt.releaseType, tag.ReleaseType())

			made, err := release.NewTag(tt.version, buildDay.Add(23*time.Hour+59*time.Minute), tt.commit)
			require.NoError(t, err)
			require.Equal(t, tag, made)
			again, err := release.ParseTag(made.String())
			require.NoError(t, err)
			require.Equal(t, made, again)
		})
	}
}

func TestParseTagRejects(t *testing.T) {
	tests := []struct {
		name string
		tag  string
	}{
		{name: "leading v", tag: "v1.4.2-20261206.abc1234"},
		{name: "no patch", tag: "1.4-20261206.abc1234"},
		{name: "build metadata", tag: "1.4.2+meta-20261206.abc1234"},
		{name: "leading zero in major", tag: "01.4.2-20261206.abc1234"},
		{name: "numeric pre-release with leading zero", tag: "1.4.2-01-20261206.abc1234"},
		{name: "empty pre-release identifier", tag: "1.4.2-rc..1-20261206.abc1234"},
		{name: "empty version", tag: "-20261206.abc1234"},
		{name: "7-digit date", tag: "1.4.2-2026126.abc1234"},
		{name: "9-digit date", tag: "1.4.2-202612061.abc1234"},
		{name: "month 13", tag: "1.4.2-20261306.abc1234"},
		{name: "February 30", tag: "1.4.2-20260230.abc1234"},
		{name: "day 0", tag: "1.4.2-20261200.abc1234"},
		{name: "before 1970", tag: "1.4.2-19691231.abc1234"},
		{name: "signed date", tag: "1.4.2-+2026120.abc1234"},
		{name: "uppercase commit", tag: "1.4.2-20261206.ABC1234"},
		{name: "short commit too short", tag: "1.4.2-20261206.abc12"},
		{name: "short commit too long", tag: "1.4.2-20261206.abc1234567890"},
		{name: "full commit", tag: "1.4.2-20261206." + strings.Repeat("a", 40)},
		{name: "not hex", tag: "1.4.2-20261206.abcdefg"},
		{name: "second dot", tag: "1.4.2-20261206.abc1234.1"},
		{name: "no commit", tag: "1.4.2-20261206"},
		{name: "empty commit", tag: "1.4.2-20261206."},
		{name: "version only", tag: "1.4.2"},
		{name: "empty", tag: ""},
		{name: "space", tag: "1.4.2-20261206.abc1234 "},
		{name: "not an OCI tag", tag: ".1.4.2-20261206.abc1234"},
		{name: "200 bytes", tag: strings.Repeat("1", 200)},
		{name: "200-byte tag", tag: "1.0.0-" + strings.Repeat("a", 177) + "-20261206.abc1234"},
		{name: "129-byte tag", tag: "1.0.0-" + strings.Repeat("a", 106) + "-20261206.abc1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := release.ParseTag(tt.tag)
			var tagErr *release.TagError
			require.ErrorAs(t, err, &tagErr)
			require.ErrorIs(t, err, release.ErrInvalidTag)
			require.NotEmpty(t, tagErr.Reason)
			require.LessOrEqual(t, len(tagErr.Tag), 128)
		})
	}
}

func TestParseTagLengthLimit(t *testing.T) {
	longest := "1.0.0-" + strings.Repeat("a", 105) + "-20261206.abc1234"
	require.Len(t, longest, 128)
	tag, err := release.ParseTag(longest)
	require.NoError(t, err)
	require.Equal(t, longest, tag.String())

	_, err = release.NewTag(tag.Version+"a", buildDay, tag.Commit)
	var fieldErr *release.FieldError
	require.ErrorAs(t, err, &fieldErr)
	require.Equal(t, "version", fieldErr.Field)
}

func TestNewTag(t *testing.T) {
	built := time.Date(2026, 12, 6, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)) // 2026-12-07 04:30 UTC
	sha1 := "abc1234def5678901234567890abcdef01234567"
	sha256 := "abc1234" + strings.Repeat("0", 57)
	tests := []struct {
		name   string
		commit string
		want   string
	}{
		{name: "full SHA-1 commit", commit: sha1, want: "abc1234"},
		{name: "full SHA-256 commit", commit: sha256, want: "abc1234"},
		{name: "short commit", commit: "abc1234de", want: "abc1234de"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag, err := release.NewTag("1.4.2", built, tt.commit)
			require.NoError(t, err)
			require.Equal(t, release.Tag{Version: "1.4.2", Date: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), Commit: tt.want}, tag)
			require.Equal(t, "1.4.2-20261207."+tt.want, tag.String())
		})
	}
}

func TestNewTagRejects(t *testing.T) {
	tests := []struct {
		name    string
		version string
		built   time.Time
		commit  string
		field   string
	}{
		{name: "empty version", version: "", built: buildDay, commit: "abc1234", field: "version"},
		{name: "leading v", version: "v1.4.2", built: buildDay, commit: "abc1234", field: "version"},
		{name: "no patch", version: "1.4", built: buildDay, commit: "abc1234", field: "version"},
		{name: "build metadata", version: "1.4.2+meta", built: buildDay, commit: "abc1234", field: "version"},
		{name: "numeric pre-release with leading zero", version: "1.4.2-01", built: buildDay, commit: "abc1234", field: "version"},
		{name: "too long", version: "1.0.0-" + strings.Repeat("a", 106), built: buildDay, commit: "abc1234", field: "version"},
		{name: "zero time", version: "1.4.2", built: time.Time{}, commit: "abc1234", field: "date"},
		{name: "before 1970", version: "1.4.2", built: time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), commit: "abc1234", field: "date"},
		{name: "after 9999", version: "1.4.2", built: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), commit: "abc1234", field: "date"},
		{name: "empty commit", version: "1.4.2", built: buildDay, commit: "", field: "commit"},
		{name: "uppercase commit", version: "1.4.2", built: buildDay, commit: "ABC1234", field: "commit"},
		{name: "uppercase full commit", version: "1.4.2", built: buildDay, commit: strings.Repeat("A", 40), field: "commit"},
		{name: "too short", version: "1.4.2", built: buildDay, commit: "abc12", field: "commit"},
		{name: "between short and full", version: "1.4.2", built: buildDay, commit: strings.Repeat("a", 13), field: "commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := release.NewTag(tt.version, tt.built, tt.commit)
			var fieldErr *release.FieldError
			require.ErrorAs(t, err, &fieldErr)
			require.ErrorIs(t, err, release.ErrInvalidField)
			require.Equal(t, tt.field, fieldErr.Field)
		})
	}
}

func TestTagFromEnvironment(t *testing.T) {
	tag, err := release.TagFromEnvironment("2.0.0-rc.1", "abc1234", map[string]string{"SOURCE_DATE_EPOCH": "1796554800"}) // 2026-12-06T11:00:00Z
	require.NoError(t, err)
	require.Equal(t, "2.0.0-rc.1-20261206.abc1234", tag.String())
	require.Equal(t, buildDay, tag.Date)

	tag, err = release.TagFromEnvironment("1.0.0", "abc1234", map[string]string{"SOURCE_DATE_EPOCH": "0"})
	require.NoError(t, err)
	require.Equal(t, "1.0.0-19700101.abc1234", tag.String())

	t.Run("missing", func(t *testing.T) {
		for _, env := range []map[string]string{nil, {}, {"SOURCE_DATE_EPOCH": ""}} {
			_, err := release.TagFromEnvironment("1.4.2", "abc1234", env)
			var missing *release.MissingFieldError
			require.ErrorAs(t, err, &missing)
			require.ErrorIs(t, err, release.ErrMissingField)
			require.Equal(t, "SOURCE_DATE_EPOCH", missing.Field)
		}
	})
	for _, bad := range []string{"abc", "-1", "1.5", " 1", "99999999999999999999"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			_, err := release.TagFromEnvironment("1.4.2", "abc1234", map[string]string{"SOURCE_DATE_EPOCH": bad})
			var fieldErr *release.FieldError
			require.ErrorAs(t, err, &fieldErr)
			require.ErrorIs(t, err, release.ErrInvalidField)
			require.Equal(t, "SOURCE_DATE_EPOCH", fieldErr.Field)
		})
	}
	t.Run("bad version", func(t *testing.T) {
		_, err := release.TagFromEnvironment("1.4", "abc1234", map[string]string{"SOURCE_DATE_EPOCH": "1796554800"})
		var fieldErr *release.FieldError
		require.ErrorAs(t, err, &fieldErr)
		require.Equal(t, "version", fieldErr.Field)
	})
}

func TestTagAnnotations(t *testing.T) {
	tag, err := release.ParseTag("2.0.0-rc.1-20261206.abc1234")
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		ocispec.AnnotationVersion:  "2.0.0-rc.1",
		ocispec.AnnotationRevision: "abc1234",
		ocispec.AnnotationCreated:  "2026-12-06T00:00:00Z",
	}, tag.Annotations())
	created, err := time.Parse(time.RFC3339, tag.Annotations()[ocispec.AnnotationCreated])
	require.NoError(t, err)
	require.True(t, created.Equal(tag.Date))
}
