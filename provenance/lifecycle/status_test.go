package lifecycle_test

import (
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance/lifecycle"
)

var (
	image = digest.FromString("image 1.4.2")
	next  = digest.FromString("image 1.5.0")
	noon  = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
)

func deprecated() lifecycle.Status {
	return lifecycle.Status{
		Subject:       image,
		SubjectName:   "registry.example/shop/api:1.4.2",
		State:         lifecycle.StateDeprecated,
		Reason:        "base image end of life",
		Successor:     next,
		SuccessorName: "registry.example/shop/api:1.5.0",
		Effective:     noon,
		DecidedBy:     "release-managers@example.com",
	}
}

func TestStatementRoundTrip(t *testing.T) {
	s := deprecated()
	st, err := s.Statement()
	require.NoError(t, err)
	require.Equal(t, lifecycle.PredicateType, st.GetPredicateType())
	require.Equal(t, image.Encoded(), st.GetSubject()[0].GetDigest()["sha256"])
	back, err := lifecycle.Parse(st)
	require.NoError(t, err)
	require.Equal(t, &s, back)

	active := lifecycle.Status{Subject: image, State: lifecycle.StateActive, Effective: noon, DecidedBy: "ops@example.com"}
	st, err = active.Statement()
	require.NoError(t, err, "an active status needs no reason")
	back, err = lifecycle.Parse(st)
	require.NoError(t, err)
	require.Equal(t, &active, back)
}

func TestValidateNamesField(t *testing.T) {
	for field, change := range map[string]func(*lifecycle.Status){
		"subject":       func(s *lifecycle.Status) { s.Subject = "" },
		"state":         func(s *lifecycle.Status) { s.State = "sunset" },
		"reason":        func(s *lifecycle.Status) { s.Reason = "" },
		"effective":     func(s *lifecycle.Status) { s.Effective = time.Time{} },
		"decidedBy":     func(s *lifecycle.Status) { s.DecidedBy = "" },
		"successor":     func(s *lifecycle.Status) { s.Successor = image },
		"successorName": func(s *lifecycle.Status) { s.Successor = "" },
	} {
		t.Run(field, func(t *testing.T) {
			s := deprecated()
			change(&s)
			_, err := s.Statement()
			var fe *lifecycle.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, field, fe.Field)
			require.ErrorIs(t, err, lifecycle.ErrInvalidStatus)
		})
	}
	s := deprecated()
	s.Reason = strings.Repeat("x", lifecycle.MaxReasonBytes+1)
	require.ErrorIs(t, s.Validate(), lifecycle.ErrInvalidStatus)
	s = deprecated()
	s.Successor = "sha256:ABC"
	var fe *lifecycle.FieldError
	require.ErrorAs(t, s.Validate(), &fe)
	require.Equal(t, "successor", fe.Field)
}

func TestParseRejects(t *testing.T) {
	s := deprecated()
	for name, change := range map[string]func(map[string]any){
		"unknown field":     func(p map[string]any) { p["severity"] = "high" },
		"field in capitals": func(p map[string]any) { p["State"] = p["state"]; delete(p, "state") },
		"local time":        func(p map[string]any) { p["effective"] = "2026-12-07T13:00:00+01:00" },
		"not a time":        func(p map[string]any) { p["effective"] = "soon" },
		"unknown state":     func(p map[string]any) { p["state"] = "sunset" },
		"state as number":   func(p map[string]any) { p["state"] = 3.0 },
		"self successor":    func(p map[string]any) { p["successor"] = image.String() },
	} {
		t.Run(name, func(t *testing.T) {
			st, err := s.Statement()
			require.NoError(t, err)
			p := st.GetPredicate().AsMap()
			change(p)
			st.Predicate, err = structpb.NewStruct(p)
			require.NoError(t, err)
			_, err = lifecycle.Parse(st)
			var pe *lifecycle.PredicateError
			require.ErrorAs(t, err, &pe)
			require.ErrorIs(t, err, lifecycle.ErrInvalidPredicate)
		})
	}
	st, err := s.Statement()
	require.NoError(t, err)
	st.PredicateType = "https://provkit.dev/audit/event/v1"
	_, err = lifecycle.Parse(st)
	require.ErrorIs(t, err, lifecycle.ErrInvalidPredicate)
	st, err = s.Statement()
	require.NoError(t, err)
	st.Subject = append(st.Subject, st.Subject[0])
	_, err = lifecycle.Parse(st)
	require.ErrorIs(t, err, lifecycle.ErrInvalidPredicate, "a status is about one artifact")
}
