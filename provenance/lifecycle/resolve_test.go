package lifecycle_test

import (
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance/lifecycle"
)

func signed(state lifecycle.State, effective time.Time, signer string) lifecycle.Signed {
	s := deprecated()
	s.State, s.Effective = state, effective
	if state == lifecycle.StateActive {
		s.Successor, s.SuccessorName = "", ""
	}
	return lifecycle.Signed{Status: &s, Signer: signer, Bundle: digest.FromString(string(state) + signer + effective.String())}
}

func releaseManagers(signer string) bool { return signer == "release-managers" || signer == "security" }

func TestResolve(t *testing.T) {
	day := 24 * time.Hour
	t.Run("NoStatusIsActive", func(t *testing.T) {
		r, err := lifecycle.Resolve(image, nil, noon, releaseManagers)
		require.NoError(t, err)
		require.Nil(t, r.Current)
		require.Equal(t, lifecycle.StateActive, r.State())
	})
	t.Run("LatestEffectiveWins", func(t *testing.T) {
		statuses := []lifecycle.Signed{
			signed(lifecycle.StateRetired, noon.Add(-day), "release-managers"),
			signed(lifecycle.StateDeprecated, noon.Add(-3*day), "release-managers"),
			signed(lifecycle.StateActive, noon.Add(-10*day), "release-managers"),
		}
		r, err := lifecycle.Resolve(image, statuses, noon, releaseManagers)
		require.NoError(t, err)
		require.Equal(t, lifecycle.StateRetired, r.State())
		require.Empty(t, r.SetAside)
	})
	t.Run("ReactivatedLater", func(t *testing.T) {
		statuses := []lifecycle.Signed{
			signed(lifecycle.StateDeprecated, noon.Add(-3*day), "release-managers"),
			signed(lifecycle.StateActive, noon.Add(-day), "release-managers"),
		}
		r, err := lifecycle.Resolve(image, statuses, noon, releaseManagers)
		require.NoError(t, err)
		require.Equal(t, lifecycle.StateActive, r.State())
	})
	t.Run("SetAside", func(t *testing.T) {
		other := signed(lifecycle.StateRevoked, noon.Add(-day), "security")
		o := *other.Status
		o.Subject = digest.FromString("another image")
		other.Status = &o
		statuses := []lifecycle.Signed{
			signed(lifecycle.StateDeprecated, noon.Add(-3*day), "release-managers"),
			other,
			signed(lifecycle.StateRevoked, noon.Add(day), "security"),
			signed(lifecycle.StateActive, noon.Add(-day), "intern"),
			{Signer: "security"},
		}
		r, err := lifecycle.Resolve(image, statuses, noon, releaseManagers)
		require.NoError(t, err)
		require.Equal(t, lifecycle.StateDeprecated, r.State(), "only the entitled, effective status about this image counts")
		require.Len(t, r.SetAside, 4)
		require.ErrorIs(t, r.SetAside[0].Err, lifecycle.ErrOtherSubject)
		require.ErrorIs(t, r.SetAside[1].Err, lifecycle.ErrNotYetEffective)
		require.ErrorIs(t, r.SetAside[2].Err, lifecycle.ErrNotEntitled)
		require.Contains(t, r.SetAside[2].Err.Error(), "intern")
		require.ErrorIs(t, r.SetAside[3].Err, lifecycle.ErrOtherSubject)
	})
	t.Run("SameTimeDisagreeing", func(t *testing.T) {
		statuses := []lifecycle.Signed{
			signed(lifecycle.StateDeprecated, noon.Add(-3*day), "release-managers"),
			signed(lifecycle.StateRetired, noon.Add(-day), "release-managers"),
			signed(lifecycle.StateActive, noon.Add(-day), "security"),
		}
		_, err := lifecycle.Resolve(image, statuses, noon, releaseManagers)
		var ce *lifecycle.ConflictError
		require.ErrorAs(t, err, &ce)
		require.ErrorIs(t, err, lifecycle.ErrConflict)
		require.Len(t, ce.Statuses, 2)
		require.True(t, ce.Effective.Equal(noon.Add(-day)))
	})
	t.Run("SameTimeAgreeing", func(t *testing.T) {
		statuses := []lifecycle.Signed{
			signed(lifecycle.StateRetired, noon.Add(-day), "release-managers"),
			signed(lifecycle.StateRetired, noon.Add(-day), "security"),
		}
		r, err := lifecycle.Resolve(image, statuses, noon, releaseManagers)
		require.NoError(t, err)
		require.Equal(t, lifecycle.StateRetired, r.State())
	})
	t.Run("EntitlementRequired", func(t *testing.T) {
		_, err := lifecycle.Resolve(image, nil, noon, nil)
		require.ErrorIs(t, err, lifecycle.ErrNotEntitled)
	})
}
