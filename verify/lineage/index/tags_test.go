package index

import (
	"errors"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
)

// TestTagDrift records where release tags point, on every backend: a tag seen again at the same
// digest is quiet, a tag that moved is a *DriftError naming both digests and when each was seen,
// and Drifts lists every tag that moved.
func TestTagDrift(t *testing.T) {
	a, b := digest.FromString("build a"), digest.FromString("build b")
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	const ref = "registry.example/app:1.4.2-20261206.abc1234"
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			ix := be.open(t)(t)
			require.NoError(t, ix.ObserveTag(ctx, ref, a, at, "registry"))
			require.NoError(t, ix.ObserveTag(ctx, ref+"@"+a.String(), a, at.Add(time.Hour), "deploy"), "a pinned digest is ignored")
			require.NoError(t, ix.ObserveTag(ctx, "registry.example/app:latest", b, at, "registry"), "another tag is another history")

			err := ix.ObserveTag(ctx, ref, b, at.Add(2*time.Hour), "registry")
			var de *DriftError
			require.ErrorAs(t, err, &de)
			require.ErrorIs(t, err, ErrTagDrift)
			seenA := Sighting{Reference: ref, Digest: a, FirstSeen: at, LastSeen: at.Add(time.Hour), Source: "registry"}
			seenB := Sighting{Reference: ref, Digest: b, FirstSeen: at.Add(2 * time.Hour), LastSeen: at.Add(2 * time.Hour), Source: "registry"}
			require.Equal(t, DriftError{Reference: ref, Current: seenB, Earlier: []Sighting{seenA}}, *de)
			require.Contains(t, err.Error(), a.String())
			require.Contains(t, err.Error(), b.String())

			// Moving back is still a tag that moved.
			err = ix.ObserveTag(ctx, ref, a, at.Add(3*time.Hour), "registry")
			require.ErrorAs(t, err, &de)
			seenA.LastSeen = at.Add(3 * time.Hour)
			require.Equal(t, []Sighting{seenB}, de.Earlier)
			require.Equal(t, seenA, de.Current)

			history, err := ix.Tag(ctx, ref)
			require.NoError(t, err)
			require.Equal(t, []Sighting{seenA, seenB}, history)
			drifts, err := ix.Drifts(ctx)
			require.NoError(t, err)
			require.Equal(t, []Drift{{Reference: ref, Sightings: []Sighting{seenA, seenB}}}, drifts)

			// A sighting older than those held widens them, and its source becomes the first.
			require.ErrorIs(t, ix.ObserveTag(ctx, ref, b, at.Add(-time.Hour), "mirror"), ErrTagDrift)
			history, err = ix.Tag(ctx, ref)
			require.NoError(t, err)
			require.Equal(t, Sighting{Reference: ref, Digest: b, FirstSeen: at.Add(-time.Hour), LastSeen: at.Add(2 * time.Hour), Source: "mirror"}, history[0])
		})
	}
}

// TestTagBadInput: a reference without a tag, and a malformed digest, are typed errors and
// record nothing.
func TestTagBadInput(t *testing.T) {
	ctx := t.Context()
	ix := backends()[0].open(t)(t)
	for _, ref := range []string{"registry.example/app", "registry.example:5000/app", "registry.example/app:", "app@" + digest.FromString("x").String(), "app:-bad", ""} {
		err := ix.ObserveTag(ctx, ref, digest.FromString("x"), time.Now(), "test")
		var re *ReferenceError
		if !errors.As(err, &re) || !errors.Is(err, ErrInvalidReference) || re.Reference != ref {
			t.Errorf("ObserveTag(%q) = %v, want a *ReferenceError", ref, err)
		}
	}
	err := ix.ObserveTag(ctx, "app:1.0", "sha256:short", time.Now(), "test")
	var de *provenance.DigestError
	require.ErrorAs(t, err, &de)
	require.Equal(t, 0, countRows(t, ix, []string{"tags"})["tags"])
}

// TestTagsFromAuditEvents: the tags in the subject names of ingested audit events are
// sightings, so a tag promoted at one digest and deployed at another is reported.
func TestTagsFromAuditEvents(t *testing.T) {
	ctx := t.Context()
	a, b := digest.FromString("promoted"), digest.FromString("deployed")
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	log := newAuditLog(t)
	log.write(t,
		audit.Event{Kind: audit.KindPromoted, Subject: a, SubjectName: "registry.example/app:2.0.0@" + a.String(), Time: at, Actor: "release@example.com"},
		audit.Event{Kind: audit.KindVerified, Subject: b, SubjectName: "registry.example/app", Decision: audit.DecisionAllow, Time: at, Actor: "gate"},
	)
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			ix := be.open(t)(t)
			_, err := ix.AddAuditLog(ctx, log.auditor)
			require.NoError(t, err)
			history, err := ix.Tag(ctx, "registry.example/app:2.0.0")
			require.NoError(t, err)
			require.Equal(t, []Sighting{{Reference: "registry.example/app:2.0.0", Digest: a, FirstSeen: at, LastSeen: at, Source: "audit:audit.index.test#0"}}, history)
			err = ix.ObserveTag(ctx, "registry.example/app:2.0.0", b, at.Add(time.Minute), "deploy")
			var de *DriftError
			require.ErrorAs(t, err, &de)
			require.Equal(t, a, de.Earlier[0].Digest)
			require.Equal(t, "audit:audit.index.test#0", de.Earlier[0].Source)
		})
	}
}

// TestTagsBackfilled: opening an index of schema version 5 records the tags of the audit
// events it ingested before tags were kept.
func TestTagsBackfilled(t *testing.T) {
	ctx := t.Context()
	a := digest.FromString("released")
	at := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	log := newAuditLog(t)
	log.write(t, audit.Event{Kind: audit.KindReleased, Subject: a, SubjectName: "registry.example/lib:3.1.0", Time: at, Actor: "release"})
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			old, reopen := be.old(t, 5)
			n, err := old.AddAuditLog(ctx, log.auditor)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			require.NoError(t, old.Close())
			ix := reopen(t)
			require.Equal(t, SchemaVersion, schemaVersion(t, ix))
			history, err := ix.Tag(ctx, "registry.example/lib:3.1.0")
			require.NoError(t, err)
			require.Equal(t, []Sighting{{Reference: "registry.example/lib:3.1.0", Digest: a, FirstSeen: at, LastSeen: at, Source: "audit:audit.index.test#0"}}, history)
		})
	}
}
